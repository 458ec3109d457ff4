//! Run records: one JSON object per run under `_strata/runs/<id>.json`.
//! A stub (`unfinished`) is written when the run starts, so a run that was
//! killed stays visible; the full record replaces it at the end. Ids sort
//! by start time, so the newest runs are the last names in a listing.
//! Records older than `[history] keep` are deleted at the end of a run.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use strata_core::manifest::CheckResult;
use strata_store::Store;

use super::Delivery;
use crate::failure::{Failure, FailureRecord};
use crate::report::{DatasetReport, Outcome, Report};

/// Where run records live, relative to the store root.
pub const RUNS_DIR: &str = "_strata/runs";

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every partition it looked at is fresh, computed or waiting.
    Ok,
    /// A partition failed, the run lost its lease, or the run itself
    /// failed (the store, the config).
    Failed,
    /// Stopped by a signal: partitions not started are left for the next run.
    Stopped,
    /// Only the stub was written: the run is going on, or it was killed.
    Unfinished,
}

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Stopped => "stopped",
            RunStatus::Unfinished => "unfinished",
        }
    }
}

/// Partitions counted by what the run did to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub computed: usize,
    pub checked: usize,
    pub fresh: usize,
    pub failed: usize,
    pub blocked: usize,
    pub waiting: usize,
    pub skipped: usize,
}

impl Counts {
    fn of(dataset: &DatasetReport) -> Counts {
        let mut c = Counts::default();
        for p in &dataset.partitions {
            match p.outcome {
                Outcome::Fresh => c.fresh += 1,
                Outcome::Computed { .. } => c.computed += 1,
                Outcome::Checked => c.checked += 1,
                Outcome::Failed { .. } => c.failed += 1,
                Outcome::Blocked => c.blocked += 1,
                Outcome::Waiting => c.waiting += 1,
                Outcome::Skipped => c.skipped += 1,
            }
        }
        c
    }

    fn add(&mut self, o: &Counts) {
        self.computed += o.computed;
        self.checked += o.checked;
        self.fresh += o.fresh;
        self.failed += o.failed;
        self.blocked += o.blocked;
        self.waiting += o.waiting;
        self.skipped += o.skipped;
    }
}

/// The machine a run ran on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: String,
    pub pid: u32,
}

/// One run, as `host history` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    pub host_version: String,
    pub machine: Machine,
    /// The pipeline file.
    pub pipeline: String,
    /// The command's options as given.
    pub options: BTreeMap<String, serde_json::Value>,
    /// All datasets together.
    pub counts: Counts,
    #[serde(default)]
    pub datasets: Vec<DatasetRecord>,
    /// The notifications sent, delivered or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<Delivery>,
    /// The OpenLineage events sent, delivered or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<Delivery>,
    /// Why the run itself failed (not a partition: the config, the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_lost: Option<String>,
    /// The signal that stopped the run (`SIGTERM`, `SIGINT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
}

/// One dataset in a run record: its counts and the partitions the run
/// did something to (computed, checked or failed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetRecord {
    pub dataset: String,
    pub counts: Counts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionRecord>,
    /// The dataset's per-run checks (freshness).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionRecord {
    pub partition: String,
    /// `computed`, `checked` or `failed`.
    pub outcome: String,
    /// The plan before the run, and why.
    pub state: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    /// The failure on record after the run (since when, how many attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureRecord>,
    /// Duration, rows and bytes read and written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

impl RunRecord {
    /// A record for a run starting now.
    pub fn start(pipeline: &str, options: BTreeMap<String, serde_json::Value>) -> RunRecord {
        let started_at = Utc::now();
        let pid = std::process::id();
        RunRecord {
            id: format!("{}-{pid:x}", started_at.format("%Y%m%dT%H%M%S%.3fZ")),
            status: RunStatus::Unfinished,
            started_at,
            finished_at: None,
            duration_ms: None,
            host_version: env!("CARGO_PKG_VERSION").to_owned(),
            machine: Machine {
                hostname: strata_store::lease::hostname(),
                pid,
            },
            pipeline: pipeline.to_owned(),
            options,
            counts: Counts::default(),
            datasets: vec![],
            notifications: vec![],
            lineage: vec![],
            error: None,
            lease_lost: None,
            stopped_by: None,
        }
    }

