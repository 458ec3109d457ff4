//! Unattended operation end to end, through the real `host` binary: run
//! records and `host history`, notifications on the edges of failure,
//! the metrics file, OpenLineage events, JSON logs and graceful shutdown.
//! Every endpoint is a server of this process on 127.0.0.1 (`receiver`);
//! the metrics and the lineage events are read back with the Prometheus
//! and OpenLineage Python clients.

mod history;
mod lineage;
mod metrics;
mod notify;
// The data API with held days also drives tests/serve's live grid.
pub(crate) mod receiver;
mod shutdown;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use crate::util::{RunSummary, Workspace, shared_cache};

/// The secret the webhook URLs read from the environment.
const TOKEN: &str = "s3cr3t-Hook-Token-4242";

/// A workspace with a raw-only pipeline: `raw/orders` from the receiver's
/// data API, February 1 to `days`, then `extra` (the operations tables).
fn raw_pipeline(base: &str, days: u32, extra: &str) -> Workspace {
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    ws.write_config(&raw_config(base, days, extra));
    ws
}

fn raw_config(base: &str, days: u32, extra: &str) -> String {
    format!(
        r#"
[partitions]
start = "2025-02-01"
end = "2025-02-{days:02}"

[[datasets]]
layer = "raw"
name = "orders"
source = {{ kind = "http", url = "{base}/data/{{date}}.json", backoff = "10ms", max_attempts = 1 }}

{extra}
"#
    )
}

/// `host ARGS` in the workspace with `HOOK_TOKEN` set and proxies removed.
fn host(ws: &Workspace, args: &[&str]) -> Output {
    command(ws, args).output().expect("running host")
}

fn command(ws: &Workspace, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env("NO_COLOR", "1")
        .env("HOOK_TOKEN", TOKEN);
    for var in [
        "STRATA_CONFIG",
        "STRATA_NOW",
        "STRATA_LOG",
        "STRATA_LOG_FORMAT",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `host run --json ARGS`.
fn run(ws: &Workspace, args: &[&str]) -> RunSummary {
    let mut all = vec!["run", "--json"];
    all.extend_from_slice(args);
    RunSummary::of(host(ws, &all))
}

/// `host ARGS` started, stdout and stderr piped.
fn spawn(ws: &Workspace, args: &[&str]) -> Child {
    command(ws, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting host")
}

/// Sends a signal (`-TERM`, `-KILL`, …) to a child.
fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} failed");
}

/// `host history --json` as parsed JSON.
fn history(ws: &Workspace) -> Vec<Value> {
    let out = host(ws, &["history", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One run's full record (`host history RUN_ID --json`).
fn record(ws: &Workspace, id: &str) -> Value {
    let out = host(ws, &["history", id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a Python script with `input` on stdin and returns its stdout;
/// `None` (skipped, with a note) when python3 or the package is missing,
/// which CI does not allow.
fn python(script: &str, input: &str, dir: &Path, needs: &str) -> Option<String> {
    use std::io::Write;
    let child = Command::new("python3")
        .args(["-c", script])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let out = child.and_then(|mut c| {
        c.stdin.take().unwrap().write_all(input.as_bytes())?;
        c.wait_with_output()
    });
    match out {
        Ok(out) if out.status.success() => Some(String::from_utf8(out.stdout).unwrap()),
        Ok(out)
            if String::from_utf8_lossy(&out.stderr).contains("ModuleNotFoundError")
                && std::env::var_os("CI").is_none() =>
        {
            eprintln!(
                "SKIPPED the {needs} check: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
        Ok(out) => panic!(
            "the {needs} check failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have python3 with {needs}: {e}"
            );
            eprintln!("SKIPPED the {needs} check: no python3 ({e})");
            None
        }
    }
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(p.display().to_string());
            }
        }
    }
    found
}
