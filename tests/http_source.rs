//! The `http` source end to end: the real `host` binary against an API
//! served from this process on 127.0.0.1, in the Open-Meteo archive's
//! response format, with faults switched on per test and every request
//! counted. Nothing here talks to any other address.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use crate::util::{RunSummary, Workspace, shared_cache};

// ---- the API -------------------------------------------------------------

/// What the server does instead of answering normally.
#[derive(Debug, Clone)]
enum Fault {
    /// This status with this body.
    Status(u16, &'static str),
    /// 429 with `Retry-After: N` (seconds).
    RetryAfter(u64),
    /// Starts the answer, then drops the connection mid-body.
    Drop,
    /// Drops the connection before any answer.
    Hangup,
    /// Answers normally after this long.
    Slow(Duration),
    /// These bytes, with a Content-Length.
    Body(Vec<u8>),
    /// This many bytes, streamed without a Content-Length.
    Stream(usize),
}

#[derive(Default)]
struct ApiState {
    /// When set, requests must carry it as `Authorization: Bearer …` and,
    /// if they have one, as the `apikey` query value.
    token: Option<String>,
    /// Faults for the next requests of a key (`2025-02-03`, or
    /// `2025-02-03#3` for page 3 of that day), used up in order.
    once: HashMap<String, VecDeque<Fault>>,
    /// A fault for every request of a key.
    always: HashMap<String, Fault>,
    /// Every answer waits this long.
    delay: Option<Duration>,
    /// The response version per day (changed data at the source).
    version: HashMap<String, u32>,
    /// Requests per day.
    hits: BTreeMap<String, usize>,
    /// Every request's path and query, in order.
    log: Vec<String>,
    /// Requests without the right token.
    unauthorized: usize,
    /// Requests that carried an Authorization header.
    with_authorization: usize,
    /// Where `/moved` redirects to (another server's base URL).
    redirect_to: Option<String>,
    in_flight: usize,
    max_in_flight: usize,
}

type Shared = Arc<Mutex<ApiState>>;

struct Api {
    base: String,
    state: Shared,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Api {
    fn start() -> Api {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state: Shared = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/v1/archive", get(archive))
            .route("/pages/{style}", get(pages))
            .route("/moved", get(moved))
            .with_state(state.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Api {
            base,
            state,
            runtime: Some(runtime),
        }
    }

    fn with_token(token: &str) -> Api {
        let api = Api::start();
        api.state.lock().unwrap().token = Some(token.to_owned());
        api
    }

    fn once(&self, key: &str, faults: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .once
            .insert(key.to_owned(), faults.into());
    }

    fn always(&self, key: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .always
            .insert(key.to_owned(), fault);
    }

    fn heal(&self, key: &str) {
        let mut s = self.state.lock().unwrap();
        s.always.remove(key);
        s.once.remove(key);
    }

    /// The source corrects its data for a day.
    fn change(&self, date: &str) {
        *self
            .state
            .lock()
            .unwrap()
            .version
            .entry(date.to_owned())
            .or_default() += 1;
    }

    fn version(&self, date: &str) -> u32 {
        self.state
            .lock()
            .unwrap()
            .version
            .get(date)
            .copied()
            .unwrap_or(0)
    }

    fn hits(&self, date: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(date)
            .copied()
            .unwrap_or(0)
    }

    fn all_hits(&self) -> BTreeMap<String, usize> {
        self.state.lock().unwrap().hits.clone()
    }

    fn total(&self) -> usize {
        self.state.lock().unwrap().hits.values().sum()
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A request without the right token.
struct Unauthorized;

/// Counts the request and picks its fault; `Err` if it is not authorised.
fn arrive(
    state: &Shared,
    date: &str,
    key: &str,
    uri: &Uri,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Option<Fault>, Unauthorized> {
    let mut s = state.lock().unwrap();
    *s.hits.entry(date.to_owned()).or_default() += 1;
    s.log.push(uri.to_string());
    if headers.contains_key(header::AUTHORIZATION) {
        s.with_authorization += 1;
    }
    if let Some(token) = s.token.clone() {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("Bearer {token}"));
        let key_ok = query.get("apikey").is_none_or(|k| *k == token);
        if !bearer || !key_ok {
            s.unauthorized += 1;
            return Err(Unauthorized);
        }
    }
    s.in_flight += 1;
    s.max_in_flight = s.max_in_flight.max(s.in_flight);
    let fault = match s.once.get_mut(key).and_then(VecDeque::pop_front) {
        Some(f) => Some(f),
        None => s.always.get(key).cloned(),
    };
    Ok(fault)
}

fn respond_status(code: u16, body: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn json_response(bytes: Vec<u8>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(bytes))
        .unwrap()
}

/// The answer, normal or faulty.
async fn answer(state: &Shared, fault: Option<Fault>, normal: Response) -> Response {
    let delay = state.lock().unwrap().delay;
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let response = match fault {
        None => normal,
        Some(Fault::Status(code, body)) => respond_status(code, body),
        Some(Fault::RetryAfter(secs)) => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, secs.to_string())
            .body(Body::from("slow down"))
            .unwrap(),
        Some(Fault::Drop) => {
            use futures::StreamExt;
            let start = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
                b"[{\"latitude\":52.52,",
            ))]);
            // A pause, so the status line and the first bytes go out.
            let broken = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::other("connection dropped on purpose"))
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(start.chain(broken)))
                .unwrap()
        }
        Some(Fault::Hangup) => {
            let broken = futures::stream::iter([Err::<Bytes, _>(std::io::Error::other(
                "connection dropped on purpose",
            ))]);
            Response::builder().body(Body::from_stream(broken)).unwrap()
        }
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            normal
        }
        Some(Fault::Body(bytes)) => json_response(bytes),
        Some(Fault::Stream(n)) => {
            let chunks: Vec<Result<Bytes, Infallible>> = (0..n.div_ceil(1024))
                .map(|i| Ok(Bytes::from(vec![b' '; (n - i * 1024).min(1024)])))
                .collect();
            Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
    };
    state.lock().unwrap().in_flight -= 1;
    response
}

