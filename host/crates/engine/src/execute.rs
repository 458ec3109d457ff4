//! Computing and committing the partitions of one dataset: a source fetches
//! a raw period, a plugin computes a partition from its inputs; either is
//! committed through the store's fenced commit protocol.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use strata_core::DatasetId;
use strata_core::config::{Dataset, Pipeline, PluginLimits, PluginRef, Producer, StoreConfig};
use strata_core::manifest::{
    CheckResult, Column, FORMAT_VERSION, FileEntry, InputRef, Manifest,
    Producer as ManifestProducer, content_hash, is_plain_file_name, sha256_hex,
};
use strata_core::period::Period;
use strata_core::planner::{self, Recipe};
use strata_runtime::{Plugin, PoolSizing, Runtime};
use strata_sources::{Fetch, Source};
use strata_store::lease::Fence;
use strata_store::{CommitError, Store};
use tokio::runtime::Handle;

use crate::checks::{CheckSet, blocking_failure, describe_failure};
use crate::failure::{Failure, FailureKind};
use crate::inputs::{InputCache, InputsRead};
use crate::partition::{PluginPartition, in_memory_content, stored_content};
use crate::remote::{self, Task, TaskResult};

/// A partition as a run left it: its manifest, and the manifest's entity
/// tag if the run wrote it and the store gives one.
pub(crate) struct Committed {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) tag: Option<String>,
}

/// Why a partition was not committed.
pub(crate) enum NotCommitted {
    Failed(Failure),
    /// A blocking check failed on the new output, which waits in
    /// quarantine; the partition keeps what it had.
    Rejected(Rejection),
    /// The source has nothing for the period yet.
    Waiting(String),
    /// The run lost its lease: nothing more is committed.
    LeaseLost(String),
}

impl From<Failure> for NotCommitted {
    fn from(failure: Failure) -> Self {
        NotCommitted::Failed(failure)
    }
}

impl From<CommitError> for NotCommitted {
    fn from(error: CommitError) -> Self {
        match error {
            CommitError::LeaseLost(lost) => NotCommitted::LeaseLost(lost.to_string()),
            CommitError::Store(e) => NotCommitted::Failed(Failure::store(&e)),
        }
    }
}

pub(crate) type ComputeResult = Result<Committed, NotCommitted>;

/// New output a blocking check rejected.
pub(crate) struct Rejection {
    pub(crate) failure: Failure,
    /// Every check's result on the rejected output.
    pub(crate) results: Vec<CheckResult>,
    /// Where it waits, under the store's root.
    pub(crate) quarantine: Option<String>,
}

/// What a partition held before it was (re)computed.
pub(crate) enum Previous {
    None,
    Intact(Arc<Manifest>),
    Damaged(Arc<Manifest>),
}

impl Previous {
    /// The manifest whose files the commit replaces.
    fn manifest(&self) -> Option<&Manifest> {
        match self {
            Previous::None => None,
            Previous::Intact(m) | Previous::Damaged(m) => Some(m),
        }
    }
}

/// The WebAssembly runtime, started by the first dataset that needs it,
/// its instance pool sized for the run's `--jobs`.
pub(crate) struct SharedRuntime {
    started: OnceLock<Arc<Runtime>>,
    pool: PoolSizing,
}

impl SharedRuntime {
    pub(crate) fn for_jobs(jobs: usize) -> Self {
        SharedRuntime {
            started: OnceLock::new(),
            pool: PoolSizing {
                concurrent: jobs,
                ..PoolSizing::default_for_machine()
            },
        }
    }
}

/// What every partition of one dataset's run shares.
#[derive(Clone)]
pub(crate) struct DatasetJob {
    pub(crate) dataset: DatasetId,
    store: Store,
    fence: Fence,
    kind: JobKind,
    checks: Arc<CheckSet>,
    /// Replaced data files stay for the dataset's Delta table: an older
    /// table version references them until `host gc` after the retention.
    keep_replaced: bool,
    /// Input partitions that several of the run's partitions read.
    shared_inputs: Arc<InputCache>,
}

