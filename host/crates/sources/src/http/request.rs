//! Requests: the first page's from the spec's templates (secrets resolved
//! for sending, redacted for showing), and the ones the API links to.

use anyhow::{Result, anyhow, bail};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use url::Url;

use strata_core::config::Pagination;
use strata_core::period::Period;
use strata_core::secrets::Redactor;
use strata_core::template::EnvMode;

use super::HttpSource;
use super::pages::PageState;

impl HttpSource {
    /// The request for the first page of a period.
    pub(super) fn first_request(&self, period: &Period, env: &Redactor) -> Result<Request> {
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
}

#[derive(Clone)]
pub(super) struct Request {
    pub(super) url: Url,
    /// The same URL with every `${…}` value as `***`.
    pub(super) shown: Url,
    pub(super) headers: HeaderMap,
    /// Headers whose values came from the environment: never sent to
    /// another origin than the configured one.
    pub(super) secret_headers: Vec<HeaderName>,
    pub(super) body: Option<String>,
}

impl Request {
    pub(super) fn set_param(&mut self, name: &str, value: &str) {
        set_param(&mut self.url, name, value);
        set_param(&mut self.shown, name, value);
    }

    /// The request for a URL the server gave (absolute or relative).
    pub(super) fn follow(&self, link: &str, state: &mut PageState) -> Result<Request> {
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

pub(super) fn set_param(url: &mut Url, name: &str, value: &str) {
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
