//! The Delta table of a dataset after its partitions are committed in a
//! run: one sync of the store's table log with the partitions published
//! now (`strata_store::delta`), which commits one version if anything
//! changed, none on a no-op, and repairs a log that fell behind.

use std::sync::Arc;

use strata_core::config::{Dataset, Pipeline, TableFormat};
use strata_core::manifest::Manifest;
use strata_store::Store;
use strata_store::delta::{TableError, TableLog, TableOptions, TableSync};
use strata_store::lease::{Fence, LeaseLost};

use crate::report::TableReport;

/// Syncs a dataset's table with its published partitions. `None` for
/// datasets that are no table (raw, or `format = "none"`); a lost lease
/// is returned for the run to stop on.
pub(crate) async fn sync(
    pipeline: &Pipeline,
    dataset: &Dataset,
    store: &Store,
    published: &[Arc<Manifest>],
    fence: &Fence,
) -> Result<Option<TableReport>, LeaseLost> {
    if pipeline.tables.format != TableFormat::Delta || dataset.id.is_raw() {
        return Ok(None);
    }
    let options = TableOptions {
        checkpoint_interval: pipeline.tables.checkpoint_interval,
        retention: pipeline.tables.retention,
    };
    let log = TableLog::new(store, &dataset.id, options);
    let report = match log.sync(published, fence).await {
        Ok(TableSync::Unchanged { version }) => TableReport {
            version,
            ..TableReport::default()
        },
        Ok(TableSync::Committed {
            version,
            added,
            removed,
            attempts,
        }) => {
            tracing::info!(
                "{}: Delta table version {version} (+{added} -{removed} files{})",
                dataset.id,
                if attempts > 1 {
                    format!(", after {} lost race(s)", attempts - 1)
                } else {
                    String::new()
                }
            );
            TableReport {
                version: Some(version),
                committed: true,
                added,
                removed,
                error: None,
            }
        }
        Err(TableError::LeaseLost(lost)) => return Err(lost),
        Err(e) => {
            let error = format!("{e:#}");
            tracing::warn!(
                "{}: the Delta table was not updated and keeps its last version: {error}",
                dataset.id
            );
            TableReport {
                error: Some(error),
                ..TableReport::default()
            }
        }
    };
    Ok(Some(report))
}
