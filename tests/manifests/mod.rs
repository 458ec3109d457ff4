//! Hostile input: a corpus of corrupted manifests put into a real store and
//! run through the `host` binary, and seeded mutation runs over manifests
//! and pipeline.toml files (the stable-Rust counterpart of the cargo-fuzz
//! targets in fuzz/, bounded so it fits in `cargo test`).
//!
//! The fuzz loops take `STRATA_FUZZ_ITERATIONS` (default 4000 each) and
//! `STRATA_FUZZ_SEED` (default fixed, so CI is reproducible); a failure
//! prints the seed, the iteration and the input.

mod corpus;
mod fuzz;
