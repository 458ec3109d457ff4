//! Operating runs that nobody watches: each run's record in the store
//! ([`history`]), notifications on the edges of failure ([`notify`]),
//! Prometheus metrics ([`metrics`]) and OpenLineage events ([`lineage`]).
//!
//! Everything here happens around a run, never inside its data work: an
//! endpoint that is down, slow or refuses is retried within a bound,
//! recorded and logged, and never fails the run or loses what it computed.

mod deliver;
pub mod history;
pub mod lineage;
pub mod metrics;
pub mod notify;

pub use deliver::Delivery;

use strata_core::config::Pipeline;

/// The pipeline's name in messages and lineage: its folder's name.
pub fn pipeline_name(pipeline: &Pipeline) -> String {
    pipeline
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "pipeline".to_owned())
}