/// A raw dataset's source, and what identifies it in manifests.
#[derive(Clone)]
struct SourceJob {
    source: Arc<dyn Source>,
    identity: serde_json::Value,
    kind: &'static str,
}

#[derive(Clone)]
enum JobKind {
    Source(SourceJob),
    Plugin {
        runtime: Arc<Runtime>,
        plugin: Arc<Plugin>,
        /// Where its bytes come from (a distributed run ships them).
        source: PluginRef,
        params: serde_json::Map<String, serde_json::Value>,
        inputs: Vec<DatasetId>,
        limits: PluginLimits,
    },
    /// The dataset cannot run at all (its plugin does not load, …): every
    /// partition fails with this.
    Broken(Failure),
}

impl DatasetJob {
    pub(crate) async fn prepare(
        pipeline: &Pipeline,
        dataset: &Dataset,
        store: &Store,
        fence: &Fence,
        runtime: &SharedRuntime,
        cache_dir: Option<PathBuf>,
    ) -> DatasetJob {
        let load =
            |path: PathBuf| load_plugin(runtime, cache_dir.clone(), PluginRef::File(path), None);
        let (checks, broken) = match CheckSet::prepare(dataset, load).await {
            Ok(checks) => (checks, None),
            Err(failure) => (CheckSet::none(dataset), Some(failure)),
        };
        let kind = match &dataset.producer {
            Producer::Source(spec) => match strata_sources::build(spec, &pipeline.dir) {
                Ok(source) => JobKind::Source(SourceJob {
                    source,
                    identity: spec.identity(),
                    kind: spec.kind(),
                }),
                Err(e) => JobKind::Broken(Failure::new(
                    FailureKind::Source,
                    format!("source of {}: {e:#}", dataset.id),
                )),
            },
            Producer::Plugin {
                plugin,
                sha256,
                params,
                inputs,
                limits,
            } => match load_plugin(runtime, cache_dir, plugin.clone(), sha256.clone()).await {
                Ok((runtime, loaded)) => JobKind::Plugin {
                    runtime,
                    plugin: Arc::new(loaded),
                    source: plugin.clone(),
                    params: params.clone(),
                    inputs: inputs.iter().map(|i| i.dataset.clone()).collect(),
                    limits: limits.clone(),
                },
                Err(failure) => JobKind::Broken(failure),
            },
        };
        DatasetJob {
            dataset: dataset.id.clone(),
            store: store.clone(),
            fence: fence.clone(),
            kind: match broken {
                Some(failure) => JobKind::Broken(failure),
                None => kind,
            },
            checks: Arc::new(checks),
            keep_replaced: pipeline.tables.keeps_replaced_files() && !dataset.id.is_raw(),
            shared_inputs: Arc::new(InputCache::none()),
        }
    }

