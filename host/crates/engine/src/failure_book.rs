//! The failures a dataset's partitions have on record, kept in the store
//! beside their state (`_strata/failures/<layer>/<name>.json`): one read per
//! dataset when it is planned, one write when a run changed it.
//!
//! A record says which key (and which checks) the failed computation was
//! for. A deterministic failure (a plugin's own error, a trap, a limit, a
//! check) is not recomputed while both are unchanged; a transient one (a
//! source, the store) is retried by every run, its attempts counted. A
//! partition computed successfully loses its record.

use std::collections::BTreeMap;

use object_store::path::Path;
use serde::{Deserialize, Serialize};
use strata_core::DatasetId;
use strata_core::manifest::CheckResult;
use strata_core::planner::State;
use strata_store::lease::Fence;
use strata_store::{CommitError, Store};

use crate::failure::{Failure, FailureKind, FailureRecord};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FailureBook {
    dataset: String,
    /// By partition id.
    partitions: BTreeMap<String, FailureRecord>,
    #[serde(skip)]
    changed: bool,
}

impl FailureBook {
    fn path(dataset: &DatasetId) -> Path {
        Path::from_iter([
            "_strata",
            "failures",
            dataset.layer.as_str(),
            &format!("{}.json", dataset.name),
        ])
    }

    /// The dataset's records; none if it has none. A book that cannot be
    /// parsed is replaced (it only ever saves work, never decides data).
    pub(crate) async fn load(store: &Store, dataset: &DatasetId) -> anyhow::Result<FailureBook> {
        let empty = FailureBook {
            dataset: dataset.to_string(),
            ..FailureBook::default()
        };
        let Some(bytes) = store.read_state(&Self::path(dataset)).await? else {
            return Ok(empty);
        };
        match serde_json::from_slice::<FailureBook>(&bytes) {
            Ok(book) if book.dataset == dataset.to_string() => Ok(book),
            Ok(_) | Err(_) => {
                tracing::warn!(
                    "the failure records of {dataset} cannot be read; they are started anew"
                );
                Ok(FailureBook {
                    changed: true,
                    ..empty
                })
            }
        }
    }

    /// Writes the book if the run changed it.
    pub(crate) async fn save(
        &mut self,
        store: &Store,
        dataset: &DatasetId,
        fence: &Fence,
    ) -> Result<(), CommitError> {
        if !self.changed {
            return Ok(());
        }
        let mut bytes = serde_json::to_vec_pretty(self).expect("records serialise");
        bytes.push(b'\n');
        store
            .write_state(&Self::path(dataset), bytes, fence)
            .await?;
        self.changed = false;
        Ok(())
    }

    pub(crate) fn get(&self, partition: &str) -> Option<&FailureRecord> {
        self.partitions.get(partition)
    }

    /// The partition is healthy: its record, if any, is gone.
    pub(crate) fn clear(&mut self, partition: &str) -> Option<FailureRecord> {
        let removed = self.partitions.remove(partition);
        self.changed |= removed.is_some();
        removed
    }

    /// Records that computing the partition with `key` (and the checks
    /// `checks`) failed now. The same key and checks as the record's add an
    /// attempt; anything else starts a new record.
    pub(crate) fn record(
        &mut self,
        partition: &str,
        attempt: Attempt<'_>,
        now: &str,
    ) -> FailureRecord {
        let record = match self.partitions.get(partition) {
            Some(old) if old.key == attempt.key && old.checks == attempt.checks => FailureRecord {
                kind: attempt.failure.kind,
                message: attempt.failure.message.clone(),
                last: now.to_owned(),
                attempts: old.attempts + 1,
                results: attempt.results.to_vec(),
                quarantine: attempt.quarantine.clone(),
                ..old.clone()
            },
            _ => FailureRecord {
                kind: attempt.failure.kind,
                message: attempt.failure.message.clone(),
                key: attempt.key.to_owned(),
                checks: attempt.checks.to_owned(),
                since: now.to_owned(),
                last: now.to_owned(),
                attempts: 1,
                results: attempt.results.to_vec(),
                quarantine: attempt.quarantine.clone(),
            },
        };
        self.partitions.insert(partition.to_owned(), record.clone());
        self.changed = true;
        record
    }

    /// Drops records of partitions the dataset no longer has.
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let before = self.partitions.len();
        self.partitions.retain(|p, _| keep(p));
        self.changed |= self.partitions.len() != before;
    }
}

/// One failed computation of a partition.
pub(crate) struct Attempt<'a> {
    pub(crate) failure: &'a Failure,
    pub(crate) key: &'a str,
    pub(crate) checks: &'a str,
    pub(crate) results: &'a [CheckResult],
    pub(crate) quarantine: Option<String>,
}

/// How a partition that needs work stands with its failure on record:
/// `None` if it has none for what it is made of now (its key or checks
/// changed since), else its state (`failed`, with the record's reason) and
/// whether this run tries again. A deterministic failure is tried again only
/// with `retry_failed`; a transient one always. Raw partitions (no key) are
/// always tried again: the source is the truth, and what it delivers may
/// have changed.
pub(crate) fn on_record(
    record: Option<&FailureRecord>,
    key: Option<&str>,
    checks: &str,
    retry_failed: bool,
) -> Option<(State, bool)> {
    let record = record?;
    let failed = State::Failed(reason(record));
    let Some(key) = key else {
        return Some((failed, true));
    };
    if record.key != key || record.checks != checks {
        return None;
    }
    Some((failed, retry_failed || !record.kind.deterministic()))
}

/// A failed partition's reason, as `status` shows it.
pub(crate) fn reason(record: &FailureRecord) -> String {
    let first_line = record.message.lines().next().unwrap_or_default();
    format!(
        "{}: {first_line} (since {}, {} attempt{})",
        record.kind,
        record.since,
        record.attempts,
        if record.attempts == 1 { "" } else { "s" }
    )
}

/// The failure a partition planned as failed reports.
pub(crate) fn failure_of(record: Option<&FailureRecord>, reason: &str) -> Failure {
    match record {
        Some(r) => Failure::new(r.kind, r.message.clone()),
        None => Failure::new(FailureKind::Check, reason.to_owned()),
    }
}
