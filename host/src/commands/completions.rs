//! `host completions SHELL` and `host man`: shell completion scripts and
//! man pages, generated from the command line's own definition, so they
//! name exactly the subcommands and options there are.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, GlobalOptions};

/// Print the shell completion script for bash, zsh, fish, …
///
/// Bash: save it as
/// ~/.local/share/bash-completion/completions/host; zsh: as `_host` in a
/// folder of $fpath; fish: as ~/.config/fish/completions/host.fish.
#[derive(Args)]
pub(super) struct CompletionsCommand {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

impl CompletionsCommand {
    pub(super) async fn execute(self, _global: &GlobalOptions) -> Result<ExitCode> {
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "host", &mut script);
        print_all(&script)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Print the man page of host, or write every command's with --dir
///
/// Without --dir, prints host.1 in roff (read it with `host man | man -l
/// -`); with --dir, writes one page per command into a folder: host.1,
/// host-run.1, host-plugin-new.1, … (e.g. --dir ~/.local/share/man/man1).
#[derive(Args)]
pub(super) struct ManCommand {
    /// Write host.1 and a page for every subcommand into this folder
    /// (created if missing) instead of printing host.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl ManCommand {
    pub(super) async fn execute(self, _global: &GlobalOptions) -> Result<ExitCode> {
        let command = Cli::command();
        match &self.dir {
            None => {
                let mut page = Vec::new();
                clap_mangen::Man::new(command).render(&mut page)?;
                print_all(&page)?;
            }
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let written = write_pages(command, dir)?;
                eprintln!("wrote {written} man pages to {}", dir.display());
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Writes `bytes` to stdout; a reader that stopped early (`host man |
/// head`) is not an error.
pub(super) fn print_all(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes the page of `command` and of each of its subcommands, named
/// `host-sub-subsub.1` as git and cargo name theirs; returns how many.
fn write_pages(command: clap::Command, dir: &Path) -> Result<usize> {
    // Subcommands' pages need their full names (`host-plugin-new`) and the
    // parent's global options: clap fills both in when it builds.
    let mut command = command;
    command.build();
    let mut written = 0;
    let mut pending = vec![command];
    while let Some(command) = pending.pop() {
        let name = command
            .get_display_name()
            .unwrap_or_else(|| command.get_name())
            .to_owned();
        let path = dir.join(format!("{name}.1"));
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone())
            .title(name.clone())
            .render(&mut page)?;
        std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
        pending.extend(
            command
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .cloned(),
        );
    }
    Ok(written)
}