/// `GET /v1/archive?…&start_date=D&end_date=D…`, like Open-Meteo's archive.
async fn archive(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let date = query.get("start_date").cloned().unwrap_or_default();
    if query.get("end_date") != Some(&date) {
        return respond_status(400, r#"{"error":true,"reason":"one day per request"}"#);
    }
    let fault = match arrive(&state, &date, &date, &uri, &headers, &query) {
        Ok(f) => f,
        Err(Unauthorized) => return respond_status(401, "unauthorized"),
    };
    let version = state
        .lock()
        .unwrap()
        .version
        .get(&date)
        .copied()
        .unwrap_or(0);
    answer(&state, fault, json_response(archive_body(&date, version))).await
}

/// The archive's answer for one day and two places (a multi-location
/// request: a JSON array, one object per place), deterministic per date and
/// version.
fn archive_body(date: &str, version: u32) -> Vec<u8> {
    let d: u32 = date[8..10].parse().unwrap();
    let places = [(52.52, 13.419998, 38.0), (48.86, 2.3400002, 43.0)];
    let items: Vec<String> = places
        .iter()
        .enumerate()
        .map(|(i, (lat, lon, elevation))| {
            let i = i as u32;
            let tmax = 3.0 + f64::from((d * 7 + i * 3) % 11) / 2.0 + f64::from(version);
            let tmin = tmax - 6.5;
            let rain = f64::from((d + i) % 4) * 1.3;
            format!(
                r#"{{"latitude":{lat},"longitude":{lon},"generationtime_ms":0.0421,"utc_offset_seconds":0,"timezone":"GMT","timezone_abbreviation":"GMT","elevation":{elevation:.1},"daily_units":{{"time":"iso8601","temperature_2m_max":"°C","temperature_2m_min":"°C","precipitation_sum":"mm"}},"daily":{{"time":["{date}"],"temperature_2m_max":[{tmax:.1}],"temperature_2m_min":[{tmin:.1}],"precipitation_sum":[{rain:.1}]}}}}"#
            )
        })
        .collect();
    format!("[{}]", items.join(",")).into_bytes()
}

/// `GET /moved?…`: a redirect to the same query on another server.
async fn moved(State(state): State<Shared>, uri: Uri) -> Response {
    let target = state.lock().unwrap().redirect_to.clone().unwrap();
    Response::builder()
        .status(StatusCode::FOUND)
        .header(
            header::LOCATION,
            format!("{target}/v1/archive?{}", uri.query().unwrap_or_default()),
        )
        .body(Body::empty())
        .unwrap()
}

/// Pages per day of the paginated endpoints.
const PAGES: usize = 5;

/// `GET /pages/{style}?date=D…`: five pages of two records per day, the
/// next one named the way `style` says.
async fn pages(
    State(state): State<Shared>,
    UrlPath(style): UrlPath<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let date = query.get("date").cloned().unwrap_or_default();
    let number = |k: &str| query.get(k).map(|v| v.parse::<usize>().unwrap());
    let page = match style.as_str() {
        "cursor" => query
            .get("cursor")
            .map(|c| c.trim_start_matches('c').parse().unwrap())
            .unwrap_or(1),
        "offset" => number("offset").map(|o| o / 2 + 1).unwrap_or(1),
        _ => number("page").unwrap_or(1),
    };
    let fault = match arrive(
        &state,
        &date,
        &format!("{date}#{page}"),
        &uri,
        &headers,
        &query,
    ) {
        Ok(f) => f,
        Err(Unauthorized) => return respond_status(401, "unauthorized"),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut normal = json_response(page_body(&style, &date, page));
    if style == "link_header" && page < PAGES {
        let link = format!(
            "<http://{host}/pages/link_header?date={date}&page=1>; rel=\"first\", \
             <http://{host}/pages/link_header?date={date}&page={}>; rel=\"next\", \
             <http://{host}/pages/link_header?date={date}&page={PAGES}>; rel=\"last\"",
            page + 1
        );
        normal
            .headers_mut()
            .insert(header::LINK, link.parse().unwrap());
    }
    answer(&state, fault, normal).await
}

fn page_body(style: &str, date: &str, page: usize) -> Vec<u8> {
    let records = if page <= PAGES {
        format!(
            r#"[{{"id":"{date}-{page}-1","value":{}}},{{"id":"{date}-{page}-2","value":{}}}]"#,
            page * 10 + 1,
            page * 10 + 2
        )
    } else {
        "[]".to_owned()
    };
    let next = match style {
        "cursor" if page < PAGES => format!(r#","next_cursor":"c{}""#, page + 1),
        "cursor" => r#","next_cursor":null"#.to_owned(),
        "next_url" if page < PAGES => {
            format!(r#","next":"/pages/next_url?date={date}&page={}""#, page + 1)
        }
        "next_url" => r#","next":null"#.to_owned(),
        _ => String::new(),
    };
    format!(r#"{{"date":"{date}","page":{page},"records":{records}{next}}}"#).into_bytes()
}

// ---- pipelines -----------------------------------------------------------

fn date(d: u32) -> String {
    format!("2025-02-{d:02}")
}

fn day(d: u32) -> String {
    format!("date=2025-02-{d:02}")
}

fn weather_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/weather")
}

/// A workspace with the plugins the weather pipeline uses.
fn workspace() -> Workspace {
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::create_dir_all(ws.path().join("plugins")).unwrap();
    ws.add_plugin("json_to_table", "json_to_table");
    ws.add_plugin("aggregate", "aggregate");
    ws
}

/// examples/weather/pipeline.toml as shipped, pointed at the local API, for
/// February 1 to `last`, with `extra` lines added to its source table.
fn example_config(api: &Api, last: u32, extra: &str) -> String {
    let text = std::fs::read_to_string(weather_example().join("pipeline.toml")).unwrap();
    let mut out = text.clone();
    for (from, to) in [
        ("https://archive-api.open-meteo.com", api.base.clone()),
        (
            "start = \"2025-01-01\"",
            "start = \"2025-02-01\"".to_owned(),
        ),
        (
            "end = \"2025-02-28\"",
            format!("end = \"2025-02-{last:02}\""),
        ),
        ("kind = \"http\"\n", format!("kind = \"http\"\n{extra}\n")),
    ] {
        assert!(out.contains(from), "the example no longer has `{from}`");
        out = out.replacen(from, &to, 1);
    }
    out
}

/// The weather pipeline with its source written out by the test.
fn config(last: u32, source: &str, layers: bool) -> String {
    let mut text = format!(
        r#"
[partitions]
start = "2025-02-01"
end = "2025-02-{last:02}"

[[datasets]]
layer = "raw"
name = "weather"
[datasets.source]
kind = "http"
{source}
"#
    );
    if layers {
        text.push_str(
            r#"
[[datasets]]
layer = "bronze"
name = "weather"
plugin = "plugins/json_to_table.wasm"
inputs = ["raw/weather"]
[datasets.params]
columns = [
  { name = "date", type = "date32", from = "/daily/time/0", nullable = false },
  { name = "latitude", type = "float64", nullable = false },
  { name = "longitude", type = "float64", nullable = false },
  { name = "temperature_max", type = "float64", from = "/daily/temperature_2m_max/0" },
  { name = "temperature_min", type = "float64", from = "/daily/temperature_2m_min/0" },
  { name = "precipitation", type = "float64", from = "/daily/precipitation_sum/0" },
]

[[datasets]]
layer = "gold"
name = "last_30_days"
plugin = "plugins/aggregate.wasm"
inputs = [{ dataset = "bronze/weather", window = 30 }]
[datasets.params]
group_by = ["latitude", "longitude"]
aggregates = [
  { fn = "count", as = "days" },
  { column = "temperature_max", fn = "max", as = "warmest" },
]
"#,
        );
    }
    text
}

/// The archive endpoint of `api`, for `config`.
fn archive_source(api: &Api, extra: &str) -> String {
    format!(
        r#"url = "{}/v1/archive"
backoff = "10ms"
{extra}
[datasets.source.query]
latitude = "52.52,48.85"
longitude = "13.41,2.35"
start_date = "{{date}}"
end_date = "{{date}}"
daily = "temperature_2m_max,temperature_2m_min,precipitation_sum"
timezone = "UTC"
"#,
        api.base
    )
}

/// Runs `host ARGS` with `env` added; proxies and `API_TOKEN` removed
/// unless given.
fn host(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env("NO_COLOR", "1");
    for var in [
        "STRATA_CONFIG",
        "STRATA_NOW",
        "STRATA_LOG",
        "API_TOKEN",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running host")
}

/// `host run --json ARGS` with `env`.
fn run(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> RunSummary {
    let mut all = vec!["run", "--json"];
    all.extend_from_slice(args);
    let out = host(ws, &all, env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "host run printed no JSON ({e}); stdout:\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    RunSummary {
        json,
        code: out.status.code(),
        stderr,
    }
}

/// The failed partitions of a dataset (of a raw one, each a `source`
/// failure): partition → error message.
fn failures(run: &RunSummary, dataset: &str) -> BTreeMap<String, String> {
    run.dataset(dataset)["failed_partitions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    if dataset.starts_with("raw/") {
                        assert_eq!(f["error"]["kind"], "source", "a fetch failure's kind: {f}");
                    }
                    (
                        f["partition"].as_str().unwrap().to_owned(),
                        f["error"]["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn raw_file(ws: &Workspace, d: u32, name: &str) -> Vec<u8> {
    std::fs::read(ws.partition_dir("raw/weather", &day(d)).join(name)).unwrap()
}

/// The file names a raw manifest lists, in order.
fn manifest_files(ws: &Workspace, d: u32) -> Vec<String> {
    ws.manifest("raw/weather", &day(d))["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

/// What a raw manifest says each file came from.
fn origins(ws: &Workspace, d: u32) -> Vec<Value> {
    let manifest = ws.manifest("raw/weather", &day(d));
    find_key(&manifest, "fetched")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| panic!("no `fetched` in {manifest}"))
}

fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m
            .get(key)
            .or_else(|| m.values().find_map(|v| find_key(v, key))),
        Value::Array(a) => a.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

fn committed(ws: &Workspace, dataset: &str, d: u32) -> bool {
    ws.partition_dir(dataset, &day(d))
        .join("_manifest.json")
        .exists()
}

// ---- tests ---------------------------------------------------------------

#[test]
fn the_example_fetches_every_day_byte_for_byte_and_a_second_run_asks_nothing() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&example_config(&api, 6, ""));

    let first = run(&ws, &[], &[]);
    first.assert_ok();
    assert_eq!(first.count("raw/weather", "computed"), 6);
    assert_eq!(first.count("bronze/weather", "computed"), 6);
    assert_eq!(first.count("gold/last_30_days", "computed"), 6);
    assert_eq!(first.computed("gold/by_city"), ["all"]);
    for d in 1..=6 {
        assert_eq!(api.hits(&date(d)), 1, "requests for {}", date(d));
        assert_eq!(manifest_files(&ws, d), ["page-0001.json"]);
        assert_eq!(
            raw_file(&ws, d, "page-0001.json"),
            archive_body(&date(d), 0),
            "raw is not the server's bytes"
        );
        let origin = &origins(&ws, d)[0];
        let url = origin["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/v1/archive?", api.base))
                && url.contains(&format!("start_date={}", date(d)))
                && url.contains(&format!("end_date={}", date(d))),
            "{origin}"
        );
        assert_eq!(origin["status"], 200, "{origin}");
        assert_eq!(
            origin["content_type"], "application/json; charset=utf-8",
            "{origin}"
        );
        assert_eq!(
            origin["size"].as_u64(),
            Some(archive_body(&date(d), 0).len() as u64)
        );
        // Two places, one row each.
        assert_eq!(ws.manifest("bronze/weather", &day(d))["rows"], 2);
    }
    // The query as configured, commas and all.
    assert!(
        api.log()[0].contains("latitude=52.52%2C48.85%2C51.51"),
        "{:?}",
        api.log()
    );
    let before = ws.snapshot();

    let second = run(&ws, &[], &[]);
    second.assert_ok();
    assert_eq!(api.total(), 6, "a second run made requests");
    for d in [
        "raw/weather",
        "bronze/weather",
        "gold/last_30_days",
        "gold/by_city",
    ] {
        assert_eq!(second.count(d, "computed"), 0, "{d} recomputed");
    }
    assert_eq!(ws.snapshot(), before, "a no-op run changed the store");
}

#[test]
fn a_deleted_raw_day_is_fetched_again_alone_and_the_layers_above_heal() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&example_config(&api, 6, ""));
    run(&ws, &[], &[]).assert_ok();
    let before = ws.snapshot();
    let data_files_unchanged = |after: &BTreeMap<String, String>| {
        for (path, hash) in &before {
            if !path.ends_with("_manifest.json") {
                assert_eq!(after.get(path), Some(hash), "{path}");
            }
        }
    };

    // Only raw: the same bytes come back, so nothing above moves.
    std::fs::remove_dir_all(ws.partition_dir("raw/weather", &day(3))).unwrap();
    let heal = run(&ws, &[], &[]);
    heal.assert_ok();
    assert_eq!(heal.computed("raw/weather"), [day(3)]);
    assert!(heal.computed("bronze/weather").is_empty());
    assert_eq!(api.hits(&date(3)), 2);
    assert_eq!(api.total(), 7, "{:?}", api.all_hits());
    data_files_unchanged(&ws.snapshot());

    // Raw with what was made from it: each layer heals from the one below.
    std::fs::remove_dir_all(ws.partition_dir("raw/weather", &day(4))).unwrap();
    std::fs::remove_dir_all(ws.partition_dir("bronze/weather", &day(4))).unwrap();
    std::fs::remove_dir_all(ws.partition_dir("gold/last_30_days", &day(4))).unwrap();
    let heal = run(&ws, &[], &[]);
    heal.assert_ok();
    assert_eq!(heal.computed("raw/weather"), [day(4)]);
    assert_eq!(heal.computed("bronze/weather"), [day(4)]);
    assert_eq!(heal.computed("gold/last_30_days"), [day(4)]);
    assert!(heal.computed("gold/by_city").is_empty());
    assert_eq!(api.hits(&date(4)), 2);
    assert_eq!(api.total(), 8, "{:?}", api.all_hits());
    data_files_unchanged(&ws.snapshot());
}

#[test]
fn transient_failures_are_retried_until_the_day_is_committed() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(
        6,
        &archive_source(&api, "max_attempts = 4\ntimeout = \"2s\""),
        false,
    ));
    api.once(&date(1), vec![Fault::Status(500, "oops")]);
    api.once(
        &date(2),
        vec![Fault::Status(503, "busy"), Fault::Status(503, "busy")],
    );
    api.once(&date(3), vec![Fault::RetryAfter(1)]);
    api.once(&date(4), vec![Fault::Drop]);
    api.once(&date(6), vec![Fault::Hangup]);
    api.once(&date(5), vec![Fault::Slow(Duration::from_secs(10))]);

    let run = run(&ws, &[], &[]);
    run.assert_ok();
    assert_eq!(run.count("raw/weather", "computed"), 6);
    let expected: BTreeMap<String, usize> = [(1, 2), (2, 3), (3, 2), (4, 2), (5, 2), (6, 2)]
        .into_iter()
        .map(|(d, n)| (date(d), n))
        .collect();
    assert_eq!(api.all_hits(), expected);
    for d in 1..=6 {
        assert_eq!(
            raw_file(&ws, d, "page-0001.json"),
            archive_body(&date(d), 0)
        );
        assert_eq!(manifest_files(&ws, d), ["page-0001.json"]);
    }
    // Each retry is logged with its reason.
    for (d, why) in [
        (1, "HTTP 500 Internal Server Error: oops; retrying"),
        (2, "HTTP 503 Service Unavailable: busy; retrying"),
        (3, "HTTP 429 Too Many Requests: slow down; retrying in 1s"),
        (4, "the response broke off after 19 bytes of body"),
        (5, "(timeout); retrying"),
        (6, "; retrying"),
    ] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(&format!("start_date={}", date(d))) && l.contains(why)),
            "no retry for `{why}` logged:\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_persistent_error_fails_only_its_day_naming_the_url_and_status() {
    let token = "s3cr3t-9b1f04d2-token";
    let api = Api::with_token(token);
    let ws = workspace();
    let source = archive_source(
        &api,
        "max_attempts = 3\nheaders = { Authorization = \"Bearer ${API_TOKEN}\" }",
    ) + "apikey = \"${API_TOKEN}\"\n";
    ws.write_config(&config(5, &source, true));
    api.always(&date(2), Fault::Status(500, "internal error"));
    api.always(
        &date(4),
        Fault::Status(404, r#"{"error":true,"reason":"no such place"}"#),
    );
    let env = [("API_TOKEN", token)];

    let run1 = run(&ws, &[], &env);
    assert_eq!(run1.code, Some(1), "{}", run1.json);
    let failed = failures(&run1, "raw/weather");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2), day(4)]);
    let error = &failed[&day(2)];
    for needle in [
        "raw/weather",
        "date=2025-02-02",
        &format!("GET {}/v1/archive?", api.base),
        "start_date=2025-02-02",
        "apikey=***",
        "HTTP 500",
        "internal error",
        "after 3 attempts",
    ] {
        assert!(error.contains(needle), "`{needle}` not in: {error}");
    }
    assert!(!error.contains(token), "{error}");
    assert_eq!(
        api.hits(&date(2)),
        3,
        "retried more or less than max_attempts"
    );
    // A 404 is not retried, and its body says why.
    let error = &failed[&day(4)];
    assert!(
        error.contains("HTTP 404") && error.contains("no such place"),
        "{error}"
    );
    assert_eq!(api.hits(&date(4)), 1);
    assert_eq!(api.state.lock().unwrap().unauthorized, 0);
    // The other days are complete, the failed ones are not there at all.
    for d in [1, 3, 5] {
        assert!(committed(&ws, "raw/weather", d));
        assert!(committed(&ws, "bronze/weather", d));
    }
    for d in [2, 4] {
        assert!(!ws.partition_dir("raw/weather", &day(d)).exists());
    }
    assert_eq!(run1.count("bronze/weather", "blocked"), 2);

    // Fixed at the source: the next run fetches exactly the failed days.
    api.heal(&date(2));
    api.heal(&date(4));
    let run2 = run(&ws, &[], &env);
    run2.assert_ok();
    assert_eq!(run2.computed("raw/weather"), [day(2), day(4)]);
    assert_eq!(run2.computed("bronze/weather"), [day(2), day(4)]);
    assert_eq!(api.total(), 3 + 1 + 3 + 2, "{:?}", api.all_hits());
}