    /// Shares the input partitions that several of `recipes` read, decoding
    /// each once (see [`crate::inputs`]).
    pub(crate) fn share_inputs<'a>(&mut self, recipes: impl IntoIterator<Item = &'a Recipe>) {
        let reads = recipes.into_iter().flat_map(|r| r.inputs.iter().flatten());
        self.shared_inputs = Arc::new(InputCache::new(
            reads.map(|m| &**m),
            crate::inputs::BUDGET_BYTES,
        ));
    }

    /// What the run's partitions read from their inputs.
    pub(crate) fn inputs_read(&self) -> Option<InputsRead> {
        matches!(self.kind, JobKind::Plugin { .. }).then(|| self.shared_inputs.report())
    }

    /// How many earlier partitions' row counts the checks need.
    pub(crate) fn history(&self) -> usize {
        self.checks.history
    }

    /// Computes and commits one partition.
    pub(crate) async fn compute(
        &self,
        partition: &str,
        period: Option<Period>,
        recipe: Option<Recipe>,
        previous: Previous,
        history: Vec<u64>,
    ) -> ComputeResult {
        if let Some(lost) = self.fence.lost() {
            return Err(NotCommitted::LeaseLost(lost.to_string()));
        }
        match &self.kind {
            JobKind::Broken(failure) => Err(failure.clone().into()),
            JobKind::Source(source) => {
                let period = period.expect("raw datasets are partitioned");
                self.fetch(partition, &period, source, previous, history)
                    .await
            }
            JobKind::Plugin {
                runtime,
                plugin,
                params,
                inputs,
                limits,
                ..
            } => {
                let job = PluginPartition {
                    store: self.store.clone(),
                    runtime: runtime.clone(),
                    plugin: plugin.clone(),
                    dataset: self.dataset.clone(),
                    partition: partition.to_owned(),
                    period,
                    params: params.clone(),
                    inputs: inputs.clone(),
                    limits: limits.clone(),
                    recipe: recipe.expect("plugin partitions are planned with a recipe"),
                    handle: Handle::current(),
                    checks: self.checks.clone(),
                    history,
                    shared_inputs: self.shared_inputs.clone(),
                };
                let computed = tokio::task::spawn_blocking(move || job.compute())
                    .await
                    .map_err(|e| {
                        Failure::new(FailureKind::Host, format!("partition task died: {e}"))
                    })??;
                self.publish_in_place(computed.manifest, &previous).await
            }
        }
    }

    /// Evaluates the dataset's checks on a partition's published content
    /// (its checks changed, or `host check`), computing no data, and
    /// records the results in its manifest.
    pub(crate) async fn recheck(
        &self,
        manifest: Arc<Manifest>,
        history: Vec<u64>,
    ) -> ComputeResult {
        if let Some(lost) = self.fence.lost() {
            return Err(NotCommitted::LeaseLost(lost.to_string()));
        }
        if let JobKind::Broken(failure) = &self.kind {
            return Err(failure.clone().into());
        }
        let results = self.evaluate_stored(manifest.clone(), history).await?;
        let mut updated = (*manifest).clone();
        updated.checks = results;
        let tag = self
            .store
            .rewrite_manifest(&self.dataset, &updated, &self.fence)
            .await?;
        Ok(Committed {
            manifest: Arc::new(updated),
            tag,
        })
    }

    /// The dataset's checks on a partition's content as the store holds
    /// it (the files `manifest` names), on a blocking thread.
    async fn evaluate_stored(
        &self,
        manifest: Arc<Manifest>,
        history: Vec<u64>,
    ) -> Result<Vec<CheckResult>, Failure> {
        let (store, checks, dataset) = (
            self.store.clone(),
            self.checks.clone(),
            self.dataset.clone(),
        );
        let handle = Handle::current();
        tokio::task::spawn_blocking(move || {
            let content = || stored_content(&store, &handle, &dataset, &manifest);
            checks.evaluate(&manifest.partition, &manifest.schema, &history, &content)
        })
        .await
        .map_err(|e| Failure::new(FailureKind::Host, format!("check task died: {e}")))?
    }

    /// Commits new output whose checks passed (warnings included), or
    /// puts it in quarantine if a blocking check failed.
    async fn publish(
        &self,
        manifest: Manifest,
        files: Vec<bytes::Bytes>,
        previous: &Previous,
    ) -> ComputeResult {
        let Some(failed) = blocking_failure(&manifest.checks) else {
            return self.commit(manifest, files, previous).await;
        };
        let failure = Failure::new(
            FailureKind::Check,
            format!(
                "{} {}: {}",
                self.dataset,
                manifest.partition,
                describe_failure(failed)
            ),
        );
        let quarantine = self
            .store
            .quarantine(&self.dataset, &manifest, files, &self.fence)
            .await?;
        Err(NotCommitted::Rejected(Rejection {
            failure,
            results: manifest.checks,
            quarantine: Some(quarantine.to_string()),
        }))
    }

    /// Fetches a raw period and commits it, unless a refetch brought the
    /// bytes that are already there.
    async fn fetch(
        &self,
        partition: &str,
        period: &Period,
        job: &SourceJob,
        previous: Previous,
        history: Vec<u64>,
    ) -> ComputeResult {
        let files = match job.source.fetch(period).await {
            Ok(Fetch::Ready(files)) => files,
            Ok(Fetch::Waiting(why)) => return Err(NotCommitted::Waiting(why)),
            Err(e) => {
                return Err(Failure::new(
                    FailureKind::Source,
                    format!("fetching {} {partition}: {e:#}", self.dataset),
                )
                .into());
            }
        };
        let mut entries = Vec::with_capacity(files.len());
        let mut bodies = Vec::with_capacity(files.len());
        let mut origins = Vec::with_capacity(files.len());
        for f in files {
            if !is_plain_file_name(&f.name) {
                return Err(Failure::new(
                    FailureKind::Source,
                    format!("source gave an unusable file name `{}`", f.name),
                )
                .into());
            }
            entries.push(FileEntry {
                path: f.name,
                size: f.bytes.len() as u64,
                sha256: sha256_hex(&f.bytes),
            });
            bodies.push(f.bytes);
            origins.push(f.origin);
        }
        let mut manifest = new_manifest(NewManifest {
            dataset: &self.dataset,
            partition,
            key: planner::source_key(&job.identity, partition),
            files: entries,
            rows: None,
            schema: vec![],
            producer: ManifestProducer::Source {
                source: job.kind.to_owned(),
                fetched: origins,
            },
            params: serde_json::Value::Null,
            inputs: vec![],
        });
        if let Previous::Intact(previous) = &previous
            && previous.content_hash == manifest.content_hash
            && previous.invalidated.is_none()
            && previous.checks == manifest.checks
            && self.checks.is_empty()
        {
            // A refetch that brought the same bytes: keep what is there.
            return Ok(Committed {
                manifest: previous.clone(),
                tag: None,
            });
        }
        if !self.checks.is_empty() {
            let checks = self.checks.clone();
            let dataset = self.dataset.clone();
            let files: Vec<(String, bytes::Bytes)> = manifest
                .files
                .iter()
                .map(|f| f.path.clone())
                .zip(bodies.iter().cloned())
                .collect();
            let partition = partition.to_owned();
            manifest.checks = tokio::task::spawn_blocking(move || {
                let content = || in_memory_content(&dataset, files.clone());
                checks.evaluate(&partition, &[], &history, &content)
            })
            .await
            .map_err(|e| Failure::new(FailureKind::Host, format!("check task died: {e}")))??;
            if let Previous::Intact(previous) = &previous
                && previous.content_hash == manifest.content_hash
                && previous.invalidated.is_none()
                && previous.checks == manifest.checks
            {
                return Ok(Committed {
                    manifest: previous.clone(),
                    tag: None,
                });
            }
        }
        self.publish(manifest, bodies, &previous).await
    }

    /// Commits a partition over what it held before, fenced by the lease.
    async fn commit(
        &self,
        manifest: Manifest,
        files: Vec<bytes::Bytes>,
        previous: &Previous,
    ) -> ComputeResult {
        let replaced = previous.manifest().filter(|_| !self.keep_replaced);
        let tag = self
            .store
            .commit(&self.dataset, &manifest, files, replaced, &self.fence)
            .await?;
        Ok(Committed {
            manifest: Arc::new(manifest),
            tag,
        })
    }
}

