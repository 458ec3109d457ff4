//! The plan of the store as the page shows it: one `strata_engine::status`
//! report shared by every request and every open page, with a version that
//! changes only when what it shows changes.
//!
//! Live updates are server-sent events fed from here, not polling by each
//! page: planning the planner-scale store (14,600 partitions) takes a few
//! hundred milliseconds of listing and manifest-cache reads (seconds on S3),
//! so one loop in the server plans once per `--refresh` for all pages, and
//! only while one is watching; each page then fetches `/api/partitions`
//! only when the version moved. Requests are answered from the snapshot at
//! hand, never made to wait for a plan (see [`Snapshots::current`]). The config is read again on every refresh, as `host run` does, so
//! a swapped plugin shows as stale without restarting the server.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use object_store::path::Path;
use tokio::sync::{Mutex, Notify, watch};

use strata_core::config::{self, Pipeline};
use strata_engine::ops::history::{self, RunRecord};
use strata_engine::{self as engine, Report, Scope};
use strata_store::Store;
use strata_store::lease::{LEASE_PATH, LeaseRecord};

use super::super::GlobalOptions;
use super::super::status::status_json;
use super::Shared;

/// One plan of the store.
pub(super) struct Snapshot {
    /// Changes whenever the partitions, the lease or the newest run do.
    pub(super) version: u64,
    pub(super) taken_at: DateTime<Utc>,
    taken: Instant,
    /// How long planning took.
    pub(super) took: Duration,
    /// The time planned as of (`--now`, or the clock at the refresh).
    pub(super) now: NaiveDateTime,
    pub(super) pipeline: Arc<Pipeline>,
    pub(super) report: Arc<Report>,
    /// `host status --json` of `report`, serialised once.
    pub(super) status: Bytes,
    /// The lease, while a run holds it.
    pub(super) lease: Option<LeaseRecord>,
    /// The newest run recorded.
    pub(super) last_run: Option<RunRecord>,
    /// Why the last refresh failed (the config broke, the store did not
    /// answer): the snapshot is then the last good one.
    pub(super) error: Option<String>,
    digest: u64,
}

pub(super) struct Snapshots {
    config: PathBuf,
    fixed_now: Option<NaiveDateTime>,
    pub(super) store: Store,
    refresh: Duration,
    current: watch::Sender<Option<Arc<Snapshot>>>,
    /// One refresh at a time; callers that queue behind it use its result.
    refreshing: Mutex<()>,
    /// Woken by a request that found the view older than `--refresh`.
    wake: Notify,
    /// Set when the server stops: event streams end so the stop is not
    /// held up by pages that stay open.
    stopping: watch::Sender<bool>,
    /// The pipeline as last loaded successfully.
    pipeline: std::sync::Mutex<Arc<Pipeline>>,
}

impl Snapshots {
    pub(super) fn new(
        global: &GlobalOptions,
        pipeline: Pipeline,
        store: Store,
        refresh: Duration,
    ) -> Snapshots {
        Snapshots {
            config: global.config.clone(),
            fixed_now: global.now,
            store,
            refresh,
            current: watch::Sender::new(None),
            refreshing: Mutex::new(()),
            wake: Notify::new(),
            stopping: watch::Sender::new(false),
            pipeline: std::sync::Mutex::new(Arc::new(pipeline)),
        }
    }

    /// The current snapshot. One older than `--refresh` is still answered
    /// at once, and the refresh loop is woken to plan the store again
    /// (stale-while-revalidate: no request waits for a plan of the whole
    /// store, which takes seconds on a large one; open pages hear of the
    /// new view by their event stream). Only the very first request plans
    /// before it answers.
    pub(super) async fn current(&self) -> Result<Arc<Snapshot>> {
        if let Some(s) = self.current.borrow().clone() {
            if s.taken.elapsed() >= self.refresh {
                self.wake.notify_one();
            }
            return Ok(s);
        }
        let _one = self.refreshing.lock().await;
        if let Some(s) = self.current.borrow().clone() {
            return Ok(s);
        }
        self.refresh_now().await
    }

    fn stale(&self) -> bool {
        self.current
            .borrow()
            .as_ref()
            .is_none_or(|s| s.taken.elapsed() >= self.refresh)
    }

    /// Plans again now (after an action changed the store).
    pub(super) async fn refresh_now(&self) -> Result<Arc<Snapshot>> {
        let previous = self.current.borrow().clone();
        let next = Arc::new(self.take(previous.as_deref()).await?);
        self.current.send_replace(Some(next.clone()));
        Ok(next)
    }

    /// A receiver of every new snapshot, for an event stream.
    pub(super) fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.current.subscribe()
    }

    pub(super) fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub(super) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    async fn take(&self, previous: Option<&Snapshot>) -> Result<Snapshot> {
        let started = Instant::now();
        let mut error = None;
        // A broken config keeps the last good pipeline on the page, with
        // the error shown, rather than an empty page.
        match config::load(&self.config) {
            Ok(p) => *self.pipeline.lock().expect("not poisoned") = Arc::new(p),
            Err(e) => error = Some(format!("{e:#}")),
        }
        let pipeline = self.pipeline.lock().expect("not poisoned").clone();
        let now = self
            .fixed_now
            .unwrap_or_else(|| chrono::Utc::now().naive_utc());
        let report = match engine::status(&pipeline, &self.store, &Scope::new(now)).await {
            Ok(r) => Arc::new(r),
            Err(e) => match previous {
                Some(p) => {
                    error = Some(format!("{e:#}"));
                    p.report.clone()
                }
                None => return Err(e),
            },
        };
        let status = Bytes::from(serde_json::to_vec(&status_json(&report))?);
        let lease = self
            .store
            .read_state(&Path::from(LEASE_PATH))
            .await
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<LeaseRecord>(&b).ok())
            .filter(|l| l.expires_at > Utc::now());
        let last_run = history::list(&self.store, 1)
            .await
            .ok()
            .and_then(|mut v| v.pop());
        let mut hasher = DefaultHasher::new();
        status.hash(&mut hasher);
        lease.as_ref().map(|l| &l.holder).hash(&mut hasher);
        last_run
            .as_ref()
            .map(|r| (&r.id, r.status.name()))
            .hash(&mut hasher);
        error.hash(&mut hasher);
        let digest = hasher.finish();
        let version = match previous {
            Some(p) if p.digest == digest => p.version,
            Some(p) => p.version + 1,
            None => 1,
        };
        Ok(Snapshot {
            version,
            taken_at: Utc::now(),
            taken: Instant::now(),
            took: started.elapsed(),
            now,
            pipeline,
            report,
            status,
            lease,
            last_run,
            error,
            digest,
        })
    }
}

/// Plans the store again every `--refresh` while a page has its event
/// stream open, and when a request found the view stale; after each plan
/// it waits as long as the plan took, so the server never spends more than
/// half its time planning, however slow the store.
pub(super) async fn watch_loop(app: Shared) {
    let snapshots = &app.snapshots;
    loop {
        tokio::select! {
            // The senders' receivers are the open event streams.
            _ = tokio::time::sleep(snapshots.refresh) => {
                if snapshots.current.receiver_count() == 0 {
                    continue;
                }
            }
            _ = snapshots.wake.notified() => {}
        }
        let took = {
            let _one = snapshots.refreshing.lock().await;
            if !snapshots.stale() {
                continue;
            }
            match snapshots.refresh_now().await {
                Ok(s) => s.took,
                Err(e) => {
                    tracing::warn!("refreshing the page's view of the store: {e:#}");
                    snapshots.refresh
                }
            }
        };
        tokio::time::sleep(took).await;
    }
}
