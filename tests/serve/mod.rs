//! `host serve`: the page and its API, driven as a user would. The server
//! is the real binary started on `127.0.0.1:0` (it prints the address it
//! bound); the API is read with reqwest and compared with what `host status
//! --json` and `host history --json` say about the same store
//! (`api.rs`); path traversal and forged actions are probed with raw
//! requests (`safety.rs`); the page itself runs in Debian's headless
//! Chromium through playwright-core (`browser.rs`, `browser/page.mjs`).

mod api;
mod browser;
mod safety;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::util::{Gold, Medallion, Workspace, shared_cache};

/// A `host serve` child, stopped when dropped.
pub(super) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub(super) base: String,
    /// `127.0.0.1:PORT`
    pub(super) addr: String,
    /// The token from the printed link, with `--allow-actions`.
    pub(super) token: Option<String>,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `host serve --addr 127.0.0.1:0 ARGS` in the workspace, with
    /// `env` set, and reads the address (and token) it prints.
    pub(super) fn start(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
        cmd.args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(ws.path())
            .env("STRATA_CACHE_DIR", shared_cache())
            .env("NO_COLOR", "1")
            .env_remove("STRATA_SERVE_TOKEN")
            .env_remove("STRATA_CONFIG")
            .env_remove("STRATA_NOW")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("starting host serve");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("host serve printed `{line}` first, not its address"))
            .trim_end_matches('/')
            .to_owned();
        let addr = base.trim_start_matches("http://").to_owned();
        let token = if args.contains(&"--allow-actions") {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            Some(
                line.trim()
                    .split_once("#token=")
                    .unwrap_or_else(|| panic!("no token link in `{line}`"))
                    .1
                    .to_owned(),
            )
        } else {
            None
        };
        Server {
            child,
            base,
            addr,
            token,
            _stdout: stdout,
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`: its status and body.
    pub(super) fn get(&self, path: &str) -> (u16, String) {
        let r = client().get(self.url(path)).send().expect("GET");
        let status = r.status().as_u16();
        (status, r.text().unwrap())
    }

    /// GET `path`, which must answer 200 with JSON.
    pub(super) fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that never goes through a proxy (the server is on loopback).
pub(super) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Sixteen days of the example through bronze, silver and two gold datasets
/// (one reading a 3-day window), with February 2 delivered as broken JSON:
/// bronze fails that day, silver and gold are blocked by it. Run once.
pub(super) fn store_with_a_failure() -> Workspace {
    let ws = Medallion::new()
        .days(16)
        .gold("aggregate", &[Gold::DailyTotals, Gold::Rolling3d])
        .workspace();
    std::fs::write(
        ws.path().join("landing/transactions-2025-02-02.json"),
        "{not json",
    )
    .unwrap();
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "the broken day fails: {}", run.stderr);
    ws
}

/// `host ARGS --json` in the workspace, parsed.
pub(super) fn host_json(ws: &Workspace, args: &[&str]) -> Value {
    let out = ws.host(args);
    assert!(
        out.status.success(),
        "host {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
