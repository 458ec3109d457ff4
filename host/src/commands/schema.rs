//! `host schema`: the JSON Schema of pipeline.toml, for editors.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::GlobalOptions;

/// Print the JSON Schema of pipeline.toml, for editors
///
/// The schema (draft 2020-12) names every key, its type and what it
/// means. Editors with a TOML language server (Taplo,
/// Even Better TOML) complete and check pipeline.toml with it: save it
/// with `host schema > pipeline.schema.json` and put
/// `#:schema ./pipeline.schema.json` on the first line of pipeline.toml.
#[derive(Args)]
pub(super) struct SchemaCommand {}

impl SchemaCommand {
    pub(super) async fn execute(self, _global: &GlobalOptions) -> Result<ExitCode> {
        super::completions::print_all(document()?.as_bytes())?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The schema as a file holds it (`host init` writes it next to the
/// pipeline).
pub(super) fn document() -> Result<String> {
    let mut text = serde_json::to_string_pretty(&strata_core::config::json_schema())?;
    text.push('\n');
    Ok(text)
}
