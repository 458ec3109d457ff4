//! Run records and `host history`: a run that succeeded, one that failed
//! and one that was killed show as `ok`, `failed` and `unfinished`; old
//! records are pruned; logs can be JSON lines.

use std::process::Command;

use super::receiver::Receiver;
use super::{history, host, raw_config, raw_pipeline, record, run, signal, spawn};

#[test]
fn history_shows_runs_that_succeeded_failed_and_were_killed() {
    let api = Receiver::start();
    let ws = raw_pipeline(&api.base, 2, "");
    let ok = run(&ws, &[]);
    ok.assert_ok();

    // A third day that fails at the source.
    api.fail("2025-02-03", true);
    ws.write_config(&raw_config(&api.base, 3, ""));
    let failed = run(&ws, &[]);
    assert_eq!(failed.code, Some(1));

    // A fourth day held at the API, and the run killed while it waits.
    ws.write_config(&raw_config(&api.base, 4, ""));
    api.hold("2025-02-04");
    let mut killed = spawn(&ws, &["run", "--jobs", "1"]);
    api.wait_for_held(|| killed.try_wait().unwrap().is_none());
    signal(&killed, "-KILL");
    killed.wait().unwrap();

    let runs = history(&ws);
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["unfinished", "failed", "ok"], "{runs:?}");
    assert_eq!(runs[2]["id"], ok.json["run"]);
    assert_eq!(runs[1]["id"], failed.json["run"]);
    for r in &runs {
        assert!(r["started_at"].is_string(), "{r}");
    }
    assert!(runs[0]["finished_at"].is_null());
    assert!(runs[1]["finished_at"].is_string());
    assert_eq!(runs[2]["counts"]["computed"], 2);
    assert_eq!(runs[1]["counts"]["failed"], 1);
    assert_eq!(runs[1]["counts"]["fresh"], 2);

    // One run in full: what failed, and why.
    let one = record(&ws, failed.json["run"].as_str().unwrap());
    let partitions = one["datasets"][0]["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 1, "{one}");
    assert_eq!(partitions[0]["partition"], "date=2025-02-03");
    assert_eq!(partitions[0]["error"]["kind"], "source");
    assert!(one["host_version"].is_string() && one["machine"]["hostname"].is_string());
    let text = host(&ws, &["history", failed.json["run"].as_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("FAILED raw/orders date=2025-02-03 (source)"),
        "{text}"
    );

    let limited = host(&ws, &["history", "--json", "--limit", "1"]);
    let limited: Vec<serde_json::Value> = serde_json::from_slice(&limited.stdout).unwrap();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0]["status"], "unfinished");
    assert!(!host(&ws, &["history", "no-such-run"]).status.success());
}

#[test]
fn records_older_than_keep_are_pruned_at_the_end_of_a_run() {
    let api = Receiver::start();
    let ws = raw_pipeline(&api.base, 1, "[history]\nkeep = \"30d\"");
    let old = run(&ws, &[]);
    old.assert_ok();
    let old_id = old.json["run"].as_str().unwrap().to_owned();
    let file = ws.store().join(format!("_strata/runs/{old_id}.json"));
    let touched = Command::new("touch")
        .args(["-d", "40 days ago"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(touched.success());
    let new = run(&ws, &[]);
    new.assert_ok();
    assert!(!file.exists(), "the 40-day-old record was kept");
    let ids: Vec<String> = history(&ws)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [new.json["run"].as_str().unwrap()]);
}

#[test]
fn json_logs_are_one_object_per_line() {
    let api = Receiver::start();
    api.fail("2025-02-02", true);
    let ws = raw_pipeline(&api.base, 2, "");
    let out = host(&ws, &["run", "--log-format", "json", "-v"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The summary table goes to stderr after the logs; the log lines are
    // those that start with `{`, and there must be some of each level.
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() >= 2, "{stderr}");
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
        assert!(line["fields"]["message"].is_string(), "{line}");
    }
    assert!(
        lines.iter().any(|l| l["level"] == "WARN"
            && l["fields"]["message"]
                .as_str()
                .unwrap()
                .contains("date=2025-02-02")),
        "{stderr}"
    );
}
