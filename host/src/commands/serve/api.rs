//! The JSON API under the page, `/metrics` and `/healthz`.
//!
//! Every answer about partitions comes from the shared [`Snapshot`]: the
//! list is byte for byte `host status --json`, a run is `host history
//! --json`. A dataset or partition in a URL is only ever compared with the
//! names the pipeline and the plan give; it never becomes a path itself.
//! Bad input is a 4xx with `{"error": …}`, never a panic.

use std::convert::Infallible;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use strata_core::DatasetId;
use strata_core::config::{Mapping, PluginRef, Producer};
use strata_core::planner;
use strata_engine::PartitionReport;
use strata_engine::ops::{history, metrics};
use strata_store::{ManifestRead, parquet_io};

use super::super::history::summary_json;
use super::super::status::partition_json;
use super::Shared;
use super::snapshot::Snapshot;

/// The states in the order the page and `host status` list them.
pub(super) const STATES: [&str; 7] = [
    "fresh", "stale", "missing", "damaged", "failed", "blocked", "waiting",
];

/// An answer `{"error": message}` with `status`.
pub(super) fn error(status: StatusCode, message: String) -> Response {
    (status, json_body(&json!({ "error": message }))).into_response()
}

fn json_body(value: &Value) -> ([(header::HeaderName, HeaderValue); 1], String) {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
}

fn json_response(value: &Value) -> Response {
    json_body(value).into_response()
}

/// A request that failed: its status and message.
pub(super) struct ApiError(StatusCode, String);

impl ApiError {
    pub(super) fn bad(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, message.into())
    }
    pub(super) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::NOT_FOUND, message.into())
    }
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError(status, message.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        tracing::warn!("serving a request: {e:#}");
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.0 == StatusCode::UNAUTHORIZED;
        let mut response = error(self.0, self.1);
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

type ApiResult = Result<Response, ApiError>;

/// `GET /healthz`: the server answers. 200 while the last view of the
/// store was planned without error, 503 with the error otherwise.
pub(super) async fn healthz(State(app): State<Shared>) -> Response {
    match app.snapshots.current().await {
        Ok(s) if s.error.is_none() => json_response(&json!({ "status": "ok" })),
        Ok(s) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            s.error.clone().unwrap_or_default(),
        ),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")),
    }
}

