//! The walk over a pipeline: datasets in dependency order, each observed in
//! the store and planned from its inputs' availability. `status` stops
//! there; `run` then computes the partitions that need it, in parallel,
//! and passes on to the next dataset what its dependents can read.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use futures::StreamExt;
use strata_core::DatasetId;
use strata_core::config::{Dataset, Pipeline, Producer};
use strata_core::manifest::{Manifest, sha256_hex};
use strata_core::period::Period;
use strata_core::planner::{self, Availability, Observed, Recipe, State};
use strata_store::lease::Fence;
use strata_store::{ManifestCache, Store};

use crate::execute::{Committed, ComputeResult, DatasetJob, NotCommitted, Previous, SharedRuntime};
use crate::observe::observe;
use crate::report::{DatasetReport, Outcome, PartitionReport, Report};

/// Which partitions a walk looks at, and as of when.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Only partitions whose period starts on or after this.
    pub from: Option<NaiveDateTime>,
    /// Only partitions whose period starts on or before this.
    pub to: Option<NaiveDateTime>,
    /// Only these datasets (empty: all). Others are planned, never run.
    pub datasets: Vec<DatasetId>,
    /// Rehash every file instead of trusting sizes.
    pub verify: bool,
    /// The current time: which periods are complete.
    pub now: NaiveDateTime,
}

impl Scope {
    pub fn new(now: NaiveDateTime) -> Scope {
        Scope {
            from: None,
            to: None,
            datasets: vec![],
            verify: false,
            now,
        }
    }

    fn selects(&self, dataset: &DatasetId) -> bool {
        self.datasets.is_empty() || self.datasets.contains(dataset)
    }

    fn in_range(&self, period: Option<&Period>) -> bool {
        period.is_none_or(|p| {
            self.from.is_none_or(|f| p.start() >= f) && self.to.is_none_or(|t| p.start() <= t)
        })
    }
}

/// How a run computes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scope: Scope,
    /// Partitions computed at once.
    pub jobs: usize,
    /// Where compiled plugins are cached.
    pub cache_dir: Option<PathBuf>,
    /// Draw progress bars (on a terminal) instead of a log line per partition.
    pub progress: bool,
    /// Set to true to stop gracefully: no new partition starts, those
    /// running finish and commit, the report says `stopped`.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// Told the id of each dataset as its first partition starts.
    pub started: Option<tokio::sync::mpsc::UnboundedSender<DatasetId>>,
}

impl RunOptions {
    pub fn new(scope: Scope) -> Self {
        RunOptions {
            scope,
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            cache_dir: None,
            progress: false,
            stop: None,
            started: None,
        }
    }

    /// Whether a graceful stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }
}

/// Plans every partition from the store as it is, changing nothing.
pub async fn status(pipeline: &Pipeline, store: &Store, scope: &Scope) -> Result<Report> {
    let mut walk = Walk::new(pipeline, store, scope, false);
    let mut report = Report {
        datasets: vec![],
        lease_lost: None,
        stopped: false,
    };
    for dataset in &pipeline.datasets {
        let plan = walk.plan(dataset).await?;
        let (dataset_report, _) = walk.settle(dataset, plan, HashMap::new(), Mode::Status);
        report.datasets.push(dataset_report);
    }
    Ok(report)
}

