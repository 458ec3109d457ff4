//! The run lease: one object in the store that says who is writing the
//! pipeline, so two runs never write the same partitions at once.
//!
//! Taken with a conditional create; renewed by its holder while it runs;
//! taken over by another run only after it expired (its holder died).
//! Read-only commands need no lease.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

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
    store: Arc<dyn ObjectStore>,
    record: LeaseRecord,
    lost: watch::Receiver<bool>,
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
        let (stop, stop_rx) = watch::channel(false);
        let (lost_tx, lost) = watch::channel(false);
        let renewer = tokio::spawn(renew(os.clone(), record.clone(), ttl, stop_rx, lost_tx));
        Ok(Lease {
            stop,
            renewer,
            store: os,
            record,
            lost,
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

    pub fn record(&self) -> &LeaseRecord {
        &self.record
    }

    /// Whether renewing failed because another run took the lease over.
    pub fn lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Stops renewing and deletes the lease (if it is still ours).
    pub async fn release(self) -> Result<()> {
        let _ = self.stop.send(true);
        let _ = self.renewer.await;
        let path = Path::from(LEASE_PATH);
        if let Ok(current) = self.store.get(&path).await
            && let Ok(bytes) = current.bytes().await
            && serde_json::from_slice::<LeaseRecord>(&bytes)
                .is_ok_and(|r| r.holder == self.record.holder)
        {
            match self.store.delete(&path).await {
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
    let bytes = os.get(path).await?.bytes().await?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Extends the lease every third of its lifetime while the run goes on.
async fn renew(
    os: Arc<dyn ObjectStore>,
    mut record: LeaseRecord,
    ttl: Duration,
    mut stop: watch::Receiver<bool>,
    lost: watch::Sender<bool>,
) {
    let path = Path::from(LEASE_PATH);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(ttl / 3) => {}
            _ = stop.changed() => return,
        }
        match read(&os, &path).await {
            Ok(current) if current.holder == record.holder => {}
            other => {
                tracing::error!("lost the run lease ({other:?}); another run may be writing");
                let _ = lost.send(true);
                return;
            }
        }
        record.expires_at = Utc::now() + ttl;
        let body = serde_json::to_vec_pretty(&record).expect("lease serialises");
        if let Err(e) = os.put(&path, PutPayload::from(body)).await {
            tracing::warn!("could not renew the run lease: {e}");
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}
