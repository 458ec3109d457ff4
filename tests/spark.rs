//! `host run --engine spark` against a local run of the same pipeline: on
//! a Spark standalone cluster (a master and two workers on 127.0.0.1,
//! started by tests/servers/spark.sh) with an S3 store (moto), and on
//! `local-cluster[2,1,1024]` with a store on local disk.
//!
//! The pipeline is the example's raw → bronze → silver → gold plus three
//! datasets with test plugins: `silver/slow` spins on one day (the test
//! kills the executor running it), `silver/broken` fails one day with a
//! plugin error, and `gold/after_broken` reads it. On the standalone
//! cluster a plugin swap follows, recomputing what it recomputes locally.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::ObjectStoreExt as _;
use sha2::{Digest, Sha256};
use strata_core::config::StoreConfig;
use strata_store::Store;

use crate::object_stores::servers::{self, Backend};
use crate::util::{Columns, DEDUPE_BY_KEY, Gold, Medallion, RunSummary, Workspace};

const DAYS: u32 = 4;
const SLOW_DAY: &str = "date=2025-02-03";
const BROKEN_DAY: &str = "date=2025-02-04";
/// The day whose output the `alter` build of silver/broken's plugin changes.
const ALTERED_DAY: &str = "date=2025-02-02";

/// Spark's own program, from the environment or a pyspark the bench
/// installed; None (a skip, a failure under CI) without one.
fn spark_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("SPARK_HOME").map(PathBuf::from)
        && home.join("bin/spark-submit").is_file()
    {
        return Some(home);
    }
    let why = "no Spark: set SPARK_HOME (pip install pyspark==4.3.0; see tests/servers/spark.sh)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must run the Spark tests, but {why}");
    }
    let bar = "!".repeat(78);
    let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {why}\n{bar}\n");
    None
}

/// The test pipeline in a workspace with the given `[store]` table.
fn workspace(store_toml: &str) -> Workspace {
    let ws = Medallion::new()
        .store_toml(store_toml)
        .days(DAYS)
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY)
        .gold("aggregate", &[Gold::DailySum])
        .workspace();
    ws.add_plugin("test_slow", "test_slow");
    ws.add_plugin("test_passthrough", "test_passthrough");
    ws.add_plugin("test_passthrough", "broken");
    let mut toml = std::fs::read_to_string(ws.path().join("pipeline.toml")).unwrap();
    toml += &format!(
        r#"
[[datasets]]
layer = "silver"
name = "slow"
plugin = "plugins/test_slow.wasm"
inputs = ["bronze/transactions"]
params = {{ slow_partition = "{SLOW_DAY}", spin = "12000000000" }}

[[datasets]]
layer = "silver"
name = "broken"
plugin = "plugins/broken.wasm"
inputs = ["bronze/transactions"]
params = {{ fail_partition = "{BROKEN_DAY}", alter_partitions = "{ALTERED_DAY}" }}

[[datasets]]
layer = "gold"
name = "after_broken"
plugin = "plugins/test_passthrough.wasm"
inputs = ["silver/broken"]
"#
    );
    ws.write_config(&toml);
    ws
}

