//! Strata: idempotent, self-healing, date-partitioned pipelines whose
//! transforms are sandboxed WebAssembly components.
//!
//! The rooms: `config` reads pipeline.toml; `store` owns partitions and
//! manifests on an object store; `planner` decides from manifests alone what
//! needs computing; `runtime` runs plugins in a sandbox; `source` fetches
//! raw data; `executor` walks the pipeline and ties them together.

pub mod config;
pub mod executor;
pub mod ipc;
pub mod jsonl;
pub mod period;
pub mod planner;
pub mod runtime;
pub mod schema;
pub mod source;
pub mod store;
