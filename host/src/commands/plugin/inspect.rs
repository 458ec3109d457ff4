//! `host plugin inspect`: what a `.wasm` says about itself and what it
//! imports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use strata_runtime::{Runtime, is_granted};

use super::GlobalOptions;

/// Print what a plugin says about itself and what it imports, marking the
/// imports the sandbox refuses.
#[derive(Args)]
pub(in crate::commands) struct InspectCommand {
    /// The plugin's `.wasm` file.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl InspectCommand {
    pub(super) fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let runtime = Runtime::new(global.cache_dir())?;
        let bytes = std::fs::read(&self.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.file.display()))?;
        let imports = runtime.component_imports(&self.file, &bytes)?;
        let refused: Vec<&String> = imports.iter().filter(|i| !is_granted(i)).collect();
        // A refused plugin cannot be instantiated, so it cannot describe itself.
        let plugin = if refused.is_empty() {
            Some(runtime.load_bytes(&self.file, &bytes)?)
        } else {
            None
        };
        let sha256 = strata_core::manifest::sha256_hex(&bytes);
        let code = if refused.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
        if self.json {
            let doc = serde_json::json!({
                "info": plugin.as_ref().map(|p| &p.info),
                "sha256": sha256,
                // The contract the plugin speaks; unknown when it is refused.
                "contract": plugin.as_ref().map(|p| p.info.contract),
                "size": bytes.len(),
                "imports": imports
                    .iter()
                    .map(|i| serde_json::json!({ "name": i, "refused": !is_granted(i) }))
                    .collect::<Vec<_>>(),
                "refused": refused,
                "loads": refused.is_empty(),
                "compiled": plugin
                    .as_ref()
                    .map(|p| p.origin == strata_runtime::LoadOrigin::Compiled),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
            return Ok(code);
        }
        match &plugin {
            Some(plugin) => {
                let info = &plugin.info;
                println!("name         {}", info.name);
                println!("version      {}", info.version);
                println!("description  {}", info.description);
                println!("contract     {}", info.contract);
                println!(
                    "format       {}",
                    match info.format {
                        strata_runtime::DataFormat::ArrowIpc => "arrow-ipc",
                        strata_runtime::DataFormat::JsonLines => "json-lines",
                    }
                );
            }
            None => {
                println!("name         (unknown: the sandbox refuses to load this plugin)");
            }
        }
        println!("sha256       {sha256}");
        println!("size         {} bytes", bytes.len());
        if let Some(plugin) = &plugin {
            println!("load         {:?}", plugin.origin);
        }
        println!("imports:");
        for import in &imports {
            println!(
                "  {import}{}",
                if is_granted(import) {
                    ""
                } else {
                    "  (refused)"
                }
            );
        }
        if !refused.is_empty() {
            println!(
                "refused: the sandbox will not load this plugin: it imports {} \
                 (plugins get no network, no HTTP and no files); rebuild it without that dependency",
                refused
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(code)
    }
}
