//! Notifications on the edges: a partition that starts failing is told
//! once (again after `remind`, if set), and its recovery when it is
//! healthy again; never on every run that still sees the same state.
//!
//! The edges come from the run's report and a small state file in the
//! store, `_strata/notify/state.json`: per endpoint, the partitions it was
//! told are failing, and when. A partition failed now and not in the state
//! is a new failure; in the state and fresh, computed or checked now, a
//! recovery; blocked, waiting or skipped changes nothing. A message that
//! could not be delivered leaves the state as it was, so the next run
//! tries again. One run's partitions go in one message per endpoint and
//! event, never one per partition.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strata_core::config::{Notify, NotifyEvent, NotifyKind, Pipeline, Severity};
use strata_core::manifest::sha256_hex;
use strata_store::Store;

use super::Delivery;
use super::deliver::Poster;
use super::history::RunRecord;
use crate::failure::FailureKind;
use crate::report::{Outcome, Report};

/// Where the notification state lives, relative to the store root.
pub const STATE_PATH: &str = "_strata/notify/state.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct NotifyState {
    /// Per endpoint (`endpoint_id`).
    endpoints: BTreeMap<String, EndpointState>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct EndpointState {
    /// The endpoint's URL as written (`${NAME}` unexpanded), for people
    /// reading the file.
    endpoint: String,
    /// `dataset partition` → what it was told.
    failing: BTreeMap<String, Told>,
    /// Since when runs fail as a whole (the store, the config), if they do
    /// and the endpoint was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run_failing: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Told {
    dataset: String,
    partition: String,
    kind: FailureKind,
    /// When this run of failures was first seen.
    since: DateTime<Utc>,
    /// When the endpoint was last told about it.
    notified_at: DateTime<Utc>,
}

/// One partition in a message.
#[derive(Debug, Clone, Serialize)]
struct Concerned {
    dataset: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<String>,
    kind: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<DateTime<Utc>>,
    /// A failure told again (`remind`), not a new one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    reminder: bool,
}

/// What the run saw, partition by partition.
struct Seen {
    /// `dataset partition` → its failure.
    failing: BTreeMap<String, Failing>,
    /// `dataset partition` of the healthy ones.
    healthy: BTreeSet<String>,
    /// `dataset partition` of every partition the pipeline expects.
    expected: BTreeSet<String>,
    /// Whether the run got as far as a report: if not, nothing is known of
    /// its partitions.
    reported: bool,
    warnings: Vec<Concerned>,
}

/// A partition that failed in this run.
struct Failing {
    dataset: String,
    partition: String,
    kind: FailureKind,
    message: String,
    /// Since when, as the failure record says.
    since: Option<DateTime<Utc>>,
}

fn key(dataset: &str, partition: &str) -> String {
    format!("{dataset} {partition}")
}

impl Seen {
    fn of(report: Option<&Report>) -> Seen {
        let mut seen = Seen {
            failing: BTreeMap::new(),
            healthy: BTreeSet::new(),
            expected: BTreeSet::new(),
            reported: report.is_some(),
            warnings: vec![],
        };
        for d in report.iter().flat_map(|r| &r.datasets) {
            for p in &d.partitions {
                let k = key(&d.dataset, &p.partition);
                seen.expected.insert(k.clone());
                match &p.outcome {
                    Outcome::Failed { error, .. } => {
                        let since = p.failure.as_ref().and_then(|f| f.since.parse().ok());
                        seen.failing.insert(
                            k,
                            Failing {
                                dataset: d.dataset.clone(),
                                partition: p.partition.clone(),
                                kind: error.kind,
                                message: error.message.clone(),
                                since,
                            },
                        );
                    }
                    Outcome::Fresh | Outcome::Computed { .. } | Outcome::Checked => {
                        seen.healthy.insert(k);
                    }
                    Outcome::Blocked | Outcome::Waiting | Outcome::Skipped => {}
                }
                for c in p.checks.iter().filter(|c| warns(c)) {
                    seen.warnings.push(Concerned {
                        dataset: d.dataset.clone(),
                        partition: Some(p.partition.clone()),
                        kind: "check".into(),
                        message: format!("{}: {}", c.label, c.message),
                        since: None,
                        reminder: false,
                    });
                }
            }
            for c in d.checks.iter().filter(|c| warns(c)) {
                seen.warnings.push(Concerned {
                    dataset: d.dataset.clone(),
                    partition: None,
                    kind: "check".into(),
                    message: format!("{}: {}", c.label, c.message),
                    since: None,
                    reminder: false,
                });
            }
        }
        seen
    }
}

fn warns(c: &strata_core::manifest::CheckResult) -> bool {
    !c.passed && c.severity == Severity::Warn
}

/// A stable name for an endpoint in the state file: its kind and URL as
/// written (`${NAME}` unexpanded, so no secret is hashed or stored).
fn endpoint_id(n: &Notify) -> String {
    let written = &n.endpoint.written;
    sha256_hex(format!("{}\n{written}", n.kind.name()).as_bytes())[..16].to_owned()
}

