//! Runs a pipeline: datasets in dependency order, the partitions of one
//! dataset in parallel, each committed on its own. A failed partition blocks
//! only what reads it; everything else goes on.
//!
//! The same walk without execution is `host status`: it plans every dataset
//! from the manifests as they are and changes nothing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayBuilder, BinaryBuilder, StringBuilder};
use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use chrono::{NaiveDateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::runtime::Handle;

use crate::config::{Dataset, DatasetId, Pipeline, PluginLimits, Producer};
use crate::period::Period;
use crate::planner::{self, ALL, Availability, Observed, Recipe, State};
use crate::runtime::{Limits, PartitionContext, Plugin, Runtime};
use crate::schema;
use crate::source::{Fetch, Source};
use crate::store::manifest::{FORMAT_VERSION, content_hash, is_plain_file_name, sha256_hex};
use crate::store::parquet_io::{self, ParquetSink};
use crate::store::{
    FileEntry, Health, Manifest, ManifestCache, ManifestRead, Producer as ManifestProducer, Store,
};

/// Raw files are handed to plugins in batches of about this many bytes.
const RAW_BATCH_BYTES: usize = 16 << 20;

/// A computed partition, or what happened instead and why.
type ComputeResult = Result<Committed, (Outcome, String)>;

/// A partition as a run left it: its manifest, and the manifest's entity tag
/// if the run wrote it and the store gives one.
struct Committed {
    manifest: Arc<Manifest>,
    tag: Option<String>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Only partitions whose period starts on or after this.
    pub from: Option<NaiveDateTime>,
    /// Only partitions whose period starts on or before this.
    pub to: Option<NaiveDateTime>,
    /// Only these datasets (empty: all). Others are planned, never run.
    pub datasets: Vec<DatasetId>,
    /// Partitions computed at once.
    pub jobs: usize,
    /// Rehash every file instead of trusting sizes.
    pub verify: bool,
    /// The current time: which periods are complete.
    pub now: NaiveDateTime,
    /// Plan only (`host status`): change nothing.
    pub plan_only: bool,
    /// Where compiled plugins are cached.
    pub cache_dir: Option<PathBuf>,
    /// Draw progress bars (on a terminal) instead of a log line per partition.
    pub progress: bool,
}

impl RunOptions {
    pub fn new(now: NaiveDateTime) -> Self {
        RunOptions {
            from: None,
            to: None,
            datasets: vec![],
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            verify: false,
            now,
            plan_only: false,
            cache_dir: None,
            progress: false,
        }
    }
}

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
        error: String,
    },
    Blocked,
    Waiting,
    /// Needs work but was outside --from/--to/--dataset, or a status run.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetReport {
    pub dataset: String,
    pub partitions: Vec<PartitionReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub datasets: Vec<DatasetReport>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.datasets
            .iter()
            .flat_map(|d| &d.partitions)
            .filter(|p| pred(&p.outcome))
            .count()
    }
}

