//! The log as a projection that heals: a store from before tables, a
//! partition deleted by hand, a run killed between its partition commits
//! and its table commit, and a reader reading all along.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::util::{Medallion, Workspace, day, shared_cache};

use super::{log_versions, manifests, read_table, reader_missing, script, table_of};

const SILVER: &str = "silver/transactions";

/// The files the table's latest version holds, as the log says
/// (replayed by deltalake), against the files the manifests name.
fn assert_log_matches_manifests(ws: &Workspace, dataset: &str) {
    let script = r#"
import json, os, sys
from deltalake import DeltaTable
root = sys.argv[1]
uris = DeltaTable(root).file_uris()
print(json.dumps(sorted(os.path.relpath(u.removeprefix("file://"), root) for u in uris)))
"#;
    let dir = ws.store().join(dataset);
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&dir)
        .output()
        .unwrap();
    if !out.status.success() {
        reader_missing(&String::from_utf8_lossy(&out.stderr));
        return;
    }
    let in_log: BTreeSet<String> = serde_json::from_slice(&out.stdout).unwrap();
    let mut named = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let partition = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Ok(bytes) = std::fs::read(dir.join(&partition).join("_manifest.json")) else {
            continue;
        };
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        for f in m["files"].as_array().unwrap() {
            named.insert(format!("{partition}/{}", f["path"].as_str().unwrap()));
        }
    }
    assert_eq!(
        in_log, named,
        "{dataset}: the log's latest version against the manifests"
    );
}

/// A store from before tables gets its first version from the next run,
/// which computes nothing; a partition deleted by hand becomes a
/// `remove`, and its recomputation an `add`.
#[test]
fn a_log_that_disagrees_with_the_manifests_is_repaired() {
    let ws = Medallion::new().days(3).workspace();
    ws.run(&[]).assert_ok();
    std::fs::remove_dir_all(ws.store().join(SILVER).join("_delta_log")).unwrap();
    let run = ws.run(&[]);
    run.assert_ok();
    assert!(run.computed(SILVER).is_empty());
    assert_eq!(table_of(&run, SILVER)["version"], 0);
    assert_log_matches_manifests(&ws, SILVER);

    // Silver's day 2 deleted by hand, and a run of bronze only: silver is
    // not computed, but its table follows what is there.
    std::fs::remove_dir_all(ws.partition_dir(SILVER, &day(2))).unwrap();
    let run = ws.run(&["--dataset", "bronze/transactions"]);
    run.assert_ok();
    let table = table_of(&run, SILVER);
    assert_eq!(
        (&table["version"], &table["removed"]),
        (&1.into(), &1.into())
    );
    assert_log_matches_manifests(&ws, SILVER);
    if let Some(read) = read_table(&ws.store().join(SILVER), "polars", None) {
        assert!(!read.rows.contains_key("2025-02-02"), "{read:?}");
    }
    let run = ws.run(&[]);
    run.assert_ok();
    assert_eq!(run.computed(SILVER), [day(2)]);
    assert_eq!(table_of(&run, SILVER)["added"], 1);
    assert_eq!(log_versions(&ws, SILVER), [0, 1, 2]);
    assert_log_matches_manifests(&ws, SILVER);
}

