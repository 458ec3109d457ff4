//! `host run`: bring every partition up to date, and leave a trace of it:
//! a run record in the store, notifications, lineage events, metrics.
//! SIGTERM and SIGINT stop a run gracefully.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde_json::json;
use tokio::sync::watch;

use strata_core::config::Severity;
use strata_engine::ops::history::{self, RunRecord};
use strata_engine::ops::lineage::Lineage;
use strata_engine::ops::{metrics, notify};
use strata_engine::{self as engine, Outcome, Report, RunOptions, Scope};

use super::spark::EngineOptions;
use super::{GlobalOptions, LeaseOptions, Selection};

/// Compute every partition that is missing, damaged or stale, and nothing else.
///
/// Datasets run in dependency order; partitions of one dataset in parallel.
/// A failed partition blocks only what reads it: the run goes on and exits
/// with status 1. Exit status 0 means every expected partition is fresh or
/// waiting for its data. SIGTERM or SIGINT lets the partitions being
/// computed finish and commit, starts no new ones, writes the run record
/// and exits with 143 or 130 (a second signal stops at once).
#[derive(Args)]
pub(super) struct RunCommand {
    #[command(flatten)]
    selection: Selection,
    /// Partitions computed at once [default: number of cores].
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Rehash every file against its manifest instead of trusting sizes.
    #[arg(long)]
    verify: bool,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
    /// Recompute failed partitions even if nothing they are made from has
    /// changed (a plugin error, trap, limit or check failure is otherwise
    /// retried only once its inputs, plugin, params or checks change).
    #[arg(long)]
    retry_failed: bool,
    /// Keep running: start a new run this long after the previous one started (e.g. 15m, 1h).
    #[arg(long, value_name = "DURATION", value_parser = strata_core::units::parse_duration)]
    every: Option<Duration>,
    /// After each run, write Prometheus metrics to FILE (through a temp file
    /// and a rename, for node_exporter's textfile collector).
    #[arg(long, value_name = "FILE")]
    metrics_file: Option<PathBuf>,
    #[command(flatten)]
    lease: LeaseOptions,
    #[command(flatten)]
    engine: EngineOptions,
}