/// Sends this run's notifications to every `[[notify]]` endpoint and
/// updates the state; returns what was sent. `report` is `None` for a run
/// that failed as a whole (`record.error` says why): that is a failure of
/// its own, told once, and recovered from by the next run that completes.
/// Never fails: a store or endpoint that fails is logged and recorded.
pub async fn notify(
    pipeline: &Pipeline,
    store: &Store,
    record: &RunRecord,
    report: Option<&Report>,
) -> Vec<Delivery> {
    let endpoints = &pipeline.operations.notify;
    if endpoints.is_empty() {
        return vec![];
    }
    let mut state = read_state(store).await;
    let before = serde_json::to_vec(&state).unwrap_or_default();
    let seen = Seen::of(report);
    let now = Utc::now();
    let poster = Poster::new();
    let context = Context {
        pipeline: super::pipeline_name(pipeline),
        run: record.id.clone(),
        store: store.url.clone(),
    };
    let sends = endpoints.iter().map(|n| {
        let id = endpoint_id(n);
        let before = state.endpoints.get(&id).cloned().unwrap_or_default();
        let poster = poster.clone();
        let context = &context;
        let seen = &seen;
        async move {
            let (after, deliveries) =
                notify_endpoint(n, before, seen, record, context, &poster, now).await;
            (id, after, deliveries)
        }
    });
    let mut deliveries = Vec::new();
    for (id, after, sent) in futures::future::join_all(sends).await {
        deliveries.extend(sent);
        state.endpoints.insert(id, after);
    }
    // Endpoints no longer configured are forgotten.
    let ids: Vec<String> = endpoints.iter().map(endpoint_id).collect();
    state.endpoints.retain(|id, _| ids.contains(id));
    if serde_json::to_vec(&state).unwrap_or_default() != before {
        write_state(store, &state).await;
    }
    deliveries
}

struct Context {
    pipeline: String,
    run: String,
    store: String,
}

async fn notify_endpoint(
    n: &Notify,
    mut state: EndpointState,
    seen: &Seen,
    record: &RunRecord,
    context: &Context,
    poster: &Poster,
    now: DateTime<Utc>,
) -> (EndpointState, Vec<Delivery>) {
    state.endpoint = n.endpoint.written.clone();
    // Partitions the pipeline no longer has (a dataset removed, the end
    // moved) can neither fail nor recover: forgotten.
    if seen.reported {
        state.failing.retain(|k, _| seen.expected.contains(k));
    }
    let mut deliveries = Vec::new();
    let mut send = async |event: NotifyEvent, partitions: &[Concerned], extra: Value| {
        let body = message(n.kind, event, context, partitions, extra);
        let d = poster.post(&n.endpoint, "", &body, event.name()).await;
        let ok = d.delivered;
        deliveries.push(d);
        ok
    };

    // The run itself failing, and working again.
    match (&record.error, state.run_failing) {
        (Some(error), None) => {
            let told = !n.wants(NotifyEvent::Failure)
                || send(NotifyEvent::Failure, &[], json!({ "error": error })).await;
            if told {
                state.run_failing = Some(now);
            }
        }
        (None, Some(since)) if seen.reported => {
            let told = !n.wants(NotifyEvent::Recovery)
                || send(
                    NotifyEvent::Recovery,
                    &[],
                    json!({ "failing_since": since }),
                )
                .await;
            if told {
                state.run_failing = None;
            }
        }
        _ => {}
    }

    // Failures: new ones, and reminders of old ones.
    let mut new = Vec::new();
    let mut reminded = Vec::new();
    let mut concerned = Vec::new();
    for (k, failing) in &seen.failing {
        let told = state.failing.get(k);
        let remind = match (told, n.remind) {
            (None, _) => false,
            (Some(t), Some(every)) => {
                chrono::Duration::from_std(every).is_ok_and(|every| now - t.notified_at >= every)
            }
            (Some(_), None) => continue,
        };
        if told.is_some() && !remind {
            continue;
        }
        concerned.push(Concerned {
            dataset: failing.dataset.clone(),
            partition: Some(failing.partition.clone()),
            kind: failing.kind.name().to_owned(),
            message: failing.message.clone(),
            since: Some(told.map_or(failing.since.unwrap_or(now), |t| t.since)),
            reminder: remind,
        });
        if remind {
            reminded.push(k.clone());
        } else {
            new.push(k.clone());
        }
    }
    let told_failures = if n.wants(NotifyEvent::Failure) && !concerned.is_empty() {
        send(NotifyEvent::Failure, &concerned, json!({})).await
    } else {
        // Not wanted: recorded all the same, so a recovery can be told.
        true
    };
    if told_failures {
        for k in new {
            let failing = &seen.failing[&k];
            state.failing.insert(
                k,
                Told {
                    dataset: failing.dataset.clone(),
                    partition: failing.partition.clone(),
                    kind: failing.kind,
                    since: failing.since.unwrap_or(now),
                    notified_at: now,
                },
            );
        }
        for k in reminded {
            if let Some(t) = state.failing.get_mut(&k) {
                t.notified_at = now;
            }
        }
    }

    // Recoveries.
    let recovered: Vec<(String, Told)> = state
        .failing
        .iter()
        .filter(|(k, _)| seen.healthy.contains(*k))
        .map(|(k, t)| (k.clone(), t.clone()))
        .collect();
    if !recovered.is_empty() {
        let concerned: Vec<Concerned> = recovered
            .iter()
            .map(|(_, t)| Concerned {
                dataset: t.dataset.clone(),
                partition: Some(t.partition.clone()),
                kind: t.kind.name().to_owned(),
                message: format!(
                    "healthy again after failing ({}) since {}",
                    t.kind,
                    t.since.format("%Y-%m-%d %H:%M UTC")
                ),
                since: Some(t.since),
                reminder: false,
            })
            .collect();
        let told = if n.wants(NotifyEvent::Recovery) {
            send(NotifyEvent::Recovery, &concerned, json!({})).await
        } else {
            true
        };
        if told {
            for (k, _) in recovered {
                state.failing.remove(&k);
            }
        }
    }

    if n.wants(NotifyEvent::Warning) && !seen.warnings.is_empty() {
        send(NotifyEvent::Warning, &seen.warnings, json!({})).await;
    }

    if n.wants(NotifyEvent::Run) {
        let failed: Vec<Concerned> = seen
            .failing
            .values()
            .map(|f| Concerned {
                dataset: f.dataset.clone(),
                partition: Some(f.partition.clone()),
                kind: f.kind.name().to_owned(),
                message: f.message.clone(),
                since: f.since,
                reminder: false,
            })
            .collect();
        let extra = json!({
            "status": record.status.name(),
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "counts": record.counts,
        });
        send(NotifyEvent::Run, &failed, extra).await;
    }
    (state, deliveries)
}

