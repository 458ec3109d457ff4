//! Decides, from manifests alone, what every partition needs: nothing
//! (fresh), a first computation (missing), a recomputation (stale, damaged)
//! or nothing yet (waiting for data, blocked by an input).
//!
//! The planner never reads data and never runs plugins. Its key idea: a
//! partition's key is the hash of everything it is made of (plugin bytes,
//! params, the contract's semantics version, and the content hash of every
//! input partition).
//! A recomputed input whose bytes did not change keeps its content hash, so
//! its dependents keep their keys and stay fresh: early cutoff for free.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::CONTRACT_SEMANTICS;
use crate::config::{Dataset, Mapping, Pipeline, Producer};
use crate::id::DatasetId;
use crate::manifest::{
    InputRef, Manifest, ManifestError, Producer as ManifestProducer, sha256_hex,
};
use crate::period::{Period, complete_periods};

/// The id of the one partition of an unpartitioned dataset.
pub const ALL: &str = "all";

/// What a partition needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub enum State {
    Fresh,
    Missing,
    Stale(String),
    Damaged(String),
    Waiting(String),
    Failed(String),
    Blocked(String),
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Fresh => "fresh",
            State::Missing => "missing",
            State::Stale(_) => "stale",
            State::Damaged(_) => "damaged",
            State::Waiting(_) => "waiting",
            State::Failed(_) => "failed",
            State::Blocked(_) => "blocked",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            State::Fresh => "up to date".into(),
            State::Missing => "never computed".into(),
            State::Stale(r)
            | State::Damaged(r)
            | State::Waiting(r)
            | State::Failed(r)
            | State::Blocked(r) => r.clone(),
        }
    }

    /// Whether the partition is to be (re)computed.
    pub fn needs_work(&self) -> bool {
        matches!(self, State::Missing | State::Stale(_) | State::Damaged(_))
    }
}

/// What the store holds for one partition.
#[derive(Debug, Clone)]
pub enum Observed {
    Missing,
    Invalid(ManifestError),
    Damaged(Arc<Manifest>, String),
    Intact(Arc<Manifest>),
}

impl Observed {
    pub fn manifest(&self) -> Option<&Arc<Manifest>> {
        match self {
            Observed::Intact(m) | Observed::Damaged(m, _) => Some(m),
            _ => None,
        }
    }
}

/// A dataset's partitions as its dependents can read them: the manifest of
/// every partition that is fresh, or why a partition is not readable.
pub type Availability = HashMap<String, Result<Arc<Manifest>, String>>;

/// The partitions a dataset is expected to have now.
pub fn expected_partitions(
    pipeline: &Pipeline,
    dataset: &Dataset,
    now: chrono::NaiveDateTime,
) -> Vec<String> {
    let periods = pipeline_periods(pipeline, now);
    if dataset.is_partitioned() {
        periods.iter().map(Period::id).collect()
    } else if periods.is_empty() {
        vec![]
    } else {
        vec![ALL.to_owned()]
    }
}

pub fn pipeline_periods(pipeline: &Pipeline, now: chrono::NaiveDateTime) -> Vec<Period> {
    let p = &pipeline.partitions;
    let settle = chrono::Duration::from_std(p.settle).unwrap_or(chrono::Duration::zero());
    complete_periods(p.every, p.start, p.end, now, settle)
}

/// The partitions of one input that an output partition reads, in order.
pub fn input_partitions(
    mapping: Mapping,
    output_partition: &str,
    input_expected: &[String],
) -> Vec<String> {
    match mapping {
        Mapping::All => input_expected.to_vec(),
        Mapping::Same => vec![output_partition.to_owned()],
        Mapping::Window(n) => {
            let Some(pos) = input_expected.iter().position(|p| p == output_partition) else {
                return vec![output_partition.to_owned()];
            };
            let first = (pos + 1).saturating_sub(n as usize);
            input_expected[first..=pos].to_vec()
        }
    }
}

/// Everything needed to compute one partition of a plugin dataset.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub key: String,
    /// Per input (in config order), the manifests of the partitions read.
    pub inputs: Vec<Vec<Arc<Manifest>>>,
}

impl Recipe {
    pub fn input_refs(&self) -> Vec<InputRef> {
        self.inputs
            .iter()
            .flatten()
            .map(|m| InputRef {
                dataset: m.dataset.clone(),
                partition: m.partition.clone(),
                content_hash: m.content_hash.clone(),
            })
            .collect()
    }
}

/// The key of a plugin partition.
pub fn plugin_key(plugin_sha256: &str, params: &Value, inputs: &[InputRef]) -> String {
    let doc = serde_json::json!({
        "contract": CONTRACT_SEMANTICS,
        "plugin": plugin_sha256,
        "params": canonical(params),
        "inputs": inputs,
    });
    sha256_hex(&serde_json::to_vec(&doc).expect("json"))
}

/// The key of a raw partition: the source's settings. Raw is never stale by
/// key; it is recorded so a manifest says what it came from.
pub fn source_key(identity: &Value, partition: &str) -> String {
    let doc = serde_json::json!({ "source": canonical(identity), "partition": partition });
    sha256_hex(&serde_json::to_vec(&doc).expect("json"))
}

