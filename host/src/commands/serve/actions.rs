//! The page's writing actions, off unless `--allow-actions`: invalidating
//! partitions and starting a run.
//!
//! Each action runs the CLI itself (`host invalidate`, `host run`, this
//! same binary with the server's `--config`, `--cache-dir` and `--now`),
//! so it takes the run lease, writes its run record, notifies and emits
//! lineage exactly as from a terminal, and a run started here survives
//! nothing less than one started by cron. The server never writes to the
//! store itself.
//!
//! Guard, in this order: actions enabled (403); `Authorization: Bearer
//! <token>` (401), which a browser never attaches by itself, so another
//! site cannot forge the request; then, against a page that holds the
//! token being scripted from elsewhere, `Origin` (if sent) must be this
//! server, `Sec-Fetch-Site` (if sent) `same-origin` (403), and the body
//! `application/json` (415), which no plain form can send.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::GlobalOptions;
use super::Shared;
use super::api::ApiError;

/// The most output of an action kept for the page.
const OUTPUT_TAIL: usize = 4000;

pub(super) struct Actions {
    token: String,
    exe: PathBuf,
    /// The global options every action's command gets.
    global_args: Vec<String>,
    log: Mutex<Vec<ActionRecord>>,
}

/// An action started from the page, as `GET /api/actions` lists it.
#[derive(Clone, Serialize)]
struct ActionRecord {
    id: usize,
    action: &'static str,
    args: Vec<String>,
    started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    /// The run's id, from `host run --json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<String>,
    /// The end of what the command printed on stderr.
    output: String,
}

