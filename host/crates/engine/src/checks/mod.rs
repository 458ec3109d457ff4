//! A dataset's checks: which results a partition's manifest must hold (by
//! id), evaluating them on a partition's content, and the once-per-run
//! `freshness` check.
//!
//! Built-in checks are evaluated while the content streams by
//! ([`builtin::Evaluator`]); check plugins read the content afterwards, as
//! the one input of a transform whose output rows are the violations.

pub(crate) mod builtin;

use std::path::PathBuf;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::NaiveDateTime;
use strata_core::DatasetId;
use strata_core::config::{Check, CheckKind, Dataset, PluginLimits, Producer, Severity};
use strata_core::manifest::{CheckResult, Column, sha256_hex};
use strata_runtime::{InputContext, PartitionContext, Plugin, Runtime};

use crate::failure::{Failure, FailureKind};
use crate::partition::runtime_limits;

/// The ids a partition's manifest must hold results for: one per
/// per-partition check, in config order.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckIds {
    /// (result id, label) per per-partition check.
    ids: Vec<(String, String)>,
    /// sha256 over the ids: what a failure record remembers.
    pub(crate) hash: String,
}

impl CheckIds {
    /// The ids of a dataset's checks; `plugin_sha256` hashes a check
    /// plugin's file.
    pub(crate) fn of(
        dataset: &Dataset,
        plugin_sha256: &mut dyn FnMut(&PathBuf) -> anyhow::Result<String>,
    ) -> anyhow::Result<CheckIds> {
        let mut ids = Vec::new();
        for check in dataset.checks.iter().filter(|c| c.kind.per_partition()) {
            let sha = match &check.kind {
                CheckKind::Plugin { path, .. } => Some(plugin_sha256(path)?),
                _ => None,
            };
            ids.push((check.result_id(sha.as_deref()), check.label()));
        }
        let joined: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
        Ok(CheckIds {
            hash: sha256_hex(joined.join("\n").as_bytes()),
            ids,
        })
    }

