//! What a run did, partition by partition: what `run --json` prints and
//! what the run's callers count.

use crate::inputs::InputsRead;
use std::time::Duration;

use serde::Serialize;
use strata_core::config::Severity;
use strata_core::manifest::{CheckResult, Manifest};
use strata_core::planner::{Recipe, State};

use crate::failure::{Failure, FailureRecord};

/// What happened to one partition.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionReport {
    pub partition: String,
    /// The plan before the run.
    #[serde(flatten)]
    pub planned: State,
    /// What the run did: fresh, computed, checked, failed, blocked,
    /// waiting, skipped.
    pub outcome: Outcome,
    /// The check results this run evaluated: on new output, or on
    /// published content whose checks changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// The failure on record for the partition after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureRecord>,
    /// What computing it read and wrote, when it was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
}

impl PartitionReport {
    pub(crate) fn new(partition: String, planned: State, outcome: Outcome) -> Self {
        PartitionReport {
            partition,
            planned,
            outcome,
            checks: vec![],
            failure: None,
            stats: None,
        }
    }
}

/// What computing one partition cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub duration_ms: u64,
    pub rows_read: u64,
    pub bytes_read: u64,
    pub rows_written: u64,
    pub bytes_written: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Fresh,
    Computed {
        /// Whether the content hash differs from the partition it replaced
        /// (true when there was none).
        changed: bool,
    },
    /// Its checks changed and were evaluated on its published content;
    /// no data was computed.
    Checked,
    Failed {
        error: Failure,
        /// Whether this run computed it (or evaluated its checks): false
        /// for a failure on record that nothing has changed since.
        attempted: bool,
    },
    Blocked,
    Waiting,
    /// Needs work but was not done: outside --from/--to/--dataset, a status
    /// run, or a run that lost its lease.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetReport {
    pub dataset: String,
    pub partitions: Vec<PartitionReport>,
    /// The dataset's per-run checks (`freshness`), evaluated by this run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// Its Delta table after the run; none for raw datasets, with
    /// `[tables] format = "none"`, and in `host status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<TableReport>,
    /// What its computed partitions read from their inputs; none for raw
    /// datasets, in `host status`, and when nothing was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs_read: Option<InputsRead>,
}

/// What a run did to a dataset's Delta table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableReport {
    /// The table's latest version after the run (none: no table yet).
    pub version: Option<u64>,
    /// Whether this run committed that version.
    pub committed: bool,
    /// Files the commit added and removed.
    pub added: usize,
    pub removed: usize,
    /// Why the table was not brought up to date (it keeps its last
    /// version; the partitions are committed all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DatasetReport {
    /// How many partitions had an outcome `pred` accepts.
    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.partitions.iter().filter(|p| pred(&p.outcome)).count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub datasets: Vec<DatasetReport>,
    /// Set when the run lost its lease to another run and stopped
    /// committing: why, and who holds it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_lost: Option<String>,
    /// Set when a graceful stop was asked for during the run: partitions
    /// not started by then are reported skipped.
    pub stopped: bool,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    /// The per-run checks (`freshness`) that failed with severity error.
    pub fn failed_checks(&self) -> impl Iterator<Item = (&str, &CheckResult)> {
        self.datasets.iter().flat_map(|d| {
            d.checks
                .iter()
                .filter(|c| !c.passed && c.severity == Severity::Error)
                .map(move |c| (d.dataset.as_str(), c))
        })
    }

    /// Nothing failed, no blocking check failed, the lease held.
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.failed_checks().next().is_none() && self.lease_lost.is_none()
    }

    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.datasets.iter().map(|d| d.count(&pred)).sum()
    }
}

impl Stats {
    /// What computing a partition read (its recipe's inputs) and wrote.
    pub(crate) fn of(recipe: Option<&Recipe>, manifest: &Manifest, elapsed: Duration) -> Stats {
        let inputs = recipe
            .map(|r| r.inputs.iter().flatten())
            .into_iter()
            .flatten();
        let (rows_read, bytes_read) = inputs.fold((0, 0), |(rows, bytes), m| {
            (
                rows + m.rows.unwrap_or(0),
                bytes + m.files.iter().map(|f| f.size).sum::<u64>(),
            )
        });
        Stats {
            duration_ms: elapsed.as_millis() as u64,
            rows_read,
            bytes_read,
            rows_written: manifest.rows.unwrap_or(0),
            bytes_written: manifest.files.iter().map(|f| f.size).sum(),
        }
    }
}
