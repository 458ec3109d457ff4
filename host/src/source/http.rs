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
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use bytes::{Bytes, BytesMut};
use chrono::format::{Item, StrftimeItems};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LINK, RETRY_AFTER, USER_AGENT,
};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use super::{Fetch, FetchedFile, Source};
use crate::config::parse_duration;
use crate::period::{Granularity, Period};

/// How much of an error response's body is kept for the message.
const ERROR_SNIPPET_BYTES: usize = 200;
/// How much of an error response's body is read at all.
const ERROR_BODY_BYTES: usize = 4096;

/// `source = { kind = "http", url = "…", … }`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// The URL of the first page, a template (`https://api/x?day={date}`).
    pub url: String,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: Method,
    /// Query parameters added to the URL, in order; values are templates.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub query: Pairs,
    /// Request headers; values are templates (`Bearer ${API_TOKEN}`).
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub headers: Pairs,
    /// The request body of a POST, a template. Sent as
    /// `Content-Type: application/json` unless `headers` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How to get the next page; without it a period is one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Fetch the last N complete periods again on every run.
    #[serde(default)]
    pub refetch_recent: usize,
    /// Time to establish a connection.
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: Dur,
    /// Time for one whole request, the body included.
    #[serde(default = "defaults::timeout")]
    pub timeout: Dur,
    /// Tries per request, the first included.
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    /// The wait before the second try; doubled for each further one.
    #[serde(default = "defaults::backoff")]
    pub backoff: Dur,
    /// The longest wait between tries; a `Retry-After` longer than this
    /// fails the request instead.
    #[serde(default = "defaults::max_backoff")]
    pub max_backoff: Dur,
    /// Requests in flight at once, across all partitions of the dataset.
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    /// Requests per second, across all partitions of the dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
    /// The largest response body accepted (`"64MiB"` or a number of bytes).
    #[serde(default = "defaults::max_response_bytes")]
    pub max_response_bytes: Size,
    /// The most pages one period may have.
    #[serde(default = "defaults::max_pages")]
    pub max_pages: usize,
}

mod defaults {
    use super::{Dur, Size};
    use std::time::Duration;

    pub fn connect_timeout() -> Dur {
        Dur(Duration::from_secs(10))
    }
    pub fn timeout() -> Dur {
        Dur(Duration::from_secs(60))
    }
    pub fn max_attempts() -> u32 {
        5
    }
    pub fn backoff() -> Dur {
        Dur(Duration::from_millis(500))
    }
    pub fn max_backoff() -> Dur {
        Dur(Duration::from_secs(60))
    }
    pub fn concurrency() -> usize {
        4
    }
    pub fn max_response_bytes() -> Size {
        Size(64 << 20)
    }
    pub fn max_pages() -> usize {
        1000
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Method {
    #[default]
    #[serde(rename = "GET", alias = "get")]
    Get,
    #[serde(rename = "POST", alias = "post")]
    Post,
}

/// How the next page of a period is found.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pagination {
    /// The body holds a cursor (JSON pointer `pointer`); the next page is
    /// the same request with query parameter `param` set to it. No cursor
    /// (missing, null or "") ends the period.
    Cursor { pointer: String, param: String },
    /// The body holds the next page's URL (absolute or relative) at
    /// `pointer`; none ends the period.
    NextUrl { pointer: String },
    /// The `Link` header's `rel="next"` URL; none ends the period.
    LinkHeader {},
    /// Query parameter `param` counts pages from `start` (default 1) until a
    /// page whose records (JSON pointer `records_pointer`, default: the body
    /// itself) are empty or missing. That empty page is stored too.
    Page {
        param: String,
        #[serde(default = "one")]
        start: u64,
        #[serde(default)]
        records_pointer: String,
    },
    /// Query parameter `param` is a record offset from `start` (default 0),
    /// advanced by the number of records of each page, until an empty page.
    Offset {
        param: String,
        #[serde(default)]
        start: u64,
        #[serde(default)]
        records_pointer: String,
    },
}

fn one() -> u64 {
    1
}

impl Pagination {
    fn style(&self) -> &'static str {
        match self {
            Pagination::Cursor { .. } => "cursor",
            Pagination::NextUrl { .. } => "next_url",
            Pagination::LinkHeader {} => "link_header",
            Pagination::Page { .. } => "page",
            Pagination::Offset { .. } => "offset",
        }
    }
}

// ---- small config types --------------------------------------------------

/// A table of name → text, in the order written. Values may be strings,
/// numbers or booleans (`latitude = 52.52`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of names to strings, e.g. { day = \"{date}\" }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Text>()? {
                    pairs.push((name, value.0));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor)
    }
}

