//! `host gc`: remove what interrupted runs left behind.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::{GlobalOptions, LeaseOptions};

/// Remove files in partition folders that no manifest names (left by
/// interrupted runs) and temp files of interrupted writes. Never removes a
/// file a valid manifest names.
#[derive(Args)]
pub(super) struct GcCommand {
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    lease: LeaseOptions,
}

impl GcCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        // A run in progress has written data files whose manifest is not
        // there yet: never collect while another run holds the lease.
        let lease = self.lease.acquire(&store).await?;
        let mut count = 0;
        for dataset in &pipeline.datasets {
            for path in store.garbage(&dataset.id).await? {
                count += 1;
                if self.dry_run {
                    println!("would remove {path}");
                } else {
                    store.delete(&path).await?;
                    println!("removed {path}");
                }
            }
        }
        if let Some(root) = store.local_root() {
            for path in interrupted_writes(&root) {
                count += 1;
                if self.dry_run {
                    println!("would remove {}", path.display());
                } else {
                    std::fs::remove_file(&path)?;
                    println!("removed {}", path.display());
                }
            }
        }
        lease.release().await?;
        eprintln!(
            "{count} file(s) {}",
            if self.dry_run { "to remove" } else { "removed" }
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// Temp files of a local store's interrupted writes: object_store stages a
/// write to `NAME#N` and renames it into place, and hides such names from
/// listings, so only the file system shows them.
fn interrupted_writes(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some((_, suffix)) = entry.file_name().to_string_lossy().rsplit_once('#')
                && !suffix.is_empty()
                && suffix.bytes().all(|b| b.is_ascii_digit())
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
