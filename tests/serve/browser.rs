//! The page in a real browser: Debian's Chromium, headless, driven by
//! playwright-core from `browser/page.mjs`, which prints what the page
//! shows; the assertions are here, against `host status --json` and `host
//! history --json`. Without Node, the package or the browser the tests
//! skip loudly, except under CI=true, where they fail (.ci/run installs
//! both).
//!
//! The grid's cells are read back from the canvas pixels, so a cell drawn
//! in the wrong colour fails the test as it would mislead a reader.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Server, host_json, store_with_a_failure};
use crate::operations::receiver::Receiver;
use crate::util::{Workspace, day};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/serve/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("STRATA_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Whether the browser tests can run; under CI they must.
fn browser_available() -> bool {
    let missing: Vec<String> = [
        (
            browser_dir().join("node_modules/playwright-core"),
            "playwright-core (cd tests/serve/browser && npm ci)",
        ),
        (chromium(), "chromium (apt-get install chromium)"),
    ]
    .into_iter()
    .filter(|(path, _)| !path.exists())
    .map(|(_, what)| what.to_owned())
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have the browser tests' tools: missing {}",
        missing.join(", ")
    );
    eprintln!("SKIPPED the browser test: missing {}", missing.join(", "));
    false
}

fn node(args: &[&str]) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg("page.mjs")
        .args(args)
        .current_dir(browser_dir())
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY");
    cmd
}

/// Where the docs' screenshot goes: docs/serve.png when
/// STRATA_UPDATE_SCREENSHOT is set (it shows dates of the test's own run,
/// so every run would otherwise change a committed file), else the
/// tests' temp folder.
fn screenshot_path() -> PathBuf {
    if std::env::var_os("STRATA_UPDATE_SCREENSHOT").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/serve.png")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve.png")
    }
}