/// Computes every partition in scope that is missing, damaged or stale,
/// committing each through `fence` (the run's lease).
pub async fn run(
    pipeline: &Pipeline,
    store: &Store,
    options: &RunOptions,
    fence: &Fence,
) -> Result<Report> {
    let runtime = SharedRuntime::default();
    let mut walk = Walk::new(pipeline, store, &options.scope, options.progress);
    let mut report = Report {
        datasets: vec![],
        lease_lost: None,
        stopped: false,
    };
    for dataset in &pipeline.datasets {
        let plan = walk.plan(dataset).await?;
        // A run that lost its lease, or was stopped, only reports what is
        // left undone.
        let work = match report.lease_lost {
            None if !options.stopping() => plan.work(&options.scope, walk.period_of()),
            _ => vec![],
        };
        let mut outcomes = HashMap::new();
        if !work.is_empty() {
            let job = DatasetJob::prepare(
                pipeline,
                dataset,
                store,
                fence,
                &runtime,
                options.cache_dir.clone(),
            )
            .await;
            let bar = progress_bar(&dataset.id, work.len(), options.progress);
            if let Some(started) = &options.started {
                let _ = started.send(dataset.id.clone());
            }
            let computed: Vec<(usize, ComputeResult)> = futures::stream::iter(work)
                // Checked as each partition is about to start.
                .take_while(|_| std::future::ready(!options.stopping()))
                .map(|i| {
                    let job = job.clone();
                    let (partition, _, recipe) = plan.partitions[i].clone();
                    let previous = match &plan.observed[&partition] {
                        Observed::Intact(m) => Previous::Intact(m.clone()),
                        Observed::Damaged(m, _) => Previous::Damaged(m.clone()),
                        _ => Previous::None,
                    };
                    let period = walk.period_of().get(&partition).copied();
                    let bar = bar.clone();
                    async move {
                        let result = job.compute(&partition, period, recipe, previous).await;
                        match &result {
                            Ok(_) => tracing::debug!("{} {partition}: committed", job.dataset),
                            Err(NotCommitted::Failed(why)) => {
                                tracing::warn!("{} {partition}: {why}", job.dataset)
                            }
                            Err(_) => {}
                        }
                        bar.inc(1);
                        (i, result)
                    }
                })
                .buffer_unordered(options.jobs.max(1))
                .collect()
                .await;
            bar.finish_and_clear();
            outcomes.extend(computed);
        }
        for result in outcomes.values() {
            if let Err(NotCommitted::LeaseLost(why)) = result {
                report.lease_lost.get_or_insert_with(|| why.clone());
            }
        }
        let (dataset_report, mut cache) = walk.settle(dataset, plan, outcomes, Mode::Run);
        if report.lease_lost.is_none() {
            store.save_manifest_cache(&dataset.id, &mut cache).await;
        }
        report.datasets.push(dataset_report);
    }
    report.stopped = options.stopping();
    Ok(report)
}

/// How a partition that was not computed counts for its dependents.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `host status`: only fresh partitions are readable.
    Status,
    /// A run: a stale partition outside the run's scope is read as it is.
    Run,
}

/// One dataset, observed and planned.
struct DatasetPlan {
    /// Every expected partition, in order.
    expected: Vec<String>,
    observed: HashMap<String, Observed>,
    /// Per expected partition: its id, its state and (for plugin datasets)
    /// what computing it takes.
    partitions: Vec<(String, State, Option<Recipe>)>,
    /// The dataset's manifest cache, brought up to date by the walk.
    cache: ManifestCache,
    /// Whether the dataset is in scope.
    selected: bool,
}

impl DatasetPlan {
    /// The partitions to compute: in scope and needing work.
    fn work(&self, scope: &Scope, period_of: &HashMap<String, Period>) -> Vec<usize> {
        if !self.selected {
            return vec![];
        }
        self.partitions
            .iter()
            .enumerate()
            .filter(|(_, (p, s, _))| s.needs_work() && scope.in_range(period_of.get(p)))
            .map(|(i, _)| i)
            .collect()
    }
}

/// What the walk carries from dataset to dataset.
struct Walk<'a> {
    store: &'a Store,
    scope: &'a Scope,
    pipeline: &'a Pipeline,
    period_of: HashMap<String, Period>,
    /// Per planned dataset: its expected partitions and what of them its
    /// dependents can read.
    upstream: HashMap<DatasetId, (Vec<String>, Availability)>,
    /// Datasets often share a plugin file: each is read and hashed once.
    plugin_hashes: HashMap<PathBuf, String>,
    /// Progress bars are drawn: computed partitions are logged at debug level.
    progress: bool,
}

