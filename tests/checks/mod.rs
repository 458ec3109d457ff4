//! Quality checks: every built-in kind passing and failing (kinds.rs), a
//! blocking failure stopping one day at its partition and healing
//! (blocking.rs), failure records and `--retry-failed` (failures.rs), check
//! plugins in Rust and Python (plugins.rs), and config errors (config.rs).

mod blocking;
mod command;
mod config;
mod failures;
mod kinds;
mod plugins;

use serde_json::Value;

use crate::util::{Medallion, RunSummary, Workspace, day};

/// The manifest of a silver day's check result with this label.
fn silver_result(ws: &Workspace, d: u32, label: &str) -> Value {
    result_in(&ws.manifest("silver/transactions", &day(d)), label)
}

/// The result with `label` among a manifest's (or a run entry's) `checks`.
fn result_in(holder: &Value, label: &str) -> Value {
    holder["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks in {holder}"))
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no result for {label} in {holder}"))
        .clone()
}

/// Three days of the example with these checks on silver.
fn three_days(checks: &str) -> Workspace {
    Medallion::new().days(3).silver_checks(checks).workspace()
}

/// Replaces silver's checks in the workspace's pipeline.toml.
fn set_silver_checks(ws: &Workspace, checks: &str) {
    let text = Medallion::new().days(3).silver_checks(checks).toml();
    ws.write_config(&text);
}

/// The states `host status --json` gives silver's days.
fn silver_states(ws: &Workspace) -> Vec<String> {
    ws.status()
        .into_iter()
        .filter(|((dataset, _), _)| dataset == "silver/transactions")
        .map(|(_, (state, _))| state)
        .collect()
}

/// The partitions a run re-checked without computing.
fn checked(run: &RunSummary, dataset: &str) -> Vec<String> {
    let mut v: Vec<String> = run.dataset(dataset)["checked_partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partition"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The failed partitions of a run: partition → (kind, message).
fn failed(run: &RunSummary, dataset: &str) -> Vec<(String, String, String)> {
    run.dataset(dataset)["failed_partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partition"].as_str().unwrap().to_owned(),
                p["error"]["kind"].as_str().unwrap().to_owned(),
                p["error"]["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
