//! `host plugin list` and `host plugin export`: the standard plugins this
//! host carries (`std:NAME` in pipeline.toml).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use strata_core::config::STD_PREFIX;
use strata_core::manifest::sha256_hex;
use strata_runtime::Runtime;

use super::GlobalOptions;

/// List the standard plugins this host carries: name, version, contract,
/// size and sha256.
///
/// A pipeline names one as `plugin = "std:NAME"`. Like any plugin it is
/// identified by the sha256 of its bytes: manifests record it, and a host
/// upgrade that changes a standard plugin's bytes recomputes what it made.
/// `host plugin export` writes one out, to pin it by file.
#[derive(Args)]
pub(in crate::commands) struct ListCommand {
    /// Print JSON: one object per plugin with name, plugin (its `std:`
    /// name), version, description, contract, size and sha256.
    #[arg(long)]
    json: bool,
}

impl ListCommand {
    pub(super) fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        // The version is what the plugin itself says (describe), so each
        // is loaded, as a run would (compiled once, then cached).
        let runtime = Runtime::new(global.cache_dir())?;
        let mut rows = Vec::new();
        for (name, bytes) in strata_std_plugins::all() {
            let reference = format!("{STD_PREFIX}{name}");
            let plugin = runtime
                .load_bytes(&PathBuf::from(&reference), bytes)
                .with_context(|| format!("loading {reference}"))?;
            rows.push(serde_json::json!({
                "name": name,
                "plugin": reference,
                "version": plugin.info.version,
                "description": plugin.info.description,
                "contract": plugin.info.contract,
                "size": bytes.len(),
                "sha256": sha256_hex(bytes),
            }));
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(ExitCode::SUCCESS);
        }
        let width = rows
            .iter()
            .map(|r| r["plugin"].as_str().unwrap_or_default().len())
            .max()
            .unwrap_or(0)
            .max("PLUGIN".len());
        println!(
            "{:width$}  {:8}  {:19}  {:>10}  SHA256",
            "PLUGIN", "VERSION", "CONTRACT", "SIZE"
        );
        for row in &rows {
            println!(
                "{:width$}  {:8}  {:19}  {:>10}  {}",
                row["plugin"].as_str().unwrap_or_default(),
                row["version"].as_str().unwrap_or_default(),
                row["contract"].as_str().unwrap_or_default(),
                row["size"].as_u64().unwrap_or_default(),
                row["sha256"].as_str().unwrap_or_default(),
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Write a standard plugin's `.wasm` to a file.
///
/// The file has the same bytes, so the same sha256: pointing a dataset at
/// it instead of `std:NAME` recomputes nothing. A pipeline that names the
/// file keeps that plugin when the host is upgraded, where `std:NAME`
/// follows the host's.
#[derive(Args)]
pub(in crate::commands) struct ExportCommand {
    /// The standard plugin, e.g. `std:json-to-table` (the `std:` may be
    /// left out). `host plugin list` shows them.
    name: String,
    /// The file to write (replaced if it exists).
    out: PathBuf,
}

impl ExportCommand {
    pub(super) fn execute(self) -> Result<ExitCode> {
        let name = self.name.strip_prefix(STD_PREFIX).unwrap_or(&self.name);
        let Some(bytes) = strata_std_plugins::get(name) else {
            bail!(
                "there is no standard plugin `{}`; the standard plugins are {}",
                self.name,
                strata_std_plugins::NAMES
                    .iter()
                    .map(|n| format!("{STD_PREFIX}{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        std::fs::write(&self.out, bytes)
            .with_context(|| format!("writing {}", self.out.display()))?;
        println!(
            "wrote {} ({STD_PREFIX}{name}, {} bytes, sha256 {})",
            self.out.display(),
            bytes.len(),
            sha256_hex(bytes)
        );
        Ok(ExitCode::SUCCESS)
    }
}
