//! `host check`: evaluate the checks on what is published, computing no data.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use strata_core::config::Severity;
use strata_engine::{self as engine, Outcome, RunOptions, Scope};

use super::{GlobalOptions, LeaseOptions, Selection};

/// Evaluate every check on the published partitions in scope, now, and
/// record the results in their manifests. Runs no plugin transform and
/// fetches nothing: only the partitions' data is read.
///
/// `host run` already evaluates checks whenever content or checks change;
/// this is for an audit on demand. Exit status 1 if a blocking check
/// fails (its partition is then `failed` and its dependents `blocked`
/// until the cause is fixed).
#[derive(Args)]
pub(super) struct CheckCommand {
    #[command(flatten)]
    selection: Selection,
    /// Partitions checked at once [default: number of cores].
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Print the results as JSON: per dataset, every check result.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lease: LeaseOptions,
}

impl CheckCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let mut scope = Scope::new(global.now());
        self.selection.apply(&pipeline, &mut scope)?;
        let mut options = RunOptions::new(scope);
        options.cache_dir = global.cache_dir();
        options.checks_only = true;
        if let Some(jobs) = self.jobs {
            options.jobs = jobs.max(1);
        }
        let lease = self.lease.acquire(&store).await?;
        let report = engine::run(&pipeline, &store, &options, lease.fence()).await;
        lease.release().await?;
        let report = report?;
        if let Some(lost) = &report.lease_lost {
            anyhow::bail!("{lost}; results recorded before are kept");
        }
        let mut failing = 0;
        let mut datasets = Vec::new();
        for d in &report.datasets {
            let mut results = Vec::new();
            for p in &d.partitions {
                for c in &p.checks {
                    if !c.passed && c.severity == Severity::Error {
                        failing += 1;
                    }
                    results.push((Some(p.partition.as_str()), c));
                }
            }
            for c in &d.checks {
                if !c.passed && c.severity == Severity::Error {
                    failing += 1;
                }
                results.push((None, c));
            }
            let checked = d.count(|o| matches!(o, Outcome::Checked | Outcome::Failed { .. }));
            if self.json {
                datasets.push(json!({
                    "dataset": d.dataset,
                    "partitions_checked": checked,
                    "results": results.iter().map(|(p, c)| json!({
                        "partition": p,
                        "check": c.check,
                        "label": c.label,
                        "severity": c.severity,
                        "passed": c.passed,
                        "violations": c.violations,
                        "message": c.message,
                        "samples": c.samples,
                    })).collect::<Vec<_>>(),
                }));
                continue;
            }
            if results.is_empty() {
                continue;
            }
            let failed: Vec<_> = results.iter().filter(|(_, c)| !c.passed).collect();
            println!(
                "{}: {} partition(s) checked, {} result(s), {} not passed",
                d.dataset,
                checked,
                results.len(),
                failed.len()
            );
            for (partition, c) in failed {
                let severity = match c.severity {
                    Severity::Error => "FAILED",
                    Severity::Warn => "warning",
                };
                println!(
                    "  {severity} {} {}: {}{}",
                    partition.unwrap_or("(per run)"),
                    c.label,
                    c.message,
                    if c.samples.is_empty() {
                        String::new()
                    } else {
                        format!(" (e.g. {})", c.samples.join("; "))
                    }
                );
            }
        }
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "ok": failing == 0, "datasets": datasets }))?
            );
        }
        Ok(if failing == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