/// `GET /metrics`: the Prometheus text of `host run --metrics-file`, for
/// the store as it is now and the newest recorded run.
pub(super) async fn metrics(State(app): State<Shared>) -> ApiResult {
    let s = app.snapshots.current().await?;
    let text = metrics::render(&s.pipeline, &s.report, s.now, s.last_run.as_ref());
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

/// `GET /api/pipeline`: the store, the partitioning, every dataset with
/// its inputs (the graph) and its partitions counted by state, the run
/// holding the lease, the newest run, and the snapshot's version.
pub(super) async fn pipeline(State(app): State<Shared>) -> ApiResult {
    let s = app.snapshots.current().await?;
    let p = &s.pipeline;
    let datasets: Vec<Value> = p
        .datasets
        .iter()
        .map(|d| {
            let report = s
                .report
                .datasets
                .iter()
                .find(|r| r.dataset == d.id.to_string());
            let mut counts = serde_json::Map::new();
            for state in STATES {
                let n = report.map_or(0, |r| {
                    r.partitions
                        .iter()
                        .filter(|p| p.planned.name() == state)
                        .count()
                });
                counts.insert(state.into(), n.into());
            }
            let inputs: Vec<Value> = d
                .inputs()
                .iter()
                .map(|i| {
                    let (mapping, window) = match i.mapping {
                        Mapping::Same => ("same", None),
                        Mapping::Window(n) => ("window", Some(n)),
                        Mapping::All => ("all", None),
                    };
                    json!({ "dataset": i.dataset.to_string(), "mapping": mapping, "window": window })
                })
                .collect();
            let producer = match &d.producer {
                Producer::Source(_) => json!({ "kind": "source" }),
                // A file by its name (not where it is on the server), a
                // standard plugin as pipeline.toml names it (`std:NAME`).
                Producer::Plugin { plugin, .. } => json!({
                    "kind": "plugin",
                    "file": match plugin {
                        PluginRef::File(path) =>
                            path.file_name().map(|f| f.to_string_lossy().into_owned()),
                        PluginRef::Std(_) => Some(plugin.to_string()),
                    },
                }),
            };
            json!({
                "dataset": d.id.to_string(),
                "layer": d.id.layer,
                "name": d.id.name,
                "producer": producer,
                "inputs": inputs,
                "partitioned": d.is_partitioned(),
                "checks": d.checks.len(),
                "counts": counts,
            })
        })
        .collect();
    Ok(json_response(&json!({
        "store": app.snapshots.store.url,
        "every": format!("{:?}", p.partitions.every).to_lowercase(),
        "start": p.partitions.start,
        "end": p.partitions.end,
        "now": s.now,
        "datasets": datasets,
        "running": s.lease.as_ref().map(|l| json!({
            "run": l.holder, "host": l.host, "pid": l.pid, "started_at": l.started_at,
        })),
        "last_run": s.last_run.as_ref().map(summary_json),
        "version": s.version,
        "refreshed_at": s.taken_at,
        "plan_ms": s.took.as_millis() as u64,
        "error": s.error,
        "actions": app.actions.is_some(),
    })))
}

#[derive(Deserialize)]
pub(super) struct PartitionFilter {
    dataset: Option<String>,
    state: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/partitions[?dataset=&state=&from=&to=]`: `host status
/// --json`, filtered. `dataset` and `state` take a comma-separated list;
/// `from` and `to` a date (a partition is kept if its period starts in
/// between; `all` partitions always are). With an ETag of the snapshot's
/// version, so a page that polls gets 304s while nothing changes.
pub(super) async fn partitions(
    State(app): State<Shared>,
    Query(filter): Query<PartitionFilter>,
    headers: HeaderMap,
) -> ApiResult {
    let s = app.snapshots.current().await?;
    let datasets = match &filter.dataset {
        None => None,
        Some(list) => {
            let mut ids = Vec::new();
            for name in list.split(',') {
                known_dataset(&s, name)?;
                ids.push(name.to_owned());
            }
            Some(ids)
        }
    };
    let states = match &filter.state {
        None => None,
        Some(list) => {
            let states: Vec<&str> = list.split(',').collect();
            if let Some(bad) = states.iter().find(|st| !STATES.contains(st)) {
                return Err(ApiError::bad(format!(
                    "`{bad}` is not a state; the states are {}",
                    STATES.join(", ")
                )));
            }
            Some(states)
        }
    };
    let bound = |text: &Option<String>, name: &str| {
        text.as_deref()
            .map(|t| {
                strata_core::period::parse_instant(t).ok_or_else(|| {
                    ApiError::bad(format!("{name}=`{t}` is not a date (YYYY-MM-DD)"))
                })
            })
            .transpose()
    };
    let (from, to) = (bound(&filter.from, "from")?, bound(&filter.to, "to")?);
    let etag = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&filter.dataset, &filter.state, &filter.from, &filter.to).hash(&mut h);
        format!("\"{}-{:x}\"", s.version, h.finish())
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let body = if datasets.is_none() && states.is_none() && from.is_none() && to.is_none() {
        s.status.clone()
    } else {
        let every = s.pipeline.partitions.every;
        let keep = |dataset: &str, p: &PartitionReport| {
            datasets
                .as_ref()
                .is_none_or(|ds| ds.iter().any(|d| d == dataset))
                && states
                    .as_ref()
                    .is_none_or(|st| st.contains(&p.planned.name()))
                && match period_start(every, &p.partition) {
                    None => true,
                    Some(start) => from.is_none_or(|f| start >= f) && to.is_none_or(|t| start <= t),
                }
        };
        let partitions: Vec<Value> = s
            .report
            .datasets
            .iter()
            .flat_map(|d| {
                d.partitions
                    .iter()
                    .filter(move |p| keep(&d.dataset, p))
                    .map(move |p| partition_json(&d.dataset, p))
            })
            .collect();
        let checks: Vec<Value> = s
            .report
            .datasets
            .iter()
            .filter(|d| datasets.as_ref().is_none_or(|ds| ds.contains(&d.dataset)))
            .flat_map(|d| {
                d.checks
                    .iter()
                    .map(move |c| json!({ "dataset": d.dataset, "result": c }))
            })
            .collect();
        bytes::Bytes::from(json!({ "partitions": partitions, "checks": checks }).to_string())
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::ETAG,
                HeaderValue::from_str(&etag).expect("digits and quotes"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response())
}

/// When a partition's period starts (`None` for `all`).
fn period_start(
    every: strata_core::period::Granularity,
    partition: &str,
) -> Option<chrono::NaiveDateTime> {
    let label = partition.rsplit_once('=').map_or(partition, |(_, l)| l);
    strata_core::period::Period::parse(every, label).map(|p| p.start())
}

/// A dataset the pipeline has, by its `layer/name`.
fn known_dataset(s: &Snapshot, name: &str) -> Result<DatasetId, ApiError> {
    DatasetId::parse(name)
        .filter(|id| s.pipeline.dataset(id).is_some())
        .ok_or_else(|| ApiError::not_found(format!("no dataset `{name}` in the pipeline")))
}

/// A partition the plan has: by its id (`date=2025-02-18`) or its label
/// (`2025-02-18`). Returns the dataset's id and the partition's report.
fn known_partition<'s>(
    s: &'s Snapshot,
    layer: &str,
    name: &str,
    partition: &str,
) -> Result<(DatasetId, &'s str, &'s PartitionReport), ApiError> {
    let dataset = format!("{layer}/{name}");
    let id = known_dataset(s, &dataset)?;
    let report = s
        .report
        .datasets
        .iter()
        .find(|d| d.dataset == dataset)
        .ok_or_else(|| ApiError::not_found(format!("no dataset `{dataset}` in the plan")))?;
    let p = report
        .partitions
        .iter()
        .find(|p| p.partition == partition)
        .or_else(|| {
            report.partitions.iter().find(|p| {
                p.partition
                    .rsplit_once('=')
                    .is_some_and(|(_, l)| l == partition)
            })
        })
        .ok_or_else(|| {
            ApiError::not_found(format!("`{partition}` is not a partition of {dataset}"))
        })?;
    Ok((id, report.dataset.as_str(), p))
}

/// `GET /api/partitions/{layer}/{name}/{partition}`: the partition's state
/// and reason (as `host status --json`), the partitions it reads now (with
/// their states: the lineage even of a partition never committed), its
/// manifest (lineage as it was computed, plugin, params, files, checks),
/// and the output a blocking check rejected, if one waits in quarantine.
pub(super) async fn partition(
    State(app): State<Shared>,
    UrlPath((layer, name, partition)): UrlPath<(String, String, String)>,
) -> ApiResult {
    let s = app.snapshots.current().await?;
    let (id, dataset, report) = known_partition(&s, &layer, &name, &partition)?;
    let store = &app.snapshots.store;
    let mut detail = partition_json(dataset, report);

    let state_of = |dataset: &str, partition: &str| -> Option<&'static str> {
        s.report
            .datasets
            .iter()
            .find(|d| d.dataset == dataset)?
            .partitions
            .iter()
            .find(|p| p.partition == partition)
            .map(|p| p.planned.name())
    };
    let config = s.pipeline.dataset(&id).expect("known_dataset checked it");
    let reads: Vec<Value> = config
        .inputs()
        .iter()
        .map(|input| {
            let expected: Vec<String> = s
                .report
                .datasets
                .iter()
                .find(|d| d.dataset == input.dataset.to_string())
                .map(|d| d.partitions.iter().map(|p| p.partition.clone()).collect())
                .unwrap_or_default();
            let parts = planner::input_partitions(input.mapping, &report.partition, &expected);
            let dataset = input.dataset.to_string();
            let parts: Vec<Value> = parts
                .iter()
                .map(|p| json!({ "partition": p, "state": state_of(&dataset, p) }))
                .collect();
            json!({ "dataset": dataset, "partitions": parts })
        })
        .collect();
    detail["reads"] = Value::Array(reads);

    match store.read_manifest(&id, &report.partition).await? {
        ManifestRead::Valid(m) => {
            let mut manifest = serde_json::to_value(&*m).map_err(anyhow::Error::from)?;
            if let Some(inputs) = manifest["inputs"].as_array_mut() {
                for input in inputs {
                    let state = state_of(
                        input["dataset"].as_str().unwrap_or_default(),
                        input["partition"].as_str().unwrap_or_default(),
                    );
                    input["state"] = json!(state);
                }
            }
            detail["manifest"] = manifest;
        }
        ManifestRead::Missing => detail["manifest"] = Value::Null,
        ManifestRead::Invalid(e) => {
            detail["manifest"] = Value::Null;
            detail["manifest_error"] = json!(e.to_string());
        }
    }
    if let Some(failure) = &report.failure {
        detail["failure_record"] = serde_json::to_value(failure).map_err(anyhow::Error::from)?;
        if failure.quarantine.is_some()
            && let Some(q) = store.read_quarantined(&id, &report.partition).await?
        {
            detail["quarantine"] = serde_json::to_value(&q).map_err(anyhow::Error::from)?;
        }
    }
    Ok(json_response(&detail))
}

