//! `[[notify]]`, `[history]` and `[lineage]`: how a run that nobody watches
//! tells people and tools what it did. As data: sending is the engine's
//! business (`strata_engine::ops`).
//!
//! ```toml
//! [[notify]]
//! kind = "webhook"                   # or "slack"
//! url = "https://hooks.example.com/strata?token=${HOOK_TOKEN}"
//! on = ["failure", "recovery"]       # also "warning" and "run"
//! remind = "24h"                     # tell again about a failure still there
//!
//! [history]
//! keep = "90d"
//!
//! [lineage]
//! url = "http://marquez:5000"        # or file = "lineage.jsonl"
//! ```
//!
//! URLs may read secrets from the environment as `${NAME}`, as the http
//! source does: they are read when a message is sent and shown as `***`
//! everywhere else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::template::{EnvMode, Template};
use crate::units::parse_duration;

/// Everything about a run's reporting that pipeline.toml says.
#[derive(Debug, Clone, Default)]
pub struct Operations {
    /// The `[[notify]]` endpoints, in config order.
    pub notify: Vec<Notify>,
    pub history: History,
    /// Where OpenLineage events go; none without a `[lineage]` table.
    pub lineage: Option<Lineage>,
}

/// How a notification is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    /// One JSON object per message, POSTed.
    Webhook,
    /// Slack's incoming-webhook format (`{"text": …}`).
    Slack,
}

impl NotifyKind {
    pub fn name(self) -> &'static str {
        match self {
            NotifyKind::Webhook => "webhook",
            NotifyKind::Slack => "slack",
        }
    }
}

/// What a notification is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NotifyEvent {
    /// Partitions started failing (or, with `remind`, still fail).
    Failure,
    /// Partitions that were failing are healthy again.
    Recovery,
    /// A check of severity `warn` found something.
    Warning,
    /// Every run, with its counts.
    Run,
}

impl NotifyEvent {
    pub fn name(self) -> &'static str {
        match self {
            NotifyEvent::Failure => "failure",
            NotifyEvent::Recovery => "recovery",
            NotifyEvent::Warning => "warning",
            NotifyEvent::Run => "run",
        }
    }

    fn parse(text: &str) -> Option<NotifyEvent> {
        Some(match text {
            "failure" => NotifyEvent::Failure,
            "recovery" => NotifyEvent::Recovery,
            "warning" => NotifyEvent::Warning,
            "run" => NotifyEvent::Run,
            _ => return None,
        })
    }
}

/// An HTTP endpoint messages are POSTed to, and how hard to try.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL; `${NAME}` is read from the environment when sending.
    pub url: Template,
    /// The URL as written in the config (`${NAME}` unexpanded): it names
    /// the endpoint and holds no secret.
    pub written: String,
    /// The environment variables the URL reads.
    pub env: Vec<String>,
    /// One attempt, connection and body included.
    pub timeout: Duration,
    /// Attempts per message, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt, doubled for each one after.
    pub backoff: Duration,
}

impl Endpoint {
    /// The URL with every secret as `***`: for records, logs and messages.
    pub fn shown(&self) -> String {
        self.url
            .render_without_period(&EnvMode::Redact)
            .unwrap_or_default()
    }
}

/// One `[[notify]]` table.
#[derive(Debug, Clone)]
pub struct Notify {
    pub kind: NotifyKind,
    pub endpoint: Endpoint,
    /// The events this endpoint is told about.
    pub on: Vec<NotifyEvent>,
    /// Tell again about a failure still there this long after last telling.
    pub remind: Option<Duration>,
    /// Line of the table, for messages.
    pub line: usize,
}

impl Notify {
    pub fn wants(&self, event: NotifyEvent) -> bool {
        self.on.contains(&event)
    }
}

/// `[history]`: the run records under `_strata/runs/`.
#[derive(Debug, Clone)]
pub struct History {
    /// Records older than this are deleted at the end of a run.
    pub keep: Duration,
}

impl Default for History {
    fn default() -> Self {
        History {
            keep: Duration::from_secs(90 * 86400),
        }
    }
}

/// `[lineage]`: where OpenLineage run events go.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub target: LineageTarget,
    /// The jobs' namespace [default: the pipeline folder's name].
    pub namespace: Option<String>,
}

#[derive(Debug, Clone)]
pub enum LineageTarget {
    /// The OpenLineage HTTP transport: POST to `{url}/api/v1/lineage`.
    Http(Endpoint),
    /// One JSON event per line, appended to this file.
    File(PathBuf),
}

// ---- the tables as written ------------------------------------------------

