//! The walk over a pipeline: datasets in dependency order, each observed in
//! the store and planned from its inputs' availability. `status` stops
//! there; `run` then computes the partitions that need it, in parallel,
//! and passes on to the next dataset what its dependents can read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{NaiveDateTime, Utc};
use futures::StreamExt;
use strata_core::DatasetId;
use strata_core::config::{Dataset, Pipeline, PluginRef, Producer};
use strata_core::manifest::{CheckResult, Manifest, sha256_hex};
use strata_core::period::Period;
use strata_core::planner::{self, Availability, Observed, State};
use strata_store::lease::Fence;
use strata_store::{CommitError, ManifestCache, Store};

use crate::checks::{self, CheckIds, blocking_failure, describe_failure};
use crate::dataset_plan::{DatasetPlan, Planned, Work};
use crate::execute::{
    Committed, ComputeResult, DatasetJob, NotCommitted, Previous, Rejection, SharedRuntime,
    std_plugin,
};
use crate::failure::{Failure, FailureKind};
use crate::failure_book::{self, Attempt, FailureBook};
use crate::observe::observe;
use crate::remote::{self, Executor};
use crate::report::{DatasetReport, Outcome, PartitionReport, Report, Stats};
use crate::tables;

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

    pub(crate) fn in_range(&self, period: Option<&Period>) -> bool {
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
    /// Recompute deterministic failures whose key has not changed.
    pub retry_failed: bool,
    /// `host check`: evaluate the checks of every published partition in
    /// scope, computing no data.
    pub checks_only: bool,
    /// Set to true to stop gracefully: no new partition starts, those
    /// running finish and commit, the report says `stopped`.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// Told the id of each dataset as its first partition starts.
    pub started: Option<tokio::sync::mpsc::UnboundedSender<DatasetId>>,
    /// Where plugin partitions are computed: here (none), or as tasks of
    /// a distributed run (`host run --engine spark`).
    pub executor: Option<Arc<dyn Executor>>,
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
            retry_failed: false,
            checks_only: false,
            stop: None,
            started: None,
            executor: None,
        }
    }

    /// Whether a graceful stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }
}

