//! Nothing lost, nothing half-written: runs killed at random moments, two
//! runs at once, dead lease holders, and secrets in the host's environment.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
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

// ---- a stalled holder taken over ----------------------------------------

/// A small HTTP API serving the example's landing files by day
/// (`/transactions/2025-02-05.json`). The first `free` requests are
/// answered at once; later ones are held until [`GatedApi::open`], then
/// answered with the day's bytes as the API now gives them (a trailing
/// newline more: the answer changed meanwhile). Requests after the gate
/// opened are answered with the landing bytes.
struct GatedApi {
    base: String,
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

#[derive(Default)]
struct Gate {
    answered: usize,
    free: usize,
    held: usize,
    open: bool,
}

impl GatedApi {
    fn start(free: usize) -> GatedApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let gate = Arc::new((
            Mutex::new(Gate {
                free,
                ..Gate::default()
            }),
            Condvar::new(),
        ));
        let shared = gate.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let gate = shared.clone();
                std::thread::spawn(move || serve(conn, &gate));
            }
        });
        GatedApi { base, gate }
    }

    /// Requests waiting at the gate.
    fn held(&self) -> usize {
        self.gate.0.lock().unwrap().held
    }

    /// Answers the held requests and every later one.
    fn open(&self) {
        self.gate.0.lock().unwrap().open = true;
        self.gate.1.notify_all();
    }
}

/// Answers the requests of one connection (keep-alive) until it closes.
fn serve(conn: TcpStream, gate: &(Mutex<Gate>, Condvar)) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        // Headers, up to the blank line; a GET has no body.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
        }
        let path = request.split(' ').nth(1).unwrap_or("").to_owned();
        let date = path
            .strip_prefix("/transactions/")
            .and_then(|p| p.strip_suffix(".json"))
            .unwrap_or("");
        let landing = crate::util::example_dir()
            .join("landing")
            .join(format!("transactions-{date}.json"));
        let Ok(mut body) = std::fs::read(landing) else {
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        };
        {
            let mut state = gate.0.lock().unwrap();
            if state.answered >= state.free && !state.open {
                state.held += 1;
                while !state.open {
                    state = gate.1.wait(state).unwrap();
                }
                body.push(b'\n');
            }
            state.answered += 1;
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if conn.write_all(head.as_bytes()).is_err() || conn.write_all(&body).is_err() {
            return;
        }
    }
}

/// `host ARGS` started in `ws` with stdout and stderr going to files in
/// `logs` (a stopped process must not block on a full pipe).
fn start_host(ws: &Workspace, args: &[&str], logs: &Path, name: &str) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(logs.join(format!("{name}.out"))).unwrap())
        .stderr(std::fs::File::create(logs.join(format!("{name}.err"))).unwrap());
    for var in [
        "STRATA_CONFIG",
        "STRATA_NOW",
        "STRATA_LOG",
        "http_proxy",
        "HTTP_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.spawn().unwrap()
}

/// A child process killed (SIGKILL works on a stopped one too) and reaped
/// if the test ends before it does.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} failed");
}

/// Raw partitions with a manifest.
fn raw_committed(ws: &Workspace) -> usize {
    std::fs::read_dir(ws.store().join("raw/transactions"))
        .map(|dir| {
            dir.flatten()
                .filter(|e| e.path().join("_manifest.json").exists())
                .count()
        })
        .unwrap_or(0)
}

/// When the run lease in `ws` expires.
fn lease_expiry(ws: &Workspace) -> chrono::DateTime<chrono::Utc> {
    let lease: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.store().join("_strata/lease.json")).unwrap())
            .unwrap();
    lease["expires_at"].as_str().unwrap().parse().unwrap()
}