/// `[[notify]]`: an endpoint told about failures and recoveries. A
/// message that cannot be delivered is retried and logged; it never fails
/// the run.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    /// How a message is written: `"webhook"` (one JSON object POSTed) or
    /// `"slack"` (Slack's incoming-webhook format).
    #[schemars(with = "NotifyKind")]
    kind: Spanned<String>,
    /// The http:// or https:// URL messages are POSTed to; `${NAME}` is
    /// read from the environment when sending and shown as `***`
    /// everywhere else, e.g. `"https://hooks.example.com/x?token=${HOOK_TOKEN}"`.
    #[schemars(with = "String")]
    url: Spanned<String>,
    /// The events to tell: `"failure"`, `"recovery"`, `"warning"` (a check
    /// of severity warn found something), `"run"` (every run). Default
    /// `["failure", "recovery"]`.
    #[schemars(with = "Option<Vec<NotifyEvent>>")]
    on: Option<Spanned<Vec<String>>>,
    /// Tell again about a failure still there this long after last telling,
    /// a duration such as `"24h"`. Default: tell once.
    #[schemars(with = "Option<String>")]
    remind: Option<Spanned<String>>,
    /// Time for one attempt, a duration. Default `"10s"`.
    #[schemars(with = "Option<String>")]
    timeout: Option<Spanned<String>>,
    /// Attempts per message, the first included (at least 1). Default 3.
    #[schemars(with = "Option<u32>")]
    max_attempts: Option<Spanned<u32>>,
    /// Wait before the second attempt, doubled after each one, a duration.
    /// Default `"1s"`.
    #[schemars(with = "Option<String>")]
    backoff: Option<Spanned<String>>,
}

/// `[history]`: the run records under `_strata/runs/` in the store.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHistory {
    /// Run records older than this are deleted at the end of a run, a
    /// duration such as `"90d"` (the default).
    #[schemars(with = "Option<String>")]
    keep: Option<Spanned<String>>,
}

/// `[lineage]`: where OpenLineage run events go, `url` or `file`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLineage {
    /// The OpenLineage HTTP transport: events are POSTed to
    /// `{url}/api/v1/lineage`, e.g. `"http://marquez:5000"`. `${NAME}`
    /// reads the environment. Not with `file`.
    #[schemars(with = "Option<String>")]
    url: Option<Spanned<String>>,
    /// A file one JSON event per line is appended to, relative to
    /// pipeline.toml's folder, e.g. `"lineage.jsonl"`. Not with `url`.
    #[schemars(with = "Option<String>")]
    file: Option<Spanned<String>>,
    /// The jobs' namespace. Default: the pipeline folder's name.
    #[schemars(with = "Option<String>")]
    namespace: Option<Spanned<String>>,
    /// With `url`: time for one attempt, a duration. Default `"10s"`.
    #[schemars(with = "Option<String>")]
    timeout: Option<Spanned<String>>,
    /// With `url`: attempts per event, the first included. Default 3.
    #[schemars(with = "Option<u32>")]
    max_attempts: Option<Spanned<u32>>,
    /// With `url`: wait before the second attempt, doubled after each
    /// one. Default `"1s"`.
    #[schemars(with = "Option<String>")]
    backoff: Option<Spanned<String>>,
}

/// A config error: its line and what is wrong.
type Error = (usize, String);

