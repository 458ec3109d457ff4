//! The run lease: one object in the store that says who is writing the
//! pipeline, so two runs never write the same partitions at once.
//!
//! Taken with a conditional create; renewed by its holder while it runs;
//! taken over by another run only after it expired (its holder died).
//! Read-only commands need no lease.
//!
//! A holder can stall past its lease (a paused VM, SIGSTOP, a long swap)
//! and be taken over without knowing. So every commit is fenced: before it
//! writes a manifest the holder asks its [`Fence`], which trusts the lease
//! only while its last renewal is recent, and otherwise reads the lease
//! object to renew it or learn that it was lost. A holder that lost its
//! lease commits nothing more.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, watch};

use super::Store;

/// Where the lease lives, relative to the store root.
pub const LEASE_PATH: &str = "_strata/lease.json";

/// What a lease object records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// A unique id for this run.
    pub holder: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Display for LeaseRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} (run {}, started {}, lease expires {})",
            self.pid,
            self.host,
            self.holder,
            self.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

/// Why a lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "another run holds the lease on this pipeline: {0}. \
         Wait for it to finish (or pass --wait); a lease whose holder died expires and is taken over"
    )]
    Held(LeaseRecord),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// A held lease; renewed in the background until released.
pub struct Lease {
    stop: watch::Sender<bool>,
    renewer: tokio::task::JoinHandle<()>,
    fence: Fence,
}

/// The run lease lost to another run: what a fenced write fails with.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "lost the run lease: {0}; another run took this pipeline over, so this one commits nothing more"
)]
pub struct LeaseLost(pub String);

/// Guards writes with the lease: cheap while the lease was renewed within
/// the last third of its lifetime, one read (and a renewal) otherwise.
/// Clones share one state.
#[derive(Clone)]
pub struct Fence {
    state: Arc<FenceState>,
}

struct FenceState {
    store: Arc<dyn ObjectStore>,
    ttl: Duration,
    /// The record as last written (its `expires_at` is the last renewal's).
    /// Locked while renewing, so concurrent checks renew once.
    record: Mutex<LeaseRecord>,
    /// Set once the lease is known to be lost.
    lost: std::sync::Mutex<Option<LeaseLost>>,
}

impl Fence {
    /// Ok while this run holds the lease.
    pub async fn check(&self) -> Result<(), LeaseLost> {
        if let Some(lost) = self.lost() {
            return Err(lost);
        }
        let mut record = self.state.record.lock().await;
        let trusted_until = record.expires_at - self.state.ttl * 2 / 3;
        if Utc::now() < trusted_until {
            return Ok(());
        }
        self.renew(&mut record).await
    }

    /// Whether the lease is known to be lost, and to whom.
    pub fn lost(&self) -> Option<LeaseLost> {
        self.state.lost.lock().expect("fence lock").clone()
    }

    /// Reads the lease: still ours, it is extended; anyone else's (or
    /// gone), it is lost. A store that cannot be read leaves the lease
    /// trusted only until it expires.
    async fn renew(&self, record: &mut LeaseRecord) -> Result<(), LeaseLost> {
        let path = Path::from(LEASE_PATH);
        let lose = |why: String| {
            let lost = LeaseLost(why);
            tracing::error!("{lost}");
            *self.state.lost.lock().expect("fence lock") = Some(lost.clone());
            Err(lost)
        };
        let version = match read_versioned(&self.state.store, &path).await {
            Ok((current, version)) if current.holder == record.holder => version,
            Ok((current, _)) => return lose(format!("it is now held by {current}")),
            Err(e)
                if matches!(
                    e.downcast_ref::<object_store::Error>(),
                    Some(object_store::Error::NotFound { .. })
                ) =>
            {
                return lose("its object was removed".into());
            }
            Err(e) if Utc::now() < record.expires_at => {
                tracing::warn!("could not read the run lease to renew it: {e:#}");
                return Ok(());
            }
            Err(e) => return lose(format!("it expired and cannot be read ({e:#})")),
        };
        let mut renewed = record.clone();
        renewed.expires_at = Utc::now() + self.state.ttl;
        let body = PutPayload::from(serde_json::to_vec_pretty(&renewed).expect("lease serialises"));
        // Conditional on the version just read, where the store has one, so
        // a takeover between the read and the write is not overwritten.
        let update = PutOptions {
            mode: PutMode::Update(version),
            ..Default::default()
        };
        let written = match self.state.store.put_opts(&path, body.clone(), update).await {
            Err(object_store::Error::NotImplemented { .. }) => {
                self.state.store.put(&path, body).await
            }
            other => other,
        };
        match written {
            Ok(_) => *record = renewed,
            Err(object_store::Error::Precondition { .. }) => {
                return lose("another run wrote it while this one renewed it".into());
            }
            Err(e) if Utc::now() < record.expires_at => {
                tracing::warn!("could not renew the run lease: {e}")
            }
            Err(e) => return lose(format!("it expired and cannot be renewed ({e})")),
        }
        Ok(())
    }
}