/// The body of one message: a webhook's JSON object, or Slack's
/// incoming-webhook `{"text": …}`.
fn message(
    kind: NotifyKind,
    event: NotifyEvent,
    context: &Context,
    partitions: &[Concerned],
    extra: Value,
) -> Value {
    let text = summary(event, context, partitions, &extra);
    match kind {
        NotifyKind::Slack => json!({ "text": text }),
        NotifyKind::Webhook => {
            let mut body = json!({
                "event": event.name(),
                "pipeline": context.pipeline,
                "run": context.run,
                "store": context.store,
                "partitions": partitions,
                "text": text,
            });
            if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
                body.extend(extra);
            }
            body
        }
    }
}

/// One line saying what happened, then one line per partition (at most 20).
fn summary(
    event: NotifyEvent,
    context: &Context,
    partitions: &[Concerned],
    extra: &Value,
) -> String {
    let pipeline = &context.pipeline;
    let n = partitions.len();
    let mut text = match event {
        NotifyEvent::Failure if n == 0 => format!(
            "Strata {pipeline}: the run failed: {}",
            extra["error"].as_str().unwrap_or("unknown error")
        ),
        NotifyEvent::Recovery if n == 0 => {
            format!("Strata {pipeline}: runs complete again")
        }
        NotifyEvent::Failure => {
            let again = partitions.iter().filter(|p| p.reminder).count();
            if again == n {
                format!("Strata {pipeline}: {n} partition(s) still failing")
            } else {
                format!("Strata {pipeline}: {n} partition(s) failing")
            }
        }
        NotifyEvent::Recovery => format!("Strata {pipeline}: {n} partition(s) recovered"),
        NotifyEvent::Warning => format!("Strata {pipeline}: {n} check warning(s)"),
        NotifyEvent::Run => format!(
            "Strata {pipeline}: run {} {}",
            context.run,
            extra["status"].as_str().unwrap_or("finished")
        ),
    };
    for p in partitions.iter().take(20) {
        let first_line = p.message.lines().next().unwrap_or_default();
        text.push_str(&format!(
            "\n• {} {} ({}): {first_line}",
            p.dataset,
            p.partition.as_deref().unwrap_or(""),
            p.kind
        ));
    }
    if n > 20 {
        text.push_str(&format!("\n… and {} more", n - 20));
    }
    text
}

async fn read_state(store: &Store) -> NotifyState {
    let path = Path::from(STATE_PATH);
    let bytes = match store.object_store().get(&path).await {
        Ok(r) => r.bytes().await,
        Err(e) => Err(e),
    };
    match bytes {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!("{STATE_PATH} does not parse ({e}); starting from no known failures");
            NotifyState::default()
        }),
        Err(object_store::Error::NotFound { .. }) => NotifyState::default(),
        Err(e) => {
            tracing::warn!("{STATE_PATH} not read ({e}); starting from no known failures");
            NotifyState::default()
        }
    }
}

async fn write_state(store: &Store, state: &NotifyState) {
    let bytes = serde_json::to_vec_pretty(state).expect("the notify state serializes");
    if let Err(e) = store
        .object_store()
        .put(&Path::from(STATE_PATH), PutPayload::from(bytes))
        .await
    {
        tracing::warn!("{STATE_PATH} not written ({e}); the next run may notify again");
    }
}