/// Checks the three tables; `line_of` turns a byte offset into a line,
/// `dir` is the pipeline's folder (a lineage file is relative to it).
pub(super) fn parse(
    notify: Vec<Spanned<RawNotify>>,
    history: Option<Spanned<RawHistory>>,
    lineage: Option<Spanned<RawLineage>>,
    dir: &Path,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<Operations, Error> {
    let at = |span: std::ops::Range<usize>, message: String| (line_of(span.start), message);
    let duration = |value: &Spanned<String>, what: &str| {
        parse_duration(value.get_ref()).map_err(|m| at(value.span(), format!("{what}: {m}")))
    };
    let endpoint = |url: &Spanned<String>,
                    timeout: &Option<Spanned<String>>,
                    max_attempts: &Option<Spanned<u32>>,
                    backoff: &Option<Spanned<String>>,
                    table: &str|
     -> Result<Endpoint, Error> {
        let template =
            Template::parse(url.get_ref()).map_err(|m| at(url.span(), format!("{table}: {m}")))?;
        let Some(sample) = template.render_without_period(&EnvMode::Redact) else {
            return Err(at(
                url.span(),
                format!("{table}: the url names a period ({{date}}, {{start}}, …): it takes none"),
            ));
        };
        let parsed = url::Url::parse(&sample).map_err(|e| {
            at(
                url.span(),
                format!("{table}: url `{}` is not a URL ({e})", url.get_ref()),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(at(
                url.span(),
                format!(
                    "{table}: url `{}` must start with http:// or https:// and name a host",
                    url.get_ref()
                ),
            ));
        }
        let env = template.env_names().map(str::to_owned).collect();
        let max_attempts = match max_attempts {
            Some(n) if *n.get_ref() == 0 => {
                return Err(at(
                    n.span(),
                    format!("{table}: max_attempts must be at least 1"),
                ));
            }
            Some(n) => *n.get_ref(),
            None => 3,
        };
        Ok(Endpoint {
            url: template,
            written: url.get_ref().clone(),
            env,
            timeout: match timeout {
                Some(t) => duration(t, &format!("{table}.timeout"))?,
                None => Duration::from_secs(10),
            },
            max_attempts,
            backoff: match backoff {
                Some(b) => duration(b, &format!("{table}.backoff"))?,
                None => Duration::from_secs(1),
            },
        })
    };

    let mut endpoints = Vec::new();
    for spanned in notify {
        let line = line_of(spanned.span().start);
        let raw = spanned.into_inner();
        let kind = match raw.kind.get_ref().as_str() {
            "webhook" => NotifyKind::Webhook,
            "slack" => NotifyKind::Slack,
            other => {
                return Err(at(
                    raw.kind.span(),
                    format!("[[notify]]: unknown kind `{other}`: write \"webhook\" or \"slack\""),
                ));
            }
        };
        let on = match &raw.on {
            None => vec![NotifyEvent::Failure, NotifyEvent::Recovery],
            Some(list) => {
                let mut on = Vec::new();
                for name in list.get_ref() {
                    let event = NotifyEvent::parse(name).ok_or_else(|| {
                        at(
                            list.span(),
                            format!(
                                "[[notify]]: unknown event `{name}` in `on`: \
                                 use \"failure\", \"recovery\", \"warning\" or \"run\""
                            ),
                        )
                    })?;
                    if !on.contains(&event) {
                        on.push(event);
                    }
                }
                if on.is_empty() {
                    return Err(at(
                        list.span(),
                        "[[notify]]: `on` is empty, so nothing would be sent: name an event or drop the table".into(),
                    ));
                }
                on
            }
        };
        let remind = raw
            .remind
            .as_ref()
            .map(|r| duration(r, "[[notify]].remind"))
            .transpose()?;
        if let (Some(r), Some(d)) = (&raw.remind, remind)
            && d.is_zero()
        {
            return Err(at(
                r.span(),
                "[[notify]]: remind must be longer than 0 (drop it to be told once)".into(),
            ));
        }
        endpoints.push(Notify {
            kind,
            endpoint: endpoint(
                &raw.url,
                &raw.timeout,
                &raw.max_attempts,
                &raw.backoff,
                "[[notify]]",
            )?,
            on,
            remind,
            line,
        });
    }

    let history = match history.map(Spanned::into_inner).and_then(|h| h.keep) {
        None => History::default(),
        Some(keep) => {
            let d = duration(&keep, "[history].keep")?;
            if d.is_zero() {
                return Err(at(
                    keep.span(),
                    "[history]: keep must be longer than 0, e.g. \"90d\"".into(),
                ));
            }
            History { keep: d }
        }
    };

    let lineage = match lineage {
        None => None,
        Some(spanned) => {
            let line = line_of(spanned.span().start);
            let raw = spanned.into_inner();
            let target = match (&raw.url, &raw.file) {
                (Some(url), None) => LineageTarget::Http(endpoint(
                    url,
                    &raw.timeout,
                    &raw.max_attempts,
                    &raw.backoff,
                    "[lineage]",
                )?),
                (None, Some(file)) => {
                    if raw.timeout.is_some() || raw.max_attempts.is_some() || raw.backoff.is_some()
                    {
                        return Err((
                            line,
                            "[lineage]: timeout, max_attempts and backoff are for a `url`, not a `file`".into(),
                        ));
                    }
                    if file.get_ref().is_empty() {
                        return Err(at(file.span(), "[lineage]: `file` is empty".into()));
                    }
                    LineageTarget::File(dir.join(file.get_ref()))
                }
                (Some(_), Some(file)) => {
                    return Err(at(
                        file.span(),
                        "[lineage] takes a `url` or a `file`, not both".into(),
                    ));
                }
                (None, None) => {
                    return Err((
                        line,
                        "[lineage] needs `url = \"http://…\"` (an OpenLineage endpoint such as Marquez) \
                         or `file = \"lineage.jsonl\"`"
                            .into(),
                    ));
                }
            };
            let namespace = match raw.namespace {
                Some(n) if n.get_ref().trim().is_empty() => {
                    return Err(at(n.span(), "[lineage]: `namespace` is empty".into()));
                }
                n => n.map(Spanned::into_inner),
            };
            Some(Lineage { target, namespace })
        }
    };

    Ok(Operations {
        notify: endpoints,
        history,
        lineage,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::parse;

    const BASE: &str = r#"
[partitions]
start = "2025-02-01"

[[datasets]]
layer = "raw"
name = "t"
source = { kind = "files", dir = ".", pattern = "t-{date}.json" }
"#;

    fn config(extra: &str) -> Result<super::Operations, String> {
        let path = std::env::temp_dir().join("pipeline.toml");
        parse(&path, &format!("{BASE}\n{extra}"))
            .map(|p| p.operations)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn notify_tables_parse_with_defaults() {
        let ops = config(
            r#"
[[notify]]
kind = "webhook"
url = "https://hooks.example.com/strata?token=${HOOK_TOKEN}"

[[notify]]
kind = "slack"
url = "https://hooks.slack.example/services/X"
on = ["failure", "warning", "run"]
remind = "24h"
timeout = "2s"
max_attempts = 5
backoff = "100ms"
"#,
        )
        .unwrap();
        assert_eq!(ops.notify.len(), 2);
        let hook = &ops.notify[0];
        assert_eq!(hook.endpoint.env, ["HOOK_TOKEN"]);
        assert_eq!(
            hook.endpoint.shown(),
            "https://hooks.example.com/strata?token=***"
        );
        assert!(
            hook.wants(super::NotifyEvent::Failure) && hook.wants(super::NotifyEvent::Recovery)
        );
        assert!(!hook.wants(super::NotifyEvent::Run));
        assert_eq!(hook.remind, None);
        assert_eq!(hook.endpoint.max_attempts, 3);
        let slack = &ops.notify[1];
        assert_eq!(slack.kind, super::NotifyKind::Slack);
        assert_eq!(slack.remind, Some(std::time::Duration::from_secs(86400)));
        assert_eq!(slack.endpoint.max_attempts, 5);
        assert_eq!(ops.history.keep, std::time::Duration::from_secs(90 * 86400));
        assert!(ops.lineage.is_none());
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            (
                "[[notify]]\nkind = \"email\"\nurl = \"https://x\"",
                "unknown kind `email`",
            ),
            (
                "[[notify]]\nkind = \"webhook\"\nurl = \"https://x\"\non = [\"boom\"]",
                "unknown event `boom`",
            ),
            (
                "[[notify]]\nkind = \"webhook\"\nurl = \"ftp://x\"",
                "must start with http",
            ),
            (
                "[[notify]]\nkind = \"webhook\"\nurl = \"https://x/{date}\"",
                "names a period",
            ),
            (
                "[[notify]]\nkind = \"webhook\"\nurl = \"https://x\"\nremind = \"soon\"",
                "remind",
            ),
            (
                "[[notify]]\nkind = \"webhook\"\nurl = \"https://x\"\nsecret = 1",
                "unknown field",
            ),
            ("[history]\nkeep = \"0\"", "keep must be longer than 0"),
            ("[lineage]\nnamespace = \"x\"", "needs `url"),
            (
                "[lineage]\nurl = \"http://x\"\nfile = \"l.jsonl\"",
                "not both",
            ),
        ];
        let base_lines = BASE.lines().count() + 1;
        for (extra, wanted) in cases {
            let err = config(extra).unwrap_err();
            assert!(err.contains(wanted), "{extra}: {err}");
            let line: usize = err
                .split(':')
                .nth(1)
                .and_then(|l| l.parse().ok())
                .unwrap_or_else(|| panic!("no line in {err}"));
            assert!(line > base_lines, "{extra}: line {line} in {err}");
        }
    }

    #[test]
    fn lineage_and_history_tables() {
        let ops = config(
            "[history]\nkeep = \"7d\"\n[lineage]\nfile = \"events.jsonl\"\nnamespace = \"prod\"",
        )
        .unwrap();
        assert_eq!(ops.history.keep, std::time::Duration::from_secs(7 * 86400));
        let lineage = ops.lineage.unwrap();
        assert_eq!(lineage.namespace.as_deref(), Some("prod"));
        match lineage.target {
            super::LineageTarget::File(p) => assert!(p.ends_with("events.jsonl")),
            other => panic!("{other:?}"),
        }
    }
}