#[derive(Deserialize)]
pub(super) struct RowsQuery {
    limit: Option<String>,
    quarantine: Option<String>,
}

/// `GET /api/partitions/{layer}/{name}/{partition}/rows[?limit=N]`: the
/// first rows (default 20, at most `--max-rows`), every value as `host
/// show` prints it; for raw data, the first files' first bytes. With
/// `quarantine=1`, those of the output a blocking check rejected.
pub(super) async fn rows(
    State(app): State<Shared>,
    UrlPath((layer, name, partition)): UrlPath<(String, String, String)>,
    Query(q): Query<RowsQuery>,
) -> ApiResult {
    let limit = match q.limit.as_deref() {
        None => app.max_rows.min(20),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ApiError::bad(format!("limit=`{text}` is not a number")))?,
    };
    if limit > app.max_rows {
        return Err(ApiError::bad(format!(
            "limit={limit} is more than this server returns (--max-rows {})",
            app.max_rows
        )));
    }
    let quarantine = matches!(q.quarantine.as_deref(), Some("1" | "true"));
    let s = app.snapshots.current().await?;
    let (id, _, report) = known_partition(&s, &layer, &name, &partition)?;
    let partition = report.partition.clone();
    let store = &app.snapshots.store;
    let manifest = if quarantine {
        store
            .read_quarantined(&id, &partition)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!("{id} {partition} has no quarantined output"))
            })?
    } else {
        match store.read_manifest(&id, &partition).await? {
            ManifestRead::Valid(m) => *m,
            ManifestRead::Missing => {
                return Err(ApiError::not_found(format!(
                    "{id} {partition} has no data (no manifest): {}",
                    report.planned.reason()
                )));
            }
            ManifestRead::Invalid(e) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("{id} {partition} is damaged: {e}"),
                ));
            }
        }
    };
    // The names come from a manifest, which `Manifest::parse` accepts only
    // if every file is a plain name inside its own partition folder.
    let read = |name: String| {
        let (store, id, partition) = (store, &id, &partition);
        async move {
            if quarantine {
                store.read_quarantined_file(id, partition, &name).await
            } else {
                store.read_file(id, partition, &name).await
            }
        }
    };
    if id.is_raw() {
        const HEAD: usize = 4096;
        let mut files = Vec::new();
        for f in manifest.files.iter().take(limit.max(1)) {
            let bytes = read(f.path.clone()).await?;
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(HEAD)]).into_owned();
            files.push(json!({
                "path": f.path, "size": f.size, "head": head, "truncated": bytes.len() > HEAD,
            }));
        }
        return Ok(json_response(&json!({ "raw": true, "files": files })));
    }
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut taken = 0;
    'files: for f in &manifest.files {
        let bytes = read(f.path.clone()).await?;
        for batch in parquet_io::read(bytes)? {
            let batch = batch?;
            let take = (limit - taken).min(batch.num_rows());
            batches.push(batch.slice(0, take));
            taken += take;
            if taken >= limit {
                break 'files;
            }
        }
    }
    let columns: Vec<Value> = manifest
        .schema
        .iter()
        .map(|c| json!({ "name": c.name, "type": c.data_type }))
        .collect();
    let options = FormatOptions::default().with_null("");
    let mut rows: Vec<Value> = Vec::new();
    for batch in &batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::from)?;
        for row in 0..batch.num_rows() {
            let cells: Vec<Value> = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, f)| {
                    if column.is_null(row) {
                        Value::Null
                    } else {
                        Value::String(f.value(row).to_string())
                    }
                })
                .collect();
            rows.push(Value::Array(cells));
        }
    }
    Ok(json_response(&json!({
        "raw": false,
        "columns": columns,
        "rows": rows,
        "total_rows": manifest.rows,
    })))
}

