//! `host plugin`: tools for plugin authors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use strata::runtime::{CONTRACT_VERSION, Runtime, is_granted};

use super::GlobalOptions;

/// Tools for plugin authors.
#[derive(Subcommand)]
pub enum PluginCommand {
    Inspect(InspectCommand),
}

impl PluginCommand {
    pub async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        match self {
            PluginCommand::Inspect(c) => c.execute(global),
        }
    }
}

/// Print what a plugin says about itself and what it imports.
#[derive(Args)]
pub struct InspectCommand {
    /// The plugin's `.wasm` file.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl InspectCommand {
    fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let runtime = Runtime::new(global.cache_dir())?;
        let bytes = std::fs::read(&self.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.file.display()))?;
        let plugin = runtime.load_bytes(&self.file, &bytes)?;
        if self.json {
            let doc = serde_json::json!({
                "info": plugin.info,
                "contract": CONTRACT_VERSION,
                "size": bytes.len(),
                "imports": plugin.imports,
                "compiled": plugin.origin == strata::runtime::LoadOrigin::Compiled,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
            return Ok(ExitCode::SUCCESS);
        }
        let info = &plugin.info;
        println!("name         {}", info.name);
        println!("version      {}", info.version);
        println!("description  {}", info.description);
        println!("contract     {CONTRACT_VERSION}");
        println!("format       {:?}", info.format);
        println!("sha256       {}", info.sha256);
        println!("size         {} bytes", bytes.len());
        println!("load         {:?}", plugin.origin);
        println!("imports:");
        for import in &plugin.imports {
            println!(
                "  {import}{}",
                if is_granted(import) {
                    ""
                } else {
                    "  (refused)"
                }
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