/// The bytes of the standard plugin `name` (`std:NAME`), which this host
/// carries. Core checked the name against the same list when it read the
/// pipeline; this fails only if the two lists disagree.
pub(crate) fn std_plugin(name: &str) -> anyhow::Result<&'static [u8]> {
    strata_std_plugins::get(name).ok_or_else(|| {
        anyhow::anyhow!(
            "this host carries no standard plugin `{name}`; it has {}",
            strata_std_plugins::NAMES.join(", ")
        )
    })
}

/// Loads a dataset's plugin (a file, or a standard plugin's bytes) on a
/// blocking thread, starting the runtime if it is the first, and checks
/// the sha256 the config pins.
async fn load_plugin(
    runtime: &SharedRuntime,
    cache_dir: Option<PathBuf>,
    plugin: PluginRef,
    pinned: Option<String>,
) -> Result<(Arc<Runtime>, Plugin), Failure> {
    let runtime = match runtime.started.get() {
        Some(r) => r.clone(),
        None => {
            let started = Runtime::with_pool(cache_dir, runtime.pool).map_err(|e| {
                Failure::new(
                    FailureKind::Host,
                    format!("cannot start the WebAssembly runtime: {e:#}"),
                )
            })?;
            runtime.started.get_or_init(|| Arc::new(started)).clone()
        }
    };
    let rt = runtime.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let loaded = match &plugin {
            PluginRef::File(path) => rt.load(path)?,
            PluginRef::Std(name) => {
                let bytes = std_plugin(name)
                    .map_err(|e| Failure::new(FailureKind::PluginLoad, format!("{e:#}")))?;
                rt.load_bytes(Path::new(&plugin.to_string()), bytes)?
            }
        };
        if let Some(pin) = pinned
            && pin != loaded.info.sha256
        {
            return Err(Failure::new(
                FailureKind::PluginLoad,
                format!(
                    "plugin {plugin} has sha256 {}, but pipeline.toml pins {pin}; \
                     update the pin if the new plugin is intended",
                    loaded.info.sha256
                ),
            ));
        }
        tracing::debug!(
            "plugin {}@{} ({plugin}) {:?}",
            loaded.info.name,
            loaded.info.version,
            loaded.origin
        );
        Ok(loaded)
    })
    .await
    .map_err(|e| Failure::new(FailureKind::Host, format!("loading the plugin: {e}")))??;
    Ok((runtime, loaded))
}