impl Lease {
    /// Takes the lease, or says who holds it.
    pub async fn acquire(store: &Store, ttl: Duration) -> Result<Lease, LeaseError> {
        let os = store.object_store().clone();
        let path = Path::from(LEASE_PATH);
        let now = Utc::now();
        let record = LeaseRecord {
            holder: run_id(),
            host: hostname(),
            pid: std::process::id(),
            started_at: now,
            expires_at: now + ttl,
        };
        let body = serde_json::to_vec_pretty(&record).context("lease")?;
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match os
            .put_opts(&path, PutPayload::from(body.clone()), create)
            .await
        {
            Ok(_) => {}
            Err(object_store::Error::AlreadyExists { .. }) => {
                let existing = os.get(&path).await.context("reading the lease")?;
                let version = UpdateVersion {
                    e_tag: existing.meta.e_tag.clone(),
                    version: existing.meta.version.clone(),
                };
                let bytes = existing.bytes().await.context("reading the lease")?;
                match serde_json::from_slice::<LeaseRecord>(&bytes) {
                    Ok(held) if held.expires_at > Utc::now() => return Err(LeaseError::Held(held)),
                    Ok(held) => tracing::warn!("taking over an expired lease: {held}"),
                    Err(e) => tracing::warn!("taking over an unreadable lease ({e})"),
                }
                take_over(&os, &path, body, version).await?;
            }
            Err(e) => {
                return Err(LeaseError::Store(
                    anyhow::Error::from(e).context(format!("taking the lease in {}", store.url)),
                ));
            }
        }
        let fence = Fence {
            state: Arc::new(FenceState {
                store: os,
                ttl,
                record: Mutex::new(record),
                lost: std::sync::Mutex::new(None),
            }),
        };
        let (stop, stop_rx) = watch::channel(false);
        let renewer = tokio::spawn(renew(fence.clone(), stop_rx));
        Ok(Lease {
            stop,
            renewer,
            fence,
        })
    }

    /// Waits until the lease can be taken.
    pub async fn acquire_waiting(store: &Store, ttl: Duration) -> Result<Lease> {
        let mut announced = false;
        loop {
            match Lease::acquire(store, ttl).await {
                Ok(lease) => return Ok(lease),
                Err(LeaseError::Held(holder)) => {
                    if !announced {
                        tracing::info!("waiting for the lease held by {holder}");
                        announced = true;
                    }
                    tokio::time::sleep(Duration::from_millis(500).min(ttl)).await;
                }
                Err(LeaseError::Store(e)) => return Err(e),
            }
        }
    }

    /// The lease as this run last wrote it.
    pub async fn record(&self) -> LeaseRecord {
        self.fence.state.record.lock().await.clone()
    }

    /// The fence that guards this run's writes.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Stops renewing and deletes the lease (if it is still ours).
    pub async fn release(self) -> Result<()> {
        let _ = self.stop.send(true);
        let _ = self.renewer.await;
        let path = Path::from(LEASE_PATH);
        let state = &self.fence.state;
        let holder = state.record.lock().await.holder.clone();
        if let Ok(current) = state.store.get(&path).await
            && let Ok(bytes) = current.bytes().await
            && serde_json::from_slice::<LeaseRecord>(&bytes).is_ok_and(|r| r.holder == holder)
        {
            match state.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => bail!("releasing the lease: {e}"),
            }
        }
        Ok(())
    }
}

/// Replaces an expired lease: a conditional update where the store has one,
/// else delete and create (which a racing taker can only lose).
async fn take_over(
    os: &Arc<dyn ObjectStore>,
    path: &Path,
    body: Vec<u8>,
    version: UpdateVersion,
) -> Result<(), LeaseError> {
    let update = PutOptions {
        mode: PutMode::Update(version),
        ..Default::default()
    };
    match os
        .put_opts(path, PutPayload::from(body.clone()), update)
        .await
    {
        Ok(_) => return Ok(()),
        Err(object_store::Error::Precondition { .. }) => {
            return Err(LeaseError::Held(read(os, path).await?));
        }
        Err(object_store::Error::NotImplemented { .. }) => {}
        Err(e) => {
            return Err(LeaseError::Store(
                anyhow::Error::from(e).context("taking over the lease"),
            ));
        }
    }
    match os.delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => {
            return Err(LeaseError::Store(
                anyhow::Error::from(e).context("removing the expired lease"),
            ));
        }
    }
    let create = PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    };
    match os.put_opts(path, PutPayload::from(body), create).await {
        Ok(_) => Ok(()),
        Err(object_store::Error::AlreadyExists { .. }) => {
            Err(LeaseError::Held(read(os, path).await?))
        }
        Err(e) => Err(LeaseError::Store(
            anyhow::Error::from(e).context("taking the lease"),
        )),
    }
}

async fn read(os: &Arc<dyn ObjectStore>, path: &Path) -> Result<LeaseRecord> {
    Ok(read_versioned(os, path).await?.0)
}

/// The lease and the version it was read at (for a conditional update).
async fn read_versioned(
    os: &Arc<dyn ObjectStore>,
    path: &Path,
) -> Result<(LeaseRecord, UpdateVersion)> {
    let got = os.get(path).await?;
    let version = UpdateVersion {
        e_tag: got.meta.e_tag.clone(),
        version: got.meta.version.clone(),
    };
    let bytes = got.bytes().await?;
    Ok((serde_json::from_slice(&bytes)?, version))
}

/// Extends the lease every third of its lifetime while the run goes on,
/// until it is stopped or the lease is lost.
async fn renew(fence: Fence, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(fence.state.ttl / 3) => {}
            _ = stop.changed() => return,
        }
        let mut record = fence.state.record.lock().await;
        if fence.renew(&mut record).await.is_err() {
            return;
        }
    }
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// This machine's name, for records of who did what (the lease holder, a
/// run record).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}
