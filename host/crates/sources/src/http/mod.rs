//! The `http` source: one period of a REST API, fetched page by page and
//! stored byte for byte.
//!
//! ```toml
//! source = { kind = "http", url = "https://api.example.com/v1/orders",
//!            query = { day = "{date}" },
//!            headers = { Authorization = "Bearer ${API_TOKEN}" },
//!            pagination = { style = "cursor", pointer = "/next_cursor", param = "cursor" } }
//! ```
//!
//! Templates (`url`, `query` values, `headers` values, `body`) may name the
//! period: `{date}` (the label, `2025-02-18`), `{start}` and `{end}`
//! (RFC 3339, end exclusive), `{%Y%m%d}` (any strftime format of the start),
//! `{start:%F}` / `{end:%F}`. `${NAME}` is the environment variable `NAME`,
//! read at fetch time so secrets never live in the config; wherever such a
//! value would be shown (URLs in manifests, errors, logs) it is `***`.
//!
//! Every response is one file, `page-0001.json`, `page-0002.json`, … (the
//! extension from its content type), with the bytes as received. A period is
//! either every page or an error: nothing partial is ever returned.
//!
//! Transient failures (connection errors, timeouts, a body that breaks off,
//! HTTP 5xx and 429) are retried with exponential backoff and jitter,
//! honouring `Retry-After`, up to `max_attempts`. One `HttpSource` serves all
//! partitions of a dataset in a run, so its concurrency limit and rate limit
//! hold across partitions.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LINK, RETRY_AFTER, USER_AGENT,
};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use strata_core::config::{CompiledHttp, HttpSpec, Method, Pagination};
use strata_core::period::Period;
use strata_core::template::EnvMode;
use strata_core::units::human;

use super::{Fetch, FetchedFile, Source};

/// How much of an error response's body is kept for the message.
const ERROR_SNIPPET_BYTES: usize = 200;
/// How much of an error response's body is read at all.
const ERROR_BODY_BYTES: usize = 4096;

/// A built http source: one per dataset and run, shared by its periods.
pub(crate) struct HttpSource {
    spec: HttpSpec,
    compiled: CompiledHttp,
    client: reqwest::Client,
    /// Requests in flight, across partitions.
    permits: Semaphore,
    /// The earliest time the next request may start (rate limit).
    next_slot: Mutex<tokio::time::Instant>,
    /// A header other than Authorization holds a `${…}` value.
    secret_in_custom_header: bool,
}

impl HttpSource {
    pub(crate) fn new(spec: &HttpSpec) -> Result<Self> {
        let compiled = spec.compile().map_err(|e| anyhow!(e))?;
        // reqwest drops Authorization and cookies on a redirect to another
        // host, but not other headers: with a secret in one of those, such a
        // redirect is not followed (the 3xx fails the period).
        let custom_secret = compiled.headers.iter().any(|(name, t)| {
            t.env_names().next().is_some() && name != reqwest::header::AUTHORIZATION
        });
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let first = attempt.previous().first().map(Url::origin);
            if attempt.previous().len() > 10 {
                attempt.error("more than 10 redirects")
            } else if custom_secret && first.is_some_and(|o| o != attempt.url().origin()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(spec.connect_timeout.0)
            .redirect(redirects)
            .build()
            .map_err(|e| anyhow!("cannot set up the HTTP client: {:#}", e.without_url()))?;
        Ok(HttpSource {
            spec: spec.clone(),
            compiled,
            client,
            permits: Semaphore::new(spec.concurrency.max(1)),
            next_slot: Mutex::new(tokio::time::Instant::now()),
            secret_in_custom_header: custom_secret,
        })
    }

    /// Reads the environment variables the spec names.
    fn environment(&self) -> Result<Redactor> {
        let mut values = HashMap::new();
        for (name, place) in &self.compiled.env {
            match std::env::var(name) {
                Ok(v) => {
                    values.insert(name.clone(), v);
                }
                Err(std::env::VarError::NotPresent) => bail!(
                    "environment variable {name} is not set ({place} reads it as ${{{name}}}); \
                     set it in the environment of `host`"
                ),
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("environment variable {name} ({place}) is not valid UTF-8")
                }
            }
        }
        Ok(Redactor::new(values))
    }

