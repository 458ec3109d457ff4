//! `host status`: the plan, without changing anything.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use strata_core::planner::State;
use strata_engine::{self as engine, Scope};

use super::GlobalOptions;

/// Show the health of every partition: one row per dataset, one cell per
/// period. Reads manifests only; never writes, never fetches, never runs a plugin.
#[derive(Args)]
pub(super) struct StatusCommand {
    /// Print every partition as JSON: {dataset, partition, state, reason},
    /// with `failure` (kind, message, since, attempts) for a failed one, and
    /// each dataset's per-run check results under `checks`.
    #[arg(long)]
    json: bool,
    /// Rehash every file instead of trusting sizes (slower; finds edited files).
    #[arg(long)]
    verify: bool,
    /// How many of the most recent periods the grid shows.
    #[arg(long, default_value_t = 60)]
    width: usize,
}

/// What `host status --json` prints, and what `host serve`'s
/// `/api/partitions` answers: every partition as {dataset, partition,
/// state, reason} (with `failure` for a failed one), and each dataset's
/// per-run check results.
pub(super) fn status_json(report: &engine::Report) -> serde_json::Value {
    let partitions: Vec<_> = report
        .datasets
        .iter()
        .flat_map(|d| {
            d.partitions
                .iter()
                .map(move |p| partition_json(&d.dataset, p))
        })
        .collect();
    let checks: Vec<_> = report
        .datasets
        .iter()
        .flat_map(|d| {
            d.checks
                .iter()
                .map(move |c| json!({ "dataset": d.dataset, "result": c }))
        })
        .collect();
    json!({ "partitions": partitions, "checks": checks })
}

/// One partition as `host status --json` lists it.
pub(super) fn partition_json(dataset: &str, p: &engine::PartitionReport) -> serde_json::Value {
    let mut entry = json!({
        "dataset": dataset,
        "partition": p.partition,
        "state": p.planned.name(),
        "reason": p.planned.reason(),
    });
    if let (State::Failed(_), Some(f)) = (&p.planned, &p.failure) {
        entry["failure"] = json!({
            "kind": f.kind,
            "message": f.message,
            "since": f.since,
            "last": f.last,
            "attempts": f.attempts,
            "quarantine": f.quarantine,
        });
    }
    entry
}

const LEGEND: &[(&str, char, &str)] = &[
    ("fresh", '#', "32"),
    ("stale", 's', "33"),
    ("missing", '.', "90"),
    ("damaged", 'D', "31"),
    ("failed", 'X', "31"),
    ("blocked", 'b', "35"),
    ("waiting", 'w', "34"),
];

impl StatusCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let mut scope = Scope::new(global.now());
        scope.verify = self.verify;
        let report = engine::status(&pipeline, &store, &scope).await?;

        if self.json {
            println!("{}", serde_json::to_string_pretty(&status_json(&report))?);
            return Ok(ExitCode::SUCCESS);
        }

        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let paint = |state: &State| -> String {
            let (_, c, code) = LEGEND
                .iter()
                .find(|(name, _, _)| *name == state.name())
                .expect("every state has a legend entry");
            if colour {
                format!("\x1b[{code}m{c}\x1b[0m")
            } else {
                c.to_string()
            }
        };
        println!("store: {}", store.url);
        let name_width = report
            .datasets
            .iter()
            .map(|d| d.dataset.len())
            .max()
            .unwrap_or(7)
            .max(7);
        for d in &report.datasets {
            let shown = d.partitions.len().saturating_sub(self.width);
            let cells: String = d.partitions[shown..]
                .iter()
                .map(|p| paint(&p.planned))
                .collect();
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for p in &d.partitions {
                *counts.entry(p.planned.name()).or_default() += 1;
            }
            let counts: Vec<String> = LEGEND
                .iter()
                .filter_map(|(name, _, _)| counts.get(name).map(|n| format!("{n} {name}")))
                .collect();
            let more = if shown > 0 {
                format!("…{shown} earlier ")
            } else {
                String::new()
            };
            println!(
                "{:<name_width$}  {more}{cells}  {}",
                d.dataset,
                counts.join(", ")
            );
        }
        let legend: Vec<String> = LEGEND
            .iter()
            .map(|(name, _, _)| {
                let state = match *name {
                    "fresh" => State::Fresh,
                    "missing" => State::Missing,
                    "stale" => State::Stale(String::new()),
                    "damaged" => State::Damaged(String::new()),
                    "failed" => State::Failed(String::new()),
                    "blocked" => State::Blocked(String::new()),
                    _ => State::Waiting(String::new()),
                };
                format!("{} {name}", paint(&state))
            })
            .collect();
        println!("\nlegend: {}", legend.join("  "));
        let needs: Vec<_> = report
            .datasets
            .iter()
            .flat_map(|d| d.partitions.iter().map(move |p| (d, p)))
            .filter(|(_, p)| !matches!(p.planned, State::Fresh))
            .collect();
        for (dataset, c) in report
            .datasets
            .iter()
            .flat_map(|d| d.checks.iter().map(move |c| (d, c)))
        {
            if !c.passed {
                println!(
                    "{} check {} not passed: {}",
                    dataset.dataset, c.label, c.message
                );
            }
        }
        if needs.is_empty() {
            println!("everything is fresh");
        } else {
            println!("\n{} partition(s) not fresh:", needs.len());
            for (d, p) in needs.iter().take(20) {
                println!(
                    "  {} {}: {} ({})",
                    d.dataset,
                    p.partition,
                    p.planned.name(),
                    p.planned.reason()
                );
            }
            if needs.len() > 20 {
                println!("  … and {} more (see --json)", needs.len() - 20);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
