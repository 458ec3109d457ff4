//! `host init`: a pipeline folder that runs at once, offline, and heals.

use std::path::Path;
use std::process::{Command, Output};

use crate::util::RunSummary;

fn host(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("STRATA_CACHE_DIR", crate::util::shared_cache())
        .env_remove("STRATA_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn an_initialised_pipeline_runs_offline_and_heals() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path(), &["init", "demo"]);
    assert!(out.status.success(), "{out:?}");
    let config = ["--config", "demo/pipeline.toml"];
    let run = RunSummary::of(host(
        dir.path(),
        &[&config[..], &["run", "--json"]].concat(),
    ));
    run.assert_ok();
    let days: Vec<String> = (1..=7).map(|d| format!("date=2025-03-{d:02}")).collect();
    for dataset in ["raw/orders", "silver/orders", "gold/customers_7d"] {
        assert_eq!(run.computed(dataset), days, "{dataset}");
    }
    // A deleted silver day comes back, and only what reads it is redone.
    std::fs::remove_dir_all(dir.path().join("demo/store/silver/orders/date=2025-03-03")).unwrap();
    let healed = RunSummary::of(host(
        dir.path(),
        &[&config[..], &["run", "--json"]].concat(),
    ));
    healed.assert_ok();
    assert_eq!(healed.computed("silver/orders"), ["date=2025-03-03"]);
    assert!(healed.computed("bronze/orders").is_empty());
    // Its bytes are what they were, so nothing that reads it is redone.
    assert!(healed.computed("gold/daily_revenue").is_empty());
    assert!(healed.computed("gold/customers_7d").is_empty());
}

#[test]
fn init_writes_an_http_skeleton_and_never_overwrites_a_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path(), &["init", "api", "--source", "http"]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(dir.path().join("api/pipeline.toml")).unwrap();
    for commented in [
        "# headers = { Authorization = \"Bearer ${API_TOKEN}\" }",
        "# pagination = { style = \"cursor\"",
        "# refetch_recent = 2",
    ] {
        assert!(text.contains(commented), "no {commented:?} in:\n{text}");
    }
    assert!(!dir.path().join("api/landing").exists());
    // It is a valid pipeline: status plans it without fetching anything.
    let out = host(dir.path(), &["--config", "api/pipeline.toml", "status"]);
    assert!(out.status.success(), "{out:?}");

    let again = host(dir.path(), &["init", "api"]);
    assert_eq!(again.status.code(), Some(2));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("api/pipeline.toml already exists") && err.contains("choose another folder"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("api/pipeline.toml")).unwrap(),
        text
    );
}