#[test]
fn the_grid_shows_every_state_and_a_failed_partition_its_reason_and_lineage() {
    if !browser_available() {
        return;
    }
    let ws = store_with_a_failure();
    let status = host_json(&ws, &["status", "--json"]);
    let history = host_json(&ws, &["history", "--json"]);
    let server = Server::start(&ws, &[], &[]);

    let partitions = status["partitions"].as_array().unwrap();
    let cells: Vec<Value> = partitions
        .iter()
        .map(|p| json!([p["dataset"], p["partition"]]))
        .collect();
    let failed = partitions.iter().find(|p| p["state"] == "failed").unwrap();
    let shot = screenshot_path();
    let case = json!({
        "cells": cells,
        "click": [failed["dataset"], failed["partition"]],
        "screenshot": shot,
        // The last row, so the tooltip covers none of the grid.
        "hover": ["gold/rolling_3d", day(3)],
    });
    let case_file = ws.path().join("case.json");
    std::fs::write(&case_file, case.to_string()).unwrap();
    let out = node(&["grid", &server.base, case_file.to_str().unwrap()])
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "page.mjs grid failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["errors"], json!([]), "the page logged errors");

    // Every dataset has its row, and every cell is drawn in its state.
    let mut datasets: Vec<&Value> = Vec::new();
    for p in partitions {
        if !datasets.contains(&&p["dataset"]) {
            datasets.push(&p["dataset"]);
        }
    }
    assert_eq!(
        seen["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        datasets
    );
    let drawn: Vec<(&Value, &Value, &Value)> = seen["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (&c[0], &c[1], &c[2]))
        .collect();
    let expected: Vec<(&Value, &Value, &Value)> = partitions
        .iter()
        .map(|p| (&p["dataset"], &p["partition"], &p["state"]))
        .collect();
    assert_eq!(drawn, expected);
    assert!(expected.iter().any(|c| c.2 == "blocked"));
    // The legend counts what status counts.
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for p in partitions {
        *counts
            .entry(p["state"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for (state, n) in seen["counts"].as_object().unwrap() {
        assert_eq!(
            n.as_u64(),
            Some(counts.get(state).copied().unwrap_or(0)),
            "{state}"
        );
    }

    // Hovering the failed cell tells why; clicking it opens its page with
    // the reason, the failure's kind and message, and its lineage.
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        seen["tooltip"].as_str().unwrap().contains(reason),
        "{}",
        seen["tooltip"]
    );
    let page = &seen["partition"];
    assert_eq!(page["hash"], "#/p/bronze/transactions/date%3D2025-02-02");
    assert_eq!(page["reason"], failed["reason"]);
    assert_eq!(page["failure_kind"], failed["failure"]["kind"]);
    assert_eq!(page["failure_message"], failed["failure"]["message"]);
    assert_eq!(
        page["reads"],
        json!([[
            format!("raw/transactions {}", day(2)),
            "#/p/raw/transactions/date%3D2025-02-02"
        ]])
    );
    // The lineage link leads to the input partition's page.
    assert_eq!(
        seen["input"]["hash"],
        "#/p/raw/transactions/date%3D2025-02-02"
    );
    assert_eq!(
        seen["input"]["title"],
        format!("raw/transactions {} fresh", day(2))
    );

    // The graph: every dataset a node, every input an edge with its mapping.
    assert_eq!(
        seen["graph"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        datasets
    );
    assert_eq!(
        seen["graph"]["edges"],
        json!([
            ["raw/transactions->bronze/transactions", "same"],
            ["bronze/transactions->silver/transactions", "same"],
            ["silver/transactions->gold/daily_totals", "same"],
            ["silver/transactions->gold/rolling_3d", "window 3"],
        ])
    );
    // The runs page lists `host history`'s runs with their outcome.
    let runs: Vec<Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!([r["id"], r["status"]]))
        .collect();
    assert_eq!(seen["runs"], Value::Array(runs));
    assert!(shot.exists(), "no screenshot at {}", shot.display());
}

/// A raw-only pipeline of three days from `api`'s data API.
fn raw_api_pipeline(api: &Receiver) -> Workspace {
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    ws.write_config(&format!(
        r#"
[partitions]
start = "2025-02-01"
end = "2025-02-03"

[[datasets]]
layer = "raw"
name = "orders"
source = {{ kind = "http", url = "{}/data/{{date}}.json", backoff = "10ms", max_attempts = 1 }}
"#,
        api.base
    ));
    ws
}

#[test]
fn the_grid_changes_while_a_run_runs() {
    if !browser_available() {
        return;
    }
    let api = Receiver::start();
    let ws = raw_api_pipeline(&api);
    let server = Server::start(&ws, &["--refresh", "200ms"], &[]);
    let mut page = node(&["live", &server.base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("running node");
    // What the page shows, line by line, as it changes.
    let (tx, lines) = mpsc::channel::<Value>();
    let stdout = page.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    // Hang guards, not measurements.
    let next = |what: &str| -> Value {
        lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the page never showed {what}"))
    };
    let ready = next("the grid");
    assert_eq!(ready["event"], "ready");
    assert_eq!(ready["counts"]["missing"], 3, "{ready}");

    // A run whose third day waits at the API: the first two commit while
    // the run goes on.
    api.hold("2025-02-03");
    let mut run = ws_command(&ws, &["run", "--jobs", "2"]).spawn().unwrap();
    api.wait_for_held(|| run.try_wait().unwrap().is_none());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let seen = next("two fresh days");
        assert_eq!(seen["notReloaded"], true, "the page reloaded: {seen}");
        if seen["counts"]["fresh"] == 2 {
            assert_eq!(seen["counts"]["missing"], 1, "{seen}");
            break;
        }
        assert!(Instant::now() < deadline);
    }
    assert!(
        run.try_wait().unwrap().is_none(),
        "the grid changed while the run was still going"
    );
    api.release();
    assert!(run.wait().unwrap().success());
    loop {
        let seen = next("three fresh days");
        assert_eq!(seen["notReloaded"], true, "the page reloaded: {seen}");
        if seen["counts"]["fresh"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    drop(page.stdin.take());
    let end = next("the end");
    assert_eq!(end["event"], "end");
    assert_eq!(end["errors"], json!([]), "the page logged errors");
    assert!(page.wait().unwrap().success());
}

fn ws_command(ws: &Workspace, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", crate::util::shared_cache())
        .env_remove("STRATA_CONFIG")
        .env_remove("STRATA_NOW")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(var);
    }
    cmd
}