    /// Fills in what the run did and when it ended.
    pub fn finish(&mut self, report: Option<&Report>, error: Option<String>) {
        let now = Utc::now();
        self.finished_at = Some(now);
        self.duration_ms = Some((now - self.started_at).num_milliseconds().max(0) as u64);
        self.error = error;
        if let Some(report) = report {
            self.lease_lost = report.lease_lost.clone();
            self.datasets = report.datasets.iter().map(DatasetRecord::of).collect();
            self.counts = Counts::default();
            for d in &self.datasets {
                self.counts.add(&d.counts);
            }
        }
        let failed_checks = report.is_some_and(|r| r.failed_checks().next().is_some());
        self.status = if self.error.is_some()
            || self.lease_lost.is_some()
            || self.counts.failed > 0
            || failed_checks
        {
            RunStatus::Failed
        } else if report.is_some_and(|r| r.stopped) || self.stopped_by.is_some() {
            RunStatus::Stopped
        } else {
            RunStatus::Ok
        };
    }

    fn path(id: &str) -> Path {
        Path::from(format!("{RUNS_DIR}/{id}.json"))
    }

    /// Writes (or replaces) the record in the store.
    pub async fn save(&self, store: &Store) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("a run record serializes");
        store
            .object_store()
            .put(&Self::path(&self.id), PutPayload::from(bytes))
            .await
            .with_context(|| format!("writing the run record {} in {}", self.id, store.url))?;
        Ok(())
    }

    /// Reads one record by id.
    pub async fn load(store: &Store, id: &str) -> Result<Option<RunRecord>> {
        if id.is_empty() || id.contains('/') {
            return Ok(None);
        }
        read(store.object_store().as_ref(), &Self::path(id)).await
    }
}

impl DatasetRecord {
    fn of(d: &DatasetReport) -> DatasetRecord {
        let partitions = d
            .partitions
            .iter()
            .filter_map(|p| {
                let (outcome, changed, error) = match &p.outcome {
                    Outcome::Computed { changed } => ("computed", Some(*changed), None),
                    Outcome::Checked => ("checked", None, None),
                    Outcome::Failed { error, .. } => ("failed", None, Some(error.clone())),
                    _ => return None,
                };
                Some(PartitionRecord {
                    partition: p.partition.clone(),
                    outcome: outcome.to_owned(),
                    state: p.planned.name().to_owned(),
                    reason: p.planned.reason(),
                    changed,
                    error,
                    failure: p.failure.clone(),
                    stats: p.stats.as_ref().and_then(|s| serde_json::to_value(s).ok()),
                    checks: p.checks.clone(),
                })
            })
            .collect();
        DatasetRecord {
            dataset: d.dataset.clone(),
            counts: Counts::of(d),
            partitions,
            checks: d.checks.clone(),
        }
    }
}

async fn read(store: &dyn ObjectStore, path: &Path) -> Result<Option<RunRecord>> {
    let bytes = match store.get(path).await {
        Ok(r) => r.bytes().await?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {path}")),
    };
    let record = serde_json::from_slice(&bytes).with_context(|| format!("parsing {path}"))?;
    Ok(Some(record))
}

/// The newest `limit` records, newest first. A record that cannot be read
/// is skipped with a warning.
pub async fn list(store: &Store, limit: usize) -> Result<Vec<RunRecord>> {
    let inner = store.object_store();
    let prefix = Path::from(RUNS_DIR);
    let mut paths: Vec<Path> = inner
        .list(Some(&prefix))
        .map_ok(|meta| meta.location)
        .try_filter(|p| std::future::ready(p.as_ref().ends_with(".json")))
        .try_collect()
        .await
        .with_context(|| format!("listing {RUNS_DIR} in {}", store.url))?;
    paths.sort();
    paths.reverse();
    paths.truncate(limit);
    let records: Vec<Option<RunRecord>> = futures::stream::iter(paths)
        .map(|path| async move {
            match read(inner.as_ref(), &path).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("skipping run record {path}: {e:#}");
                    None
                }
            }
        })
        .buffered(8)
        .collect()
        .await;
    Ok(records.into_iter().flatten().collect())
}

/// Deletes the records last written more than `keep` ago; returns how many.
/// Failures are logged: pruning never fails a run.
pub async fn prune(store: &Store, keep: Duration) -> usize {
    let Ok(keep) = chrono::Duration::from_std(keep) else {
        return 0;
    };
    let cutoff = Utc::now() - keep;
    let inner = store.object_store();
    let prefix = Path::from(RUNS_DIR);
    let old: Vec<Path> = match inner
        .list(Some(&prefix))
        .try_filter(|m| std::future::ready(m.last_modified < cutoff))
        .map_ok(|m| m.location)
        .try_collect()
        .await
    {
        Ok(old) => old,
        Err(e) => {
            tracing::warn!("run records not pruned: {e}");
            return 0;
        }
    };
    let mut deleted = 0;
    for path in old {
        match inner.delete(&path).await {
            Ok(()) => deleted += 1,
            Err(e) => tracing::warn!("run record {path} not deleted: {e}"),
        }
    }
    if deleted > 0 {
        tracing::debug!("deleted {deleted} run record(s) older than the history's keep");
    }
    deleted
}
