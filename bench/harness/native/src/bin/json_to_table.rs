//! Native throughput of the json-to-table plugin (its source, unchanged).
#[allow(dead_code, clippy::all)]
#[path = "../../../../../plugins/json-to-table/src/lib.rs"]
mod plugin;

fn main() {
    strata_bench_native::main::<plugin::JsonToTable>("json-to-table");
}
