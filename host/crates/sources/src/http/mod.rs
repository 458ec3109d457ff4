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

mod exchange;
mod pages;
mod request;
mod retry;

use std::sync::Mutex;

use anyhow::{Result, anyhow, bail};
use tokio::sync::Semaphore;
use url::Url;

use strata_core::config::{CompiledHttp, HttpSpec};
use strata_core::period::Period;
use strata_core::secrets::Redactor;

use self::pages::PageState;
use super::{Fetch, FetchedFile, Source};

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
        let names = self
            .compiled
            .env
            .iter()
            .map(|(n, p)| (n.as_str(), p.as_str()));
        Redactor::from_env(names).map_err(|e| anyhow!(e))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_the_content_type() {
        assert_eq!(extension(None), "json");
        assert_eq!(extension(Some("application/json; charset=utf-8")), "json");
        assert_eq!(extension(Some("text/csv")), "csv");
        assert_eq!(extension(Some("application/vnd.api+json")), "json");
    }
}