impl Serialize for Pairs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A string, number or bool, as text.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number or a bool")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A duration written as `"500ms"`, `"10s"`, `"2m"`, `"1h"` or `"1m30s"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(Dur).map_err(de::Error::custom)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&human(self.0))
    }
}

/// A duration as written in the config.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A size: `"64MiB"` or a number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"64MiB\" or a number of bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                crate::config::parse_size(v).map(Size).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

// ---- templates ----------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Period(Token),
    Env(String),
}

/// A period placeholder.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// `{date}` or `{period}`: the period's label.
    Label,
    /// `{start}`, `{start:%F}`, `{%Y%m%d}`: its start, RFC 3339 or formatted.
    Start(Option<String>),
    /// `{end}`, `{end:%F}`: its (exclusive) end.
    End(Option<String>),
}

impl Token {
    /// The placeholder `{inner}` names, if it is one. Anything else in
    /// braces (JSON in a body, say) is text.
    fn parse(inner: &str) -> Result<Option<Token>, String> {
        let format = |f: &str| -> Result<Option<String>, String> {
            if f.is_empty() || StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
                return Err(format!("`{{{inner}}}` is not a valid strftime format"));
            }
            Ok(Some(f.to_owned()))
        };
        Ok(Some(match inner {
            "date" | "period" => Token::Label,
            "start" => Token::Start(None),
            "end" => Token::End(None),
            f if f.starts_with('%') => Token::Start(format(f)?),
            _ => {
                if let Some(f) = inner.strip_prefix("start:") {
                    Token::Start(format(f)?)
                } else if let Some(f) = inner.strip_prefix("end:") {
                    Token::End(format(f)?)
                } else {
                    return Ok(None);
                }
            }
        }))
    }

    fn render(&self, period: &Period) -> String {
        match self {
            Token::Label => period.label(),
            Token::Start(None) => period.rfc3339_start(),
            Token::End(None) => period.rfc3339_end(),
            Token::Start(Some(f)) => period.start().format(f).to_string(),
            Token::End(Some(f)) => period.end().format(f).to_string(),
        }
    }
}

/// A text with period placeholders and environment variables.
#[derive(Debug, Clone, PartialEq)]
struct Template(Vec<Piece>);

/// What `${NAME}` becomes when a template is rendered.
enum EnvMode<'a> {
    /// The variable's value.
    Resolve(&'a HashMap<String, String>),
    /// `***`, for showing.
    Redact,
}

impl Template {
    fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if let Some(after) = rest.strip_prefix("${") {
                let close = after.find('}').ok_or_else(|| {
                    format!("`${{` without a closing `}}` in `{text}`: write ${{NAME}}")
                })?;
                let name = &after[..close];
                if !valid_env_name(name) {
                    return Err(format!(
                        "`${{{name}}}` in `{text}` is not an environment variable name: use letters, digits and `_`"
                    ));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Env(name.to_owned()));
                i += 2 + close + 1;
                continue;
            }
            if let Some(after) = rest.strip_prefix('{')
                && let Some(close) = after.find('}')
                && !after[..close].contains('{')
                && let Some(token) = Token::parse(&after[..close])?
            {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Period(token));
                i += 1 + close + 1;
                continue;
            }
            let c = rest.chars().next().expect("not at the end");
            literal.push(c);
            i += c.len_utf8();
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template(pieces))
    }

    fn mentions_period(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Period(_)))
    }

    fn env_names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Env(name) => Some(name.as_str()),
            _ => None,
        })
    }

    fn render(&self, period: &Period, env: &EnvMode) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Period(token) => out.push_str(&token.render(period)),
                Piece::Env(name) => match env {
                    EnvMode::Resolve(values) => {
                        out.push_str(values.get(name).map(String::as_str).unwrap_or_default())
                    }
                    EnvMode::Redact => out.push_str("***"),
                },
            }
        }
        out
    }
}

fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The spec with its templates parsed and checked.
#[derive(Debug, Clone)]
struct Compiled {
    url: Template,
    query: Vec<(String, Template)>,
    headers: Vec<(HeaderName, Template)>,
    body: Option<Template>,
    /// Every environment variable read, with where (for messages).
    env: Vec<(String, String)>,
}

impl HttpSpec {
    /// Checks what can be checked without fetching.
    pub fn validate(&self) -> Result<(), String> {
        self.compile().map(|_| ())
    }

    /// What identifies the source in a raw manifest's key: what is asked
    /// for, not how patiently (timeouts and limits are left out).
    pub fn identity(&self) -> Value {
        serde_json::json!({
            "kind": "http",
            "url": self.url,
            "method": self.method,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "pagination": self.pagination,
        })
    }

