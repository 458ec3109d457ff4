//! One attempt at a request: the status, the headers that matter and the
//! body (bounded), or a failure that says whether trying again may help.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LINK, RETRY_AFTER};

use strata_core::config::Method;

use super::HttpSource;
use super::pages::link_next;
use super::request::Request;
use super::retry::parse_retry_after;

/// How much of an error response's body is kept for the message.
const ERROR_SNIPPET_BYTES: usize = 200;
/// How much of an error response's body is read at all.
const ERROR_BODY_BYTES: usize = 4096;

impl HttpSource {
    /// One attempt: the status, the headers that matter and the body.
    pub(super) async fn exchange(&self, request: &Request) -> Result<Response, Failure> {
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
}

pub(super) struct Response {
    pub(super) status: StatusCode,
    pub(super) content_type: Option<String>,
    pub(super) body: Bytes,
    pub(super) link_next: Option<String>,
}

/// Why an attempt failed, and whether trying again may help.
pub(super) struct Failure {
    pub(super) message: String,
    pub(super) retry: bool,
    pub(super) retry_after: Option<Duration>,
}

impl Failure {
    pub(super) fn retry(message: String) -> Failure {
        Failure {
            message,
            retry: true,
            retry_after: None,
        }
    }

    pub(super) fn fatal(message: String) -> Failure {
        Failure {
            message,
            retry: false,
            retry_after: None,
        }
    }

    pub(super) fn from_reqwest(e: reqwest::Error) -> Failure {
        let retry = !(e.is_builder() || e.is_redirect());
        Failure {
            message: describe(e),
            retry,
            retry_after: None,
        }
    }
}

/// A reqwest error without its URL (which may hold a secret).
pub(super) fn describe(e: reqwest::Error) -> String {
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

/// The first bytes of a body, for a message, on one line.
pub(super) fn snippet(body: &[u8]) -> String {
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