/// The pagination table and the pages each style stores per day.
fn pagination_styles() -> Vec<(&'static str, &'static str, usize)> {
    vec![
        (
            "cursor",
            r#"{ style = "cursor", pointer = "/next_cursor", param = "cursor" }"#,
            PAGES,
        ),
        (
            "next_url",
            r#"{ style = "next_url", pointer = "/next" }"#,
            PAGES,
        ),
        ("link_header", r#"{ style = "link_header" }"#, PAGES),
        // Counters stop at the first empty page, which is stored too.
        (
            "page",
            r#"{ style = "page", param = "page", start = 1, records_pointer = "/records" }"#,
            PAGES + 1,
        ),
        (
            "offset",
            r#"{ style = "offset", param = "offset", records_pointer = "/records" }"#,
            PAGES + 1,
        ),
    ]
}

#[test]
fn every_pagination_style_stores_every_page_in_order_or_nothing() {
    for (style, pagination, stored) in pagination_styles() {
        let api = Api::start();
        let ws = workspace();
        let source = format!(
            r#"url = "{}/pages/{style}"
query = {{ date = "{{date}}" }}
pagination = {pagination}
max_attempts = 2
backoff = "10ms""#,
            api.base
        );
        ws.write_config(&config(3, &source, false));
        // Page 3 of 5 of the second day keeps failing.
        api.always(&format!("{}#3", date(2)), Fault::Status(500, "page broke"));

        let first = run(&ws, &[], &[]);
        assert_eq!(first.code, Some(1), "{style}: {}", first.json);
        for d in [1, 3] {
            let names: Vec<String> = (1..=stored).map(|p| format!("page-{p:04}.json")).collect();
            assert_eq!(manifest_files(&ws, d), names, "{style}");
            for (p, name) in names.iter().enumerate() {
                assert_eq!(
                    raw_file(&ws, d, name),
                    page_body(style, &date(d), p + 1),
                    "{style}: {name} of {}",
                    date(d)
                );
            }
            let urls: Vec<String> = origins(&ws, d)
                .iter()
                .map(|o| o["url"].as_str().unwrap().to_owned())
                .collect();
            assert!(
                urls.iter()
                    .all(|u| u.contains(&format!("date={}", date(d)))),
                "{style}: {urls:?}"
            );
            assert_eq!(api.hits(&date(d)), stored, "{style}: requests");
        }
        let failed = failures(&first, "raw/weather");
        let error = &failed[&day(2)];
        assert!(
            error.contains("page 3") && error.contains("HTTP 500") && error.contains("page broke"),
            "{style}: {error}"
        );
        assert!(
            !ws.partition_dir("raw/weather", &day(2)).exists(),
            "{style}: pages of a failed day were written"
        );
        // Pages 1 and 2 once, page 3 twice; then it stopped.
        assert_eq!(api.hits(&date(2)), 4, "{style}");

        api.heal(&format!("{}#3", date(2)));
        let second = run(&ws, &[], &[]);
        second.assert_ok();
        assert_eq!(second.computed("raw/weather"), [day(2)], "{style}");
        assert_eq!(manifest_files(&ws, 2).len(), stored, "{style}");
        assert_eq!(
            raw_file(&ws, 2, "page-0003.json"),
            page_body(style, &date(2), 3)
        );
    }
}

#[test]
fn a_response_over_the_size_limit_fails_its_day() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(
        3,
        &archive_source(&api, "max_response_bytes = \"4KiB\""),
        false,
    ));
    // One with a Content-Length, one streamed without.
    api.always(&date(2), Fault::Body(vec![b' '; 10_000]));
    api.always(&date(3), Fault::Stream(10_000));

    let run = run(&ws, &[], &[]);
    assert_eq!(run.code, Some(1));
    let failed = failures(&run, "raw/weather");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2), day(3)]);
    for (partition, error) in &failed {
        assert!(
            error.contains("max_response_bytes (4096)"),
            "{partition}: {error}"
        );
    }
    assert!(failed[&day(2)].contains("10000 bytes"), "{failed:?}");
    // Not retried: the answer would be as large again.
    assert_eq!(api.hits(&date(2)), 1);
    assert_eq!(api.hits(&date(3)), 1);
    assert!(committed(&ws, "raw/weather", 1));
}

