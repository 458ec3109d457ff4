//! Nothing lost, nothing half-written: runs killed at random moments, two
//! runs at once, dead lease holders, and secrets in the host's environment.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_core::manifest::{Manifest, sha256_hex};

use crate::util::{Columns, DEDUPE_BY_KEY, Gold, Medallion, Workspace, shared_cache};

/// The medallion pipeline (core columns, one rolling gold) over sixteen days.
fn pipeline() -> Workspace {
    Medallion::new()
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY)
        .gold("aggregate", &[Gold::Rolling3d])
        .workspace()
}

/// Every partition a reader can see (a valid manifest) has exactly the
/// files and bytes its manifest names. Returns partition → content hash.
fn check_committed(store: &Path) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    let mut stack = vec![store.to_owned()];
    while let Some(dir) = stack.pop() {
        // A run killed early may not have made the store folder yet.
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.file_name().unwrap() != "_manifest.json" {
                continue;
            }
            let rel = path.parent().unwrap().strip_prefix(store).unwrap();
            let parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let (dataset, partition) = (format!("{}/{}", parts[0], parts[1]), parts[2].clone());
            let bytes = std::fs::read(&path).unwrap();
            let m = Manifest::parse(&bytes, &dataset, &partition).unwrap_or_else(|e| {
                panic!("{dataset} {partition}: a visible manifest does not parse: {e}")
            });
            for f in &m.files {
                let data =
                    std::fs::read(path.parent().unwrap().join(&f.path)).unwrap_or_else(|e| {
                        panic!("{dataset} {partition}: {} is missing: {e}", f.path)
                    });
                assert_eq!(
                    data.len() as u64,
                    f.size,
                    "{dataset} {partition} {}",
                    f.path
                );
                assert_eq!(
                    sha256_hex(&data),
                    f.sha256,
                    "{dataset} {partition} {}",
                    f.path
                );
            }
            seen.insert(format!("{dataset} {partition}"), m.content_hash);
        }
    }
    seen
}

