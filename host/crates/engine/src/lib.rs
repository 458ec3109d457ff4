//! A run of a pipeline: datasets in dependency order, each observed in the
//! store, planned from manifests alone (strata-core's planner), then its
//! partitions computed in parallel (a source for raw data, a plugin in the
//! runtime for the rest) and committed through the store's fenced commit
//! protocol. A failed partition blocks only what reads it; the run goes on.
//!
//! `status` is the same walk without the computing: it plans every dataset
//! from the store as it is and changes nothing. [`ops`] is what surrounds
//! a run left unattended: its record, notifications, metrics, lineage.

mod checks;
mod dataset_plan;
mod execute;
mod failure;
mod failure_book;
mod inputs;
mod observe;
pub mod ops;
mod partition;
pub mod remote;
mod report;
pub mod schema;
mod tables;
mod walk;

pub use failure::{Failure, FailureKind, FailureRecord};
pub use inputs::InputsRead;
pub use partition::runtime_limits;
pub use report::{DatasetReport, Outcome, PartitionReport, Report, Stats, TableReport};
pub use walk::{RunOptions, Scope, run, status};
