//! Plugin partitions computed by another process, on another machine: a
//! distributed run (`host run --engine spark`).
//!
//! The driver keeps what only it knows: the plan, the keys, the lease and
//! every commit. Each plugin partition the plan computes becomes a [`Task`]
//! that holds everything needed to compute it (the input partitions'
//! manifests, the plugin by its sha256, params, limits, the store's URL and
//! options, never credentials); an [`Executor`] runs a dataset's tasks as
//! one wave wherever it likes, each through [`run_task`] (`host task`),
//! which writes the partition's data file under its content-derived name
//! and returns the proposed manifest. The driver then evaluates the
//! dataset's checks on what was written and commits the manifest through
//! the usual fenced protocol, so a task run twice (a retry, a speculative
//! copy) writes the same file twice and is committed once; a driver that
//! lost its lease commits nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use strata_core::DatasetId;
use strata_core::config::{PluginLimits, StoreConfig};
use strata_core::manifest::{Manifest, sha256_hex};
use strata_core::period::{Granularity, Period};
use strata_core::planner::{Observed, Recipe};
use strata_runtime::{PoolSizing, Runtime};
use strata_store::Store;
use tokio::runtime::Handle;

use crate::checks::CheckSet;
use crate::dataset_plan::{DatasetPlan, Work};
use crate::execute::DatasetJob;
use crate::failure::{Failure, FailureKind};
use crate::inputs::InputCache;
use crate::partition::PluginPartition;

/// One plugin partition to compute, self-contained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    /// The store's URL and options (endpoint, region, …; credentials come
    /// from the executor's environment).
    pub store_url: String,
    #[serde(default)]
    pub store_options: std::collections::BTreeMap<String, String>,
    pub dataset: String,
    pub partition: String,
    /// The period's granularity and label; none for the `all` partition.
    pub period: Option<(Granularity, String)>,
    /// The plugin, by the sha256 of its bytes (`_strata/plugins/<sha256>.wasm`).
    pub plugin_sha256: String,
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The input datasets, in config order, and per input the manifests of
    /// the partitions read.
    pub inputs: Vec<String>,
    pub input_manifests: Vec<Vec<Manifest>>,
    pub key: String,
    pub memory_bytes: u64,
    pub timeout_ms: u64,
    pub output_bytes: u64,
}

/// What a task gives back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TaskResult {
    /// The data file is written; this is the manifest to commit (its checks
    /// not yet evaluated).
    Computed { manifest: Box<Manifest> },
    /// The plugin failed in a way that fails the same way every time (its
    /// own error, a trap, a limit): a result, not a reason to retry.
    Failed { failure: Failure },
}

/// Runs the tasks of one wave somewhere, all of them before it returns.
pub trait Executor: Send + Sync + std::fmt::Debug {
    /// Per task, in order: its result, or why it could not be run at all
    /// (the cluster gave up on it after its retries).
    fn run_wave(&self, tasks: Vec<Task>) -> BoxFuture<'_, Result<Vec<Result<TaskResult, String>>>>;
}

impl Task {
    /// The task computing `partition` of a plugin dataset.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: &StoreConfig,
        dataset: &DatasetId,
        partition: &str,
        period: Option<&Period>,
        plugin_sha256: &str,
        params: &serde_json::Map<String, serde_json::Value>,
        inputs: &[DatasetId],
        limits: &PluginLimits,
        recipe: &Recipe,
    ) -> Task {
        Task {
            store_url: store.url.clone(),
            store_options: store.options.clone(),
            dataset: dataset.to_string(),
            partition: partition.to_owned(),
            period: period.map(|p| (p.granularity(), p.label())),
            plugin_sha256: plugin_sha256.to_owned(),
            params: params.clone(),
            inputs: inputs.iter().map(|i| i.to_string()).collect(),
            input_manifests: recipe
                .inputs
                .iter()
                .map(|ms| ms.iter().map(|m| (**m).clone()).collect())
                .collect(),
            key: recipe.key.clone(),
            memory_bytes: limits.memory_bytes,
            timeout_ms: limits.timeout.as_millis() as u64,
            output_bytes: limits.output_bytes,
        }
    }
}