/// Plans every partition from the store as it is, changing nothing.
pub async fn status(pipeline: &Pipeline, store: &Store, scope: &Scope) -> Result<Report> {
    let mut walk = Walk::new(pipeline, store, scope, false, false);
    let mut report = Report {
        datasets: vec![],
        lease_lost: None,
        stopped: false,
    };
    for dataset in &pipeline.datasets {
        let plan = walk.plan(dataset).await?;
        let settled = walk.settle(dataset, plan, HashMap::new(), Mode::Status);
        report.datasets.push(settled.report);
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
    let runtime = SharedRuntime::for_jobs(options.jobs);
    let mut walk = Walk::new(
        pipeline,
        store,
        &options.scope,
        options.progress,
        options.retry_failed,
    );
    let mut report = Report {
        datasets: vec![],
        lease_lost: None,
        stopped: false,
    };
    for dataset in &pipeline.datasets {
        let mut plan = walk.plan(dataset).await?;
        if options.checks_only {
            plan.recheck_published();
        }
        // A run that lost its lease, or was stopped, only reports what is
        // left undone.
        let work = match report.lease_lost {
            None if !options.stopping() => plan.work(&options.scope, walk.period_of()),
            _ => vec![],
        };
        let mut outcomes = HashMap::new();
        let mut inputs_read = None;
        if !work.is_empty() {
            let mut job = DatasetJob::prepare(
                pipeline,
                dataset,
                store,
                fence,
                &runtime,
                options.cache_dir.clone(),
            )
            .await;
            job.share_inputs(
                work.iter()
                    .filter_map(|&i| plan.partitions[i].recipe.as_ref()),
            );
            let bar = progress_bar(&dataset.id, work.len(), options.progress);
            if let Some(started) = &options.started {
                let _ = started.send(dataset.id.clone());
            }
            let plan = &plan;
            let mut remote = match &options.executor {
                Some(executor) if !options.stopping() => {
                    remote::wave(
                        executor.as_ref(),
                        &job,
                        &pipeline.store,
                        plan,
                        &work,
                        walk.period_of(),
                    )
                    .await
                }
                _ => HashMap::new(),
            };
            let computed: Vec<(usize, Done)> = futures::stream::iter(work)
                // Checked as each partition is about to start.
                .take_while(|_| std::future::ready(!options.stopping()))
                .map(|i| {
                    let job = job.clone();
                    let planned = plan.partitions[i].clone();
                    let previous = match &plan.observed[&planned.id] {
                        Observed::Intact(m) => Previous::Intact(m.clone()),
                        Observed::Damaged(m, _) => Previous::Damaged(m.clone()),
                        _ => Previous::None,
                    };
                    let history = plan.history(i, job.history());
                    let period = walk.period_of().get(&planned.id).copied();
                    let bar = bar.clone();
                    let remote = remote.remove(&i);
                    async move {
                        let started = Instant::now();
                        let result = match (planned.work, previous, remote) {
                            (Some(Work::Recheck), Previous::Intact(m), _) => {
                                job.recheck(m, history).await
                            }
                            (_, previous, Some(task)) => {
                                job.publish_task(task, previous, history).await
                            }
                            (_, previous, None) => {
                                job.compute(&planned.id, period, planned.recipe, previous, history)
                                    .await
                            }
                        };
                        let partition = &planned.id;
                        match &result {
                            Ok(_) => tracing::debug!("{} {partition}: committed", job.dataset),
                            Err(NotCommitted::Failed(why)) => {
                                tracing::warn!("{} {partition}: {why}", job.dataset)
                            }
                            Err(NotCommitted::Rejected(r)) => {
                                tracing::warn!("{} {partition}: {}", job.dataset, r.failure)
                            }
                            Err(_) => {}
                        }
                        bar.inc(1);
                        (
                            i,
                            Done {
                                result,
                                elapsed: started.elapsed(),
                            },
                        )
                    }
                })
                .buffer_unordered(options.jobs.max(1))
                .collect()
                .await;
            bar.finish_and_clear();
            outcomes.extend(computed);
            inputs_read = job.inputs_read();
        }
        for done in outcomes.values() {
            if let Err(NotCommitted::LeaseLost(why)) = &done.result {
                report.lease_lost.get_or_insert_with(|| why.clone());
            }
        }
        let published = plan.published(&outcomes);
        let mut settled = walk.settle(dataset, plan, outcomes, Mode::Run);
        settled.report.inputs_read = inputs_read;
        if report.lease_lost.is_none() {
            store
                .save_manifest_cache(&dataset.id, &mut settled.cache)
                .await;
            if let Err(e) = settled.failures.save(store, &dataset.id, fence).await {
                match e {
                    CommitError::LeaseLost(lost) => {
                        report.lease_lost.get_or_insert_with(|| lost.to_string());
                    }
                    CommitError::Store(e) => {
                        tracing::warn!(
                            "could not write the failure records of {}: {e:#}",
                            dataset.id
                        )
                    }
                }
            }
            for quarantine in settled.released {
                if let Err(e) = store.delete_prefix(&quarantine.as_str().into()).await {
                    tracing::warn!("could not remove the quarantined output {quarantine}: {e:#}");
                }
            }
            match tables::sync(pipeline, dataset, store, &published, fence).await {
                Ok(table) => settled.report.table = table,
                Err(lost) => {
                    report.lease_lost.get_or_insert_with(|| lost.to_string());
                }
            }
        }
        report.datasets.push(settled.report);
    }
    report.stopped = options.stopping();
    Ok(report)
}

/// A partition the run worked on: what came of it, and how long it took.
pub(crate) struct Done {
    pub(crate) result: ComputeResult,
    pub(crate) elapsed: Duration,
}

/// How a partition that was not computed counts for its dependents.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `host status`: only fresh partitions are readable.
    Status,
    /// A run: a stale partition outside the run's scope is read as it is.
    Run,
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
    plugin_hashes: HashMap<PluginRef, String>,
    /// Progress bars are drawn: computed partitions are logged at debug level.
    progress: bool,
    /// Deterministic failures with an unchanged key are computed again.
    retry_failed: bool,
}

