//! Native throughput of the clean-dedupe plugin (its source, unchanged).
#[allow(dead_code, clippy::all)]
#[path = "../../../../../plugins/clean-dedupe/src/lib.rs"]
mod plugin;

fn main() {
    strata_bench_native::main::<plugin::CleanDedupe>("clean-dedupe");
}
