#!/usr/bin/env bash
# Builds the host and the example's plugins from source, then runs the
# weather pipeline (it needs internet: it calls the Open-Meteo archive API)
# and prints its status. Run from anywhere.
set -euo pipefail
example="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$example/../.." && pwd)"

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
echo "building plugins (wasm32-wasip2)…" >&2
wasm="$root/plugins/target/wasm32-wasip2/release"
mkdir -p "$example/plugins"
# From inside plugins/, so its .cargo/config.toml (target wasm32-wasip2) applies.
(cd "$root/plugins" && cargo build --quiet --release -p json-to-table -p aggregate)
cp "$wasm/json_to_table.wasm" "$wasm/aggregate.wasm" "$example/plugins/"

echo "building host…" >&2
cargo build --quiet --manifest-path "$root/Cargo.toml" -p strata-host
host="$root/target/debug/host"

"$host" --config "$example/pipeline.toml" run
"$host" --config "$example/pipeline.toml" status
