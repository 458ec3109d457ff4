//! OpenLineage run events for the datasets a run computes: a job per
//! dataset (`layer/name`), a START when its first partition starts, then
//! COMPLETE, FAIL (a partition failed) or ABORT (the run was stopped
//! before the dataset was done). Inputs and outputs are the datasets in
//! the store's namespace with their schema facet read from the manifests;
//! the check results this run evaluated ride on the output as the
//! `dataQualityAssertions` facet.
//!
//! Sent with the OpenLineage HTTP transport (POST `{url}/api/v1/lineage`)
//! or appended to a file, one event per line. Like notifications, an
//! event that cannot be delivered is logged and recorded, never an error.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use strata_core::DatasetId;
use strata_core::config::{Endpoint, LineageTarget, Pipeline};
use strata_core::manifest::{CheckResult, Manifest, sha256_hex};
use strata_store::{ManifestRead, Store};
use tokio::sync::Mutex;

use super::Delivery;
use super::deliver::Poster;
use crate::report::{DatasetReport, Outcome, Report};

/// Who produced an event: a URI naming this host and its version.
const PRODUCER: &str = concat!("urn:strata:host:", env!("CARGO_PKG_VERSION"));
const EVENT_SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const SCHEMA_FACET: &str =
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
const ASSERTIONS_FACET: &str = "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet";
const ENGINE_FACET: &str = "https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet";
const ERROR_FACET: &str = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";

/// Where events go.
enum Sink {
    Http(Endpoint),
    File(PathBuf),
}

/// The lineage of one run: which datasets started, and the events sent.
pub struct Lineage {
    sink: Sink,
    poster: Poster,
    /// The namespace of the datasets: the store's URL without credentials.
    store_namespace: String,
    /// The namespace of the jobs.
    job_namespace: String,
    /// The Strata run's id, from which each job run's UUID is derived.
    run: String,
    /// Dataset → the datasets it reads.
    inputs: BTreeMap<String, Vec<String>>,
    /// Datasets whose START was sent, with when.
    started: Mutex<BTreeMap<String, DateTime<Utc>>>,
    deliveries: Mutex<Vec<Delivery>>,
}

impl Lineage {
    /// The run's lineage, if the pipeline has a `[lineage]` table.
    pub fn new(pipeline: &Pipeline, store: &Store, run: &str) -> Option<Lineage> {
        let config = pipeline.operations.lineage.as_ref()?;
        let sink = match &config.target {
            LineageTarget::Http(endpoint) => Sink::Http(endpoint.clone()),
            LineageTarget::File(path) => Sink::File(path.clone()),
        };
        Some(Lineage {
            sink,
            poster: Poster::new(),
            store_namespace: namespace_of(&store.url),
            job_namespace: config
                .namespace
                .clone()
                .unwrap_or_else(|| super::pipeline_name(pipeline)),
            run: run.to_owned(),
            inputs: pipeline
                .datasets
                .iter()
                .map(|d| {
                    let inputs = d.inputs().iter().map(|i| i.dataset.to_string()).collect();
                    (d.id.to_string(), inputs)
                })
                .collect(),
            started: Mutex::new(BTreeMap::new()),
            deliveries: Mutex::new(vec![]),
        })
    }

    /// Sends the START event of a dataset whose first partition starts now.
    pub async fn start(&self, dataset: &DatasetId) {
        let name = dataset.to_string();
        let now = Utc::now();
        {
            let mut started = self.started.lock().await;
            if started.contains_key(&name) {
                return;
            }
            started.insert(name.clone(), now);
        }
        let inputs = self.inputs.get(&name).cloned().unwrap_or_default();
        let event = self.event(
            "START",
            now,
            &name,
            json!({}),
            inputs.iter().map(|i| self.dataset(i, None, None)).collect(),
            vec![self.dataset(&name, None, None)],
        );
        self.send(&event, &format!("START {name}")).await;
    }

    /// Sends the end event of every dataset the run started or computed,
    /// and returns every event's delivery.
    pub async fn finish(&self, store: &Store, report: &Report) -> Vec<Delivery> {
        for d in &report.datasets {
            let worked = d.partitions.iter().any(|p| {
                matches!(
                    p.outcome,
                    Outcome::Computed { .. } | Outcome::Failed { .. } | Outcome::Checked
                )
            });
            let started = self.started.lock().await.contains_key(&d.dataset);
            if !worked && !started {
                continue;
            }
            if !started {
                // Computed without a START (no hook): send it now.
                if let Some(id) = DatasetId::parse(&d.dataset) {
                    self.start(&id).await;
                }
            }
            // A run stopped by a signal, or that lost its lease, left the
            // rest of the dataset undone.
            let interrupted = report.stopped || report.lease_lost.is_some();
            self.end(store, d, interrupted).await;
        }
        std::mem::take(&mut *self.deliveries.lock().await)
    }

