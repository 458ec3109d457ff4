//! Native throughput of the aggregate plugin (its source, unchanged).
#[allow(dead_code, clippy::all)]
#[path = "../../../../../plugins/aggregate/src/lib.rs"]
mod plugin;

fn main() {
    strata_bench_native::main::<plugin::Aggregator>("aggregate");
}