#[derive(Deserialize)]
pub(super) struct RunsQuery {
    limit: Option<String>,
}

/// `GET /api/runs[?limit=N]`: `host history --json --limit N` (default 20,
/// at most 1000).
pub(super) async fn runs(State(app): State<Shared>, Query(q): Query<RunsQuery>) -> ApiResult {
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad(format!("limit=`{t}` is not a number from 1 to 1000")))?,
    };
    let records = history::list(&app.snapshots.store, limit).await?;
    let list: Vec<Value> = records.iter().map(summary_json).collect();
    Ok(json_response(&Value::Array(list)))
}

/// `GET /api/runs/{id}`: `host history ID --json`. An id is letters,
/// digits, `.`, `-` and `_` (as run ids are), so it names one record and
/// nothing else in the store.
pub(super) async fn run(State(app): State<Shared>, UrlPath(id): UrlPath<String>) -> ApiResult {
    let plausible = !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !plausible {
        return Err(ApiError::bad(format!("`{id}` is not a run id")));
    }
    match history::RunRecord::load(&app.snapshots.store, &id).await? {
        Some(record) => Ok(json_response(
            &serde_json::to_value(&record).map_err(anyhow::Error::from)?,
        )),
        None => Err(ApiError::not_found(format!("no run `{id}` recorded"))),
    }
}