/// A checkpoint every 2 versions: readers start from it, and the log
/// replayed through it still matches the manifests.
#[test]
fn checkpoints_are_read_by_readers() {
    let params = format!(
        "alter_partitions = \"{}\"\n\n[tables]\ncheckpoint_interval = 2\n",
        day(1)
    );
    let ws = Medallion::new()
        .days(3)
        .silver("test_passthrough", &params)
        .workspace();
    ws.add_plugin("test_passthrough", "test_passthrough");
    ws.run(&[]).assert_ok();
    ws.add_plugin("test_passthrough_alter", "test_passthrough");
    ws.run(&[]).assert_ok();
    std::fs::remove_dir_all(ws.partition_dir(SILVER, &day(3))).unwrap();
    let run = ws.run(&["--dataset", "bronze/transactions"]);
    assert_eq!(table_of(&run, SILVER)["version"], 2);
    let log = ws.store().join(SILVER).join("_delta_log");
    assert!(
        log.join("00000000000000000002.checkpoint.parquet")
            .is_file()
    );
    let last: Value =
        serde_json::from_slice(&std::fs::read(log.join("_last_checkpoint")).unwrap()).unwrap();
    assert_eq!(last["version"], 2);
    // Without the commits before it, the checkpoint alone is the table.
    for v in 0..=2 {
        std::fs::remove_file(log.join(format!("{v:020}.json"))).unwrap();
    }
    for reader in ["deltalake", "polars", "duckdb"] {
        let Some(read) = read_table(&ws.store().join(SILVER), reader, None) else {
            return;
        };
        assert_eq!(read, manifests(&ws, SILVER), "{reader}");
    }
    // And the host itself reads it back: the next change is version 3.
    let run = ws.run(&[]);
    run.assert_ok();
    assert_eq!(table_of(&run, SILVER)["version"], 3);
    assert_log_matches_manifests(&ws, SILVER);
}

/// A reader reads silver's table in a loop while runs rewrite every day
/// and are killed (SIGKILL) in the middle; a last run and gc finish. Every
/// read succeeds and every day has the rows of one of its committed
/// versions, never a mix or a sum.
#[test]
fn a_reader_during_killed_runs_sees_only_committed_versions() {
    const DAYS: u32 = 16;
    let all: Vec<String> = (1..=DAYS).map(day).collect();
    let params = format!("alter_partitions = \"{}\"", all.join(","));
    let ws = Medallion::new()
        .days(DAYS)
        .silver("test_passthrough", &params)
        .workspace();
    ws.add_plugin("test_passthrough", "test_passthrough");
    ws.run(&[]).assert_ok();
    let before = manifests(&ws, SILVER).rows;

    let stop = ws.path().join("stop-reading");
    let reader = Command::new("python3")
        .arg(script("read_loop.py"))
        .arg(ws.store().join(SILVER))
        .arg(&stop)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Every day changes: the alter build drops a row of each.
    ws.add_plugin("test_passthrough_alter", "test_passthrough");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_host"))
            .args(["run", "-q", "--jobs", "1", "--wait", "--lease-ttl", "1s"])
            .args(args)
            .current_dir(ws.path())
            .env("STRATA_CACHE_DIR", shared_cache())
            .env_remove("STRATA_NOW")
            .spawn()
            .unwrap()
    };
    for pause in [1500, 2500] {
        let mut child = run(&[]);
        std::thread::sleep(Duration::from_millis(pause));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let finish = ws.run(&["--wait", "--lease-ttl", "1s"]);
    finish.assert_ok();
    assert!(ws.host(&["gc"]).status.success());
    std::fs::write(&stop, "").unwrap();
    let out = reader.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        reader_missing(&String::from_utf8_lossy(&out.stderr));
        return;
    }
    let after = manifests(&ws, SILVER).rows;
    assert_log_matches_manifests(&ws, SILVER);

    let mut reads = 0;
    let mut versions = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let read: Value = serde_json::from_str(line).unwrap();
        assert!(
            read["error"].is_null(),
            "a read failed during the runs: {read}"
        );
        versions.insert(read["version"].as_u64().unwrap());
        let rows: BTreeMap<String, u64> = read["rows"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(rows.len(), DAYS as usize, "{read}");
        for (d, n) in &rows {
            assert!(
                *n == before[d] || *n == after[d],
                "day {d} read {n} rows: neither its old {} nor its new {} (version {})",
                before[d],
                after[d],
                read["version"]
            );
        }
        reads += 1;
    }
    assert!(reads > 0);
    eprintln!("{reads} reads saw versions {versions:?}");
    assert_eq!(
        read_table(&ws.store().join(SILVER), "deltalake", None)
            .unwrap()
            .rows,
        after
    );
}
