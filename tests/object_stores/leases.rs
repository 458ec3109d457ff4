//! Two `host run` processes at once on one S3 store: the run lease lets one
//! of them compute, and the store ends as one run alone leaves it.

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

use object_store::ObjectStoreExt;
use serde_json::Value;

use strata_store::Store;
use strata_store::lease::LEASE_PATH;

use crate::util::{Workspace, shared_cache};

use super::healing::{HEALING_DATASETS, HEALING_DAYS, healing_workspace, store_snapshot};
use super::servers::{Backend, s3_backend, s3_server};

/// Every partition of the healing pipeline.
const PARTITIONS: u64 = (HEALING_DATASETS.len() * HEALING_DAYS) as u64;

/// Starts `host run --json EXTRA` twice at once against `backend` and
/// waits for both.
fn two_runs(ws: &Workspace, backend: &Backend, extra: &[&str]) -> [Output; 2] {
    let spawn = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
        cmd.args(["run", "--json"])
            .args(extra)
            .current_dir(ws.path())
            .env("STRATA_CACHE_DIR", shared_cache())
            .env_remove("STRATA_CONFIG")
            .env_remove("STRATA_NOW")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("AZURITE_") {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.envs(backend.env.iter().map(|(k, v)| (k, v)));
        cmd.spawn().expect("starting host")
    };
    let (a, b) = (spawn(), spawn());
    [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()]
}

/// Partitions a run's summary says it computed.
fn computed(out: &Output) -> u64 {
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    summary["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["computed"].as_u64().unwrap())
        .sum()
}

/// What one run alone leaves, as the S3 store must hold it: data file →
/// sha256, and manifest → content hash (manifests differ in when they were
/// written). Delta logs are left out: their commits say when they were
/// written too (tests/delta compares them with the manifests).
fn contents(files: BTreeMap<String, String>, manifest: impl Fn(&str) -> Value) -> Contents {
    let mut out = Contents::default();
    for (path, sha) in files {
        if path.contains("/_delta_log/") {
            continue;
        }
        if path.ends_with("/_manifest.json") {
            let hash = manifest(&path)["content_hash"].as_str().unwrap().to_owned();
            out.manifests.insert(path, hash);
        } else {
            out.data.insert(path, sha);
        }
    }
    out
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Contents {
    data: BTreeMap<String, String>,
    manifests: BTreeMap<String, String>,
}

fn single_run_contents() -> Contents {
    let ws = healing_workspace("[store]\nurl = \"store\"\n");
    ws.run(&[]).assert_ok();
    contents(ws.snapshot(), |path| {
        serde_json::from_slice(&std::fs::read(ws.store().join(path)).unwrap()).unwrap()
    })
}

fn s3_contents(store: &Store) -> Contents {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let files = store_snapshot(&rt, store);
    contents(files, |path| {
        rt.block_on(async {
            let bytes = store
                .object_store()
                .get(&path.into())
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
    })
}

fn lease_left(store: &Store) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(store.object_store().head(&LEASE_PATH.into()))
        .is_ok()
}

#[test]
fn two_runs_at_once_on_s3_one_computes_and_the_other_is_refused_naming_the_holder() {
    let Some(s3) = s3_server("two_runs_at_once_on_s3") else {
        return;
    };
    let backend = s3_backend(&s3, "two-runs");
    let ws = healing_workspace(&backend.toml);
    let runs = two_runs(&ws, &backend, &[]);
    let ok: Vec<&Output> = runs.iter().filter(|o| o.status.success()).collect();
    let refused: Vec<&Output> = runs.iter().filter(|o| !o.status.success()).collect();
    match refused[..] {
        [loser] => {
            assert_eq!(loser.status.code(), Some(2));
            let msg = String::from_utf8_lossy(&loser.stderr);
            assert!(msg.contains("another run holds the lease"), "{msg}");
            assert!(msg.contains("pid "), "{msg}");
            assert!(msg.contains("--wait"), "{msg}");
            assert_eq!(computed(ok[0]), PARTITIONS);
            eprintln!("two runs on S3: one computed, one was refused");
        }
        // The first finished before the second asked for the lease: the
        // second found everything fresh. Still one writer per partition.
        [] => {
            let mut counts = [computed(&runs[0]), computed(&runs[1])];
            counts.sort();
            assert_eq!(counts, [0, PARTITIONS], "a partition was written twice");
            eprintln!("two runs on S3: one after the other");
        }
        _ => panic!(
            "both runs failed:\n{}\n{}",
            String::from_utf8_lossy(&runs[0].stderr),
            String::from_utf8_lossy(&runs[1].stderr)
        ),
    }
    let store = Store::open(&backend.config).unwrap();
    assert_eq!(s3_contents(&store), single_run_contents());
    assert!(!lease_left(&store), "the lease was not released");
}

#[test]
fn two_runs_at_once_on_s3_with_wait_run_one_after_the_other() {
    let Some(s3) = s3_server("two_runs_at_once_on_s3_with_wait") else {
        return;
    };
    let backend = s3_backend(&s3, "two-runs-wait");
    let ws = healing_workspace(&backend.toml);
    let runs = two_runs(&ws, &backend, &["--wait"]);
    for out in &runs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The one that waited found every partition fresh.
    let mut counts = runs.each_ref().map(computed);
    counts.sort();
    assert_eq!(counts, [0, PARTITIONS]);
    let store = Store::open(&backend.config).unwrap();
    assert_eq!(s3_contents(&store), single_run_contents());
    assert!(!lease_left(&store), "the lease was not released");
}