    /// The request for the first page of a period.
    fn first_request(&self, period: &Period, env: &Redactor) -> Result<Request> {
        let c = &self.compiled;
        let real = EnvMode::Resolve(&env.values);
        let shown = EnvMode::Redact;
        let url_of = |mode: &EnvMode| -> Result<Url> {
            let text = c.url.render(period, mode);
            let mut url = Url::parse(&text).map_err(|e| {
                anyhow!(
                    "url `{}` is not a URL for {period} ({e})",
                    c.url.render(period, &EnvMode::Redact)
                )
            })?;
            if !c.query.is_empty() {
                let mut pairs = url.query_pairs_mut();
                for (k, t) in &c.query {
                    pairs.append_pair(k, &t.render(period, mode));
                }
            }
            Ok(url)
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("strata/", env!("CARGO_PKG_VERSION"))),
        );
        let mut secret_headers = Vec::new();
        for (name, template) in &c.headers {
            let mut value = HeaderValue::from_str(&template.render(period, &real))
                .map_err(|_| anyhow!("headers.{name}: not a valid header value for {period}"))?;
            if template.env_names().next().is_some() {
                value.set_sensitive(true);
                secret_headers.push(name.clone());
            }
            headers.insert(name.clone(), value);
        }
        let body = c.body.as_ref().map(|b| b.render(period, &real));
        if body.is_some() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let mut request = Request {
            url: url_of(&real)?,
            shown: url_of(&shown)?,
            headers,
            secret_headers,
            body,
        };
        match &self.spec.pagination {
            Some(Pagination::Page { param, start, .. })
            | Some(Pagination::Offset { param, start, .. }) => {
                request.set_param(param, &start.to_string())
            }
            _ => {}
        }
        Ok(request)
    }

    /// Waits for a rate-limit slot.
    async fn pace(&self) {
        let Some(rate) = self.spec.rate_limit else {
            return;
        };
        let interval = Duration::from_secs_f64(1.0 / rate);
        let slot = {
            let mut next = self.next_slot.lock().expect("rate limiter lock");
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// One request, retried while the failure is transient.
    async fn send(&self, request: &Request, env: &Redactor) -> Result<Response> {
        let shown = env.redact(request.shown.as_str());
        let method = match self.spec.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let max = self.spec.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = {
                let _permit = self.permits.acquire().await.expect("never closed");
                self.pace().await;
                match tokio::time::timeout(self.spec.timeout.0, self.exchange(request)).await {
                    Ok(result) => result,
                    Err(_) => Err(Failure::retry(format!(
                        "no complete response within {} (timeout)",
                        human(self.spec.timeout.0)
                    ))),
                }
            };
            let failure = match result {
                Ok(response) => return Ok(response),
                Err(f) => f,
            };
            let message = env.redact(&failure.message);
            if !failure.retry {
                bail!("{method} {shown}: {message}");
            }
            if attempt >= max {
                bail!("{method} {shown}: {message} (gave up after {attempt} attempts)");
            }
            let wait = match failure.retry_after {
                Some(after) if after > self.spec.max_backoff.0 => bail!(
                    "{method} {shown}: {message}; the server asks to retry after {}, \
                     longer than max_backoff ({})",
                    human(after),
                    human(self.spec.max_backoff.0)
                ),
                Some(after) => after,
                None => backoff(self.spec.backoff.0, self.spec.max_backoff.0, attempt),
            };
            tracing::warn!(
                "{method} {shown}: {message}; retrying in {} (attempt {attempt} of {max})",
                human(wait)
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: the status, the headers that matter and the body.
    async fn exchange(&self, request: &Request) -> Result<Response, Failure> {
        let method = match self.spec.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut builder = self
            .client
            .request(method, request.url.clone())
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(Failure::from_reqwest)?;
        let status = response.status();
        let headers = response.headers();
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = headers.get(RETRY_AFTER).and_then(parse_retry_after);
        let link_next = headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(link_next);
        let success = status.is_success();
        let max = self.spec.max_response_bytes.0;
        if success
            && let Some(length) = response.content_length()
            && length > max
        {
            return Err(Failure::fatal(format!(
                "the response is {length} bytes, more than max_response_bytes ({max}); \
                 raise max_response_bytes if this is expected"
            )));
        }
        let limit = if success {
            usize::try_from(max).unwrap_or(usize::MAX)
        } else {
            ERROR_BODY_BYTES
        };
        let mut body = BytesMut::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        if success {
                            return Err(Failure::fatal(format!(
                                "the response is larger than max_response_bytes ({max}); \
                                 stopped reading after {} bytes; raise max_response_bytes if this is expected",
                                body.len() + chunk.len()
                            )));
                        }
                        body.extend_from_slice(&chunk[..limit - body.len()]);
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(Failure::retry(format!(
                        "the response broke off after {} bytes of body: {}",
                        body.len(),
                        describe(e)
                    )));
                }
            }
        }
        let body = body.freeze();
        if success {
            return Ok(Response {
                status,
                content_type,
                body,
                link_next,
            });
        }
        let what = format!(
            "HTTP {}{}",
            status.as_u16(),
            status
                .canonical_reason()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        );
        if status.is_redirection() && self.secret_in_custom_header {
            return Err(Failure::fatal(format!(
                "HTTP {}: a redirect to another host is not followed, since a header \
                 of this source carries a secret",
                status.as_u16()
            )));
        }
        let snippet = snippet(&body);
        let message = if snippet.is_empty() {
            what
        } else {
            format!("{what}: {snippet}")
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(Failure {
                message,
                retry: true,
                retry_after,
            })
        } else {
            Err(Failure::fatal(message))
        }
    }

    /// The request for the page after `response`, if there is one.
    fn next_request(
        &self,
        request: &Request,
        response: &Response,
        state: &mut PageState,
    ) -> Result<Option<Request>> {
        let Some(pagination) = &self.spec.pagination else {
            return Ok(None);
        };
        let json = || -> Result<Value> {
            serde_json::from_slice(&response.body).map_err(|e| {
                anyhow!(
                    "the body is not JSON ({e}), so {} pagination cannot find the next page",
                    pagination.style()
                )
            })
        };
        match pagination {
            Pagination::Cursor { pointer, param } => {
                let doc = json()?;
                let cursor = match doc.pointer(pointer) {
                    None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
                    Some(Value::String(s)) if s.is_empty() => return Ok(None),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(other) => bail!(
                        "the cursor at {pointer} is {}, expected a string or a number",
                        kind_of(other)
                    ),
                };
                if state.seen.contains(&cursor) {
                    bail!("the API returned cursor `{cursor}` twice; stopping instead of looping");
                }
                state.seen.push(cursor.clone());
                let mut next = request.clone();
                next.set_param(param, &cursor);
                Ok(Some(next))
            }
            Pagination::NextUrl { pointer } => {
                let doc = json()?;
                let link = match doc.pointer(pointer) {
                    None | Some(Value::Null) => return Ok(None),
                    Some(Value::String(s)) if s.is_empty() => return Ok(None),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => bail!(
                        "the next URL at {pointer} is {}, expected a string",
                        kind_of(other)
                    ),
                };
                request.follow(&link, state).map(Some)
            }
            Pagination::LinkHeader {} => match &response.link_next {
                None => Ok(None),
                Some(link) => request.follow(link, state).map(Some),
            },
            Pagination::Page {
                param,
                start,
                records_pointer,
            }
            | Pagination::Offset {
                param,
                start,
                records_pointer,
            } => {
                let doc = json()?;
                let records = match doc.pointer(records_pointer) {
                    None | Some(Value::Null) => 0,
                    Some(Value::Array(a)) => a.len(),
                    Some(other) => bail!(
                        "the records at `{records_pointer}` are {}, expected an array",
                        kind_of(other)
                    ),
                };
                if records == 0 {
                    return Ok(None);
                }
                let current = state.counter.unwrap_or(*start);
                let next_counter = if matches!(pagination, Pagination::Page { .. }) {
                    current + 1
                } else {
                    current + records as u64
                };
                state.counter = Some(next_counter);
                let mut next = request.clone();
                next.set_param(param, &next_counter.to_string());
                Ok(Some(next))
            }
        }
    }
}

