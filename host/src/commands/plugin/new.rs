//! `host plugin new`: a plugin project from the templates.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::{Lang, Layer, templates};

/// Create a plugin project that builds as it stands and passes a test on
/// sample data (see the README it writes).
#[derive(Args)]
pub(in crate::commands) struct NewCommand {
    /// The plugin's name (lowercase letters, digits and `-`).
    name: String,
    /// Its language.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    lang: Lang,
    /// The layer it is written for: what sample data and code it starts with.
    #[arg(long, value_enum, default_value_t = Layer::Silver)]
    layer: Layer,
    /// Where to create it [default: ./NAME].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rust only: depend on the `strata-sdk` crate in this folder (a checkout's plugins/sdk, say) instead of a copy of the SDK this host carries, vendored into the project.
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

impl NewCommand {
    pub(super) fn execute(self) -> Result<ExitCode> {
        let valid = self
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.name.ends_with('-');
        if !valid {
            bail!(
                "`{}` is not a plugin name: use lowercase letters, digits and `-`, starting with a letter",
                self.name
            );
        }
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
            bail!("{} already exists and is not empty", dir.display());
        }
        let sdk = match (self.lang, &self.sdk) {
            (Lang::Rust, Some(sdk)) => Some(
                sdk.canonicalize()
                    .with_context(|| format!("--sdk {}", sdk.display()))?,
            ),
            (_, Some(_)) => bail!("--sdk is for Rust plugins only"),
            _ => None,
        };
        let files = templates::files(&templates::Spec {
            name: &self.name,
            lang: self.lang,
            layer: self.layer,
            sdk: sdk.as_deref(),
        })?;
        crate::commands::write_files(&dir, &files)?;
        println!(
            "created {} ({} {} plugin)\n  build: host plugin build {}\n  test:  see {}",
            dir.display(),
            self.lang,
            format!("{:?}", self.layer).to_lowercase(),
            dir.display(),
            dir.join("README.md").display()
        );
        Ok(ExitCode::SUCCESS)
    }
}