#[test]
fn a_malformed_body_is_kept_as_is_and_bronze_names_the_file() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(3, &archive_source(&api, ""), true));
    let broken = br#"[{"latitude":52.52,"daily":{"time":["2025-02-02"],"temper"#.to_vec();
    api.always(&date(2), Fault::Body(broken.clone()));

    let run = run(&ws, &[], &[]);
    assert_eq!(run.code, Some(1));
    // Raw does not judge.
    assert_eq!(run.count("raw/weather", "computed"), 3);
    assert_eq!(raw_file(&ws, 2, "page-0001.json"), broken);
    let failed = failures(&run, "bronze/weather");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2)]);
    let error = &failed[&day(2)];
    assert!(
        error.contains("page-0001.json") && error.contains("not valid JSON"),
        "{error}"
    );
    assert!(committed(&ws, "bronze/weather", 3));
}

#[test]
fn the_token_appears_in_no_manifest_file_log_or_message() {
    let token = "s3cr3t-5c0ffee-7a1b";
    let api = Api::with_token(token);
    let ws = workspace();
    let source = archive_source(
        &api,
        "max_attempts = 2\nheaders = { Authorization = \"Bearer ${API_TOKEN}\" }",
    ) + "apikey = \"${API_TOKEN}\"\n";
    ws.write_config(&config(4, &source, true));
    // An error body that repeats the token, and a retried broken answer.
    let echo: &'static str = Box::leak(format!("bad key {token}").into_boxed_str());
    api.always(&date(2), Fault::Status(500, echo));
    api.once(&date(3), vec![Fault::Drop]);
    let env = [("API_TOKEN", token)];

    let mut outputs = Vec::new();
    let out = host(&ws, &["-v", "run", "--json"], &env);
    assert_eq!(out.status.code(), Some(1));
    outputs.push(out);
    outputs.push(host(&ws, &["-vv", "run"], &env));
    outputs.push(host(&ws, &["status"], &env));
    outputs.push(host(&ws, &["show", "raw/weather", &day(1)], &env));
    for out in &outputs {
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains(token), "the token is in {what}:\n{text}");
        }
    }
    let log = String::from_utf8_lossy(&outputs[0].stderr);
    assert!(log.contains("apikey=***"), "{log}");
    assert!(log.contains("bad key ***"), "{log}");

    // The server did get it, and the store does not hold it anywhere.
    assert!(api.total() >= 4);
    assert_eq!(api.state.lock().unwrap().unauthorized, 0);
    assert!(api.log().iter().any(|l| l.contains(token)));
    let mut files = 0;
    let mut stack = vec![ws.store()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                    "the token is in {}",
                    path.display()
                );
            }
        }
    }
    assert!(files > 10, "only {files} files in the store");
    let url = origins(&ws, 1)[0]["url"].as_str().unwrap().to_owned();
    assert!(url.contains("?apikey=***&"), "{url}");

    // Without the variable nothing is sent, and the error names it.
    let before = api.total();
    let missing = run(&ws, &[], &[]);
    assert_eq!(missing.code, Some(1));
    let failed = failures(&missing, "raw/weather");
    assert_eq!(failed.keys().cloned().collect::<Vec<_>>(), [day(2)]);
    assert!(
        failed[&day(2)].contains("environment variable API_TOKEN is not set"),
        "{failed:?}"
    );
    assert_eq!(api.total(), before);
}

