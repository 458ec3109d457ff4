//! `host history`: the runs recorded in the store, newest first, or one run
//! in full. Reads `_strata/runs/` only; changes nothing.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;

use strata_engine::ops::history::{self, RunRecord};

use super::GlobalOptions;

/// List the recorded runs, newest first, or show one.
///
/// Every `host run` (and every iteration of `--every`) records itself in
/// the store: a run that shows `unfinished` is still going, or was killed.
#[derive(Args)]
pub(super) struct HistoryCommand {
    /// Show this run in full (an id from the list).
    run_id: Option<String>,
    /// How many runs to list.
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: usize,
    /// Print JSON: an array of {id, started_at, finished_at, status, counts, …}, or the whole record of RUN_ID.
    #[arg(long)]
    json: bool,
}

impl HistoryCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        if let Some(id) = &self.run_id {
            let Some(record) = RunRecord::load(&store, id).await? else {
                bail!(
                    "no run `{id}` in {}: `host history` lists the recorded runs",
                    store.url
                );
            };
            if self.json {
                println!("{}", serde_json::to_string_pretty(&record)?);
            } else {
                print_record(&record);
            }
            return Ok(ExitCode::SUCCESS);
        }
        let records = history::list(&store, self.limit).await?;
        if self.json {
            let list: Vec<_> = records.iter().map(summary_json).collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
            return Ok(ExitCode::SUCCESS);
        }
        if records.is_empty() {
            println!("no runs recorded in {}", store.url);
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "{:<28} {:<10} {:<19} {:>9} {:>8} {:>6} {:>7}",
            "run", "status", "started (UTC)", "duration", "computed", "failed", "blocked"
        );
        for r in &records {
            println!(
                "{:<28} {:<10} {:<19} {:>9} {:>8} {:>6} {:>7}",
                r.id,
                r.status.name(),
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                r.duration_ms
                    .map(|ms| format!("{:.1}s", ms as f64 / 1000.0))
                    .unwrap_or_else(|| "-".into()),
                r.counts.computed,
                r.counts.failed,
                r.counts.blocked,
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// One run as `host history --json` lists it, and as `host serve`'s
/// `/api/runs` answers.
pub(super) fn summary_json(r: &RunRecord) -> serde_json::Value {
    json!({
        "id": r.id,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "duration_ms": r.duration_ms,
        "status": r.status.name(),
        "counts": r.counts,
        "error": r.error,
    })
}

fn print_record(r: &RunRecord) {
    println!("run       {}", r.id);
    println!("status    {}", r.status.name());
    println!(
        "started   {}",
        r.started_at.format("%Y-%m-%d %H:%M:%S%.3f UTC")
    );
    if let Some(end) = r.finished_at {
        println!("finished  {}", end.format("%Y-%m-%d %H:%M:%S%.3f UTC"));
    }
    println!(
        "host      {} (pid {}), strata {}",
        r.machine.hostname, r.machine.pid, r.host_version
    );
    println!("pipeline  {}", r.pipeline);
    for (what, why) in [
        ("error", &r.error),
        ("lease", &r.lease_lost),
        ("stopped", &r.stopped_by),
    ] {
        if let Some(why) = why {
            println!("{what:<9} {why}");
        }
    }
    if !r.datasets.is_empty() {
        println!(
            "\n{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "dataset", "computed", "checked", "fresh", "failed", "blocked", "waiting"
        );
        for d in &r.datasets {
            let c = &d.counts;
            println!(
                "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                d.dataset, c.computed, c.checked, c.fresh, c.failed, c.blocked, c.waiting
            );
        }
    }
    for d in &r.datasets {
        for p in &d.partitions {
            match &p.error {
                Some(error) => println!(
                    "\nFAILED {} {} ({}):\n  {}",
                    d.dataset,
                    p.partition,
                    error.kind,
                    error.message.replace('\n', "\n  ")
                ),
                None => println!("{} {} {} ({})", p.outcome, d.dataset, p.partition, p.reason),
            }
        }
    }
    for (title, list) in [("notifications", &r.notifications), ("lineage", &r.lineage)] {
        if list.is_empty() {
            continue;
        }
        println!("\n{title}:");
        for n in list {
            let how = if n.delivered {
                "delivered".to_owned()
            } else {
                format!(
                    "NOT delivered: {}",
                    n.error.as_deref().unwrap_or("unknown error")
                )
            };
            println!(
                "  {} → {} ({} attempt(s)): {how}",
                n.message, n.endpoint, n.attempts
            );
        }
    }
}