    /// Sends FAIL for every dataset started by a run that failed as a
    /// whole (the store, say) before it could report, and returns every
    /// event's delivery.
    pub async fn fail(&self, error: &str) -> Vec<Delivery> {
        let started: Vec<String> = self.started.lock().await.keys().cloned().collect();
        for name in started {
            let run_facets = json!({ "errorMessage": facet(ERROR_FACET, json!({
                "message": error,
                "programmingLanguage": "WebAssembly",
            })) });
            let inputs = self.inputs.get(&name).cloned().unwrap_or_default();
            let event = self.event(
                "FAIL",
                Utc::now(),
                &name,
                run_facets,
                inputs.iter().map(|i| self.dataset(i, None, None)).collect(),
                vec![self.dataset(&name, None, None)],
            );
            self.send(&event, &format!("FAIL {name}")).await;
        }
        std::mem::take(&mut *self.deliveries.lock().await)
    }

    async fn end(&self, store: &Store, d: &DatasetReport, interrupted: bool) {
        let failed: Vec<String> = d
            .partitions
            .iter()
            .filter_map(|p| match &p.outcome {
                Outcome::Failed { error, .. } => Some(format!(
                    "{} ({}): {}",
                    p.partition,
                    error.kind,
                    error.message.lines().next().unwrap_or_default()
                )),
                _ => None,
            })
            .collect();
        let unfinished = interrupted
            && d.partitions
                .iter()
                .any(|p| p.outcome == Outcome::Skipped && p.planned.needs_work());
        let (event_type, run_facets) = if !failed.is_empty() {
            let message = format!(
                "{} partition(s) of {} failed: {}",
                failed.len(),
                d.dataset,
                failed.join("; ")
            );
            (
                "FAIL",
                json!({ "errorMessage": facet(ERROR_FACET, json!({
                    "message": message,
                    "programmingLanguage": "WebAssembly",
                })) }),
            )
        } else if unfinished {
            ("ABORT", json!({}))
        } else {
            ("COMPLETE", json!({}))
        };

        // The newest partition this run wrote gives the output's schema and,
        // through its inputs, the inputs' schemas.
        let id = DatasetId::parse(&d.dataset);
        let newest = d
            .partitions
            .iter()
            .rev()
            .find(|p| matches!(p.outcome, Outcome::Computed { .. } | Outcome::Checked));
        let manifest = match (&id, newest) {
            (Some(id), Some(p)) => read_manifest(store, id, &p.partition).await,
            _ => None,
        };
        let mut inputs = Vec::new();
        for input in self.inputs.get(&d.dataset).into_iter().flatten() {
            let read = manifest
                .as_ref()
                .and_then(|m| m.inputs.iter().find(|i| &i.dataset == input));
            let schema = match (read, DatasetId::parse(input)) {
                (Some(r), Some(input_id)) => read_manifest(store, &input_id, &r.partition).await,
                _ => None,
            };
            inputs.push(self.dataset(input, schema.as_ref(), None));
        }
        let checks: Vec<&CheckResult> = d
            .partitions
            .iter()
            .flat_map(|p| p.checks.iter())
            .chain(d.checks.iter())
            .collect();
        let output = self.dataset(&d.dataset, manifest.as_ref(), Some(&checks));
        let event = self.event(
            event_type,
            Utc::now(),
            &d.dataset,
            run_facets,
            inputs,
            vec![output],
        );
        self.send(&event, &format!("{event_type} {}", d.dataset))
            .await;
    }

    /// A dataset as an input or output: its name, the schema facet from a
    /// manifest, and for the output the checks as assertions.
    fn dataset(
        &self,
        name: &str,
        manifest: Option<&Manifest>,
        checks: Option<&[&CheckResult]>,
    ) -> Value {
        let mut facets = serde_json::Map::new();
        if let Some(m) = manifest.filter(|m| !m.schema.is_empty()) {
            let fields: Vec<Value> = m
                .schema
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({
                        "name": c.name,
                        "type": c.data_type,
                        "description": if c.nullable { "nullable" } else { "not null" },
                        "ordinal_position": i + 1,
                    })
                })
                .collect();
            facets.insert(
                "schema".into(),
                facet(SCHEMA_FACET, json!({ "fields": fields })),
            );
        }
        let mut value = json!({
            "namespace": self.store_namespace,
            "name": name,
            "facets": facets,
        });
        if let Some(checks) = checks.filter(|c| !c.is_empty()) {
            value["outputFacets"] = json!({
                "dataQualityAssertions": facet(ASSERTIONS_FACET, json!({
                    "assertions": assertions(checks),
                })),
            });
        }
        value
    }

    fn event(
        &self,
        event_type: &str,
        time: DateTime<Utc>,
        dataset: &str,
        mut run_facets: Value,
        inputs: Vec<Value>,
        outputs: Vec<Value>,
    ) -> Value {
        run_facets["processing_engine"] = facet(
            ENGINE_FACET,
            json!({ "name": "Strata", "version": env!("CARGO_PKG_VERSION") }),
        );
        json!({
            "eventType": event_type,
            "eventTime": time.to_rfc3339_opts(SecondsFormat::Millis, true),
            "producer": PRODUCER,
            "schemaURL": EVENT_SCHEMA,
            "run": {
                "runId": run_uuid(&self.run, dataset),
                "facets": run_facets,
            },
            "job": { "namespace": self.job_namespace, "name": dataset, "facets": {} },
            "inputs": inputs,
            "outputs": outputs,
        })
    }

    async fn send(&self, event: &Value, what: &str) {
        let delivery = match &self.sink {
            Sink::Http(endpoint) => {
                self.poster
                    .post(endpoint, "/api/v1/lineage", event, what)
                    .await
            }
            Sink::File(path) => append(path, event, what),
        };
        self.deliveries.lock().await.push(delivery);
    }
}