/// A run stalls (SIGSTOP) while it waits for a day from the API, with four
/// raw days committed; its lease expires, a second run takes the pipeline
/// over and completes it; then the first run resumes with its answers in
/// hand (and the API's answer changed meanwhile). It must commit nothing
/// more: no manifest and no file of a partition the second run committed
/// is rewritten, it exits with status 2 saying it lost the lease, and the
/// store verifies clean and fresh.
#[test]
fn a_run_whose_lease_was_taken_over_keeps_committing() {
    const FREE: usize = 4;
    let api = GatedApi::start(FREE);
    let pipeline = Medallion::new()
        .source(&format!(
            r#"{{ kind = "http", url = "{}/transactions/{{date}}.json" }}"#,
            api.base
        ))
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY)
        .gold("aggregate", &[Gold::Rolling3d]);
    let ws = pipeline.workspace();
    let logs = tempfile::tempdir().unwrap();
    let log = |name: &str| std::fs::read_to_string(logs.path().join(name)).unwrap();

    let ttl = ["--lease-ttl", "2s"];
    let mut stalled = Reaped(start_host(
        &ws,
        &[&["run", "--json", "--jobs", "1"][..], &ttl].concat(),
        logs.path(),
        "first",
    ));
    // Four raw days committed, and the run waits at the gate for the next:
    // raw runs before everything else, so nothing is half way to a commit.
    while !(raw_committed(&ws) == FREE && api.held() > 0) {
        if let Some(status) = stalled.0.try_wait().unwrap() {
            panic!(
                "the first run ended ({status}) before it stalled:\n{}",
                log("first.err")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stop it just after a renewal, so not half way through one (the next
    // is a third of the lease away).
    let renewed = lease_expiry(&ws);
    while lease_expiry(&ws) == renewed {
        assert!(
            stalled.0.try_wait().unwrap().is_none(),
            "{}",
            log("first.err")
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    signal(&stalled.0, "-STOP");

    // Let the stalled run's lease expire: it renews nothing while stopped.
    let left = (lease_expiry(&ws) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    std::thread::sleep(left + Duration::from_millis(200));

    // The held answers go out now (into the stopped run's socket buffers).
    api.open();
    let mut taker = start_host(
        &ws,
        &[&["run", "--json"][..], &ttl].concat(),
        logs.path(),
        "second",
    );
    let taken = taker.wait().unwrap();
    assert_eq!(taken.code(), Some(0), "{}", log("second.err"));
    assert!(
        log("second.err").contains("taking over an expired lease"),
        "{}",
        log("second.err")
    );
    let second: serde_json::Value = serde_json::from_str(&log("second.out")).unwrap();
    let computed = |dataset: &str| {
        second["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["dataset"] == dataset)
            .unwrap()["computed"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(computed("raw/transactions"), 16 - FREE as u64);
    assert_eq!(computed("gold/rolling_3d"), 16);
    let after_takeover = ws.snapshot();

    signal(&stalled.0, "-CONT");
    let lost = stalled.0.wait().unwrap();
    let stderr = log("first.err");
    assert_eq!(lost.code(), Some(2), "{stderr}");
    assert!(stderr.contains("lost the run lease"), "{stderr}");
    assert!(stderr.contains("commits nothing more"), "{stderr}");
    let first: serde_json::Value = serde_json::from_str(&log("first.out")).unwrap();
    assert_eq!(first["ok"], false, "{first}");
    assert!(
        first["lease_lost"]
            .as_str()
            .is_some_and(|l| l.contains("lost the run lease")),
        "{first}"
    );

    // Nothing it did after the takeover is in the store: no file of the
    // store differs (the raw day it was fetching keeps the second run's
    // bytes, though its own answer differed).
    let after = ws.snapshot();
    let changed: BTreeSet<&String> = after
        .keys()
        .chain(after_takeover.keys())
        .filter(|path| after.get(*path) != after_takeover.get(*path))
        .collect();
    assert!(
        changed.is_empty(),
        "the run that lost its lease changed {changed:?}"
    );
    assert!(
        !ws.store().join("_strata/lease.json").exists(),
        "a lease was left behind"
    );
    let verify = ws.host(&["verify"]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let status = ws.status();
    assert_eq!(status.len(), 4 * 16);
    for (partition, (state, reason)) in status {
        assert_eq!(state, "fresh", "{partition:?}: {reason}");
    }
}
