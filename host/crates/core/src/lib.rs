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

/// The plugin contract this host implements: the package of `wit/`, read
/// from `wit/strata.wit` when the crate is built, so there is one source of
/// truth. It is part of every partition key.
pub const CONTRACT_VERSION: &str = env!("STRATA_CONTRACT_VERSION");