/// Plans (and unless `plan_only`, runs) a pipeline.
pub async fn run(pipeline: &Pipeline, store: &Store, options: &RunOptions) -> Result<Report> {
    let runtime: Arc<std::sync::OnceLock<Arc<Runtime>>> = Arc::new(std::sync::OnceLock::new());
    let mut upstream: HashMap<DatasetId, (Vec<String>, Availability)> = HashMap::new();
    let mut report = Report { datasets: vec![] };
    let periods = planner::pipeline_periods(pipeline, options.now);
    let period_of: HashMap<String, Period> = periods.iter().map(|p| (p.id(), *p)).collect();
    // Datasets often share a plugin file: each is read and hashed once.
    let mut plugin_hashes: HashMap<PathBuf, String> = HashMap::new();
    for dataset in &pipeline.datasets {
        let expected = planner::expected_partitions(pipeline, dataset, options.now);
        let selected = options.datasets.is_empty() || options.datasets.contains(&dataset.id);
        let in_range = |partition: &str| -> bool {
            match period_of.get(partition) {
                None => true,
                Some(p) => {
                    options.from.is_none_or(|f| p.start() >= f)
                        && options.to.is_none_or(|t| p.start() <= t)
                }
            }
        };
        let rehash = |partition: &str| options.verify && selected && in_range(partition);
        let (observed, mut manifest_cache) = observe(store, dataset, &expected, &rehash).await?;
        let plugin_sha = match &dataset.producer {
            Producer::Plugin { path, .. } => Some(match plugin_hashes.get(path) {
                Some(sha) => sha.clone(),
                None => {
                    let sha = std::fs::read(path)
                        .map(|b| sha256_hex(&b))
                        .with_context(|| {
                            format!("reading plugin {} of {}", path.display(), dataset.id)
                        })?;
                    plugin_hashes.insert(path.clone(), sha.clone());
                    sha
                }
            }),
            Producer::Source(_) => None,
        };
        let refetch_from = match &dataset.producer {
            Producer::Source(spec) => expected.len().saturating_sub(spec.refetch_recent()),
            Producer::Plugin { .. } => expected.len(),
        };
        let mut planned: Vec<(String, State, Option<Recipe>)> = Vec::with_capacity(expected.len());
        for (index, partition) in expected.iter().enumerate() {
            let seen = &observed[partition];
            let (state, recipe) = match &plugin_sha {
                Some(sha) => {
                    planner::plan_plugin_partition(dataset, sha, partition, seen, &upstream)
                }
                None => (
                    planner::plan_raw_partition(seen, index >= refetch_from),
                    None,
                ),
            };
            planned.push((partition.clone(), state, recipe));
        }

        let work: Vec<usize> = planned
            .iter()
            .enumerate()
            .filter(|(_, (p, s, _))| {
                !options.plan_only && selected && s.needs_work() && in_range(p)
            })
            .map(|(i, _)| i)
            .collect();
        let mut outcomes: HashMap<usize, ComputeResult> = HashMap::new();
        if !work.is_empty() {
            let job = DatasetJob::prepare(pipeline, dataset, store, &runtime, options).await;
            let bar = progress_bar(&dataset.id, work.len(), options.progress);
            let results: Vec<(usize, ComputeResult)> = futures::stream::iter(work)
                .map(|i| {
                    let job = job.clone();
                    let (partition, _, recipe) = planned[i].clone();
                    let previous = match &observed[&partition] {
                        Observed::Intact(m) => Previous::Intact(m.clone()),
                        Observed::Damaged(m, _) => Previous::Damaged(m.clone()),
                        _ => Previous::None,
                    };
                    let period = period_of.get(&partition).copied();
                    let bar = bar.clone();
                    async move {
                        let result = job.compute(&partition, period, recipe, previous).await;
                        match &result {
                            Ok(_) => tracing::debug!("{} {partition}: committed", job.dataset),
                            Err((_, why)) => {
                                tracing::warn!("{} {partition}: {why}", job.dataset)
                            }
                        }
                        bar.inc(1);
                        (i, result)
                    }
                })
                .buffer_unordered(options.jobs.max(1))
                .collect()
                .await;
            bar.finish_and_clear();
            outcomes.extend(results);
        }

        let mut availability: Availability = HashMap::new();
        let mut partitions = Vec::with_capacity(planned.len());
        for (i, (partition, state, _)) in planned.into_iter().enumerate() {
            let previous = observed[&partition].manifest().cloned();
            let (outcome, available) = match (outcomes.remove(&i), &state) {
                (Some(Ok(Committed { manifest, tag })), _) => {
                    manifest_cache.insert(&partition, tag, manifest.clone());
                    let changed = previous
                        .as_ref()
                        .is_none_or(|p| p.content_hash != manifest.content_hash);
                    let line = format!(
                        "{} {partition}: computed ({}){}",
                        dataset.id,
                        state.reason(),
                        if changed { "" } else { ", output unchanged" }
                    );
                    if options.progress {
                        tracing::debug!("{line}");
                    } else {
                        tracing::info!("{line}");
                    }
                    (Outcome::Computed { changed }, Ok(manifest))
                }
                (Some(Err((outcome, why))), _) => (outcome, Err(why)),
                (None, State::Fresh) => (
                    Outcome::Fresh,
                    Ok(previous.expect("a fresh partition has a manifest")),
                ),
                (None, State::Blocked(why)) => {
                    (Outcome::Blocked, Err(format!("is blocked: {why}")))
                }
                (None, State::Waiting(why)) => {
                    (Outcome::Waiting, Err(format!("is waiting: {why}")))
                }
                (None, other) => {
                    // Not run now (status, or outside the selection). Its
                    // dependents read what is there if it is intact.
                    let available = match (&observed[&partition], other) {
                        (Observed::Intact(m), State::Stale(_)) if !options.plan_only => {
                            Ok(m.clone())
                        }
                        _ => Err(format!("is {}", other.name())),
                    };
                    (Outcome::Skipped, available)
                }
            };
            availability.insert(partition.clone(), available);
            partitions.push(PartitionReport {
                partition,
                planned: state,
                outcome,
            });
        }
        if !options.plan_only {
            store
                .save_manifest_cache(&dataset.id, &mut manifest_cache)
                .await;
        }
        upstream.insert(dataset.id.clone(), (expected, availability));
        report.datasets.push(DatasetReport {
            dataset: dataset.id.to_string(),
            partitions,
        });
    }
    Ok(report)
}

