//! `host gc`: remove what interrupted runs left behind.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use strata_core::DatasetId;
use strata_core::config::{Pipeline, TableFormat};
use strata_store::Store;
use strata_store::delta::{Retained, TableLog, TableOptions};

use super::{GlobalOptions, LeaseOptions};

/// Remove files in partition folders that no manifest names (left by
/// interrupted runs, or replaced partitions' files once no Delta table
/// version within the retention references them) and temp files of
/// interrupted writes. Never removes a file a valid manifest names.
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
        let now = chrono::Utc::now();
        let mut count = 0;
        let mut kept = 0;
        let mut kept_until: Option<chrono::DateTime<chrono::Utc>> = None;
        for dataset in &pipeline.datasets {
            let retained = table_files(&pipeline, &store, &dataset.id, now).await?;
            let dir = format!("{}/", Store::dataset_dir(&dataset.id));
            for path in store.garbage(&dataset.id).await? {
                let in_table = path.as_ref().strip_prefix(&dir);
                if let Some(until) = in_table.and_then(|p| retained.keeps(p)) {
                    // The table's latest version (a run that has not
                    // synced it yet) or an older one within the
                    // retention still reads it.
                    kept += 1;
                    if let Some(until) = until {
                        kept_until = Some(kept_until.map_or(until, |k| k.max(until)));
                    }
                    tracing::debug!("kept {path}: a Delta table version references it");
                    continue;
                }
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
        if kept > 0 {
            eprintln!(
                "{kept} replaced file(s) kept: a Delta table version within [tables] retention \
                 references them{}",
                kept_until
                    .map(|t| format!(" (the last until {})", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The files a dataset's Delta table keeps: none for raw datasets or
/// without tables.
async fn table_files(
    pipeline: &Pipeline,
    store: &Store,
    dataset: &DatasetId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Retained> {
    if pipeline.tables.format != TableFormat::Delta || dataset.is_raw() {
        return Ok(Retained::default());
    }
    let options = TableOptions {
        checkpoint_interval: pipeline.tables.checkpoint_interval,
        retention: pipeline.tables.retention,
    };
    TableLog::new(store, dataset, options)
        .retained(now)
        .await
        .with_context(|| format!("reading the Delta log of {dataset}: nothing was removed from it"))
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