/// Computes a task (`host task`): fetches its plugin from the store by
/// hash, runs it on its inputs, writes the data file into the partition's
/// folder, and returns the manifest to commit. `Err` is a failure of the
/// machine or the store, which a retry elsewhere may not have; a failure
/// of the plugin itself is `Ok(TaskResult::Failed)`.
pub async fn run_task(task: Task, cache_dir: Option<PathBuf>) -> Result<TaskResult> {
    let store = Store::open(&StoreConfig {
        url: task.store_url.clone(),
        options: task.store_options.clone(),
    })?;
    let parse = |text: &str| {
        DatasetId::parse(text).with_context(|| format!("`{text}` in the task is not a dataset"))
    };
    let dataset = parse(&task.dataset)?;
    let inputs = task
        .inputs
        .iter()
        .map(|i| parse(i))
        .collect::<Result<Vec<_>>>()?;
    if inputs.len() != task.input_manifests.len() {
        bail!(
            "the task names {} inputs but carries manifests for {}",
            inputs.len(),
            task.input_manifests.len()
        );
    }
    let period = match &task.period {
        None => None,
        Some((every, label)) => Some(
            Period::parse(*every, label)
                .with_context(|| format!("task period `{label}` is not a {every:?} period"))?,
        ),
    };
    let bytes = store
        .read_plugin(&task.plugin_sha256)
        .await
        .context("fetching the task's plugin")?;
    let actual = sha256_hex(&bytes);
    if actual != task.plugin_sha256 {
        bail!(
            "the plugin {} in the store has sha256 {actual}: it is damaged or was replaced",
            Store::plugin_path(&task.plugin_sha256)
        );
    }
    // One partition per `host task`: one warm slot is all it uses.
    let pool = PoolSizing {
        concurrent: 1,
        ..PoolSizing::default_for_machine()
    };
    let runtime =
        Arc::new(Runtime::with_pool(cache_dir, pool).context("starting the WebAssembly runtime")?);
    let name = PathBuf::from(format!("{}.wasm", task.plugin_sha256));
    let loaded = {
        let runtime = runtime.clone();
        tokio::task::spawn_blocking(move || runtime.load_bytes(Path::new(&name), &bytes))
            .await
            .context("loading the plugin")?
    };
    let plugin = match loaded {
        Ok(plugin) => plugin,
        Err(e) => {
            return Ok(TaskResult::Failed {
                failure: Failure::from(e),
            });
        }
    };
    let job = PluginPartition {
        store: store.clone(),
        runtime,
        plugin: Arc::new(plugin),
        dataset: dataset.clone(),
        partition: task.partition.clone(),
        period,
        params: task.params.clone(),
        inputs,
        shared_inputs: Arc::new(InputCache::none()),
        limits: PluginLimits {
            memory_bytes: task.memory_bytes,
            timeout: std::time::Duration::from_millis(task.timeout_ms),
            output_bytes: task.output_bytes,
        },
        recipe: Recipe {
            key: task.key.clone(),
            inputs: task
                .input_manifests
                .into_iter()
                .map(|ms| ms.into_iter().map(Arc::new).collect())
                .collect(),
        },
        handle: Handle::current(),
        checks: Arc::new(CheckSet::empty(dataset.clone())),
        history: vec![],
    };
    let computed = match tokio::task::spawn_blocking(move || job.compute())
        .await
        .context("the partition's thread died")?
    {
        Ok(computed) => computed,
        Err(failure) if failure.kind.deterministic() => {
            return Ok(TaskResult::Failed { failure });
        }
        Err(failure) => bail!("{failure}"),
    };
    Ok(TaskResult::Computed {
        manifest: Box::new(computed.manifest),
    })
}

/// A task's failure as the driver records it for its partition.
pub(crate) fn unrun(why: String) -> Failure {
    Failure::new(
        FailureKind::Host,
        format!("the cluster could not run the task: {why}"),
    )
}

/// A distributed run: the plugin partitions of a dataset's work, computed
/// as one wave of tasks by the executor. Returns each one's result by its
/// index in the plan; the rest (rechecks, sources) is done here.
pub(crate) async fn wave(
    executor: &dyn Executor,
    job: &DatasetJob,
    store: &StoreConfig,
    plan: &DatasetPlan,
    work: &[usize],
    period_of: &HashMap<String, Period>,
) -> HashMap<usize, Result<TaskResult, String>> {
    let mut indices = Vec::new();
    let mut tasks = Vec::new();
    for &i in work {
        let planned = &plan.partitions[i];
        let recheck = planned.work == Some(Work::Recheck)
            && matches!(plan.observed[&planned.id], Observed::Intact(_));
        let Some(recipe) = planned.recipe.as_ref().filter(|_| !recheck) else {
            continue;
        };
        let period = period_of.get(&planned.id);
        if let Some(task) = job.task(store, &planned.id, period, recipe) {
            indices.push(i);
            tasks.push(task);
        }
    }
    if tasks.is_empty() {
        return HashMap::new();
    }
    let results = match job.ship_plugin().await {
        Err(failure) => Err(failure.to_string()),
        Ok(()) => executor
            .run_wave(tasks)
            .await
            .map_err(|e| format!("{e:#}"))
            .and_then(|results| {
                if results.len() == indices.len() {
                    Ok(results)
                } else {
                    Err(format!(
                        "the executor returned {} results for {} tasks",
                        results.len(),
                        indices.len()
                    ))
                }
            }),
    };
    match results {
        Ok(results) => indices.into_iter().zip(results).collect(),
        Err(why) => indices.into_iter().map(|i| (i, Err(why.clone()))).collect(),
    }
}