fn progress_bar(dataset: &DatasetId, len: usize, visible: bool) -> indicatif::ProgressBar {
    let target = if visible {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(dataset.to_string());
    bar
}

/// Reads what the store holds for every expected partition of a dataset:
/// one LIST, the dataset's manifest cache, and a GET of each manifest the
/// cache does not hold as listed (and of every one `rehash` names). Returns
/// the cache brought up to date with what was read.
async fn observe(
    store: &Store,
    dataset: &Dataset,
    expected: &[String],
    rehash: &(dyn Fn(&str) -> bool + Sync),
) -> Result<(HashMap<String, Observed>, ManifestCache)> {
    let (folders, mut cache) =
        tokio::join!(store.scan(&dataset.id), store.manifest_cache(&dataset.id));
    let folders = folders?;
    let cached = &cache;
    let reads = futures::stream::iter(expected.iter().cloned())
        .map(|partition| {
            let folder = folders.get(&partition);
            async move {
                let Some(folder) = folder.filter(|f| f.has_manifest()) else {
                    return Ok((partition, Observed::Missing, None));
                };
                let from_cache = match &folder.manifest_tag {
                    Some(tag) if !rehash(&partition) => cached.get(&partition, tag),
                    _ => None,
                };
                let (manifest, read_tag) = match from_cache {
                    Some(m) => (m, None),
                    None => match store.read_manifest_tagged(&dataset.id, &partition).await? {
                        (ManifestRead::Missing, _) => {
                            return Ok((partition, Observed::Missing, None));
                        }
                        (ManifestRead::Invalid(e), _) => {
                            return Ok((partition, Observed::Invalid(e), None));
                        }
                        (ManifestRead::Valid(m), tag) => (Arc::new(*m), tag),
                    },
                };
                let health = match Store::check(&manifest, Some(folder)) {
                    Health::Intact if rehash(&partition) => {
                        store.verify(&dataset.id, &manifest).await?
                    }
                    health => health,
                };
                let seen = match health {
                    Health::Intact => Observed::Intact(manifest),
                    Health::Damaged(why) => Observed::Damaged(manifest, why),
                };
                anyhow::Ok((partition, seen, read_tag))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let mut observed = HashMap::with_capacity(expected.len());
    for read in reads {
        let (partition, seen, read_tag) = read?;
        match seen.manifest() {
            Some(m) => cache.insert(&partition, read_tag, m.clone()),
            None => cache.remove(&partition),
        }
        observed.insert(partition, seen);
    }
    cache.retain(|partition| observed.contains_key(partition));
    Ok((observed, cache))
}

/// What every partition of one dataset's run shares.
#[derive(Clone)]
struct DatasetJob {
    dataset: DatasetId,
    store: Store,
    kind: JobKind,
}

#[derive(Clone)]
enum JobKind {
    Source {
        source: Arc<dyn Source>,
        identity: serde_json::Value,
        kind: &'static str,
    },
    Plugin {
        runtime: Arc<Runtime>,
        plugin: Arc<Plugin>,
        params: serde_json::Map<String, serde_json::Value>,
        inputs: Vec<DatasetId>,
        limits: PluginLimits,
    },
    /// The dataset cannot run at all (plugin does not load, …): every
    /// partition fails with this message.
    Broken(String),
}

impl DatasetJob {
    async fn prepare(
        pipeline: &Pipeline,
        dataset: &Dataset,
        store: &Store,
        runtime: &Arc<std::sync::OnceLock<Arc<Runtime>>>,
        options: &RunOptions,
    ) -> DatasetJob {
        let kind = match &dataset.producer {
            Producer::Source(spec) => match spec.build(&pipeline.dir) {
                Ok(source) => JobKind::Source {
                    source,
                    identity: spec.identity(),
                    kind: spec.kind(),
                },
                Err(e) => JobKind::Broken(format!("source of {}: {e:#}", dataset.id)),
            },
            Producer::Plugin {
                path,
                sha256,
                params,
                inputs,
                limits,
            } => {
                let runtime = match runtime.get() {
                    Some(r) => Ok(r.clone()),
                    None => Runtime::new(options.cache_dir.clone())
                        .map(|r| runtime.get_or_init(|| Arc::new(r)).clone()),
                };
                let path = path.clone();
                let pinned = sha256.clone();
                let loaded = match runtime {
                    Err(e) => Err(format!("cannot start the WebAssembly runtime: {e:#}")),
                    Ok(runtime) => {
                        let rt = runtime.clone();
                        tokio::task::spawn_blocking(move || {
                            let plugin = rt.load(&path).map_err(|e| e.to_string())?;
                            if let Some(pin) = pinned
                                && pin != plugin.info.sha256
                            {
                                return Err(format!(
                                    "plugin {} has sha256 {}, but pipeline.toml pins {pin}; \
                                     update the pin if the new plugin is intended",
                                    path.display(),
                                    plugin.info.sha256
                                ));
                            }
                            tracing::debug!(
                                "plugin {}@{} ({}) {:?}",
                                plugin.info.name,
                                plugin.info.version,
                                path.display(),
                                plugin.origin
                            );
                            Ok(plugin)
                        })
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r)
                        .map(|plugin| (runtime, plugin))
                    }
                };
                match loaded {
                    Ok((runtime, plugin)) => JobKind::Plugin {
                        runtime,
                        plugin: Arc::new(plugin),
                        params: params.clone(),
                        inputs: inputs.iter().map(|i| i.dataset.clone()).collect(),
                        limits: limits.clone(),
                    },
                    Err(e) => JobKind::Broken(e),
                }
            }
        };
        DatasetJob {
            dataset: dataset.id.clone(),
            store: store.clone(),
            kind,
        }
    }

    /// Computes and commits one partition.
    async fn compute(
        &self,
        partition: &str,
        period: Option<Period>,
        recipe: Option<Recipe>,
        previous: Previous,
    ) -> ComputeResult {
        let failed = |e: String| (Outcome::Failed { error: e.clone() }, e);
        let (manifest, tag) = match &self.kind {
            JobKind::Broken(why) => return Err(failed(why.clone())),
            JobKind::Source {
                source,
                identity,
                kind,
            } => {
                let period = period.expect("raw datasets are partitioned");
                let files = match source.fetch(&period).await {
                    Ok(Fetch::Ready(files)) => files,
                    Ok(Fetch::Waiting(why)) => return Err((Outcome::Waiting, why)),
                    Err(e) => {
                        return Err(failed(format!(
                            "fetching {} {partition}: {e:#}",
                            self.dataset
                        )));
                    }
                };
                let mut entries = Vec::with_capacity(files.len());
                let mut bodies = Vec::with_capacity(files.len());
                let mut origins = Vec::with_capacity(files.len());
                for f in files {
                    if !is_plain_file_name(&f.name) {
                        return Err(failed(format!(
                            "source gave an unusable file name `{}`",
                            f.name
                        )));
                    }
                    entries.push(FileEntry {
                        path: f.name,
                        size: f.bytes.len() as u64,
                        sha256: sha256_hex(&f.bytes),
                    });
                    bodies.push(f.bytes);
                    origins.push(f.origin);
                }
                let manifest = new_manifest(
                    &self.dataset,
                    partition,
                    planner::source_key(identity, partition),
                    entries,
                    None,
                    vec![],
                    ManifestProducer::Source {
                        source: kind.to_string(),
                        fetched: origins,
                    },
                    serde_json::Value::Null,
                    vec![],
                );
                if let Previous::Intact(previous) = &previous
                    && previous.content_hash == manifest.content_hash
                    && previous.invalidated.is_none()
                {
                    // A refetch that brought the same bytes: keep what is there.
                    return Ok(Committed {
                        manifest: previous.clone(),
                        tag: None,
                    });
                }
                let tag = self
                    .store
                    .commit(&self.dataset, &manifest, bodies, previous.manifest())
                    .await
                    .map_err(|e| failed(format!("{e:#}")))?;
                (manifest, tag)
            }
            JobKind::Plugin {
                runtime,
                plugin,
                params,
                inputs,
                limits,
            } => {
                let recipe = recipe.expect("plugin partitions are planned with a recipe");
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
                    recipe,
                    handle: Handle::current(),
                };
                let (manifest, file) = tokio::task::spawn_blocking(move || job.compute())
                    .await
                    .map_err(|e| failed(format!("partition task died: {e}")))?
                    .map_err(failed)?;
                let tag = self
                    .store
                    .commit(
                        &self.dataset,
                        &manifest,
                        file.into_iter().collect(),
                        previous.manifest(),
                    )
                    .await
                    .map_err(|e| failed(format!("{e:#}")))?;
                (manifest, tag)
            }
        };
        Ok(Committed {
            manifest: Arc::new(manifest),
            tag,
        })
    }
}

/// What a partition held before it was (re)computed.
enum Previous {
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

#[allow(clippy::too_many_arguments)]
fn new_manifest(
    dataset: &DatasetId,
    partition: &str,
    key: String,
    files: Vec<FileEntry>,
    rows: Option<u64>,
    schema: Vec<schema::Column>,
    producer: ManifestProducer,
    params: serde_json::Value,
    inputs: Vec<crate::store::InputRef>,
) -> Manifest {
    Manifest {
        format: FORMAT_VERSION,
        dataset: dataset.to_string(),
        partition: partition.to_owned(),
        key,
        content_hash: content_hash(&files),
        files,
        rows,
        schema,
        producer,
        params,
        inputs,
        written_at: Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        invalidated: None,
    }
}

/// One plugin partition, computed on a blocking thread.
struct PluginPartition {
    store: Store,
    runtime: Arc<Runtime>,
    plugin: Arc<Plugin>,
    dataset: DatasetId,
    partition: String,
    period: Option<Period>,
    params: serde_json::Map<String, serde_json::Value>,
    inputs: Vec<DatasetId>,
    limits: PluginLimits,
    recipe: Recipe,
    handle: Handle,
}

impl PluginPartition {
    fn compute(self) -> Result<(Manifest, Option<Bytes>), String> {
        let info = &self.plugin.info;
        let who = format!(
            "{} {}: plugin {}@{} ({})",
            self.dataset,
            self.partition,
            info.name,
            info.version,
            self.plugin.path.display()
        );
        self.run_plugin().map_err(|e| format!("{who}: {e}"))
    }

    fn run_plugin(&self) -> Result<(Manifest, Option<Bytes>), String> {
        let (period_start, period_end) = match (&self.period, self.partition.as_str()) {
            (Some(p), _) => (p.rfc3339_start(), p.rfc3339_end()),
            (None, ALL) | (None, _) => (String::new(), String::new()),
        };
        let input_schemas: Vec<(String, SchemaRef)> = self
            .inputs
            .iter()
            .zip(&self.recipe.inputs)
            .map(|(id, manifests)| (id.to_string(), input_schema(id, manifests)))
            .collect();
        let context = PartitionContext {
            dataset: self.dataset.to_string(),
            partition: self.partition.clone(),
            period_start,
            period_end,
            params: self
                .params
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect(),
            inputs: input_schemas,
        };
        let limits = Limits {
            memory_bytes: self.limits.memory_bytes,
            timeout: self.limits.timeout,
            output_bytes: self.limits.output_bytes,
            ..Limits::default()
        };
        let mut session = self
            .plugin
            .open(&self.runtime, &context, &limits)
            .map_err(|e| e.to_string())?;
        let mut sink: Option<ParquetSink> = None;
        let mut schema_columns = Vec::new();
        let mut write = |batches: Vec<RecordBatch>| -> Result<(), String> {
            for batch in batches {
                if sink.is_none() {
                    schema_columns = schema::columns(&batch.schema());
                    sink = Some(ParquetSink::new(batch.schema()).map_err(|e| format!("{e:#}"))?);
                }
                sink.as_mut()
                    .expect("sink exists")
                    .write(&batch)
                    .map_err(|e| format!("{e:#}"))?;
            }
            Ok(())
        };
        for (index, (input, manifests)) in self.inputs.iter().zip(&self.recipe.inputs).enumerate() {
            for m in manifests {
                self.read_input(input, m, &mut |batch| {
                    let out = session
                        .process(index as u32, &batch)
                        .map_err(|e| e.to_string())?;
                    write(out)
                })?;
            }
        }
        write(session.finish().map_err(|e| e.to_string())?)?;

        let (files, bytes, rows) = match sink {
            None => (vec![], None, 0),
            Some(sink) => {
                let (bytes, rows) = sink.finish().map_err(|e| format!("{e:#}"))?;
                let sha = sha256_hex(&bytes);
                let entry = FileEntry {
                    path: format!("part-{}.parquet", &sha[..16]),
                    size: bytes.len() as u64,
                    sha256: sha,
                };
                (vec![entry], Some(Bytes::from(bytes)), rows)
            }
        };
        let manifest = new_manifest(
            &self.dataset,
            &self.partition,
            self.recipe.key.clone(),
            files,
            Some(rows),
            schema_columns,
            ManifestProducer::Plugin {
                name: self.plugin.info.name.clone(),
                version: self.plugin.info.version.clone(),
                sha256: self.plugin.info.sha256.clone(),
            },
            planner::canonical(&serde_json::Value::Object(self.params.clone())),
            self.recipe.input_refs(),
        );
        Ok((manifest, bytes))
    }

    /// Streams the batches of one input partition into `each`: Parquet
    /// batches, or for raw data a `(file, body)` table of about
    /// `RAW_BATCH_BYTES` per batch. One file is in memory at a time.
    fn read_input(
        &self,
        input: &DatasetId,
        manifest: &Manifest,
        each: &mut dyn FnMut(RecordBatch) -> Result<(), String>,
    ) -> Result<(), String> {
        let read = |name: &str| -> Result<Bytes, String> {
            self.handle
                .block_on(self.store.read_file(input, &manifest.partition, name))
                .map_err(|e| format!("{e:#}"))
        };
        if !input.is_raw() {
            for f in &manifest.files {
                for batch in parquet_io::read(read(&f.path)?).map_err(|e| format!("{e:#}"))? {
                    each(batch.map_err(|e| format!("{e:#}"))?)?;
                }
            }
            return Ok(());
        }
        let mut files = StringBuilder::new();
        let mut bodies = BinaryBuilder::new();
        let mut pending = 0usize;
        let mut flush = |files: &mut StringBuilder, bodies: &mut BinaryBuilder| {
            let batch = RecordBatch::try_new(
                schema::raw_schema(),
                vec![Arc::new(files.finish()), Arc::new(bodies.finish())],
            )
            .map_err(|e| e.to_string())?;
            each(batch)
        };
        for f in &manifest.files {
            let body = read(&f.path)?;
            files.append_value(&f.path);
            bodies.append_value(&body);
            pending += body.len();
            if pending >= RAW_BATCH_BYTES {
                flush(&mut files, &mut bodies)?;
                pending = 0;
            }
        }
        if !files.is_empty() {
            flush(&mut files, &mut bodies)?;
        }
        Ok(())
    }
}

/// The schema an input is presented with.
fn input_schema(id: &DatasetId, manifests: &[Arc<Manifest>]) -> SchemaRef {
    if id.is_raw() {
        return schema::raw_schema();
    }
    manifests
        .iter()
        .find(|m| !m.schema.is_empty())
        .and_then(|m| schema::to_schema(&m.schema).ok())
        .unwrap_or_else(|| Arc::new(Schema::empty()))
}