/// JSON with object keys sorted, so key order in the config never matters.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Plans one partition of a plugin dataset.
pub fn plan_plugin_partition(
    dataset: &Dataset,
    plugin_sha256: &str,
    partition: &str,
    observed: &Observed,
    upstream: &HashMap<DatasetId, (Vec<String>, Availability)>,
) -> (State, Option<Recipe>) {
    let Producer::Plugin { params, inputs, .. } = &dataset.producer else {
        unreachable!("plan_plugin_partition is only called for plugin datasets");
    };
    let mut read = Vec::with_capacity(inputs.len());
    for input in inputs {
        let (expected, availability) = &upstream[&input.dataset];
        let mut manifests = Vec::new();
        for p in input_partitions(input.mapping, partition, expected) {
            match availability.get(&p) {
                Some(Ok(m)) => manifests.push(m.clone()),
                Some(Err(why)) => {
                    return (
                        State::Blocked(format!("input {} {p} {why}", input.dataset)),
                        None,
                    );
                }
                None => {
                    return (
                        State::Blocked(format!("input {} has no partition {p}", input.dataset)),
                        None,
                    );
                }
            }
        }
        read.push(manifests);
    }
    let params = Value::Object(params.clone());
    let recipe = Recipe {
        key: String::new(),
        inputs: read,
    };
    let refs = recipe.input_refs();
    let key = plugin_key(plugin_sha256, &params, &refs);
    let recipe = Recipe { key, ..recipe };
    let state = match (unusable(observed), observed) {
        (Some(state), _) => state,
        (None, Observed::Intact(m)) if m.key == recipe.key => State::Fresh,
        (None, Observed::Intact(m)) => State::Stale(stale_reason(m, plugin_sha256, &params, &refs)),
        (None, _) => unreachable!("unusable() covers every partition that is not intact"),
    };
    (state, Some(recipe))
}

/// Why a manifest's key no longer matches: the first thing that differs.
fn stale_reason(
    old: &Manifest,
    plugin_sha256: &str,
    params: &Value,
    inputs: &[InputRef],
) -> String {
    if let ManifestProducer::Plugin { sha256, .. } = &old.producer
        && sha256 != plugin_sha256
    {
        return format!(
            "plugin changed ({} → {})",
            &sha256[..12.min(sha256.len())],
            &plugin_sha256[..12]
        );
    }
    if canonical(&old.params) != canonical(params) {
        return "params changed".into();
    }
    for new in inputs {
        match old
            .inputs
            .iter()
            .find(|o| o.dataset == new.dataset && o.partition == new.partition)
        {
            Some(o) if o.content_hash == new.content_hash => {}
            Some(_) => return format!("input {} {} changed", new.dataset, new.partition),
            None => return format!("input {} {} is new", new.dataset, new.partition),
        }
    }
    if old.inputs.len() != inputs.len() {
        return "inputs changed".into();
    }
    format!(
        "the contract's semantics changed (this host keys partitions under {CONTRACT_SEMANTICS})"
    )
}

/// Plans one partition of a raw dataset: only what the store holds matters,
/// except that a source may ask to refetch its most recent periods.
pub fn plan_raw_partition(observed: &Observed, refetch: bool) -> State {
    match unusable(observed) {
        Some(state) => state,
        None if refetch => State::Stale("recent period, refetched on every run".into()),
        None => State::Fresh,
    }
}

/// The state of a partition that must be (re)computed whatever its key:
/// missing, damaged, or invalidated. `None` for an intact partition.
fn unusable(observed: &Observed) -> Option<State> {
    match observed {
        Observed::Missing => Some(State::Missing),
        Observed::Invalid(e) => Some(State::Damaged(e.to_string())),
        Observed::Damaged(_, why) => Some(State::Damaged(why.clone())),
        Observed::Intact(m) => m
            .invalidated
            .as_ref()
            .map(|when| State::Stale(format!("invalidated {when}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_end_at_the_output_period() {
        let days: Vec<String> = (1..=5).map(|d| format!("date=2025-01-0{d}")).collect();
        assert_eq!(
            input_partitions(Mapping::Window(3), "date=2025-01-04", &days),
            ["date=2025-01-02", "date=2025-01-03", "date=2025-01-04"]
        );
        // Near the start the window is shorter: there is nothing before it.
        assert_eq!(
            input_partitions(Mapping::Window(3), "date=2025-01-01", &days),
            ["date=2025-01-01"]
        );
        assert_eq!(input_partitions(Mapping::All, ALL, &days).len(), 5);
    }

    #[test]
    fn keys_ignore_param_order_but_not_values() {
        let a = serde_json::json!({"a": 1, "b": {"x": 1, "y": 2}});
        let b = serde_json::json!({"b": {"y": 2, "x": 1}, "a": 1});
        let c = serde_json::json!({"a": 2, "b": {"x": 1, "y": 2}});
        let sha = "0".repeat(64);
        assert_eq!(plugin_key(&sha, &a, &[]), plugin_key(&sha, &b, &[]));
        assert_ne!(plugin_key(&sha, &a, &[]), plugin_key(&sha, &c, &[]));
    }

    /// The key a 0.1 host gave a partition of these inputs. A store built
    /// by that host stays fresh only while the key's text is unchanged.
    #[test]
    fn keys_are_what_a_contract_0_1_host_computed() {
        let params = serde_json::json!({"column": "amount", "factor": 3});
        let inputs = [InputRef {
            dataset: "bronze/transactions".into(),
            partition: "date=2025-02-18".into(),
            content_hash: "c".repeat(64),
        }];
        assert_eq!(
            plugin_key(&"ab".repeat(32), &params, &inputs),
            "0631b166879e2984226b57891cb5f255ee445881729321055ea9fc65808e3cbc"
        );
    }
}
