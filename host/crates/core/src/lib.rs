//! Strata's vocabulary and its decisions, with no I/O but reading
//! pipeline.toml, no async and no WebAssembly: every other crate of the host
//! builds on this one, and a change here never recompiles the plugin
//! runtime.
//!
//! - [`id`], [`period`], [`units`], [`template`]: what datasets, periods,
//!   durations, sizes and period templates are.
//! - [`config`]: pipeline.toml, parsed and checked; [`secrets`]: `${NAME}`
//!   values from the environment, and their redaction.
//! - [`manifest`]: the `_manifest.json` format, the only thing trusted
//!   about a partition.
//! - [`planner`]: partition keys and what every partition needs, decided
//!   from manifests alone.

pub mod config;
pub mod id;
pub mod manifest;
pub mod period;
pub mod planner;
pub mod secrets;
pub mod template;
pub mod units;

pub use id::DatasetId;

/// The semantics of the plugin contract that partition keys carry: what a
/// partition's output may depend on besides the plugin's bytes, its params
/// and its inputs' content (how input is presented to a plugin, how its
/// output is read). Part of every partition key.
///
/// It is not the contract's package version. Contract 0.2 changed the
/// interface (params as JSON, a plan from `open`, batches tagged with their
/// partition, drained output) but not what a given plugin computes from
/// given inputs, and the host still runs 0.1 plugins as before. So the
/// text stays exactly what 0.1 hosts wrote into keys, and a store built by
/// a 0.1 host stays fresh under this one: nothing recomputes because the
/// host was upgraded; a dataset recomputes once only where its plugin's
/// bytes changed. Change it only when the same plugin, params and inputs
/// may produce other output under a new host; then every store recomputes,
/// as it must.
pub const CONTRACT_SEMANTICS: &str = "strata:plugin@0.1.0";
