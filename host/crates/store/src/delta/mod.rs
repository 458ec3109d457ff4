//! Every non-raw dataset is also a Delta Lake table: a `_delta_log/` in
//! its folder whose versions are snapshots of its committed partitions,
//! so any engine that reads Delta (Spark, Databricks, DuckDB's
//! `delta_scan`, Polars, delta-rs) sees a consistent state, never a
//! partition's new file beside its old one.
//!
//! The manifests stay the truth; the log is their projection. A sync
//! compares the table's latest version with the partitions published now
//! and commits the difference as one version: `add` for every file of a
//! new or replaced partition (with statistics from its Parquet footer),
//! `remove` for every file the table had that no published partition
//! names, `metaData` when the schema grew. So one function is both the
//! commit after a run and the repair of a log that disagrees with the
//! manifests (a crash between the two, a partition deleted by hand, a
//! store from before tables). The data files are the partitions' own:
//! nothing is written twice.
//!
//! Commits are `_delta_log/<20-digit version>.json`, written put-if-absent
//! (`PutMode::Create`) and never overwritten; a writer that loses the
//! race for a version reads the winner's and tries the next. A checkpoint
//! every `checkpoint_interval` versions. Files a version still references
//! are deleted only by `host gc`, after the retention.
//!
//! This module knows manifests and object stores, never plugins or plans.

pub mod actions;
mod checkpoint;
pub mod schema;
mod stats;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use strata_core::DatasetId;
use strata_core::manifest::{Manifest, sha256_hex};

use crate::Store;
use crate::lease::{Fence, LeaseLost};
use actions::{Action, Add, Format, MetaData, Protocol, Remove, commit_bytes, encode_path};
use schema::{SchemaConflict, StructType};

/// The log folder inside a table's folder.
pub const LOG_DIR: &str = "_delta_log";

/// How many times a writer that lost the race for a version tries the
/// next one before giving up (the next run repairs what it left).
const MAX_ATTEMPTS: u32 = 20;

/// How a table is kept.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// A checkpoint every this many versions.
    pub checkpoint_interval: u64,
    /// Tombstones younger than this stay in checkpoints (and their files
    /// on disk, see [`TableLog::retained`]).
    pub retention: Duration,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableSync {
    /// The table's latest version already is the published partitions
    /// (`None`: there is no table and nothing to put in one).
    Unchanged { version: Option<u64> },
    /// A new version was committed.
    Committed {
        version: u64,
        added: usize,
        removed: usize,
        /// Versions tried: more than 1 when another writer won a race.
        attempts: u32,
    },
}

/// Why a sync committed nothing.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The run no longer holds its lease: it must stop writing.
    #[error(transparent)]
    LeaseLost(#[from] LeaseLost),
    /// The partitions' schemas cannot be one table schema.
    #[error(transparent)]
    Schema(#[from] SchemaConflict),
    /// The store failed, or the log cannot be read.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// The state of a table at one version.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// `None`: no table yet.
    pub version: Option<u64>,
    pub protocol: Option<Protocol>,
    pub metadata: Option<MetaData>,
    /// Data files in the table, by decoded table-relative path.
    pub files: BTreeMap<String, Add>,
    /// Files removed and not added again, by decoded path.
    pub tombstones: BTreeMap<String, Remove>,
}

impl Snapshot {
    fn apply(&mut self, action: Action) {
        match action {
            Action::CommitInfo(_) => {}
            Action::Protocol(p) => self.protocol = Some(p),
            Action::MetaData(m) => self.metadata = Some(m),
            Action::Add(add) => {
                let key = actions::decode_path(&add.path);
                self.tombstones.remove(&key);
                self.files.insert(key, add);
            }
            Action::Remove(remove) => {
                let key = actions::decode_path(&remove.path);
                self.files.remove(&key);
                self.tombstones.insert(key, remove);
            }
        }
    }

    /// The table's schema, if it has one that parses.
    pub fn schema(&self) -> Option<StructType> {
        self.metadata
            .as_ref()
            .and_then(|m| StructType::parse(&m.schema_string).ok())
    }
}

/// Files of older versions a table keeps: `host gc` leaves them alone.
#[derive(Debug, Default)]
pub struct Retained {
    /// Table-relative path → until when it is kept (`None`: it is in the
    /// latest version).
    files: HashMap<String, Option<DateTime<Utc>>>,
}

impl Retained {
    /// Whether `path` (table-relative) is kept, and until when.
    pub fn keeps(&self, path: &str) -> Option<Option<DateTime<Utc>>> {
        self.files.get(path).copied()
    }
}

/// What a run remembers of a table it synced, so a run that changed
/// nothing reads one small object and lists the log from its version on,
/// instead of replaying the log: `_strata/tables/<layer>/<name>.json`.
/// A cache, never the truth: used only while the log's latest version is
/// the one it names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncedState {
    version: u64,
    /// [`fingerprint`] of the partitions that version holds.
    fingerprint: String,
}