#[async_trait::async_trait]
impl Source for HttpSource {
    async fn fetch(&self, period: &Period) -> Result<Fetch> {
        let env = self.environment()?;
        let mut request = self.first_request(period, &env)?;
        let mut state = PageState::default();
        let mut files: Vec<FetchedFile> = Vec::new();
        loop {
            let number = files.len() + 1;
            let page_of = |e: anyhow::Error| {
                let e = env.redact(&format!("{e:#}"));
                if self.spec.pagination.is_some() {
                    anyhow!("page {number}: {e}")
                } else {
                    anyhow!(e)
                }
            };
            let response = self.send(&request, &env).await.map_err(page_of)?;
            let next = self
                .next_request(&request, &response, &mut state)
                .map_err(|e| page_of(anyhow!("{}: {e:#}", env.redact(request.shown.as_str()))))?;
            let shown = env.redact(request.shown.as_str());
            tracing::debug!(
                "{shown}: HTTP {}, {} bytes",
                response.status.as_u16(),
                response.body.len()
            );
            files.push(FetchedFile {
                name: format!(
                    "page-{number:04}.{}",
                    extension(response.content_type.as_deref())
                ),
                origin: serde_json::json!({
                    "page": number,
                    "url": shown,
                    "status": response.status.as_u16(),
                    "content_type": response.content_type,
                    "size": response.body.len(),
                }),
                bytes: response.body,
            });
            match next {
                None => break,
                Some(_) if files.len() >= self.spec.max_pages => bail!(
                    "{} has more than max_pages ({}) pages; raise max_pages if this is expected",
                    env.redact(request.shown.as_str()),
                    self.spec.max_pages
                ),
                Some(next) => request = next,
            }
        }
        Ok(Fetch::Ready(files))
    }
}