#[test]
fn refetch_recent_recomputes_only_when_the_response_changed() {
    let api = Api::start();
    let ws = workspace();
    ws.write_config(&config(
        5,
        &archive_source(&api, "refetch_recent = 2"),
        true,
    ));
    run(&ws, &[], &[]).assert_ok();
    assert_eq!(api.total(), 5);

    // The same answers: refetched, nothing committed or recomputed.
    let before = ws.snapshot();
    let same = run(&ws, &[], &[]);
    same.assert_ok();
    assert_eq!(same.computed("raw/weather"), [day(4), day(5)]);
    assert!(same.changed("raw/weather").is_empty());
    assert!(same.computed("bronze/weather").is_empty());
    assert!(same.computed("gold/last_30_days").is_empty());
    assert_eq!(
        ws.snapshot(),
        before,
        "an unchanged refetch wrote something"
    );
    assert_eq!((api.hits(&date(3)), api.hits(&date(4))), (1, 2));

    // Yesterday corrected at the source: it and what reads it recompute.
    api.change(&date(5));
    let fixed = run(&ws, &[], &[]);
    fixed.assert_ok();
    assert_eq!(fixed.computed("raw/weather"), [day(4), day(5)]);
    assert_eq!(fixed.changed("raw/weather"), [day(5)]);
    assert_eq!(fixed.computed("bronze/weather"), [day(5)]);
    assert_eq!(fixed.computed("gold/last_30_days"), [day(5)]);
    assert_eq!(
        raw_file(&ws, 5, "page-0001.json"),
        archive_body(&date(5), api.version(&date(5)))
    );

    // An older day is not asked for again, changed or not.
    api.change(&date(2));
    let later = run(&ws, &[], &[]);
    later.assert_ok();
    assert_eq!(api.hits(&date(2)), 1);
    assert!(later.changed("raw/weather").is_empty());
    assert!(later.computed("bronze/weather").is_empty());
}