/// A facet: its fields with `_producer` and `_schemaURL`.
fn facet(schema: &str, fields: Value) -> Value {
    let mut value = json!({ "_producer": PRODUCER, "_schemaURL": schema });
    if let (Some(v), Value::Object(fields)) = (value.as_object_mut(), fields) {
        v.extend(fields);
    }
    value
}

/// One assertion per check: it succeeded if it passed on every partition
/// this run evaluated it on.
fn assertions(checks: &[&CheckResult]) -> Vec<Value> {
    let mut by_check: BTreeMap<&str, (&CheckResult, bool)> = BTreeMap::new();
    for c in checks {
        let entry = by_check.entry(c.id.as_str()).or_insert((c, true));
        entry.1 &= c.passed;
    }
    by_check
        .values()
        .map(|(c, success)| {
            let mut a = json!({
                "assertion": c.check,
                "success": success,
                "severity": c.severity.name(),
                "name": c.label,
            });
            if let Some(column) = column_of(&c.label) {
                a["column"] = json!(column);
            }
            a
        })
        .collect()
}

/// The column of a one-column check's label, `not_null(amount)` → `amount`.
fn column_of(label: &str) -> Option<&str> {
    let inner = label.split_once('(')?.1.strip_suffix(')')?;
    (!inner.contains(',') && !inner.is_empty()).then_some(inner.trim())
}

/// A UUID for one dataset's job run within a Strata run: the same on START
/// and on the end event, different for every run.
fn run_uuid(run: &str, dataset: &str) -> String {
    let hash = sha256_hex(format!("{run}\n{dataset}").as_bytes());
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap_or_default();
    }
    // Version 8 (custom), RFC 4122 variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The store's URL as a dataset namespace: without user, password, query
/// or fragment, so no credential ever leaves in an event.
fn namespace_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string().trim_end_matches('/').to_owned()
        }
        Err(_) => url.to_owned(),
    }
}

async fn read_manifest(store: &Store, dataset: &DatasetId, partition: &str) -> Option<Manifest> {
    match store.read_manifest(dataset, partition).await {
        Ok(ManifestRead::Valid(m)) => Some(*m),
        _ => None,
    }
}

/// Appends one event as a line.
fn append(path: &PathBuf, event: &Value, what: &str) -> Delivery {
    let shown = path.display().to_string();
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        // One write of the whole line: appends from other writers do not
        // interleave within it.
        file.write_all(&line)
    };
    let result = write();
    if let Err(e) = &result {
        tracing::warn!("lineage event {what} not written to {shown}: {e}; the run goes on");
    }
    Delivery {
        endpoint: shown,
        message: what.to_owned(),
        delivered: result.is_ok(),
        attempts: 1,
        status: None,
        error: result.err().map(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use strata_core::config::Severity;

    use super::*;

    fn result(id: &str, label: &str, passed: bool) -> CheckResult {
        CheckResult {
            id: id.into(),
            check: label.split('(').next().unwrap().into(),
            label: label.into(),
            severity: Severity::Warn,
            passed,
            violations: u64::from(!passed),
            message: String::new(),
            samples: vec![],
        }
    }

    #[test]
    fn a_check_is_one_assertion_that_passed_only_if_it_passed_everywhere() {
        let a = result("a", "not_null(amount)", true);
        let b1 = result("b", "row_count", true);
        let b2 = result("b", "row_count", false);
        let out = assertions(&[&a, &b1, &b2]);
        assert_eq!(
            out,
            [
                json!({"assertion": "not_null", "success": true, "severity": "warn",
                       "name": "not_null(amount)", "column": "amount"}),
                json!({"assertion": "row_count", "success": false, "severity": "warn",
                       "name": "row_count"}),
            ]
        );
    }

    #[test]
    fn namespaces_carry_no_credentials() {
        assert_eq!(
            namespace_of("s3://key:secret@bucket/prefix?token=x"),
            "s3://bucket/prefix"
        );
        assert_eq!(namespace_of("file:///srv/store"), "file:///srv/store");
    }

    #[test]
    fn run_ids_are_uuids_per_dataset() {
        let a = run_uuid("r1", "silver/x");
        assert_eq!(a, run_uuid("r1", "silver/x"));
        assert_ne!(a, run_uuid("r1", "gold/x"));
        assert_ne!(a, run_uuid("r2", "silver/x"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }

    #[test]
    fn one_column_checks_name_their_column() {
        assert_eq!(column_of("not_null(amount)"), Some("amount"));
        assert_eq!(column_of("unique(a, b)"), None);
        assert_eq!(column_of("row_count"), None);
    }
}