/// `GET /api/events`: server-sent events. A `snapshot` event (`{version,
/// refreshed_at, running}`) at once and whenever the view of the store
/// changes; the page then fetches `/api/partitions`. Keeping a stream open
/// is what makes the server plan the store every `--refresh`.
pub(super) async fn events(
    State(app): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let snapshots = app.snapshots.subscribe();
    let stopping = app.snapshots.stopping();
    // The first event goes out at once, from a snapshot planned now if
    // there is none yet.
    let first = app.snapshots.current().await.ok();
    let state = (snapshots, stopping, first, 0u64);
    let stream = futures::stream::unfold(state, |(mut rx, mut stop, first, last)| async move {
        if let Some(s) = first
            && s.version != last
        {
            let version = s.version;
            return Some((Ok(event(&s)), (rx, stop, None, version)));
        }
        loop {
            tokio::select! {
                changed = rx.changed() => changed.ok()?,
                _ = stop.wait_for(|stopping| *stopping) => return None,
            }
            let next = rx.borrow_and_update().clone();
            if let Some(s) = next
                && s.version != last
            {
                let version = s.version;
                return Some((Ok(event(&s)), (rx, stop, None, version)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn event(s: &Arc<Snapshot>) -> Event {
    let running = s.lease.as_ref().map(|l| l.holder.clone());
    Event::default().event("snapshot").data(
        json!({
            "version": s.version,
            "refreshed_at": s.taken_at,
            "running": running,
            "error": s.error,
        })
        .to_string(),
    )
}