impl<'a> Walk<'a> {
    fn new(
        pipeline: &'a Pipeline,
        store: &'a Store,
        scope: &'a Scope,
        progress: bool,
        retry_failed: bool,
    ) -> Walk<'a> {
        let periods = planner::pipeline_periods(pipeline, scope.now);
        Walk {
            store,
            scope,
            pipeline,
            period_of: periods.iter().map(|p| (p.id(), *p)).collect(),
            upstream: HashMap::new(),
            plugin_hashes: HashMap::new(),
            progress,
            retry_failed,
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
        let (observed, failures) = tokio::join!(
            observe(self.store, dataset, &expected, &rehash),
            FailureBook::load(self.store, &dataset.id)
        );
        let ((observed, cache), mut failures) = (observed?, failures?);
        failures.retain(|p| observed.contains_key(p));
        let plugin_sha = match &dataset.producer {
            Producer::Plugin { plugin, .. } => Some(self.plugin_sha256(plugin, &dataset.id)?),
            Producer::Source(_) => None,
        };
        let checks = CheckIds::of(dataset, &mut |path| {
            self.plugin_sha256(&PluginRef::File(path.clone()), &dataset.id)
        })?;
        self.validate_checks(dataset, &expected, &observed)?;
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
                let key = recipe.as_ref().map(|r| r.key.as_str());
                let current = match (seen, key) {
                    (Observed::Intact(m), Some(key)) => m.key == key && m.invalidated.is_none(),
                    (Observed::Intact(m), None) => m.invalidated.is_none(),
                    _ => false,
                };
                let record = failures.get(partition);
                let (state, work) = match state {
                    State::Fresh => {
                        let results = &seen.manifest().expect("fresh is intact").checks;
                        match (checks.changed(results), blocking_failure(results)) {
                            (Some(why), _) => (State::Stale(why), Some(Work::Recheck)),
                            (None, Some(_)) if self.retry_failed => (
                                State::Stale("retrying its failed checks".into()),
                                Some(Work::Recheck),
                            ),
                            (None, Some(failed)) => (
                                State::Failed(match record {
                                    Some(r) => failure_book::reason(r),
                                    None => describe_failure(failed),
                                }),
                                None,
                            ),
                            (None, None) => (State::Fresh, None),
                        }
                    }
                    state if state.needs_work() => {
                        match failure_book::on_record(record, key, &checks.hash, self.retry_failed)
                        {
                            Some((failed, false)) => (failed, None),
                            Some((failed, true)) => (failed, Some(Work::Compute)),
                            None => (state, Some(Work::Compute)),
                        }
                    }
                    state => (state, None),
                };
                Planned {
                    id: partition.clone(),
                    state,
                    recipe,
                    work,
                    current,
                }
            })
            .collect();
        Ok(DatasetPlan {
            expected,
            observed,
            partitions,
            cache,
            failures,
            checks,
            selected,
        })
    }

    /// Checks the columns the dataset's checks name against its schema, as
    /// its newest partition records it (raw data: the `(file, body)`
    /// table). A dataset never computed has no schema yet: its checks name
    /// a missing column in their results instead.
    fn validate_checks(
        &self,
        dataset: &Dataset,
        expected: &[String],
        observed: &HashMap<String, Observed>,
    ) -> Result<()> {
        let builtins: Vec<&strata_core::config::Check> = dataset
            .checks
            .iter()
            .filter(|c| checks::builtin::is_builtin(&c.kind))
            .collect();
        if builtins.is_empty() {
            return Ok(());
        }
        let columns = if dataset.id.is_raw() {
            crate::schema::columns(&strata_runtime::schema::raw_schema())
                .expect("the raw table's types are the contract's")
        } else {
            let newest = expected.iter().rev().find_map(|p| match &observed[p] {
                Observed::Intact(m) if !m.schema.is_empty() => Some(m.schema.clone()),
                _ => None,
            });
            match newest {
                Some(columns) => columns,
                None => return Ok(()),
            }
        };
        checks::builtin::validate(&dataset.id.to_string(), &builtins, &columns).map_err(
            |(line, message)| {
                anyhow::Error::new(strata_core::config::ConfigError {
                    path: self.pipeline.path.display().to_string(),
                    line: Some(line),
                    message: format!("dataset `{}`: {message}", dataset.id),
                })
            },
        )
    }

    fn plugin_sha256(&mut self, plugin: &PluginRef, dataset: &DatasetId) -> Result<String> {
        if let Some(sha) = self.plugin_hashes.get(plugin) {
            return Ok(sha.clone());
        }
        let sha = match plugin {
            PluginRef::File(path) => std::fs::read(path)
                .map(|b| sha256_hex(&b))
                .with_context(|| format!("reading plugin {} of {dataset}", path.display()))?,
            PluginRef::Std(name) => sha256_hex(std_plugin(name)?),
        };
        self.plugin_hashes.insert(plugin.clone(), sha.clone());
        Ok(sha)
    }

    /// Turns a dataset's plan and what was computed into its report,
    /// records what its dependents can read, and brings the dataset's
    /// manifest cache and failure records up to date.
    fn settle(
        &mut self,
        dataset: &Dataset,
        plan: DatasetPlan,
        mut outcomes: HashMap<usize, Done>,
        mode: Mode,
    ) -> Settled {
        let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut cache = plan.cache;
        let mut failures = plan.failures;
        let mut released = Vec::new();
        let mut availability: Availability = HashMap::new();
        let mut partitions = Vec::with_capacity(plan.partitions.len());
        let mut newest_readable = None;
        for (i, planned) in plan.partitions.into_iter().enumerate() {
            let Planned {
                id: partition,
                state,
                recipe,
                work,
                ..
            } = planned;
            let seen = &plan.observed[&partition];
            let key = recipe.as_ref().map(|r| r.key.clone()).unwrap_or_default();
            let mut checks = vec![];
            let mut stats = None;
            let mut fail = |failure: &Failure,
                            key: &str,
                            results: &[CheckResult],
                            quarantine: Option<String>| {
                failures.record(
                    &partition,
                    Attempt {
                        failure,
                        key,
                        checks: &plan.checks.hash,
                        results,
                        quarantine,
                    },
                    &now,
                );
            };
            let (outcome, available) = match (outcomes.remove(&i), &state) {
                (
                    Some(Done {
                        result: Ok(done),
                        elapsed,
                    }),
                    _,
                ) => {
                    let Committed { manifest, tag } = done;
                    cache.insert(&partition, tag, manifest.clone());
                    checks = manifest.checks.clone();
                    match (work, blocking_failure(&manifest.checks)) {
                        (Some(Work::Recheck), Some(failed)) => {
                            let error = Failure::new(
                                FailureKind::Check,
                                format!("{} {partition}: {}", dataset.id, describe_failure(failed)),
                            );
                            fail(&error, &manifest.key, &manifest.checks, None);
                            let why =
                                failed_input(&error, &format!("{} {partition}: ", dataset.id));
                            (
                                Outcome::Failed {
                                    error,
                                    attempted: true,
                                },
                                Err(why),
                            )
                        }
                        (Some(Work::Recheck), None) => (Outcome::Checked, Ok(manifest)),
                        _ => {
                            stats = Some(Stats::of(recipe.as_ref(), &manifest, elapsed));
                            let changed = changed(seen, &manifest);
                            log_computed(&dataset.id, &partition, &state, changed, self.progress);
                            (Outcome::Computed { changed }, Ok(manifest))
                        }
                    }
                }
                (
                    Some(Done {
                        result: Err(NotCommitted::Failed(error)),
                        ..
                    }),
                    _,
                ) => {
                    fail(&error, &key, &[], None);
                    let why = failed_input(&error, &format!("{} {partition}: ", dataset.id));
                    (
                        Outcome::Failed {
                            error,
                            attempted: true,
                        },
                        Err(why),
                    )
                }
                (
                    Some(Done {
                        result: Err(NotCommitted::Rejected(rejection)),
                        ..
                    }),
                    _,
                ) => {
                    let Rejection {
                        failure: error,
                        results,
                        quarantine,
                    } = rejection;
                    fail(&error, &key, &results, quarantine);
                    checks = results;
                    let why = failed_input(&error, &format!("{} {partition}: ", dataset.id));
                    (
                        Outcome::Failed {
                            error,
                            attempted: true,
                        },
                        Err(why),
                    )
                }
                (
                    Some(Done {
                        result: Err(NotCommitted::Waiting(why)),
                        ..
                    }),
                    _,
                ) => (Outcome::Waiting, Err(format!("is waiting: {why}"))),
                (
                    Some(Done {
                        result: Err(NotCommitted::LeaseLost(_)),
                        ..
                    }),
                    other,
                ) => (
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
                (None, State::Failed(why)) => {
                    let error = failure_book::failure_of(failures.get(&partition), why);
                    let why = failed_input(&error, &format!("{} {partition}: ", dataset.id));
                    (
                        Outcome::Failed {
                            error,
                            attempted: false,
                        },
                        Err(why),
                    )
                }
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
            if matches!(
                outcome,
                Outcome::Fresh | Outcome::Computed { .. } | Outcome::Checked
            ) {
                // Healthy now: whatever failed before is over.
                if let Some(old) = failures.clear(&partition) {
                    released.extend(old.quarantine);
                }
                newest_readable = Some(partition.clone());
            }
            availability.insert(partition.clone(), available);
            let mut report = PartitionReport::new(partition, state, outcome);
            report.failure = failures.get(&report.partition).cloned();
            report.checks = checks;
            report.stats = stats;
            partitions.push(report);
        }
        let newest_end = newest_readable.and_then(|p| match self.period_of.get(&p) {
            Some(period) => Some(period.end()),
            // An unpartitioned dataset: as new as its last computation.
            None => availability
                .get(&p)
                .and_then(|a| a.as_ref().ok())
                .and_then(|m| chrono::DateTime::parse_from_rfc3339(&m.written_at).ok())
                .map(|t| t.naive_utc()),
        });
        let dataset_checks = checks::freshness(dataset, newest_end, self.scope.now);
        self.upstream
            .insert(dataset.id.clone(), (plan.expected, availability));
        Settled {
            report: DatasetReport {
                dataset: dataset.id.to_string(),
                partitions,
                checks: dataset_checks,
                table: None,
                inputs_read: None,
            },
            cache,
            failures,
            released,
        }
    }
}

/// How a failed partition's dependents say why they are blocked: its kind,
/// and the first line of its message without the partition it names.
fn failed_input(error: &Failure, place: &str) -> String {
    let first = error.message.lines().next().unwrap_or_default();
    let first = first.strip_prefix(place).unwrap_or(first);
    let short: String = first.chars().take(160).collect();
    let short = if short.len() < first.len() {
        short + "…"
    } else {
        short
    };
    format!("is failed ({}): {short}", error.kind)
}

/// A dataset after a walk: its report, and the state to save.
struct Settled {
    report: DatasetReport,
    cache: ManifestCache,
    failures: FailureBook,
    /// Quarantined outputs of partitions that are healthy now.
    released: Vec<String>,
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