    /// Why a manifest's results are not those of the current checks (a
    /// check added, changed or removed), or `None` if they are.
    pub(crate) fn changed(&self, results: &[CheckResult]) -> Option<String> {
        let mut added: Vec<&str> = self
            .ids
            .iter()
            .filter(|(id, _)| !results.iter().any(|r| &r.id == id))
            .map(|(_, label)| label.as_str())
            .collect();
        let removed: Vec<&str> = results
            .iter()
            .filter(|r| !self.ids.iter().any(|(id, _)| id == &r.id))
            .map(|r| r.label.as_str())
            .collect();
        if added.is_empty() && removed.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if !added.is_empty() {
            added.dedup();
            parts.push(format!("{} new or changed", added.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("{} removed", removed.join(", ")));
        }
        Some(format!("checks changed: {}", parts.join("; ")))
    }
}

/// The first blocking check that failed, if any.
pub(crate) fn blocking_failure(results: &[CheckResult]) -> Option<&CheckResult> {
    results
        .iter()
        .find(|r| !r.passed && r.severity == Severity::Error)
}

/// How people read a failed check: `check unique(id) failed: 2 of 40 rows
/// repeat id (e.g. tx-17, tx-18)`.
pub(crate) fn describe_failure(result: &CheckResult) -> String {
    let mut text = format!("check {} failed: {}", result.label, result.message);
    if !result.samples.is_empty() && !result.message.contains(&result.samples[0]) {
        text.push_str(&format!(" (e.g. {})", result.samples.join("; ")));
    }
    text
}

/// A check plugin, loaded.
struct PluginCheck {
    check: Check,
    id: String,
    plugin: Arc<Plugin>,
    params: serde_json::Map<String, serde_json::Value>,
}

/// A dataset's per-partition checks, ready to evaluate.
pub(crate) struct CheckSet {
    dataset: DatasetId,
    builtins: Vec<Check>,
    plugins: Vec<PluginCheck>,
    runtime: Option<Arc<Runtime>>,
    limits: PluginLimits,
    /// How many earlier partitions' row counts `volume` needs.
    pub(crate) history: usize,
}

impl CheckSet {
    /// Loads a dataset's check plugins (through `load`, which starts the
    /// runtime if needed).
    pub(crate) async fn prepare<F, Fut>(dataset: &Dataset, load: F) -> Result<CheckSet, Failure>
    where
        F: Fn(PathBuf) -> Fut,
        Fut: std::future::Future<Output = Result<(Arc<Runtime>, Plugin), Failure>>,
    {
        let mut builtins = Vec::new();
        let mut plugins = Vec::new();
        let mut runtime = None;
        for check in dataset.checks.iter().filter(|c| c.kind.per_partition()) {
            match &check.kind {
                CheckKind::Plugin { path, params } => {
                    let (rt, plugin) = load(path.clone())
                        .await
                        .map_err(|f| f.context(format!("check plugin of {}", dataset.id)))?;
                    runtime = Some(rt);
                    plugins.push(PluginCheck {
                        id: check.result_id(Some(&plugin.info.sha256)),
                        check: check.clone(),
                        plugin: Arc::new(plugin),
                        params: params.clone(),
                    });
                }
                _ => builtins.push(check.clone()),
            }
        }
        let history = dataset
            .checks
            .iter()
            .filter_map(|c| match c.kind {
                CheckKind::Volume { window, .. } => Some(window as usize),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let limits = match &dataset.producer {
            Producer::Plugin { limits, .. } => limits.clone(),
            Producer::Source(_) => PluginLimits::default(),
        };
        Ok(CheckSet {
            dataset: dataset.id.clone(),
            builtins,
            plugins,
            runtime,
            limits,
            history,
        })
    }

    /// No checks (the dataset's check plugins did not load: its partitions
    /// fail with that instead).
    pub(crate) fn none(dataset: &Dataset) -> CheckSet {
        CheckSet::empty(dataset.id.clone())
    }

    /// No checks, for a dataset known by its id alone (a task of a
    /// distributed run computes; its driver evaluates the checks).
    pub(crate) fn empty(dataset: DatasetId) -> CheckSet {
        CheckSet {
            dataset,
            builtins: vec![],
            plugins: vec![],
            runtime: None,
            limits: PluginLimits::default(),
            history: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.builtins.is_empty() && self.plugins.is_empty()
    }

    /// An evaluator of the built-in checks for one partition's content
    /// (`columns` as its manifest records them; raw data is always the
    /// `(file, body)` table).
    pub(crate) fn evaluator(&self, columns: &[Column], history: &[u64]) -> builtin::Evaluator {
        let checks: Vec<&Check> = self.builtins.iter().collect();
        let raw_columns;
        let columns = if self.dataset.is_raw() {
            raw_columns = crate::schema::columns(&strata_runtime::schema::raw_schema())
                .expect("the raw table's types are the contract's");
            &raw_columns[..]
        } else {
            columns
        };
        builtin::Evaluator::new(&checks, columns, history)
    }

    /// Evaluates every check on content that is already written (a
    /// published partition, or raw files in hand): the built-ins in one
    /// pass, then the check plugins. Runs on a blocking thread.
    pub(crate) fn evaluate<I>(
        &self,
        partition: &str,
        columns: &[Column],
        history: &[u64],
        content: &dyn Fn() -> I,
    ) -> Result<Vec<CheckResult>, Failure>
    where
        I: Iterator<Item = Result<RecordBatch, Failure>>,
    {
        let mut evaluator = self.evaluator(columns, history);
        for batch in content() {
            evaluator
                .observe(&batch?)
                .map_err(|e| Failure::new(FailureKind::Host, format!("evaluating checks: {e}")))?;
        }
        self.finish(evaluator, partition, columns, content)
    }

    /// Finishes a partition's evaluation: the built-in results, then each
    /// check plugin run over the content (`content` reads it again, from
    /// the start, as often as asked). Runs on a blocking thread.
    pub(crate) fn finish<I>(
        &self,
        evaluator: builtin::Evaluator,
        partition: &str,
        columns: &[Column],
        content: &dyn Fn() -> I,
    ) -> Result<Vec<CheckResult>, Failure>
    where
        I: Iterator<Item = Result<RecordBatch, Failure>>,
    {
        let mut results = evaluator.finish();
        for check in &self.plugins {
            results.push(self.run_plugin(check, partition, columns, content())?);
        }
        Ok(results)
    }

    fn run_plugin(
        &self,
        check: &PluginCheck,
        partition: &str,
        columns: &[Column],
        content: impl Iterator<Item = Result<RecordBatch, Failure>>,
    ) -> Result<CheckResult, Failure> {
        let runtime = self.runtime.as_ref().expect("a check plugin was loaded");
        let schema = if self.dataset.is_raw() {
            strata_runtime::schema::raw_schema()
        } else {
            crate::schema::to_arrow(columns).map_err(|e| Failure::new(FailureKind::Host, e))?
        };
        let context = PartitionContext {
            dataset: self.dataset.to_string(),
            partition: partition.to_owned(),
            period_start: String::new(),
            period_end: String::new(),
            params: check.params.clone(),
            inputs: vec![InputContext {
                dataset: self.dataset.to_string(),
                schema,
                partitions: vec![partition.to_owned()],
            }],
        };
        let mut violations = 0u64;
        let mut samples = Vec::new();
        check
            .plugin
            .run_partition(
                runtime,
                &context,
                &runtime_limits(&self.limits),
                content.map(|b| b.map(|b| (0u32, 0u32, b))),
                &mut |batch: RecordBatch| {
                    violations += batch.num_rows() as u64;
                    collect_samples(&batch, &mut samples);
                    Ok(())
                },
            )
            .map_err(|f: Failure| {
                f.context(format!(
                    "{} {partition}: check plugin {}@{} ({})",
                    self.dataset,
                    check.plugin.info.name,
                    check.plugin.info.version,
                    check.plugin.path.display()
                ))
            })?;
        let name = &check.plugin.info.name;
        Ok(CheckResult {
            id: check.id.clone(),
            check: check.check.kind.name().to_owned(),
            label: format!("plugin({name})"),
            severity: check.check.severity,
            passed: violations == 0,
            violations,
            message: if violations == 0 {
                format!("{name} found no violations")
            } else {
                format!("{name} found {violations} violating row(s)")
            },
            samples,
        })
    }
}

/// Up to five rows of a plugin's violations, as `column=value, …`.
fn collect_samples(batch: &RecordBatch, samples: &mut Vec<String>) {
    const MAX: usize = 5;
    let options = FormatOptions::default();
    let formatters: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
        .collect();
    let schema = batch.schema();
    for row in 0..batch.num_rows() {
        if samples.len() >= MAX {
            return;
        }
        let text: Vec<String> = schema
            .fields()
            .iter()
            .zip(&formatters)
            .filter_map(|(field, f)| {
                f.as_ref()
                    .map(|f| format!("{}={}", field.name(), f.value(row)))
            })
            .collect();
        let mut text = text.join(", ");
        if text.chars().count() > 120 {
            text = text.chars().take(119).collect::<String>() + "…";
        }
        samples.push(text);
    }
}

/// The dataset's `freshness` checks, for a run: the newest readable
/// partition must end at most `max_age` before `now`.
pub(crate) fn freshness(
    dataset: &Dataset,
    newest_end: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Vec<CheckResult> {
    dataset
        .checks
        .iter()
        .filter_map(|check| {
            let CheckKind::Freshness { max_age } = check.kind else {
                return None;
            };
            let max = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
            let (passed, message) = match newest_end {
                None => (false, "no fresh partition yet".to_owned()),
                Some(end) => {
                    let age = now - end;
                    let text = format!(
                        "the newest fresh partition ends {} ({} ago; at most {} allowed)",
                        end.format("%Y-%m-%dT%H:%M:%SZ"),
                        human(age),
                        human(max)
                    );
                    (age <= max, text)
                }
            };
            Some(CheckResult {
                id: check.id.clone(),
                check: check.kind.name().to_owned(),
                label: check.label(),
                severity: check.severity,
                passed,
                violations: u64::from(!passed),
                message,
                samples: vec![],
            })
        })
        .collect()
}

fn human(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    match secs {
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}m", s / 60),
    }
}