/// A small deterministic generator for the kill moments.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn runs_killed_at_random_moments_leave_only_complete_partitions() {
    let kills: usize = std::env::var("STRATA_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("STRATA_CRASH_SEED")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(0x5eed_cafe);

    // The reference: one clean, uninterrupted run.
    let clean = pipeline();
    let started = Instant::now();
    clean.run(&["--jobs", "2"]).assert_ok();
    let full = started.elapsed();
    let reference = check_committed(&clean.store());
    assert_eq!(reference.len(), 4 * 16);

    let ws = pipeline();
    let mut rng = Seeded(seed);
    let mut visible_counts = Vec::new();
    for _ in 0..kills {
        // A moment somewhere in a full run, which covers fetching, plugin
        // execution, Parquet writing and manifest commits as the store fills.
        // (Within the first 60%: later runs resume with less work left.)
        let delay = Duration::from_micros(rng.next() % (full.as_micros() as u64 * 3 / 5 + 1));
        // Start afresh each time when the store is complete, so kills keep
        // landing in the middle of work.
        if ws.store().exists() && check_committed(&ws.store()).len() == reference.len() {
            std::fs::remove_dir_all(ws.store()).unwrap();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_host"))
            .args(["run", "-q", "--jobs", "2", "--wait", "--lease-ttl", "300ms"])
            .current_dir(ws.path())
            .env("STRATA_CACHE_DIR", shared_cache())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let visible = check_committed(&ws.store());
        for (partition, hash) in &visible {
            assert_eq!(
                Some(hash),
                reference.get(partition),
                "{partition} differs from a clean run"
            );
        }
        visible_counts.push(visible.len());
    }
    let interrupted = visible_counts
        .iter()
        .filter(|n| **n < reference.len())
        .count();
    eprintln!(
        "crash test: {kills} kills (seed {seed:#x}), {interrupted} of them mid-run; \
         partitions visible after each: {visible_counts:?}"
    );

    // One uninterrupted run completes the store; after gc it equals the
    // clean run's, file for file.
    let finish = ws.host(&["run", "--json", "--wait", "--lease-ttl", "300ms"]);
    assert!(
        finish.status.success(),
        "{}",
        String::from_utf8_lossy(&finish.stderr)
    );
    assert_eq!(check_committed(&ws.store()), reference);
    let gc = ws.host(&["gc"]);
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    let data_files = |ws: &Workspace| -> BTreeMap<String, String> {
        ws.snapshot()
            .into_iter()
            .filter(|(p, _)| !p.ends_with("_manifest.json"))
            .collect()
    };
    assert_eq!(
        data_files(&ws),
        data_files(&clean),
        "stores differ after gc"
    );
}

#[test]
fn a_second_run_at_the_same_time_names_the_holder_and_writes_nothing() {
    let ws = pipeline();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_host"))
            .args(["run", "--json"])
            .current_dir(ws.path())
            .env("STRATA_CACHE_DIR", shared_cache())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let outcomes = [&a, &b].map(|o| {
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    });
    let winners = outcomes.iter().filter(|(code, _)| *code == Some(0)).count();
    // Usually one run finds the other's lease. If the first finished before
    // the second started, the second found nothing to do: still one writer.
    if winners == 1 {
        let (_, loser) = outcomes.iter().find(|(code, _)| *code != Some(0)).unwrap();
        assert!(loser.contains("another run holds the lease"), "{loser}");
        assert!(loser.contains("pid "), "{loser}");
    } else {
        assert_eq!(winners, 2, "{outcomes:?}");
        let summaries: Vec<serde_json::Value> = [&a, &b]
            .iter()
            .map(|o| serde_json::from_slice(&o.stdout).unwrap())
            .collect();
        let computed: u64 = summaries
            .iter()
            .flat_map(|s| s["datasets"].as_array().unwrap().clone())
            .map(|d| d["computed"].as_u64().unwrap())
            .sum();
        assert_eq!(computed, 4 * 16, "a partition was written twice");
    }
    assert_eq!(check_committed(&ws.store()).len(), 4 * 16);
    assert!(
        !ws.store().join("_strata/lease.json").exists(),
        "the lease was not released"
    );
}

fn write_lease(ws: &Workspace, expires_in_secs: i64) {
    let now = chrono::Utc::now();
    let lease = serde_json::json!({
        "holder": "run-from-elsewhere",
        "host": "other-host",
        "pid": 4242,
        "started_at": now - chrono::Duration::seconds(600),
        "expires_at": now + chrono::Duration::seconds(expires_in_secs),
    });
    std::fs::create_dir_all(ws.store().join("_strata")).unwrap();
    std::fs::write(ws.store().join("_strata/lease.json"), lease.to_string()).unwrap();
}

#[test]
fn a_live_lease_is_respected_and_a_dead_one_taken_over() {
    let ws = pipeline();
    write_lease(&ws, 600);
    let refused = ws.host(&["run"]);
    assert_eq!(refused.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&refused.stderr);
    for needle in [
        "another run holds the lease",
        "pid 4242",
        "other-host",
        "--wait",
    ] {
        assert!(msg.contains(needle), "missing {needle}: {msg}");
    }
    assert!(!ws.store().join("raw").exists(), "a refused run wrote data");
    // Read-only commands need no lease.
    assert!(ws.host(&["status"]).status.success());

    // The holder died: its lease expired a minute ago.
    write_lease(&ws, -60);
    let run = ws.run(&[]);
    run.assert_ok();
    assert!(
        run.stderr.contains("taking over an expired lease"),
        "{}",
        run.stderr
    );
    assert_eq!(check_committed(&ws.store()).len(), 4 * 16);
}

#[test]
fn plugins_never_see_the_hosts_environment() {
    let ws = Workspace::with_example_landing();
    ws.add_plugin("test_read_env", "read_env");
    ws.write_config(
        r#"
[partitions]
start = "2025-02-01"
end = "2025-02-02"
[[datasets]]
layer = "raw"
name = "transactions"
source = { kind = "files", dir = "landing", pattern = "transactions-{date}.json" }
[[datasets]]
layer = "bronze"
name = "env"
plugin = "plugins/read_env.wasm"
inputs = ["raw/transactions"]
"#,
    );
    let secret = "s3cr3t-value-the-plugin-must-not-see";
    let out = Command::new(env!("CARGO_BIN_EXE_host"))
        .args(["run", "-vv"])
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env("DATABASE_PASSWORD", secret)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (path, _) in ws.all_files() {
        let bytes = std::fs::read(ws.store().join(&path)).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{path} contains the host's secret"
        );
        assert!(
            !String::from_utf8_lossy(&bytes).contains("DATABASE_PASSWORD"),
            "{path}"
        );
    }
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains(secret), "the log shows the secret");
    // The plugin really ran and reported what it saw: nothing.
    let manifest = ws.manifest("bronze/env", "date=2025-02-01");
    assert_eq!(manifest["rows"], 0, "{manifest}");
}