/// What a new manifest records; the rest (format, content hash, time,
/// host version) is filled in by [`new_manifest`].
pub(crate) struct NewManifest<'a> {
    pub(crate) dataset: &'a DatasetId,
    pub(crate) partition: &'a str,
    pub(crate) key: String,
    pub(crate) files: Vec<FileEntry>,
    pub(crate) rows: Option<u64>,
    pub(crate) schema: Vec<Column>,
    pub(crate) producer: ManifestProducer,
    pub(crate) params: serde_json::Value,
    pub(crate) inputs: Vec<InputRef>,
}

pub(crate) fn new_manifest(new: NewManifest<'_>) -> Manifest {
    Manifest {
        format: FORMAT_VERSION,
        dataset: new.dataset.to_string(),
        partition: new.partition.to_owned(),
        key: new.key,
        content_hash: content_hash(&new.files),
        files: new.files,
        rows: new.rows,
        schema: new.schema,
        producer: new.producer,
        params: new.params,
        inputs: new.inputs,
        written_at: Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        invalidated: None,
        checks: vec![],
    }
}

/// A distributed run's side of a plugin partition (see [`crate::remote`]):
/// the task that computes it elsewhere, and the commit of what it made.
impl DatasetJob {
    /// The task computing `partition` elsewhere; none unless the dataset is
    /// a plugin's that loaded.
    pub(crate) fn task(
        &self,
        store: &StoreConfig,
        partition: &str,
        period: Option<&Period>,
        recipe: &Recipe,
    ) -> Option<Task> {
        let JobKind::Plugin {
            plugin,
            params,
            inputs,
            limits,
            ..
        } = &self.kind
        else {
            return None;
        };
        Some(Task::new(
            store,
            &self.dataset,
            partition,
            period,
            &plugin.info.sha256,
            params,
            inputs,
            limits,
            recipe,
        ))
    }