impl Actions {
    pub(super) fn new(global: &GlobalOptions) -> Result<Actions> {
        let token = match std::env::var("STRATA_SERVE_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => {
                let mut bytes = [0u8; 24];
                getrandom::fill(&mut bytes)
                    .map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
                bytes.iter().map(|b| format!("{b:02x}")).collect()
            }
        };
        let exe = std::env::current_exe().context("finding the host binary to run actions")?;
        let config = std::path::absolute(&global.config)
            .with_context(|| format!("resolving {}", global.config.display()))?;
        let mut global_args = vec!["--config".into(), config.display().to_string()];
        if let Some(dir) = &global.cache_dir {
            global_args.push("--cache-dir".into());
            global_args.push(dir.display().to_string());
        }
        if let Some(now) = global.now {
            global_args.push("--now".into());
            global_args.push(now.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        Ok(Actions {
            token,
            exe,
            global_args,
            log: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn token(&self) -> &str {
        &self.token
    }

    fn command(&self, args: &[String]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.args(&self.global_args)
            .arg("-q")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(false);
        cmd
    }

    fn record(&self, action: &'static str, args: Vec<String>) -> usize {
        let mut log = self.log.lock().expect("not poisoned");
        let id = log.len() + 1;
        log.push(ActionRecord {
            id,
            action,
            args,
            started_at: Utc::now(),
            finished_at: None,
            exit_code: None,
            run: None,
            output: String::new(),
        });
        id
    }

    fn finish(&self, id: usize, out: &std::process::Output) {
        let mut log = self.log.lock().expect("not poisoned");
        let Some(r) = log.iter_mut().find(|r| r.id == id) else {
            return;
        };
        r.finished_at = Some(Utc::now());
        r.exit_code = out.status.code();
        r.run = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v["run"].as_str().map(str::to_owned));
        let err = String::from_utf8_lossy(&out.stderr);
        let start = err.len().saturating_sub(OUTPUT_TAIL);
        let start = (start..err.len())
            .find(|i| err.is_char_boundary(*i))
            .unwrap_or(err.len());
        r.output = err[start..].to_owned();
    }

    fn run_going(&self) -> bool {
        self.log
            .lock()
            .expect("not poisoned")
            .iter()
            .any(|r| r.action == "run" && r.finished_at.is_none())
    }
}

/// Checks everything an action request must carry; see the module docs.
fn authorize<'a>(app: &'a Shared, headers: &HeaderMap) -> Result<&'a Actions, ApiError> {
    let Some(actions) = &app.actions else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "actions are disabled: start `host serve --allow-actions`",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same_secret(given.trim().as_bytes(), actions.token.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "an action needs `Authorization: Bearer <token>`: the token `host serve` printed",
        ));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let expected = format!("http://{host}");
        if origin.as_bytes() != expected.as_bytes() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "a cross-site request is refused (Origin {}, this server {expected})",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
            ));
        }
    }
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a cross-site request is refused (Sec-Fetch-Site)",
        ));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next() == Some("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "an action's body is JSON (Content-Type: application/json)",
        ));
    }
    Ok(actions)
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /api/actions`: the actions started from the page, newest last.
pub(super) async fn list(State(app): State<Shared>) -> Response {
    match &app.actions {
        None => ApiError::not_found("actions are disabled").into_response(),
        Some(a) => {
            let log = a.log.lock().expect("not poisoned").clone();
            (
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_string(&log).expect("serialises"),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    #[serde(default)]
    retry_failed: bool,
}

/// `POST /api/actions/run` (`{"retry_failed": false}`): starts `host run`
/// and answers 202 at once; 409 while a run holds the lease.
pub(super) async fn run(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let actions = match authorize(&app, &headers) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let request: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return ApiError::bad(format!("the body: {e}")).into_response(),
        }
    };
    if actions.run_going() {
        return ApiError::new(StatusCode::CONFLICT, "a run started here is still going")
            .into_response();
    }
    if let Ok(s) = app.snapshots.current().await
        && let Some(lease) = &s.lease
    {
        return ApiError::new(
            StatusCode::CONFLICT,
            format!("a run holds the lease: {lease}"),
        )
        .into_response();
    }
    let mut args = vec!["run".to_owned(), "--json".to_owned()];
    if request.retry_failed {
        args.push("--retry-failed".into());
    }
    let child = match actions.command(&args).spawn() {
        Ok(c) => c,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("starting host run: {e}"),
            )
            .into_response();
        }
    };
    let pid = child.id();
    let id = actions.record("run", args);
    let app2 = app.clone();
    tokio::spawn(async move {
        let out = child.wait_with_output().await;
        if let Some(a) = &app2.actions {
            match out {
                Ok(out) => a.finish(id, &out),
                Err(e) => tracing::warn!("waiting for the run started from the page: {e}"),
            }
        }
        let _ = app2.snapshots.refresh_now().await;
    });
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "action": id, "started": "run", "pid": pid }).to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidateRequest {
    dataset: String,
    /// One partition; without it, every partition of the dataset.
    partition: Option<String>,
    /// Allow a raw dataset (it is fetched again).
    #[serde(default)]
    raw: bool,
}

/// `POST /api/actions/invalidate` (`{"dataset": "silver/x", "partition":
/// "date=2025-02-18"}`): runs `host invalidate` for that partition (or the
/// whole dataset) and answers when it is done; 409 while a run holds the
/// lease, 400 for raw data without `"raw": true`.
pub(super) async fn invalidate(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let actions = match authorize(&app, &headers) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let request: InvalidateRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return ApiError::bad(format!("the body: {e}")).into_response(),
    };
    let s = match app.snapshots.current().await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(report) = s
        .report
        .datasets
        .iter()
        .find(|d| d.dataset == request.dataset)
    else {
        return ApiError::not_found(format!("no dataset `{}`", request.dataset)).into_response();
    };
    let mut args = vec!["invalidate".to_owned(), request.dataset.clone()];
    if let Some(partition) = &request.partition {
        if !report.partitions.iter().any(|p| &p.partition == partition) {
            return ApiError::not_found(format!(
                "`{partition}` is not a partition of {}",
                request.dataset
            ))
            .into_response();
        }
        // `all` is the whole dataset; a period is invalidated from its start to its start.
        if let Some(period) = strata_core::planner::pipeline_periods(&s.pipeline, s.now)
            .into_iter()
            .find(|p| &p.id() == partition)
        {
            let start = period.start().format("%Y-%m-%dT%H:%M:%S").to_string();
            args.extend(["--from".into(), start.clone(), "--to".into(), start]);
        }
    }
    if request.raw {
        args.push("--raw".into());
    }
    let id = actions.record("invalidate", args.clone());
    let out = match actions.command(&args).output().await {
        Ok(out) => out,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("running host invalidate: {e}"),
            )
            .into_response();
        }
    };
    actions.finish(id, &out);
    let _ = app.snapshots.refresh_now().await;
    let message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let status = match out.status.code() {
        Some(0) => StatusCode::OK,
        _ if message.contains("lease") => StatusCode::CONFLICT,
        _ if message.contains("raw data") => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::OK {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "action": id, "message": message }).to_string(),
        )
            .into_response()
    } else {
        ApiError::new(status, message).into_response()
    }
}