/// The log of one dataset's table.
pub struct TableLog<'a> {
    store: &'a Store,
    dataset: &'a DatasetId,
    options: TableOptions,
}

impl<'a> TableLog<'a> {
    pub fn new(store: &'a Store, dataset: &'a DatasetId, options: TableOptions) -> TableLog<'a> {
        TableLog {
            store,
            dataset,
            options,
        }
    }

    fn os(&self) -> &Arc<dyn ObjectStore> {
        self.store.object_store()
    }

    fn log_dir(&self) -> Path {
        Store::dataset_dir(self.dataset).join(LOG_DIR)
    }

    fn commit_path(&self, version: u64) -> Path {
        self.log_dir().join(format!("{version:020}.json").as_str())
    }

    fn checkpoint_path(&self, version: u64) -> Path {
        self.log_dir()
            .join(format!("{version:020}.checkpoint.parquet").as_str())
    }

    fn state_path(&self) -> Path {
        Path::from_iter([
            "_strata",
            "tables",
            self.dataset.layer.as_str(),
            &format!("{}.json", self.dataset.name),
        ])
    }

    /// Brings the table to the partitions published now (`published`,
    /// each partition's manifest), committing one version if anything
    /// differs and nothing if the latest version already holds them.
    pub async fn sync(
        &self,
        published: &[Arc<Manifest>],
        fence: &Fence,
    ) -> Result<TableSync, TableError> {
        let fingerprint = fingerprint(published);
        if let Some(version) = self.unchanged_since_last_sync(&fingerprint).await {
            return Ok(TableSync::Unchanged {
                version: Some(version),
            });
        }
        let snapshot = self.snapshot().await?;
        self.sync_from(snapshot, published, fence).await
    }

    /// [`TableLog::sync`] from a snapshot already read: commits the
    /// difference as the snapshot's next version, and if another writer
    /// took that version, reads it and tries the next.
    pub async fn sync_from(
        &self,
        mut snapshot: Snapshot,
        published: &[Arc<Manifest>],
        fence: &Fence,
    ) -> Result<TableSync, TableError> {
        let fingerprint = fingerprint(published);
        let mut stats: HashMap<String, String> = HashMap::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let now = Utc::now();
            let Some(mut actions) = plan(&snapshot, published, now)? else {
                if let Some(version) = snapshot.version {
                    self.remember(version, &fingerprint).await;
                }
                return Ok(TableSync::Unchanged {
                    version: snapshot.version,
                });
            };
            self.fill_stats(&mut actions, published, &mut stats).await?;
            let version = snapshot.version.map_or(0, |v| v + 1);
            fence.check().await?;
            let body = commit_bytes(&actions);
            let put = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            let path = self.commit_path(version);
            match self.os().put_opts(&path, PutPayload::from(body), put).await {
                Ok(_) => {}
                Err(object_store::Error::AlreadyExists { .. }) => {
                    tracing::info!(
                        "{}: another writer committed table version {version}; trying the next",
                        self.dataset
                    );
                    snapshot = self.snapshot().await?;
                    continue;
                }
                Err(e) => {
                    return Err(anyhow!(e)
                        .context(format!("writing {path} in {}", self.store.url))
                        .into());
                }
            }
            let (added, removed) = actions.iter().fold((0, 0), |(a, r), action| match action {
                Action::Add(_) => (a + 1, r),
                Action::Remove(_) => (a, r + 1),
                _ => (a, r),
            });
            for action in actions {
                snapshot.apply(action);
            }
            snapshot.version = Some(version);
            if version > 0
                && version.is_multiple_of(self.options.checkpoint_interval)
                && let Err(e) = self.checkpoint(&snapshot, now).await
            {
                tracing::warn!(
                    "{}: could not write the checkpoint of table version {version}: {e:#}",
                    self.dataset
                );
            }
            self.remember(version, &fingerprint).await;
            return Ok(TableSync::Committed {
                version,
                added,
                removed,
                attempts: attempt,
            });
        }
        Err(anyhow!(
            "{}: lost the race for a table version {MAX_ATTEMPTS} times; the next run tries again",
            self.dataset
        )
        .into())
    }

    /// Reads the table's latest version: the newest checkpoint, then every
    /// commit after it.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let dir = self.log_dir();
        let listed: Vec<_> = self
            .os()
            .list(Some(&dir))
            .try_collect()
            .await
            .with_context(|| format!("listing {dir} in {}", self.store.url))?;
        let mut commits = BTreeSet::new();
        let mut checkpoints = BTreeSet::new();
        for meta in &listed {
            let Some(name) = meta.location.filename() else {
                continue;
            };
            if let Some(v) = name.strip_suffix(".json").and_then(parse_version) {
                commits.insert(v);
            } else if let Some(v) = name
                .strip_suffix(".checkpoint.parquet")
                .and_then(parse_version)
            {
                checkpoints.insert(v);
            }
        }
        let Some(latest) = commits.last().copied().max(checkpoints.last().copied()) else {
            return Ok(Snapshot::default());
        };
        let mut snapshot = Snapshot::default();
        let first = match checkpoints.last() {
            Some(&cp) => {
                let path = self.checkpoint_path(cp);
                let bytes = self.read(&path).await?;
                for action in checkpoint::read(bytes)
                    .with_context(|| format!("reading {path} in {}", self.store.url))?
                {
                    snapshot.apply(action);
                }
                cp + 1
            }
            None => 0,
        };
        if let Some(missing) = (first..=latest).find(|v| !commits.contains(v)) {
            return Err(anyhow!(
                "the Delta log of {} in {} has no version {missing} but has {latest}: \
                 move {dir} aside and the next run writes a new log",
                self.dataset,
                self.store.url
            ));
        }
        let reads = futures::stream::iter(first..=latest)
            .map(|v| {
                let path = self.commit_path(v);
                async move { self.read(&path).await.map(|bytes| (path, bytes)) }
            })
            .buffered(8);
        let commits: Vec<_> = reads.try_collect().await?;
        for (path, bytes) in commits {
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("{path} in {} is not UTF-8", self.store.url))?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let action = Action::parse_line(line)
                    .with_context(|| format!("reading {path} in {}", self.store.url))?;
                if let Some(action) = action {
                    snapshot.apply(action);
                }
            }
        }
        snapshot.version = Some(latest);
        Ok(snapshot)
    }

    /// The files `host gc` must keep: those of the latest version, and
    /// those a version within the retention still references (removed
    /// less than `retention` before `now`).
    pub async fn retained(&self, now: DateTime<Utc>) -> anyhow::Result<Retained> {
        let snapshot = self.snapshot().await?;
        let mut files = HashMap::new();
        for path in snapshot.files.keys() {
            files.insert(path.clone(), None);
        }
        let retention =
            chrono::Duration::from_std(self.options.retention).unwrap_or(chrono::Duration::MAX);
        for (path, remove) in &snapshot.tombstones {
            let until = remove
                .deletion_timestamp
                .and_then(DateTime::from_timestamp_millis)
                .and_then(|t| t.checked_add_signed(retention));
            match until {
                Some(until) if until <= now => {}
                // No deletion time: keep it, as a reader of the log would.
                Some(until) => {
                    files.entry(path.clone()).or_insert(Some(until));
                }
                None => {
                    files
                        .entry(path.clone())
                        .or_insert(Some(DateTime::<Utc>::MAX_UTC));
                }
            }
        }
        Ok(Retained { files })
    }

    /// The last sync's version, if the log's latest version still is it
    /// and the published partitions are the ones it holds.
    async fn unchanged_since_last_sync(&self, fingerprint: &str) -> Option<u64> {
        let bytes = self.store.read_state(&self.state_path()).await.ok()??;
        let state: SyncedState = serde_json::from_slice(&bytes).ok()?;
        if state.fingerprint != fingerprint {
            return None;
        }
        // Everything from that version's commit on: it, and nothing newer.
        let offset = self
            .log_dir()
            .join(format!("{:020}", state.version).as_str());
        let listed: Vec<_> = self
            .os()
            .list_with_offset(Some(&self.log_dir()), &offset)
            .try_collect()
            .await
            .ok()?;
        let mut found = false;
        for meta in listed {
            match meta
                .location
                .filename()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(parse_version)
            {
                Some(v) if v == state.version => found = true,
                Some(v) if v > state.version => return None,
                _ => {}
            }
        }
        found.then_some(state.version)
    }

    /// Remembers what a version holds (see [`SyncedState`]); a failure
    /// only costs the next run a replay of the log.
    async fn remember(&self, version: u64, fingerprint: &str) {
        let state = SyncedState {
            version,
            fingerprint: fingerprint.to_owned(),
        };
        let bytes = serde_json::to_vec(&state).expect("state serialises");
        let path = self.state_path();
        if let Err(e) = self.os().put(&path, PutPayload::from(bytes)).await {
            tracing::warn!("could not write {path}: {e}");
        }
    }

    async fn read(&self, path: &Path) -> anyhow::Result<bytes::Bytes> {
        let get = self
            .os()
            .get(path)
            .await
            .with_context(|| format!("reading {path} in {}", self.store.url))?;
        get.bytes()
            .await
            .with_context(|| format!("reading {path} in {}", self.store.url))
    }

    /// Reads the statistics of every added file from its Parquet footer,
    /// a few at a time; `known` keeps them across attempts.
    async fn fill_stats(
        &self,
        actions: &mut [Action],
        published: &[Arc<Manifest>],
        known: &mut HashMap<String, String>,
    ) -> anyhow::Result<()> {
        let by_partition: HashMap<&str, &Manifest> = published
            .iter()
            .map(|m| (m.partition.as_str(), m.as_ref()))
            .collect();
        let wanted: Vec<(String, u64, &Manifest)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Add(add) if !known.contains_key(&add.path) => {
                    let path = actions::decode_path(&add.path);
                    let partition = path.split('/').next()?;
                    Some((add.path.clone(), add.size, *by_partition.get(partition)?))
                }
                _ => None,
            })
            .collect();
        let dir = Store::dataset_dir(self.dataset);
        let read: Vec<(String, String)> = futures::stream::iter(wanted)
            .map(|(path, size, manifest)| {
                let location = Path::parse(format!("{dir}/{}", actions::decode_path(&path)));
                async move {
                    let location = location.map_err(|e| anyhow!(e))?;
                    let stats =
                        stats::file_stats(self.os().as_ref(), &location, size, &manifest.schema)
                            .await?;
                    anyhow::Ok((path, stats))
                }
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        known.extend(read);
        for action in actions {
            if let Action::Add(add) = action {
                add.stats = known.get(&add.path).cloned();
            }
        }
        Ok(())
    }

    /// Writes the checkpoint of a version and points `_last_checkpoint`
    /// at it.
    async fn checkpoint(&self, snapshot: &Snapshot, now: DateTime<Utc>) -> anyhow::Result<()> {
        let version = snapshot.version.expect("a committed snapshot");
        let retention =
            chrono::Duration::from_std(self.options.retention).unwrap_or(chrono::Duration::MAX);
        let expired_before = now
            .checked_sub_signed(retention)
            .map_or(i64::MIN, |t| t.timestamp_millis());
        let mut rows: Vec<Action> = Vec::new();
        rows.extend(snapshot.protocol.clone().map(Action::Protocol));
        rows.extend(snapshot.metadata.clone().map(Action::MetaData));
        rows.extend(snapshot.files.values().map(|add| {
            Action::Add(Add {
                data_change: false,
                ..add.clone()
            })
        }));
        rows.extend(
            snapshot
                .tombstones
                .values()
                .filter(|r| r.deletion_timestamp.is_none_or(|t| t > expired_before))
                .map(|r| {
                    Action::Remove(Remove {
                        data_change: false,
                        ..r.clone()
                    })
                }),
        );
        let size = rows.len();
        let bytes = checkpoint::write(&rows)?;
        let path = self.checkpoint_path(version);
        self.os()
            .put(&path, PutPayload::from(bytes))
            .await
            .with_context(|| format!("writing {path} in {}", self.store.url))?;
        let last = serde_json::json!({"version": version, "size": size});
        let path = self.log_dir().join("_last_checkpoint");
        self.os()
            .put(&path, PutPayload::from(last.to_string().into_bytes()))
            .await
            .with_context(|| format!("writing {path} in {}", self.store.url))?;
        Ok(())
    }
}