#[test]
fn requests_in_flight_stay_within_the_concurrency_limit() {
    let api = Api::start();
    api.state.lock().unwrap().delay = Some(Duration::from_millis(50));
    let ws = workspace();
    ws.write_config(&config(
        8,
        &archive_source(&api, "concurrency = 2\nrate_limit = 1000"),
        false,
    ));
    run(&ws, &["--jobs", "8"], &[]).assert_ok();
    assert_eq!(api.total(), 8);
    let max = api.state.lock().unwrap().max_in_flight;
    assert!((1..=2).contains(&max), "{max} requests at once");
}

#[test]
fn config_mistakes_are_reported_with_the_line() {
    let ws = workspace();
    let cases = [
        (
            "timout = \"1s\"",
            vec!["pipeline.toml:", "unknown field `timout`"],
        ),
        (
            "pagination = { style = \"pages\", param = \"p\" }",
            vec!["pipeline.toml:", "unknown variant `pages`", "cursor"],
        ),
        (
            "backoff = \"half a second\"",
            vec!["pipeline.toml:", "not a duration"],
        ),
    ];
    for (line, needles) in cases {
        ws.write_config(&config(
            2,
            &format!("url = \"http://127.0.0.1:9/x/{{date}}\"\n{line}"),
            false,
        ));
        let out = host(&ws, &["status"], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{line}: accepted");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{line}: `{needle}` not in {stderr}"
            );
        }
    }
    let checks = [
        ("url = \"ftp://127.0.0.1/x/{date}\"", "http:// or https://"),
        (
            "url = \"http://127.0.0.1:9/x\"",
            "does not mention the period",
        ),
        (
            "url = \"http://127.0.0.1:9/x/{date}\"\nbody = \"{}\"",
            "POST",
        ),
    ];
    for (source, needle) in checks {
        ws.write_config(&config(2, source, false));
        let out = host(&ws, &["status"], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{source}: accepted");
        assert!(
            stderr.contains("pipeline.toml:6:") && stderr.contains(needle),
            "{source}: {stderr}"
        );
    }
}

