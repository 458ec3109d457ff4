//! Graceful shutdown: SIGTERM in the middle of a run lets the partition
//! being fetched finish and commit, starts no other, releases the lease,
//! writes the run record and exits 143; SIGINT stops `--every` between
//! runs with 130, and failed iterations do not end the loop.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::receiver::Receiver;
use super::{history, host, raw_pipeline, record, signal, spawn};

/// Forwards a child's stderr lines to a channel (and keeps them all).
fn lines(stderr: std::process::ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits (a minute at most: a hang guard, not a measurement) for a line
/// containing `needle`; returns every line read.
fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(e) => panic!("no line with `{needle}` ({e}):\n{}", seen.join("\n")),
        }
    }
}

#[test]
fn sigterm_finishes_the_partition_in_flight_starts_no_more_and_exits_143() {
    let api = Receiver::start();
    api.hold("2025-02-02");
    let ws = raw_pipeline(&api.base, 4, "");
    let mut child = spawn(&ws, &["run", "--json", "--jobs", "1"]);
    let stderr = lines(child.stderr.take().unwrap());
    api.wait_for_held(|| child.try_wait().unwrap().is_none());

    signal(&child, "-TERM");
    // Only once the host has the signal does the held day get its answer:
    // so the day in flight finishes after the stop was asked for.
    let mut seen = Vec::new();
    wait_for_line(&stderr, "SIGTERM", &mut seen);
    api.release();
    let out = child.wait_with_output().unwrap();
    seen.extend(stderr.iter());
    let log = seen.join("\n");
    assert_eq!(out.status.code(), Some(143), "{log}");

    // The day in flight was committed; no later day was even asked for.
    assert_eq!(api.requests(), ["2025-02-01", "2025-02-02"]);
    for (day, committed) in [(1, true), (2, true), (3, false), (4, false)] {
        let dir = ws.partition_dir("raw/orders", &format!("date=2025-02-{day:02}"));
        assert_eq!(dir.join("_manifest.json").exists(), committed, "day {day}");
        if !committed {
            assert!(!dir.exists(), "day {day} was started: {log}");
        }
    }
    let verify = host(&ws, &["verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    assert!(
        !ws.store().join("_strata/lease.json").exists(),
        "the lease was not released"
    );

    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stopped"], true);
    let run = summary["run"].as_str().unwrap();
    let kept = record(&ws, run);
    assert_eq!(kept["status"], "stopped", "{kept}");
    assert_eq!(kept["stopped_by"], "SIGTERM");
    assert_eq!(kept["counts"]["computed"], 2);
    assert_eq!(kept["counts"]["skipped"], 2);

    // The next run picks up where it stopped.
    let next = super::run(&ws, &[]);
    next.assert_ok();
    assert_eq!(
        next.computed("raw/orders"),
        ["date=2025-02-03", "date=2025-02-04"]
    );
}

#[test]
fn sigint_stops_every_between_runs_and_failed_iterations_go_on() {
    let api = Receiver::start();
    api.fail("2025-02-02", true);
    let ws = raw_pipeline(&api.base, 2, "");
    let mut child = spawn(&ws, &["run", "--every", "1s"]);
    let stderr = lines(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    // Two iterations, both with a failed day, and the loop waits for a third.
    wait_for_line(&stderr, "next run in", &mut seen);
    wait_for_line(&stderr, "next run in", &mut seen);
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    seen.extend(stderr.iter());
    assert_eq!(status.code(), Some(130), "{}", seen.join("\n"));
    // Each iteration ran to its end; the signal may have come during a
    // third, which then stopped gracefully.
    let runs = history(&ws);
    let failed = runs.iter().filter(|r| r["status"] == "failed").count();
    assert!(failed >= 2, "{runs:?}");
    assert!(
        runs.iter()
            .all(|r| r["status"] == "failed" || r["status"] == "stopped"),
        "{runs:?}"
    );
    assert!(!ws.store().join("_strata/lease.json").exists());
}