/// A 20-digit version number.
fn parse_version(name: &str) -> Option<u64> {
    (name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| name.parse().ok())
        .flatten()
}

/// What identifies the published partitions' files: partition names and
/// content hashes (which cover file names and bytes).
fn fingerprint(published: &[Arc<Manifest>]) -> String {
    let mut lines: Vec<String> = published
        .iter()
        .map(|m| format!("{}\0{}\n", m.partition, m.content_hash))
        .collect();
    lines.sort();
    sha256_hex(format!("strata delta projection 1\n{}", lines.concat()).as_bytes())
}

/// A partition folder's column and value: `date=2025-02-18` →
/// `("date", "2025-02-18")`; an unpartitioned dataset's `all` has none.
fn partition_value(partition: &str) -> Option<(&str, &str)> {
    partition.split_once('=')
}

/// The actions that take `snapshot` to the published partitions, without
/// statistics yet; `None` if it already is them.
fn plan(
    snapshot: &Snapshot,
    published: &[Arc<Manifest>],
    now: DateTime<Utc>,
) -> Result<Option<Vec<Action>>, TableError> {
    if let Some(p) = &snapshot.protocol {
        let features = p
            .reader_features
            .iter()
            .chain(&p.writer_features)
            .flatten()
            .filter(|f| f.as_str() != "timestampNtz")
            .collect::<Vec<_>>();
        if p.min_reader_version > 3 || p.min_writer_version > 7 || !features.is_empty() {
            return Err(anyhow!(
                "the table's protocol (reader {}, writer {}, features {features:?}) is not one \
                 Strata writes: another engine changed it; move its _delta_log aside and the \
                 next run writes a new log",
                p.min_reader_version,
                p.min_writer_version
            )
            .into());
        }
    }
    if published.is_empty() && snapshot.version.is_none() {
        return Ok(None);
    }
    let partition_column: Option<String> = match &snapshot.metadata {
        Some(m) => m.partition_columns.first().cloned(),
        None => published
            .first()
            .and_then(|m| partition_value(&m.partition))
            .map(|(c, _)| c.to_owned()),
    };
    let current = snapshot.schema();
    let mut merged = schema::merge(
        current.as_ref(),
        published
            .iter()
            .map(|m| (m.partition.as_str(), m.schema.as_slice())),
        partition_column.as_deref(),
    )?;
    if current.is_none()
        && let Some(column) = &partition_column
    {
        // Days are dates to every reader (as a glob reader infers them);
        // hours and months stay strings.
        let all_days = published.iter().all(|m| {
            partition_value(&m.partition)
                .is_some_and(|(_, v)| NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok())
        });
        schema::set_partition_type(
            &mut merged,
            column,
            if all_days { "date" } else { "string" },
        );
    }

    let now_ms = now.timestamp_millis();
    let mut actions = vec![];
    let protocol = if merged.has_timestamp_ntz()
        || snapshot
            .protocol
            .as_ref()
            .is_some_and(|p| p.min_reader_version >= 3)
    {
        Protocol::with_timestamp_ntz()
    } else {
        Protocol::base()
    };
    if snapshot.protocol.as_ref() != Some(&protocol) {
        actions.push(Action::Protocol(protocol));
    }
    let schema_string = merged.to_schema_string();
    match &snapshot.metadata {
        Some(m) if m.schema_string == schema_string => {}
        Some(m) => actions.push(Action::MetaData(MetaData {
            schema_string,
            ..m.clone()
        })),
        None => actions.push(Action::MetaData(MetaData {
            id: table_id(published, now_ms),
            name: None,
            description: None,
            format: Format {
                provider: "parquet".into(),
                options: BTreeMap::new(),
            },
            schema_string,
            partition_columns: partition_column.iter().cloned().collect(),
            configuration: BTreeMap::new(),
            created_time: Some(now_ms),
        })),
    }

    let mut wanted: BTreeMap<String, Add> = BTreeMap::new();
    for m in published {
        let partition_values: BTreeMap<String, Option<String>> =
            match (partition_value(&m.partition), &partition_column) {
                (Some((_, value)), Some(column)) => {
                    [(column.clone(), Some(value.to_owned()))].into()
                }
                _ => BTreeMap::new(),
            };
        let modification_time = DateTime::parse_from_rfc3339(&m.written_at)
            .map(|t| t.timestamp_millis())
            .unwrap_or(now_ms);
        for f in &m.files {
            let path = format!("{}/{}", m.partition, f.path);
            wanted.insert(
                path.clone(),
                Add {
                    path: encode_path(&path),
                    partition_values: partition_values.clone(),
                    size: f.size,
                    modification_time,
                    data_change: true,
                    stats: None,
                },
            );
        }
    }
    let metadata_changed = !actions.is_empty();
    let mut changes = 0;
    for (path, add) in &snapshot.files {
        if wanted.get(path).is_none_or(|w| w.size != add.size) {
            changes += 1;
            actions.push(Action::Remove(Remove {
                path: add.path.clone(),
                deletion_timestamp: Some(now_ms),
                data_change: true,
                extended_file_metadata: Some(true),
                partition_values: Some(add.partition_values.clone()),
                size: Some(add.size),
            }));
        }
    }
    for (path, add) in wanted {
        if snapshot.files.get(&path).is_none_or(|a| a.size != add.size) {
            changes += 1;
            actions.push(Action::Add(add));
        }
    }
    if changes == 0 && !metadata_changed {
        return Ok(None);
    }
    let mut info = serde_json::json!({
        "timestamp": now_ms,
        "operation": "WRITE",
        "operationParameters": {
            "mode": "Overwrite",
            "partitionBy": serde_json::to_string(&partition_column.iter().collect::<Vec<_>>())
                .expect("strings serialise"),
        },
        "isBlindAppend": false,
        "engineInfo": format!("strata/{}", env!("CARGO_PKG_VERSION")),
    });
    if snapshot.version.is_none() {
        info["operation"] = "CREATE TABLE".into();
    }
    actions.insert(0, Action::CommitInfo(info));
    Ok(Some(actions))
}

/// A table id in the UUID format the protocol asks for, unique to the
/// dataset's first partitions and the moment the table was made.
fn table_id(published: &[Arc<Manifest>], now_ms: i64) -> String {
    let seed = published
        .first()
        .map(|m| format!("{} {} {now_ms}", m.dataset, m.content_hash))
        .unwrap_or_default();
    let h = sha256_hex(seed.as_bytes());
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests;