/// Where pagination is.
#[derive(Default)]
struct PageState {
    /// The current page number or offset, once past the first page.
    counter: Option<u64>,
    /// Cursors and URLs already followed, to stop a loop.
    seen: Vec<String>,
}

#[derive(Clone)]
struct Request {
    url: Url,
    /// The same URL with every `${…}` value as `***`.
    shown: Url,
    headers: HeaderMap,
    /// Headers whose values came from the environment: never sent to
    /// another origin than the configured one.
    secret_headers: Vec<HeaderName>,
    body: Option<String>,
}

impl Request {
    fn set_param(&mut self, name: &str, value: &str) {
        set_param(&mut self.url, name, value);
        set_param(&mut self.shown, name, value);
    }

    /// The request for a URL the server gave (absolute or relative).
    fn follow(&self, link: &str, state: &mut PageState) -> Result<Request> {
        let url = self
            .url
            .join(link)
            .map_err(|e| anyhow!("the next page's URL `{link}` is not a URL ({e})"))?;
        if url == self.url || state.seen.iter().any(|s| s == url.as_str()) {
            bail!("the API links to a page already fetched; stopping instead of looping");
        }
        state.seen.push(url.as_str().to_owned());
        let mut headers = self.headers.clone();
        if url.origin() != self.url.origin() {
            for name in &self.secret_headers {
                headers.remove(name);
            }
        }
        let shown = self.shown.join(link).unwrap_or_else(|_| url.clone());
        Ok(Request {
            url,
            shown,
            headers,
            secret_headers: self.secret_headers.clone(),
            body: self.body.clone(),
        })
    }
}

fn set_param(url: &mut Url, name: &str, value: &str) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut pairs = url.query_pairs_mut();
    pairs.clear();
    for (k, v) in &kept {
        pairs.append_pair(k, v);
    }
    pairs.append_pair(name, value);
}

struct Response {
    status: StatusCode,
    content_type: Option<String>,
    body: Bytes,
    link_next: Option<String>,
}