impl RunCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let signals = Signals::install()?;
        let Some(every) = self.every else {
            return self.once(global, &signals).await;
        };
        loop {
            let started = Instant::now();
            // A failed iteration does not end the loop: the next one may
            // find the store, the network or the config fixed.
            if let Err(e) = self.once(global, &signals).await {
                tracing::error!("run failed: {e:#}");
            }
            if let Some(signal) = signals.received() {
                return Ok(signal.exit_code());
            }
            let next = every.saturating_sub(started.elapsed());
            tracing::info!("next run in {}s", next.as_secs());
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                signal = signals.wait() => {
                    tracing::info!("{}: stopping between runs", signal.name());
                    return Ok(signal.exit_code());
                }
            }
        }
    }

    async fn once(&self, global: &GlobalOptions, signals: &Signals) -> Result<ExitCode> {
        // Read the config every time: a swapped plugin or a new dataset is
        // picked up by the next scheduled run.
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let now = global.now();
        let mut scope = Scope::new(now);
        self.selection.apply(&pipeline, &mut scope)?;
        scope.verify = self.verify;
        let mut options = RunOptions::new(scope);
        options.cache_dir = global.cache_dir();
        options.progress = std::io::stderr().is_terminal() && !global.quiet && global.verbose == 0;
        if let Some(jobs) = self.jobs {
            options.jobs = jobs.max(1);
        }
        options.retry_failed = self.retry_failed;
        options.stop = Some(signals.receiver());
        let spark = self.engine.executor(&pipeline)?;
        if let Some(spark) = &spark {
            options.executor = Some(spark.clone());
        }
        let lease = tokio::select! {
            lease = self.lease.acquire(&store) => lease?,
            signal = signals.wait() => {
                tracing::info!("{}: stopping before the run started", signal.name());
                return Ok(signal.exit_code());
            }
        };
        tracing::debug!("holding the run lease: {}", lease.record().await);

        let mut options_given = self.recorded();
        if let Some(at) = global.now {
            options_given.insert("now".into(), json!(at.to_string()));
        }
        let mut record = RunRecord::start(&pipeline.path.display().to_string(), options_given);
        if let Err(e) = record.save(&store).await {
            tracing::warn!("{e:#}; the run goes on without its record");
        }
        tracing::info!("run {}", record.id);
        let lineage = Lineage::new(&pipeline, &store, &record.id).map(Arc::new);
        let starts = lineage.clone().map(|lineage| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            options.started = Some(tx);
            tokio::spawn(async move {
                while let Some(dataset) = rx.recv().await {
                    lineage.start(&dataset).await;
                }
            })
        });

        let started = Instant::now();
        let report = engine::run(&pipeline, &store, &options, lease.fence()).await;
        if let Some(spark) = &spark
            && let Err(e) = spark.finish().await
        {
            tracing::warn!("ending the Spark application: {e:#}");
        }
        // Every START is out before the end events.
        options.started = None;
        if let Some(starts) = starts {
            let _ = starts.await;
        }

        record.stopped_by = signals.received().map(|s| s.name().to_owned());
        record.finish(
            report.as_ref().ok(),
            report.as_ref().err().map(|e| format!("{e:#}")),
        );
        // The notification state is written under the lease: a run that
        // lost it leaves the telling to the run that took it.
        if report.as_ref().map_or(true, |r| r.lease_lost.is_none()) {
            record.notifications =
                notify::notify(&pipeline, &store, &record, report.as_ref().ok()).await;
        }
        if let Some(lineage) = &lineage {
            record.lineage = match &report {
                Ok(report) => lineage.finish(&store, report).await,
                Err(e) => lineage.fail(&format!("{e:#}")).await,
            };
        }
        if let Err(e) = record.save(&store).await {
            tracing::warn!("{e:#}");
        }
        history::prune(&store, pipeline.operations.history.keep).await;
        lease.release().await?;

        if let Some(path) = &self.metrics_file {
            match engine::status(&pipeline, &store, &Scope::new(now)).await {
                Ok(status) => {
                    let text = metrics::render(&pipeline, &status, now, Some(&record));
                    if let Err(e) = metrics::write_atomically(path, &text) {
                        tracing::error!("{e:#}");
                    }
                }
                Err(e) => tracing::error!("metrics not written: {e:#}"),
            }
        }

        let report = report?;
        if let Some(lost) = &report.lease_lost {
            if self.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary_json(&report, &record.id))?
                );
            }
            anyhow::bail!(
                "{lost}; partitions committed before are complete, `host gc` removes the rest"
            );
        }
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&summary_json(&report, &record.id))?
            );
        } else {
            print_summary(&report, started.elapsed());
        }
        if let Some(signal) = signals.received() {
            return Ok(signal.exit_code());
        }
        Ok(if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    /// The options as the run record keeps them.
    fn recorded(&self) -> BTreeMap<String, serde_json::Value> {
        let s = &self.selection;
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: serde_json::Value| {
            if !v.is_null() {
                out.insert(k.to_owned(), v);
            }
        };
        put("from", json!(s.from.map(|t| t.to_string())));
        put("to", json!(s.to.map(|t| t.to_string())));
        if !s.datasets.is_empty() {
            put("datasets", json!(s.datasets));
        }
        put("jobs", json!(self.jobs));
        put("verify", json!(self.verify));
        put("every", json!(self.every.map(strata_core::units::human)));
        put("metrics_file", json!(self.metrics_file));
        put("engine", json!(self.engine.recorded()));
        out
    }
}

/// A signal that stops a run.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Term,
    Int,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
        }
    }

    /// 128 + the signal's number, as shells report a process it ended.
    fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Signal::Term => 143,
            Signal::Int => 130,
        })
    }
}

/// The signals that stop a run, as they arrive.
struct Listener {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Listener {
    fn new() -> Result<Listener> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Listener {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Listener {})
    }

    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Signal::Term,
                _ = self.int.recv() => Signal::Int,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Int
        }
    }
}

/// SIGTERM and SIGINT, listened for in the background: the first asks for
/// a graceful stop, a second ends the process at once.
struct Signals {
    stop: watch::Receiver<bool>,
    first: Arc<OnceLock<Signal>>,
}

impl Signals {
    fn install() -> Result<Signals> {
        let mut listener = Listener::new()?;
        let (tx, stop) = watch::channel(false);
        let first = Arc::new(OnceLock::new());
        let seen = first.clone();
        tokio::spawn(async move {
            let signal = listener.next().await;
            let _ = seen.set(signal);
            let _ = tx.send(true);
            tracing::warn!(
                "{}: finishing the partitions being computed, starting no new ones \
                 (send it again to stop at once)",
                signal.name()
            );
            listener.next().await;
            tracing::error!(
                "stopping at once: partitions being computed are left uncommitted \
                 (the next run computes them), the lease expires by itself"
            );
            std::process::exit(match signal {
                Signal::Term => 143,
                Signal::Int => 130,
            });
        });
        Ok(Signals { stop, first })
    }

    fn receiver(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    fn received(&self) -> Option<Signal> {
        self.first.get().copied()
    }

    /// Resolves when the first signal arrives.
    async fn wait(&self) -> Signal {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|s| *s).await;
        self.received().unwrap_or(Signal::Term)
    }
}

