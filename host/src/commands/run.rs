//! `host run`: bring every partition up to date.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde_json::json;

use strata_engine::{self as engine, Outcome, Report, RunOptions, Scope};

use super::{GlobalOptions, LeaseOptions, Selection};

/// Compute every partition that is missing, damaged or stale, and nothing else.
///
/// Datasets run in dependency order; partitions of one dataset in parallel.
/// A failed partition blocks only what reads it: the run goes on and exits
/// with status 1. Exit status 0 means every expected partition is fresh or
/// waiting for its data.
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
    #[command(flatten)]
    lease: LeaseOptions,
}

impl RunCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let Some(every) = self.every else {
            return self.once(global).await;
        };
        loop {
            let started = Instant::now();
            match self.once(global).await {
                Ok(_) => {}
                Err(e) => tracing::error!("run failed: {e:#}"),
            }
            let next = every.saturating_sub(started.elapsed());
            tracing::info!("next run in {}s", next.as_secs());
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!("interrupted; stopping");
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    }

    async fn once(&self, global: &GlobalOptions) -> Result<ExitCode> {
        // Read the config every time: a swapped plugin or a new dataset is
        // picked up by the next scheduled run.
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let mut scope = Scope::new(global.now());
        self.selection.apply(&pipeline, &mut scope)?;
        scope.verify = self.verify;
        let mut options = RunOptions::new(scope);
        options.cache_dir = global.cache_dir();
        options.progress = std::io::stderr().is_terminal() && !global.quiet && global.verbose == 0;
        if let Some(jobs) = self.jobs {
            options.jobs = jobs.max(1);
        }
        options.retry_failed = self.retry_failed;
        let lease = self.lease.acquire(&store).await?;
        tracing::debug!("holding the run lease: {}", lease.record().await);
        let started = Instant::now();
        let report = engine::run(&pipeline, &store, &options, lease.fence()).await;
        lease.release().await?;
        let report = report?;
        if let Some(lost) = &report.lease_lost {
            if self.json {
                println!("{}", serde_json::to_string_pretty(&summary_json(&report))?);
            }
            anyhow::bail!(
                "{lost}; partitions committed before are complete, `host gc` removes the rest"
            );
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&summary_json(&report))?);
        } else {
            print_summary(&report, started.elapsed());
        }
        Ok(if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

fn summary_json(report: &Report) -> serde_json::Value {
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
            })
        })
        .collect();
    json!({
        "ok": report.ok(),
        "lease_lost": report.lease_lost,
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
    for (dataset, check) in report.failed_checks() {
        eprintln!(
            "\nFAILED {dataset} check {}: {}",
            check.label, check.message
        );
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