fn host(ws: &Workspace, args: &[&str], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.current_dir(ws.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env("STRATA_CACHE_DIR", crate::util::shared_cache())
        .env_remove("STRATA_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Every data file of the store (partition folders only: manifests carry
/// times, Delta logs and `_strata` state are not data) with its sha256.
fn data(config: &StoreConfig) -> BTreeMap<String, String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open(config).unwrap();
    rt.block_on(async {
        let metas: Vec<_> = store.object_store().list(None).try_collect().await.unwrap();
        let mut out = BTreeMap::new();
        for m in metas {
            let path = m.location.to_string();
            if path.starts_with("_strata/")
                || path.contains("/_delta_log/")
                || path.ends_with("/_manifest.json")
            {
                continue;
            }
            let bytes = store
                .object_store()
                .get(&m.location)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            out.insert(path, hex::encode(Sha256::digest(&bytes)));
        }
        out
    })
}

/// A dataset's part of a run: the partitions computed, those whose output
/// changed, the failed ones with their kind, and how many were blocked.
type Outcome = (Vec<String>, Vec<String>, Vec<String>, u64);

fn outcome(run: &RunSummary) -> BTreeMap<String, Outcome> {
    run.json["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let name = d["dataset"].as_str().unwrap();
            let failed = d["failed_partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| format!("{} {}", p["partition"], p["error"]["kind"]))
                .collect();
            (
                name.to_owned(),
                (
                    run.computed(name),
                    run.changed(name),
                    failed,
                    d["blocked"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// The executors the run's waves ran on, and per dataset how many of its
/// tasks needed more than one attempt, from the host's wave log lines.
fn waves(stderr: &str) -> (BTreeSet<String>, BTreeMap<String, u64>) {
    let mut executors = BTreeSet::new();
    let mut retried = BTreeMap::new();
    let mut dataset = String::new();
    for line in stderr.lines() {
        if let Some(rest) = line.split("spark wave ").nth(1) {
            if let Some(of) = rest.split(" tasks of ").nth(1) {
                dataset = of.trim().to_owned();
            } else if let Some(done) = rest.split(" executors (").nth(1) {
                let (list, tail) = done.split_once("); ").unwrap();
                for item in list.split(", ") {
                    let executor = item.rsplit_once(": ").unwrap().0;
                    // `<id>@<host>:<work dir>/<app>/<id>`: the worker is the
                    // work dir above the application's folder.
                    let dir = executor.split_once(':').unwrap().1;
                    let worker = Path::new(dir).ancestors().nth(2).unwrap();
                    executors.insert(worker.display().to_string());
                }
                let n: u64 = tail.split_whitespace().next().unwrap().parse().unwrap();
                retried.insert(dataset.clone(), n);
            }
        }
    }
    (executors, retried)
}

/// The JVM of the executor running process `pid`.
fn executor_of(mut pid: u32) -> Option<u32> {
    while pid > 1 {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        if String::from_utf8_lossy(&cmdline).contains("CoarseGrainedExecutorBackend") {
            return Some(pid);
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The parent pid is the second field after the `(name)`.
        pid = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
    }
    None
}

/// The oldest `host task` process of this test's binary, if it has run at
/// least `age`: the slow day's task (the others take about a second).
fn long_task(age: Duration) -> Option<u32> {
    let binary = env!("CARGO_BIN_EXE_host");
    let ticks = 100.0; // USER_HZ: /proc/<pid>/stat counts start times in it
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let mut oldest: Option<(f64, u32)> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if args.len() < 2 || args[0] != binary.as_bytes() || args[1] != b"task" {
            continue;
        }
        let Some(started) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                // The start time is the 22nd field, the 20th after `(name)`.
                let rest = stat.rsplit_once(')')?.1.to_owned();
                rest.split_whitespace().nth(19)?.parse::<f64>().ok()
            })
        else {
            continue;
        };
        let running = uptime - started / ticks;
        if running >= age.as_secs_f64() && oldest.is_none_or(|(r, _)| running > r) {
            oldest = Some((running, pid));
        }
    }
    oldest.map(|(_, pid)| pid)
}

/// The whole comparison for one master and store (see the module doc).
fn spark_run_matches_a_local_run(master: &str, spark: Backend, local: Backend, standalone: bool) {
    // One at a time: the kill below picks a `host task` process by age,
    // which must be this test's (and two clusters on 2 cores crawl).
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let spark_ws = workspace(&spark.toml);
    let local_ws = workspace(&local.toml);
    let spark_args = [
        "run", "--json", "-v", "--engine", "spark", "--master", master,
    ];

    // The local run.
    let out = host(&local_ws, &["run", "--json"], &local.env)
        .output()
        .unwrap();
    let local_run = RunSummary::of(out);
    assert_eq!(local_run.code, Some(1), "{}", local_run.stderr);

    // The Spark run, with a second driver and a killed executor on the way.
    let mut child = host(&spark_ws, &spark_args, &spark.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let drain = {
        let (mut pipe, stderr) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(&mut pipe);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                stderr.lock().unwrap().push_str(&line);
                line.clear();
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    // Once silver/slow's wave has started, its slow day is the task that
    // keeps running (the others take well under the age asked for).
    let slow = loop {
        let started = stderr.lock().unwrap().contains("tasks of silver/slow");
        if started && let Some(pid) = long_task(Duration::from_secs(3)) {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the slow task never ran:\n{}",
            stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let second = host(&spark_ws, &spark_args, &spark.env).output().unwrap();
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{second_err}");
    assert!(second_err.contains("lease"), "{second_err}");
    let executor = executor_of(slow).expect("the slow task runs under an executor JVM");
    let killed = Command::new("kill")
        .args(["-9", &executor.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    drain.join().unwrap();
    let spark_run = RunSummary::of(Output {
        stderr: stderr.lock().unwrap().clone().into_bytes(),
        ..out
    });
    assert_eq!(spark_run.code, Some(1), "{}", spark_run.stderr);

    // The same partitions computed, failed and blocked, and the same bytes.
    assert_eq!(
        outcome(&spark_run),
        outcome(&local_run),
        "{}",
        spark_run.stderr
    );
    assert_eq!(
        spark_run.dataset("silver/broken")["failed_partitions"][0]["error"]["kind"],
        "plugin-error"
    );
    assert_eq!(spark_run.count("gold/after_broken", "blocked"), 1);
    let spark_data = data(&spark.config);
    assert_eq!(spark_data, data(&local.config));
    // The killed task ran again and its partition holds one data file.
    let slow_files: Vec<&String> = spark_data
        .keys()
        .filter(|p| p.starts_with(&format!("silver/slow/{SLOW_DAY}/")))
        .collect();
    assert_eq!(slow_files.len(), 1, "{slow_files:?}");
    let (executors, retried) = waves(&spark_run.stderr);
    assert!(
        retried["silver/slow"] >= 1,
        "{retried:?}\n{}",
        spark_run.stderr
    );
    // A plugin error is a result, not a task failure: no retries.
    assert_eq!(retried["silver/broken"], 0, "{retried:?}");
    if !standalone {
        // The swap below needs a second cluster start (a minute of CI on 2
        // cores); the standalone cluster covers it.
        return;
    }
    assert_eq!(executors.len(), 2, "tasks ran on {executors:?}");

    // A plugin swap recomputes what the same swap recomputes locally: every
    // day of silver/broken (the broken one fails again), one of them with
    // new output, and of its dependent only that day (early cutoff).
    for ws in [&spark_ws, &local_ws] {
        ws.add_plugin("test_passthrough_alter", "broken");
    }
    let local_swap = RunSummary::of(
        host(&local_ws, &["run", "--json"], &local.env)
            .output()
            .unwrap(),
    );
    let spark_swap = RunSummary::of(host(&spark_ws, &spark_args, &spark.env).output().unwrap());
    assert_eq!(
        outcome(&spark_swap),
        outcome(&local_swap),
        "{}",
        spark_swap.stderr
    );
    assert_eq!(spark_swap.changed("silver/broken"), [ALTERED_DAY]);
    assert_eq!(spark_swap.computed("gold/after_broken"), [ALTERED_DAY]);
    assert_eq!(data(&spark.config), data(&local.config));
}

#[test]
fn spark_standalone_cluster_on_s3_matches_a_local_run() {
    if spark_home().is_none() {
        return;
    }
    let Some(master) = servers::server_env(
        "spark_standalone_cluster_on_s3_matches_a_local_run",
        "a Spark standalone cluster (source tests/servers/spark.sh start)",
        &["STRATA_TEST_SPARK_MASTER"],
    ) else {
        return;
    };
    let Some(s3) = servers::s3_server("spark_standalone_cluster_on_s3_matches_a_local_run") else {
        return;
    };
    let spark = servers::s3_backend(&s3, "spark-standalone");
    let local = servers::s3_backend(&s3, "spark-standalone-local");
    spark_run_matches_a_local_run(&master[0], spark, local, true);
}

#[test]
fn spark_local_cluster_on_local_disk_matches_a_local_run() {
    if spark_home().is_none() {
        return;
    }
    spark_run_matches_a_local_run(
        "local-cluster[2,1,1024]",
        servers::local_backend(),
        servers::local_backend(),
        false,
    );
}