    /// Puts the dataset's plugin where its tasks fetch it by hash.
    pub(crate) async fn ship_plugin(&self) -> Result<(), Failure> {
        let JobKind::Plugin { plugin, source, .. } = &self.kind else {
            return Ok(());
        };
        let bytes: bytes::Bytes = match source {
            PluginRef::Std(name) => std_plugin(name)
                .map_err(|e| Failure::new(FailureKind::PluginLoad, format!("{e:#}")))?
                .into(),
            PluginRef::File(path) => tokio::fs::read(path)
                .await
                .map_err(|e| {
                    Failure::new(
                        FailureKind::PluginLoad,
                        format!("reading plugin {}: {e}", path.display()),
                    )
                })?
                .into(),
        };
        if sha256_hex(&bytes) != plugin.info.sha256 {
            return Err(Failure::new(
                FailureKind::PluginLoad,
                format!("plugin {source} changed while the run was starting; run again"),
            ));
        }
        self.store
            .put_plugin(&plugin.info.sha256, bytes)
            .await
            .map_err(|e| Failure::store(&e))
    }

    /// Commits what a task computed: checks that the data file it reports
    /// is in the store, evaluates the dataset's checks on it, then commits
    /// the manifest (the file is already in place) or puts the output in
    /// quarantine, as for a partition computed here.
    pub(crate) async fn publish_task(
        &self,
        result: Result<TaskResult, String>,
        previous: Previous,
        history: Vec<u64>,
    ) -> ComputeResult {
        if let Some(lost) = self.fence.lost() {
            return Err(NotCommitted::LeaseLost(lost.to_string()));
        }
        let mut manifest = match result {
            Err(why) => return Err(remote::unrun(why).into()),
            Ok(TaskResult::Failed { failure }) => return Err(failure.into()),
            Ok(TaskResult::Computed { manifest }) => *manifest,
        };
        if manifest.dataset != self.dataset.to_string() {
            return Err(Failure::new(
                FailureKind::Host,
                format!(
                    "a task for {} returned a manifest of {}",
                    self.dataset, manifest.dataset
                ),
            )
            .into());
        }
        for file in &manifest.files {
            let path = Store::file_path(&self.dataset, &manifest.partition, &file.path);
            let size = self
                .store
                .size_of(&path)
                .await
                .map_err(|e| Failure::store(&e))?;
            if size != Some(file.size) {
                return Err(Failure::new(
                    FailureKind::Host,
                    format!(
                        "the task reported {path} of {} bytes, but the store has {}",
                        file.size,
                        size.map_or("no such file".into(), |s| format!("{s} bytes"))
                    ),
                )
                .into());
            }
        }
        if !self.checks.is_empty() {
            manifest.checks = self
                .evaluate_stored(Arc::new(manifest.clone()), history)
                .await?;
        }
        self.publish_in_place(manifest, &previous).await
    }

    /// Commits output whose data files are in the partition's folder
    /// already (written as they were produced, here or by a task), or, if
    /// a blocking check failed, moves them to quarantine.
    async fn publish_in_place(&self, manifest: Manifest, previous: &Previous) -> ComputeResult {
        if blocking_failure(&manifest.checks).is_none() {
            return self.publish(manifest, vec![], previous).await;
        }
        // Rejected: the output moves to quarantine, out of the partition.
        let mut files = Vec::with_capacity(manifest.files.len());
        for file in &manifest.files {
            files.push(
                self.store
                    .read_file(&self.dataset, &manifest.partition, &file.path)
                    .await
                    .map_err(|e| Failure::store(&e))?,
            );
        }
        let written: Vec<String> = manifest.files.iter().map(|f| f.path.clone()).collect();
        let partition = manifest.partition.clone();
        let rejected = self.publish(manifest, files, previous).await;
        let kept = previous.manifest().map(|m| &m.files[..]).unwrap_or(&[]);
        for name in written
            .iter()
            .filter(|n| !kept.iter().any(|f| &f.path == *n))
        {
            let path = Store::file_path(&self.dataset, &partition, name);
            if let Err(e) = self.store.delete(&path).await {
                tracing::warn!("could not remove the rejected file {path}: {e:#}");
            }
        }
        rejected
    }
}