impl<'a> Walk<'a> {
    fn new(pipeline: &'a Pipeline, store: &'a Store, scope: &'a Scope, progress: bool) -> Walk<'a> {
        let periods = planner::pipeline_periods(pipeline, scope.now);
        Walk {
            store,
            scope,
            pipeline,
            period_of: periods.iter().map(|p| (p.id(), *p)).collect(),
            upstream: HashMap::new(),
            plugin_hashes: HashMap::new(),
            progress,
        }
    }

    fn period_of(&self) -> &HashMap<String, Period> {
        &self.period_of
    }

    /// Observes a dataset in the store and plans each of its partitions.
    async fn plan(&mut self, dataset: &Dataset) -> Result<DatasetPlan> {
        let expected = planner::expected_partitions(self.pipeline, dataset, self.scope.now);
        let selected = self.scope.selects(&dataset.id);
        let period_of = &self.period_of;
        let scope = self.scope;
        let rehash =
            |partition: &str| scope.verify && selected && scope.in_range(period_of.get(partition));
        let (observed, cache) = observe(self.store, dataset, &expected, &rehash).await?;
        let plugin_sha = match &dataset.producer {
            Producer::Plugin { path, .. } => Some(self.plugin_sha256(path, &dataset.id)?),
            Producer::Source(_) => None,
        };
        let refetch_from = match &dataset.producer {
            Producer::Source(spec) => expected.len().saturating_sub(spec.refetch_recent()),
            Producer::Plugin { .. } => expected.len(),
        };
        let partitions = expected
            .iter()
            .enumerate()
            .map(|(index, partition)| {
                let seen = &observed[partition];
                let (state, recipe) = match &plugin_sha {
                    Some(sha) => planner::plan_plugin_partition(
                        dataset,
                        sha,
                        partition,
                        seen,
                        &self.upstream,
                    ),
                    None => (
                        planner::plan_raw_partition(seen, index >= refetch_from),
                        None,
                    ),
                };
                (partition.clone(), state, recipe)
            })
            .collect();
        Ok(DatasetPlan {
            expected,
            observed,
            partitions,
            cache,
            selected,
        })
    }

    fn plugin_sha256(&mut self, path: &PathBuf, dataset: &DatasetId) -> Result<String> {
        if let Some(sha) = self.plugin_hashes.get(path) {
            return Ok(sha.clone());
        }
        let sha = std::fs::read(path)
            .map(|b| sha256_hex(&b))
            .with_context(|| format!("reading plugin {} of {dataset}", path.display()))?;
        self.plugin_hashes.insert(path.clone(), sha.clone());
        Ok(sha)
    }

    /// Turns a dataset's plan and what was computed into its report,
    /// records what its dependents can read, and returns the dataset's
    /// manifest cache with what was committed.
    fn settle(
        &mut self,
        dataset: &Dataset,
        plan: DatasetPlan,
        mut outcomes: HashMap<usize, ComputeResult>,
        mode: Mode,
    ) -> (DatasetReport, ManifestCache) {
        let mut cache = plan.cache;
        let mut availability: Availability = HashMap::new();
        let mut partitions = Vec::with_capacity(plan.partitions.len());
        for (i, (partition, state, _)) in plan.partitions.into_iter().enumerate() {
            let seen = &plan.observed[&partition];
            let (outcome, available) = match (outcomes.remove(&i), &state) {
                (Some(Ok(Committed { manifest, tag })), _) => {
                    cache.insert(&partition, tag, manifest.clone());
                    let changed = changed(seen, &manifest);
                    log_computed(&dataset.id, &partition, &state, changed, self.progress);
                    (Outcome::Computed { changed }, Ok(manifest))
                }
                (Some(Err(NotCommitted::Failed(error))), _) => {
                    let why = error.message.clone();
                    (Outcome::Failed { error }, Err(why))
                }
                (Some(Err(NotCommitted::Waiting(why))), _) => {
                    (Outcome::Waiting, Err(format!("is waiting: {why}")))
                }
                (Some(Err(NotCommitted::LeaseLost(_))), other) => (
                    Outcome::Skipped,
                    Err(format!("is {} (the run lost its lease)", other.name())),
                ),
                (None, State::Fresh) => (
                    Outcome::Fresh,
                    Ok(seen
                        .manifest()
                        .cloned()
                        .expect("a fresh partition has a manifest")),
                ),
                (None, State::Blocked(why)) => {
                    (Outcome::Blocked, Err(format!("is blocked: {why}")))
                }
                (None, State::Waiting(why)) => {
                    (Outcome::Waiting, Err(format!("is waiting: {why}")))
                }
                (None, other) => {
                    // Not computed now (status, or outside the scope). Its
                    // dependents read what is there if it is intact.
                    let available = match (seen, other) {
                        (Observed::Intact(m), State::Stale(_)) if mode == Mode::Run => {
                            Ok(m.clone())
                        }
                        _ => Err(format!("is {}", other.name())),
                    };
                    (Outcome::Skipped, available)
                }
            };
            availability.insert(partition.clone(), available);
            partitions.push(PartitionReport::new(partition, state, outcome));
        }
        self.upstream
            .insert(dataset.id.clone(), (plan.expected, availability));
        let report = DatasetReport {
            dataset: dataset.id.to_string(),
            partitions,
            checks: vec![],
        };
        (report, cache)
    }
}

/// One line per computed partition: at info level, or at debug level under
/// progress bars.
fn log_computed(
    dataset: &DatasetId,
    partition: &str,
    state: &State,
    changed: bool,
    progress: bool,
) {
    let line = format!(
        "{dataset} {partition}: computed ({}){}",
        state.reason(),
        if changed { "" } else { ", output unchanged" }
    );
    if progress {
        tracing::debug!("{line}");
    } else {
        tracing::info!("{line}");
    }
}

/// Whether a computed partition's content differs from what was there.
fn changed(seen: &Observed, manifest: &Manifest) -> bool {
    seen.manifest()
        .is_none_or(|p| p.content_hash != manifest.content_hash)
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