/// Why an attempt failed, and whether trying again may help.
struct Failure {
    message: String,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn retry(message: String) -> Failure {
        Failure {
            message,
            retry: true,
            retry_after: None,
        }
    }

    fn fatal(message: String) -> Failure {
        Failure {
            message,
            retry: false,
            retry_after: None,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Failure {
        let retry = !(e.is_builder() || e.is_redirect());
        Failure {
            message: describe(e),
            retry,
            retry_after: None,
        }
    }
}

/// A reqwest error without its URL (which may hold a secret).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "timed out: "
    } else if e.is_connect() {
        "cannot connect: "
    } else {
        ""
    };
    format!("{what}{:#}", anyhow::Error::from(e))
}

/// The values that came from the environment, and how to hide them.
struct Redactor {
    values: HashMap<String, String>,
    /// Each secret as written and as it looks in a URL, longest first.
    hidden: Vec<String>,
}

impl Redactor {
    fn new(values: HashMap<String, String>) -> Redactor {
        let mut hidden: Vec<String> = Vec::new();
        for v in values.values().filter(|v| !v.is_empty()) {
            let form: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            for variant in [v.clone(), form.replace('+', "%20"), form] {
                if !hidden.contains(&variant) {
                    hidden.push(variant);
                }
            }
        }
        hidden.sort_by_key(|h| std::cmp::Reverse(h.len()));
        Redactor { values, hidden }
    }

    fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for h in &self.hidden {
            if out.contains(h.as_str()) {
                out = out.replace(h.as_str(), "***");
            }
        }
        out
    }
}

/// The wait before try `attempt + 1`: `base`, doubled per try, capped, with
/// jitter (between half and all of it).
fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt - 1).min(20)).min(cap);
    exp.mul_f64(0.5 + 0.5 * random_fraction())
}

/// A number in [0, 1), different on every call.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or_default())
}

/// The `rel="next"` target of a `Link` header, if any.
fn link_next(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // The parameters run to the next link (a `,` outside quotes).
        let mut end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = &rest[end..];
        let is_next = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim().to_owned());
        }
    }
}

/// The file extension for a content type (default `json`).
fn extension(content_type: Option<&str>) -> &'static str {
    let Some(ct) = content_type else {
        return "json";
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => "jsonl",
        "text/csv" => "csv",
        "text/tab-separated-values" => "tsv",
        "text/plain" => "txt",
        "text/html" => "html",
        "application/xml" | "text/xml" => "xml",
        "application/octet-stream" => "bin",
        "application/vnd.apache.parquet" | "application/parquet" => "parquet",
        "application/gzip" => "gz",
        e if e.ends_with("+xml") => "xml",
        _ => "json",
    }
}

/// The first bytes of a body, for a message, on one line.
fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(ERROR_SNIPPET_BYTES)];
    let text: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim().to_owned();
    if body.len() > ERROR_SNIPPET_BYTES {
        format!("{text}…")
    } else {
        text
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            link_next(r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next""#),
            Some("https://a/x?page=3".into())
        );
        assert_eq!(
            link_next(r#"</x?a=1,2>; title="a, b"; rel="next last""#),
            Some("/x?a=1,2".into())
        );
        assert_eq!(link_next(r#"<https://a/x?page=9>; rel="last""#), None);
    }

    #[test]
    fn secrets_are_redacted_as_written_and_as_encoded() {
        let r = Redactor::new([("T".to_string(), "a b&c".to_string())].into());
        assert_eq!(
            r.redact("x a b&c y a+b%26c z a%20b%26c"),
            "x *** y *** z ***"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for attempt in 1..10 {
            let d = backoff(base, cap, attempt);
            let full = (base * 2u32.pow(attempt - 1)).min(cap);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn extensions_follow_the_content_type() {
        assert_eq!(extension(None), "json");
        assert_eq!(extension(Some("application/json; charset=utf-8")), "json");
        assert_eq!(extension(Some("text/csv")), "csv");
        assert_eq!(extension(Some("application/vnd.api+json")), "json");
    }
}