#[test]
fn secrets_in_headers_do_not_follow_a_redirect_to_another_origin() {
    let token = "s3cr3t-4d2e-redirect";
    let env = [("API_TOKEN", token)];
    let front = Api::start();
    // Another port on 127.0.0.1 is another origin.
    let elsewhere = Api::start();
    front.state.lock().unwrap().redirect_to = Some(elsewhere.base.clone());
    let ws = workspace();
    let source = |header: &str| {
        archive_source(
            &front,
            &format!("headers = {{ {header} = \"${{API_TOKEN}}\" }}"),
        )
        .replacen("/v1/archive", "/moved", 1)
    };

    // A custom header with a secret: the redirect is not followed.
    ws.write_config(&config(2, &source("X-Api-Key"), false));
    let refused = run(&ws, &[], &env);
    assert_eq!(refused.code, Some(1));
    let failed = failures(&refused, "raw/weather");
    assert_eq!(failed.len(), 2);
    for error in failed.values() {
        assert!(
            error.contains("HTTP 302") && error.contains("not followed"),
            "{error}"
        );
    }
    assert_eq!(elsewhere.total(), 0);

    // Authorization: followed, without the header (reqwest drops it).
    ws.write_config(&config(2, &source("Authorization"), false));
    let followed = run(&ws, &[], &env);
    followed.assert_ok();
    assert_eq!(elsewhere.total(), 2);
    assert_eq!(elsewhere.state.lock().unwrap().with_authorization, 0);
    assert_eq!(
        raw_file(&ws, 1, "page-0001.json"),
        archive_body(&date(1), 0)
    );
}
