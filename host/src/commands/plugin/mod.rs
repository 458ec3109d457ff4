//! `host plugin`: tools for plugin authors. `new` scaffolds a plugin project
//! in Rust, Python or JavaScript; `build` builds one with its language's
//! toolchain; `inspect` shows what a `.wasm` is and what it imports; `test`
//! runs one on sample data (read by `sample`). `list` and `export` show and
//! write out the standard plugins the host carries (`standard`).

mod build;
mod inspect;
mod new;
mod rust_sdk;
mod sample;
mod standard;
mod templates;
mod test;

use std::fmt;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};

use super::GlobalOptions;

use self::build::BuildCommand;
use self::inspect::InspectCommand;
use self::new::NewCommand;
use self::standard::{ExportCommand, ListCommand};
use self::test::TestCommand;

/// Tools for plugin authors: scaffold, build, inspect and test plugins;
/// list and export the standard plugins the host carries.
#[derive(Subcommand)]
pub(super) enum PluginCommand {
    New(NewCommand),
    Build(BuildCommand),
    Inspect(InspectCommand),
    Test(TestCommand),
    List(ListCommand),
    Export(ExportCommand),
}

impl PluginCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        // Plugins run synchronously (a plugin's stdout blocks on WASI
        // streams), so never on an async worker.
        tokio::task::block_in_place(|| match self {
            PluginCommand::New(c) => c.execute(),
            PluginCommand::Build(c) => c.execute(),
            PluginCommand::Inspect(c) => c.execute(global),
            PluginCommand::Test(c) => c.execute(global),
            PluginCommand::List(c) => c.execute(global),
            PluginCommand::Export(c) => c.execute(),
        })
    }
}

/// A plugin language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Lang {
    Rust,
    Python,
    Js,
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        })
    }
}

/// The layer a scaffolded plugin is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Layer {
    /// Raw files in (one row per file: `file`, `body`), typed rows out.
    Bronze,
    /// Rows in, cleaned rows out.
    Silver,
    /// Rows in, aggregates out.
    Gold,
}

/// The pinned componentize-py, as CI installs it.
pub(super) const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
