#!/usr/bin/env bash
# Builds the host and the example's plugins from source, then runs the
# example pipeline and prints its status. Run from anywhere.
set -euo pipefail
example="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$example/../.." && pwd)"

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
echo "building plugins (wasm32-wasip2)…" >&2
wasm="$root/plugins/target/wasm32-wasip2/release"
mkdir -p "$example/plugins"
# The legacy bronze build of the walkthrough (it ignores UTC offsets), in
# its own profile so it never overwrites the fixed build.
# From inside plugins/, so its .cargo/config.toml (target wasm32-wasip2) applies.
(cd "$root/plugins" && cargo build --quiet --profile variant -p json-to-table --features legacy-offsets)
cp "$root/plugins/target/wasm32-wasip2/variant/json_to_table.wasm" "$example/plugins/json_to_table_legacy.wasm"
(cd "$root/plugins" && cargo build --quiet --release -p json-to-table -p clean-dedupe -p aggregate)
cp "$wasm/json_to_table.wasm" "$wasm/clean_dedupe.wasm" "$wasm/aggregate.wasm" "$example/plugins/"

echo "building host…" >&2
cargo build --quiet --manifest-path "$root/Cargo.toml" -p strata-host
host="$root/target/debug/host"

"$host" --config "$example/pipeline.toml" run
"$host" --config "$example/pipeline.toml" status
