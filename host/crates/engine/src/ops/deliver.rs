//! Delivery of a JSON message to an HTTP endpoint (a webhook, Slack, an
//! OpenLineage server): retried with backoff while the failure is
//! transient, bounded in attempts and time, and never an error for the
//! caller. What happened is returned as a [`Delivery`] for the run record,
//! and logged; the endpoint's secrets are `***` in both.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use strata_core::config::Endpoint;
use strata_core::secrets::Redactor;
use strata_core::template::EnvMode;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Where it went, secrets as `***` (or the file it was appended to).
    pub endpoint: String,
    /// What it was: `failure`, `recovery`, `warning`, `run`, or a lineage
    /// event such as `START silver/transactions`.
    pub message: String,
    pub delivered: bool,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// The last HTTP status received, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it was not delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An HTTP client for the run's outbound messages.
#[derive(Clone)]
pub(crate) struct Poster {
    client: reqwest::Client,
}

impl Poster {
    pub(crate) fn new() -> Poster {
        // No redirects: a webhook that moved is a configuration to fix, and
        // following one could carry a secret elsewhere.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Poster { client }
    }

    /// POSTs `body` (JSON) to the endpoint's URL followed by `path`.
    pub(crate) async fn post(
        &self,
        endpoint: &Endpoint,
        path: &str,
        body: &serde_json::Value,
        message: &str,
    ) -> Delivery {
        // `{url}/api/v1/lineage` whether or not the URL ends with a slash.
        let join = |base: &str| {
            if path.is_empty() {
                base.to_owned()
            } else {
                format!("{}{path}", base.trim_end_matches('/'))
            }
        };
        let shown = join(&endpoint.shown());
        let mut delivery = Delivery {
            endpoint: shown.clone(),
            message: message.to_owned(),
            delivered: false,
            attempts: 0,
            status: None,
            error: None,
        };
        let names = endpoint
            .env
            .iter()
            .map(|n| (n.as_str(), "the endpoint's url"));
        let secrets = match Redactor::from_env(names) {
            Ok(r) => r,
            Err(e) => {
                delivery.error = Some(e);
                log_undelivered(&delivery);
                return delivery;
            }
        };
        let url = endpoint
            .url
            .render_without_period(&EnvMode::Resolve(&secrets.values))
            .map(|u| join(&u))
            .unwrap_or_default();
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let mut wait = endpoint.backoff;
        loop {
            delivery.attempts += 1;
            let sent = self
                .client
                .post(&url)
                .timeout(endpoint.timeout)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone())
                .send()
                .await;
            let transient = match sent {
                Ok(response) => {
                    let status = response.status();
                    delivery.status = Some(status.as_u16());
                    // Read the body so the connection is reused, within the timeout.
                    let text = tokio::time::timeout(endpoint.timeout, response.text())
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or_default();
                    if status.is_success() {
                        delivery.delivered = true;
                        delivery.error = None;
                        tracing::debug!("{message} delivered to {shown}");
                        return delivery;
                    }
                    let excerpt: String = text.chars().take(200).collect();
                    delivery.error = Some(secrets.redact(&format!(
                        "HTTP {status}{}",
                        if excerpt.is_empty() {
                            String::new()
                        } else {
                            format!(": {excerpt}")
                        }
                    )));
                    status.is_server_error() || status.as_u16() == 429
                }
                Err(e) => {
                    delivery.status = None;
                    let kind = if e.is_timeout() {
                        format!("no answer within {:?}", endpoint.timeout)
                    } else if e.is_connect() {
                        "cannot connect".to_owned()
                    } else {
                        "request failed".to_owned()
                    };
                    delivery.error =
                        Some(secrets.redact(&format!("{kind}: {}", error_chain(&e.without_url()))));
                    true
                }
            };
            if !transient || delivery.attempts >= endpoint.max_attempts {
                log_undelivered(&delivery);
                return delivery;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn log_undelivered(delivery: &Delivery) {
    tracing::warn!(
        "{} not delivered to {} after {} attempt(s): {}; the run goes on",
        delivery.message,
        delivery.endpoint,
        delivery.attempts,
        delivery.error.as_deref().unwrap_or("unknown error")
    );
}
