//! What a run did, partition by partition: what `run --json` prints and
//! what the run's callers count.

use serde::Serialize;
use strata_core::planner::State;

use crate::failure::Failure;

/// What happened to one partition.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionReport {
    pub partition: String,
    /// The plan before the run.
    #[serde(flatten)]
    pub planned: State,
    /// What the run did: fresh, computed, failed, blocked, waiting, skipped.
    pub outcome: Outcome,
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
    Failed {
        error: Failure,
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
}

impl Report {
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.datasets.iter().map(|d| d.count(&pred)).sum()
    }
}