fn summary_json(report: &Report, run: &str) -> serde_json::Value {
    let datasets: Vec<_> = report
        .datasets
        .iter()
        .map(|d| {
            let count =
                |f: fn(&Outcome) -> bool| d.partitions.iter().filter(|p| f(&p.outcome)).count();
            let computed: Vec<_> = d
                .partitions
                .iter()
                .filter_map(|p| match p.outcome {
                    Outcome::Computed { changed } => Some(json!({
                        "partition": p.partition,
                        "state": p.planned.name(),
                        "reason": p.planned.reason(),
                        "changed": changed,
                        "checks": p.checks,
                    })),
                    _ => None,
                })
                .collect();
            let failures: Vec<_> = d
                .partitions
                .iter()
                .filter_map(|p| match &p.outcome {
                    Outcome::Failed { error, attempted } => Some(json!({
                        "partition": p.partition,
                        "error": { "kind": error.kind, "message": error.message },
                        "attempted": attempted,
                        "since": p.failure.as_ref().map(|f| &f.since),
                        "attempts": p.failure.as_ref().map(|f| f.attempts),
                        "checks": p.checks,
                    })),
                    _ => None,
                })
                .collect();
            json!({
                "dataset": d.dataset,
                "computed": computed.len(),
                "checked": count(|o| matches!(o, Outcome::Checked)),
                "fresh": count(|o| matches!(o, Outcome::Fresh)),
                "failed": failures.len(),
                "blocked": count(|o| matches!(o, Outcome::Blocked)),
                "waiting": count(|o| matches!(o, Outcome::Waiting)),
                "skipped": count(|o| matches!(o, Outcome::Skipped)),
                "computed_partitions": computed,
                "checked_partitions": d.partitions.iter()
                    .filter(|p| matches!(p.outcome, Outcome::Checked))
                    .map(|p| json!({ "partition": p.partition, "reason": p.planned.reason(), "checks": p.checks }))
                    .collect::<Vec<_>>(),
                "failed_partitions": failures,
                "checks": d.checks,
                "table": d.table,
                "inputs_read": d.inputs_read,
            })
        })
        .collect();
    json!({
        "ok": report.ok() && !report.stopped,
        "run": run,
        "lease_lost": report.lease_lost,
        "stopped": report.stopped,
        "datasets": datasets,
    })
}

fn print_summary(report: &Report, elapsed: Duration) {
    eprintln!();
    eprintln!(
        "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "dataset", "computed", "fresh", "failed", "blocked", "waiting"
    );
    for d in &report.datasets {
        let count = |f: fn(&Outcome) -> bool| d.partitions.iter().filter(|p| f(&p.outcome)).count();
        eprintln!(
            "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}",
            d.dataset,
            count(|o| matches!(o, Outcome::Computed { .. })),
            count(|o| matches!(o, Outcome::Fresh)),
            count(|o| matches!(o, Outcome::Failed { .. })),
            count(|o| matches!(o, Outcome::Blocked)),
            count(|o| matches!(o, Outcome::Waiting)),
        );
    }
    for d in &report.datasets {
        for p in &d.partitions {
            if let Outcome::Failed { error, .. } = &p.outcome {
                eprintln!(
                    "\nFAILED {} {} ({}):\n  {}",
                    d.dataset,
                    p.partition,
                    error.kind,
                    error.message.replace('\n', "\n  ")
                );
            }
        }
    }
    for d in &report.datasets {
        if let Some(error) = d.table.as_ref().and_then(|t| t.error.as_ref()) {
            eprintln!("\nTABLE NOT UPDATED {}: {error}", d.dataset);
        }
    }
    for (dataset, check) in report.failed_checks() {
        eprintln!(
            "\nFAILED {dataset} check {}: {}",
            check.label, check.message
        );
    }
    for d in &report.datasets {
        let results = d.checks.iter().map(|c| (None, c)).chain(
            d.partitions
                .iter()
                .flat_map(|p| p.checks.iter().map(move |c| (Some(&p.partition), c))),
        );
        for (partition, c) in results.filter(|(_, c)| !c.passed && c.severity == Severity::Warn) {
            let place = partition.map(|p| format!(" {p}")).unwrap_or_default();
            eprintln!(
                "\nwarning: {}{place} check {}: {}",
                d.dataset, c.label, c.message
            );
        }
    }
    let failed = report.failed();
    eprintln!(
        "\n{} in {:.1}s",
        if failed == 0 {
            "done".to_owned()
        } else {
            format!(
                "{failed} partition(s) failed; fix the cause and run again (a failure is retried \
                 once what it was computed from changes, or with --retry-failed)"
            )
        },
        elapsed.as_secs_f64()
    );
}