    fn compile(&self) -> Result<Compiled, String> {
        let url = Template::parse(&self.url).map_err(|e| format!("url: {e}"))?;
        let query = self
            .query
            .0
            .iter()
            .map(|(k, v)| {
                Template::parse(v)
                    .map(|t| (k.clone(), t))
                    .map_err(|e| format!("query.{k}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut headers = Vec::new();
        for (k, v) in &self.headers.0 {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("headers: `{k}` is not a valid header name"))?;
            let template = Template::parse(v).map_err(|e| format!("headers.{k}: {e}"))?;
            headers.push((name, template));
        }
        let body = self
            .body
            .as_deref()
            .map(Template::parse)
            .transpose()
            .map_err(|e| format!("body: {e}"))?;
        if body.is_some() && self.method != Method::Post {
            return Err(
                "a `body` is sent with method = \"POST\" only: add it, or drop the body".into(),
            );
        }
        let mut env = Vec::new();
        let mut note = |t: &Template, place: String| {
            for name in t.env_names() {
                if !env.iter().any(|(n, _)| n == name) {
                    env.push((name.to_owned(), place.clone()));
                }
            }
        };
        note(&url, "url".into());
        for (k, t) in &query {
            note(t, format!("query.{k}"));
        }
        for (k, t) in &headers {
            note(t, format!("headers.{k}"));
        }
        if let Some(b) = &body {
            note(b, "body".into());
        }

        // The URL as it will be requested, with stand-ins.
        let sample = Period::parse(Granularity::Day, "2025-01-01").expect("a valid day");
        let stand_ins: HashMap<String, String> =
            env.iter().map(|(n, _)| (n.clone(), "x".into())).collect();
        let rendered = url.render(&sample, &EnvMode::Resolve(&stand_ins));
        let parsed = Url::parse(&rendered).map_err(|e| {
            format!(
                "url `{}` is not a URL ({e}): write e.g. \"https://api.example.com/v1/items?day={{date}}\"",
                self.url
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "url `{}` must start with http:// or https:// and name a host",
                self.url
            ));
        }
        for (name, template) in &headers {
            HeaderValue::from_str(&template.render(&sample, &EnvMode::Resolve(&stand_ins)))
                .map_err(|_| format!("headers.{name}: not a valid header value"))?;
        }
        let mentions = url.mentions_period()
            || query.iter().any(|(_, t)| t.mentions_period())
            || headers.iter().any(|(_, t)| t.mentions_period())
            || body.as_ref().is_some_and(Template::mentions_period);
        if !mentions {
            return Err(format!(
                "the request for `{}` does not mention the period, so every period would fetch the same thing: \
                 add {{date}} (or {{start}}, {{end}}, {{%Y%m%d}}) to the url, a query value or the body",
                self.url
            ));
        }

        if self.max_attempts == 0 {
            return Err("max_attempts must be at least 1".into());
        }
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        if self.max_pages == 0 {
            return Err("max_pages must be at least 1".into());
        }
        if self.timeout.0.is_zero() || self.connect_timeout.0.is_zero() {
            return Err("timeout and connect_timeout must be more than 0".into());
        }
        if self.max_response_bytes.0 == 0 {
            return Err("max_response_bytes must be more than 0".into());
        }
        if let Some(rate) = self.rate_limit
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(format!(
                "rate_limit = {rate}: write a number of requests per second above 0, e.g. 5 or 0.5"
            ));
        }
        match &self.pagination {
            None | Some(Pagination::LinkHeader {}) => {}
            Some(Pagination::Cursor { pointer, param }) => {
                check_pointer("pointer", pointer, false)?;
                check_param(param)?;
            }
            Some(Pagination::NextUrl { pointer }) => check_pointer("pointer", pointer, false)?,
            Some(Pagination::Page {
                param,
                records_pointer,
                ..
            })
            | Some(Pagination::Offset {
                param,
                records_pointer,
                ..
            }) => {
                check_param(param)?;
                check_pointer("records_pointer", records_pointer, true)?;
            }
        }
        Ok(Compiled {
            url,
            query,
            headers,
            body,
            env,
        })
    }
}

fn check_pointer(key: &str, pointer: &str, may_be_empty: bool) -> Result<(), String> {
    if (pointer.is_empty() && may_be_empty) || pointer.starts_with('/') {
        return Ok(());
    }
    Err(format!(
        "pagination {key} `{pointer}` is not a JSON pointer: write e.g. \"/next_cursor\" or \"/meta/next\""
    ))
}

fn check_param(param: &str) -> Result<(), String> {
    if param.is_empty() {
        return Err("pagination param is empty: name the query parameter, e.g. \"page\"".into());
    }
    Ok(())
}

// ---- the source -----------------------------------------------------------

pub struct HttpSource {
    spec: HttpSpec,
    compiled: Compiled,
    client: reqwest::Client,
    /// Requests in flight, across partitions.
    permits: Semaphore,
    /// The earliest time the next request may start (rate limit).
    next_slot: Mutex<tokio::time::Instant>,
    /// A header other than Authorization holds a `${…}` value.
    secret_in_custom_header: bool,
}

impl HttpSource {
    pub fn new(spec: &HttpSpec) -> Result<Self> {
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

    fn day(label: &str) -> Period {
        Period::parse(Granularity::Day, label).unwrap()
    }

    fn spec(toml_text: &str) -> Result<HttpSpec, String> {
        toml::from_str::<HttpSpec>(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn templates_name_the_period_and_the_environment() {
        let p = day("2025-02-18");
        let t = Template::parse("a/{date}/{%Y%m%d}?s={start}&e={end}&f={end:%F}&k=${KEY}").unwrap();
        let env: HashMap<String, String> = [("KEY".to_string(), "s3cr3t".to_string())].into();
        assert_eq!(
            t.render(&p, &EnvMode::Resolve(&env)),
            "a/2025-02-18/20250218?s=2025-02-18T00:00:00Z&e=2025-02-19T00:00:00Z&f=2025-02-19&k=s3cr3t"
        );
        assert_eq!(
            t.render(&p, &EnvMode::Redact),
            "a/2025-02-18/20250218?s=2025-02-18T00:00:00Z&e=2025-02-19T00:00:00Z&f=2025-02-19&k=***"
        );
        // JSON braces are text; placeholders inside it are still found.
        let body = Template::parse(r#"{"from": "{start}", "n": {"x": 1}}"#).unwrap();
        assert_eq!(
            body.render(&p, &EnvMode::Redact),
            r#"{"from": "2025-02-18T00:00:00Z", "n": {"x": 1}}"#
        );
        assert!(Template::parse("${1X}").is_err());
        assert!(Template::parse("${KEY").is_err());
        assert!(Template::parse("{%Q}").is_err());
        assert!(!Template::parse("{dat}").unwrap().mentions_period());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("1 s").is_err());
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
        assert_eq!(human(Duration::from_secs(10)), "10s");
    }

    #[test]
    fn specs_are_checked() {
        let ok = spec(
            r#"url = "https://api.example.com/x"
               query = { day = "{date}", lat = 52.5, n = 3 }
               headers = { Authorization = "Bearer ${TOKEN}" }
               pagination = { style = "page", param = "page" }
               timeout = "250ms"
               max_response_bytes = "1KiB""#,
        )
        .unwrap();
        ok.validate().unwrap();
        assert_eq!(ok.query.0[1], ("lat".into(), "52.5".into()));
        assert_eq!(ok.max_response_bytes, Size(1024));
        assert!(matches!(
            ok.pagination,
            Some(Pagination::Page { start: 1, .. })
        ));

        let unknown = spec(
            r#"url = "https://x/{date}"
timout = "1s""#,
        )
        .unwrap_err();
        assert!(unknown.contains("timout"), "{unknown}");
        let style = spec(
            r#"url = "https://x/{date}"
               pagination = { style = "pages", param = "p" }"#,
        )
        .unwrap_err();
        assert!(
            style.contains("pages") && style.contains("cursor"),
            "{style}"
        );
        let extra = spec(
            r#"url = "https://x/{date}"
               pagination = { style = "link_header", pointer = "/x" }"#,
        )
        .unwrap_err();
        assert!(extra.contains("pointer"), "{extra}");

        let err = |t: &str| spec(t).unwrap().validate().unwrap_err();
        assert!(err(r#"url = "ftp://x/{date}""#).contains("http"));
        assert!(err(r#"url = "https://x/y""#).contains("period"));
        assert!(
            err(r#"url = "https://x/{date}"
            body = "{}""#)
            .contains("POST")
        );
        assert!(
            err(r#"url = "https://x/{date}"
            pagination = { style = "cursor", pointer = "next", param = "c" }"#)
            .contains("JSON pointer")
        );
        // The period may be in a query value or the body instead.
        spec(
            r#"url = "https://x/y"
            method = "POST"
            body = '{"day": "{date}"}'"#,
        )
        .unwrap()
        .validate()
        .unwrap();
    }

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
