//! The `http` source's settings (`source = { kind = "http", … }`) and
//! their checks: everything about a REST source that can be known without
//! fetching. The fetching is in the sources crate.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use http::{HeaderName, HeaderValue};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::period::{Granularity, Period};
use crate::template::{EnvMode, Template};
use crate::units::{Dur, Size};

/// `source = { kind = "http", url = "…", … }`: a REST API called once per
/// period (or once per page); every response is stored as it came. `url`,
/// `query` and `headers` values and `body` are templates: `{date}`,
/// `{start}`, `{end}`, `{%Y%m%d}` name the period, `${NAME}` reads a secret
/// from the environment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// The URL of the first page, a template, e.g.
    /// `"https://api.example.com/v1/orders?day={date}"`.
    pub url: String,
    /// `"GET"` (the default) or `"POST"`.
    #[serde(default)]
    pub method: Method,
    /// Query parameters added to the URL, in name order; values are
    /// templates, e.g. `{ from = "{start}", to = "{end}" }`.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub query: Pairs,
    /// Request headers; values are templates, e.g. `{ Authorization =
    /// "Bearer ${API_TOKEN}" }`.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub headers: Pairs,
    /// The request body of a POST, a template, e.g. `'{"day": "{date}"}'`.
    /// Sent as `Content-Type: application/json` unless `headers` says
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How to get the next page; without it a period is one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Fetch the last N complete periods again on every run, for APIs that
    /// correct recent data; a refetch is committed only if the bytes
    /// changed. Default 0.
    #[serde(default)]
    pub refetch_recent: usize,
    /// Time to establish a connection. Default `"10s"`.
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: Dur,
    /// Time for one whole request, the body included. Default `"60s"`.
    #[serde(default = "defaults::timeout")]
    pub timeout: Dur,
    /// Tries per request, the first included; connection errors,
    /// timeouts, 5xx and 429 are retried. Default 5.
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    /// The wait before the second try; doubled for each further one, with
    /// jitter. Default `"500ms"`.
    #[serde(default = "defaults::backoff")]
    pub backoff: Dur,
    /// The longest wait between tries; a `Retry-After` longer than this
    /// fails the request instead. Default `"60s"`.
    #[serde(default = "defaults::max_backoff")]
    pub max_backoff: Dur,
    /// Requests in flight at once, across all partitions of the dataset.
    /// Default 4.
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    /// Requests per second, across all partitions of the dataset, e.g. 5
    /// or 0.5. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
    /// The largest response body accepted (`"64MiB"` or a number of
    /// bytes); a larger one fails the period. Default `"64MiB"`.
    #[serde(default = "defaults::max_response_bytes")]
    pub max_response_bytes: Size,
    /// The most pages one period may have; more fail the period. Default
    /// 1000.
    #[serde(default = "defaults::max_pages")]
    pub max_pages: usize,
}

mod defaults {
    use super::{Dur, Size};
    use std::time::Duration;

    pub(super) fn connect_timeout() -> Dur {
        Dur(Duration::from_secs(10))
    }
    pub(super) fn timeout() -> Dur {
        Dur(Duration::from_secs(60))
    }
    pub(super) fn max_attempts() -> u32 {
        5
    }
    pub(super) fn backoff() -> Dur {
        Dur(Duration::from_millis(500))
    }
    pub(super) fn max_backoff() -> Dur {
        Dur(Duration::from_secs(60))
    }
    pub(super) fn concurrency() -> usize {
        4
    }
    pub(super) fn max_response_bytes() -> Size {
        Size(64 << 20)
    }
    pub(super) fn max_pages() -> usize {
        1000
    }
}

/// The HTTP method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Method {
    /// `GET` (the default; `get` is accepted too).
    #[default]
    #[serde(rename = "GET", alias = "get")]
    Get,
    /// `POST`, with `body` (`post` is accepted too).
    #[serde(rename = "POST", alias = "post")]
    Post,
}

/// How the next page of a period is found (`style`); a repeated cursor or
/// URL, or more than `max_pages` pages, fails the period.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pagination {
    /// The body holds a cursor (JSON pointer `pointer`); the next page is
    /// the same request with query parameter `param` set to it. No cursor
    /// (missing, null or "") ends the period.
    Cursor {
        /// The JSON pointer of the next cursor in the body, e.g.
        /// `"/next_cursor"`.
        pointer: String,
        /// The query parameter the cursor is sent as, e.g. `"cursor"`.
        param: String,
    },
    /// The body holds the next page's URL (absolute or relative) at
    /// `pointer`; none ends the period.
    NextUrl {
        /// The JSON pointer of the next page's URL in the body, e.g.
        /// `"/links/next"`.
        pointer: String,
    },
    /// The `Link` header's `rel="next"` URL; none ends the period.
    LinkHeader {},
    /// Query parameter `param` counts pages from `start` (default 1) until a
    /// page whose records (JSON pointer `records_pointer`, default: the body
    /// itself) are empty or missing. That empty page is stored too.
    Page {
        /// The query parameter holding the page number, e.g. `"page"`.
        param: String,
        /// The first page's number. Default 1.
        #[serde(default = "one")]
        start: u64,
        /// The JSON pointer of the page's records, e.g. `"/data"`.
        /// Default `""`: the body itself.
        #[serde(default)]
        records_pointer: String,
    },
    /// Query parameter `param` is a record offset from `start` (default 0),
    /// advanced by the number of records of each page, until an empty page.
    Offset {
        /// The query parameter holding the offset, e.g. `"offset"`.
        param: String,
        /// The first page's offset. Default 0.
        #[serde(default)]
        start: u64,
        /// The JSON pointer of the page's records, e.g. `"/data"`.
        /// Default `""`: the body itself.
        #[serde(default)]
        records_pointer: String,
    },
}

fn one() -> u64 {
    1
}

impl Pagination {
    pub fn style(&self) -> &'static str {
        match self {
            Pagination::Cursor { .. } => "cursor",
            Pagination::NextUrl { .. } => "next_url",
            Pagination::LinkHeader {} => "link_header",
            Pagination::Page { .. } => "page",
            Pagination::Offset { .. } => "offset",
        }
    }
}

/// A table of name → text, in the order written. Values may be strings,
/// numbers or booleans (`latitude = 52.52`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl JsonSchema for Pairs {
    fn schema_name() -> Cow<'static, str> {
        "Pairs".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "Names to values: strings (templates), numbers or booleans.",
            "additionalProperties": { "type": ["string", "number", "boolean"] }
        })
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

/// The spec with its templates parsed and checked.
#[derive(Debug, Clone)]
pub struct CompiledHttp {
    pub url: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: Option<Template>,
    /// Every environment variable read, with where (for messages).
    pub env: Vec<(String, String)>,
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

    /// The spec with its templates parsed, every check passed.
    pub fn compile(&self) -> Result<CompiledHttp, String> {
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
        Ok(CompiledHttp {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> Result<HttpSpec, String> {
        toml::from_str::<HttpSpec>(toml_text).map_err(|e| e.to_string())
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
}
