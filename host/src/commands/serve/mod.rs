//! `host serve`: a local web page of the pipeline, served by the host
//! itself: the partition grid, the dataset graph, a partition's lineage,
//! checks, failure and first rows, the run history, and (with
//! `--allow-actions`) invalidating partitions and starting a run.
//!
//! Rooms: [`snapshot`] owns the one plan of the store every request and
//! every open page shares (refreshed on a timer while a page watches);
//! [`api`] answers the JSON API, `/metrics` and `/healthz` from it;
//! [`actions`] guards and runs the writing actions by starting `host run`
//! and `host invalidate` themselves, so they take the run lease, write run
//! records, notify and emit lineage exactly as the CLI does; [`assets`]
//! is the page, compiled into the binary.
//!
//! Nothing here maps a URL path to a file: datasets and partitions are
//! looked up among those the pipeline and the plan name, files among those
//! a manifest names, run records by a checked id, and the page's assets
//! in a fixed table. This module must not write to the store itself.

mod actions;
mod api;
mod assets;
mod snapshot;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Args;

use super::GlobalOptions;
use snapshot::Snapshots;

/// Serve a web page of the pipeline: every partition's state and why,
/// lineage, checks, failures, runs, updated live while a run runs.
///
/// Read-only unless --allow-actions. Binds to 127.0.0.1 by default; the
/// address it listens on is printed on stdout (`--addr 127.0.0.1:0` picks a
/// free port).
#[derive(Args)]
pub(super) struct ServeCommand {
    /// The address to listen on. Anything but a loopback address lets other
    /// machines read the page (a warning says so).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Enable invalidating partitions and starting a run from the page,
    /// behind a bearer token (printed at start, or $STRATA_SERVE_TOKEN).
    #[arg(long)]
    allow_actions: bool,
    /// How often the view of the store is planned again while a page is
    /// open (a request answers from the view at hand and wakes a refresh
    /// if it is older; each refresh is followed by a pause as long as it took).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = strata_core::units::parse_duration)]
    refresh: Duration,
    /// The most rows one request for a partition's rows may ask for.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_rows: usize,
}

/// What every handler shares.
pub(super) struct App {
    snapshots: Snapshots,
    max_rows: usize,
    /// The `Host` headers this server answers to; `None` when bound to a
    /// non-loopback address, whose names the server cannot know.
    hosts: Option<Vec<String>>,
    actions: Option<actions::Actions>,
}

type Shared = Arc<App>;

impl ServeCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .with_context(|| format!("listening on {}", self.addr))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(
                "serving on {addr}, not a loopback address: anyone who can reach it can read \
                 the page and the data's first rows"
            );
        }
        let hosts = addr.ip().is_loopback().then(|| {
            let port = addr.port();
            vec![
                addr.to_string(),
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ]
        });
        let actions = if self.allow_actions {
            Some(actions::Actions::new(global)?)
        } else {
            None
        };
        let snapshots = Snapshots::new(global, pipeline, store, self.refresh);
        let app = Arc::new(App {
            snapshots,
            max_rows: self.max_rows,
            hosts,
            actions,
        });
        tokio::spawn(snapshot::watch_loop(app.clone()));

        // The first line on stdout is the address, for scripts and tests.
        println!("listening on http://{addr}/");
        if let Some(a) = &app.actions {
            // The token rides in the fragment, which browsers never send to
            // a server (Jupyter's login link, without a query string that
            // would land in logs).
            println!("actions enabled: open http://{addr}/#token={}", a.token());
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();

        let router = router(app.clone());
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown().await;
                app.snapshots.stop();
            })
            .await
            .context("serving")?;
        Ok(ExitCode::SUCCESS)
    }
}

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::asset))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/openapi.json", get(assets::openapi))
        .route("/api/pipeline", get(api::pipeline))
        .route("/api/partitions", get(api::partitions))
        .route(
            "/api/partitions/{layer}/{name}/{partition}",
            get(api::partition),
        )
        .route(
            "/api/partitions/{layer}/{name}/{partition}/rows",
            get(api::rows),
        )
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/events", get(api::events))
        .route("/api/actions", get(actions::list))
        .route("/api/actions/run", post(actions::run))
        .route("/api/actions/invalidate", post(actions::invalidate))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Refuses requests for another `Host` (DNS rebinding: a page of another
/// site whose name resolves to 127.0.0.1 would otherwise read the API),
/// and sets the headers that keep the page from being framed, sniffed or
/// loading anything but its own assets.
async fn guard(State(app): State<Shared>, request: Request, next: Next) -> Response {
    if let Some(hosts) = &app.hosts {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return api::error(
                StatusCode::MISDIRECTED_REQUEST,
                format!("this server answers to {}, not `{host}`", hosts[0]),
            );
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn not_found() -> Response {
    api::error(StatusCode::NOT_FOUND, "no such page or endpoint".into()).into_response()
}

/// Resolves on SIGTERM or SIGINT: the server stops taking connections and
/// ends once the open ones are answered (an event stream ends at once).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping the server");
}
