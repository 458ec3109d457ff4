//! The API: Open-Meteo archive responses, redirects and paginated
//! endpoints on 127.0.0.1, with faults switched on per test.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;

/// What the server does instead of answering normally.
#[derive(Debug, Clone)]
pub(super) enum Fault {
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
pub(super) struct ApiState {
    /// When set, requests must carry it as `Authorization: Bearer …` and,
    /// if they have one, as the `apikey` query value.
    pub(super) token: Option<String>,
    /// Faults for the next requests of a key (`2025-02-03`, or
    /// `2025-02-03#3` for page 3 of that day), used up in order.
    pub(super) once: HashMap<String, VecDeque<Fault>>,
    /// A fault for every request of a key.
    pub(super) always: HashMap<String, Fault>,
    /// Every answer waits this long.
    pub(super) delay: Option<Duration>,
    /// The response version per day (changed data at the source).
    pub(super) version: HashMap<String, u32>,
    /// Requests per day.
    pub(super) hits: BTreeMap<String, usize>,
    /// Every request's path and query, in order.
    pub(super) log: Vec<String>,
    /// Requests without the right token.
    pub(super) unauthorized: usize,
    /// Requests that carried an Authorization header.
    pub(super) with_authorization: usize,
    /// Where `/moved` redirects to (another server's base URL).
    pub(super) redirect_to: Option<String>,
    pub(super) in_flight: usize,
    pub(super) max_in_flight: usize,
}

pub(super) type Shared = Arc<Mutex<ApiState>>;

pub(super) struct Api {
    pub(super) base: String,
    pub(super) state: Shared,
    pub(super) runtime: Option<tokio::runtime::Runtime>,
}

impl Api {
    pub(super) fn start() -> Api {
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

    pub(super) fn with_token(token: &str) -> Api {
        let api = Api::start();
        api.state.lock().unwrap().token = Some(token.to_owned());
        api
    }

    pub(super) fn once(&self, key: &str, faults: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .once
            .insert(key.to_owned(), faults.into());
    }

    pub(super) fn always(&self, key: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .always
            .insert(key.to_owned(), fault);
    }

    pub(super) fn heal(&self, key: &str) {
        let mut s = self.state.lock().unwrap();
        s.always.remove(key);
        s.once.remove(key);
    }

    /// The source corrects its data for a day.
    pub(super) fn change(&self, date: &str) {
        *self
            .state
            .lock()
            .unwrap()
            .version
            .entry(date.to_owned())
            .or_default() += 1;
    }

    pub(super) fn version(&self, date: &str) -> u32 {
        self.state
            .lock()
            .unwrap()
            .version
            .get(date)
            .copied()
            .unwrap_or(0)
    }

    pub(super) fn hits(&self, date: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(date)
            .copied()
            .unwrap_or(0)
    }

    pub(super) fn all_hits(&self) -> BTreeMap<String, usize> {
        self.state.lock().unwrap().hits.clone()
    }

    pub(super) fn total(&self) -> usize {
        self.state.lock().unwrap().hits.values().sum()
    }

    pub(super) fn log(&self) -> Vec<String> {
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
pub(super) struct Unauthorized;

/// Counts the request and picks its fault; `Err` if it is not authorised.
pub(super) fn arrive(
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

pub(super) fn respond_status(code: u16, body: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

pub(super) fn json_response(bytes: Vec<u8>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(bytes))
        .unwrap()
}

/// The answer, normal or faulty.
pub(super) async fn answer(state: &Shared, fault: Option<Fault>, normal: Response) -> Response {
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
pub(super) async fn archive(
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
pub(super) fn archive_body(date: &str, version: u32) -> Vec<u8> {
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
pub(super) async fn moved(State(state): State<Shared>, uri: Uri) -> Response {
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
pub(super) const PAGES: usize = 5;

/// `GET /pages/{style}?date=D…`: five pages of two records per day, the
/// next one named the way `style` says.
pub(super) async fn pages(
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

pub(super) fn page_body(style: &str, date: &str, page: usize) -> Vec<u8> {
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
