//! Retries: a request sent again while its failure is transient, after an
//! exponential backoff with jitter or the server's `Retry-After`, paced by
//! the source's rate limit.

use std::time::Duration;

use anyhow::{Result, bail};
use reqwest::header::HeaderValue;

use strata_core::config::Method;
use strata_core::secrets::Redactor;
use strata_core::units::human;

use super::HttpSource;
use super::exchange::{Failure, Response};
use super::request::Request;

impl HttpSource {
    /// Waits for a rate-limit slot.
    pub(super) async fn pace(&self) {
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
    pub(super) async fn send(&self, request: &Request, env: &Redactor) -> Result<Response> {
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
}

/// The wait before try `attempt + 1`: `base`, doubled per try, capped, with
/// jitter (between half and all of it).
pub(super) fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt - 1).min(20)).min(cap);
    exp.mul_f64(0.5 + 0.5 * random_fraction())
}

/// A number in [0, 1), different on every call.
pub(super) fn random_fraction() -> f64 {
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
pub(super) fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
