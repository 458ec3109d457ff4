#!/usr/bin/env bash
# Builds the host (the pipeline's plugins are inside it: std:json-to-table,
# std:clean-dedupe, std:aggregate) and the legacy bronze build the
# walkthrough in README.md swaps in, then runs the example pipeline and
# prints its status. Run from anywhere.
set -euo pipefail
example="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$example/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac  # as cargo resolves it

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
echo "building host (and the standard plugins it carries)…" >&2
cargo build --quiet --manifest-path "$root/Cargo.toml" -p strata-host
host="$target/debug/host"

# The legacy bronze build of the walkthrough (it ignores UTC offsets). Into
# the nested target directory the host's build (and the tests') build the
# plugins in, with the `variant` profile as tests/artifacts builds it, so
# it is compiled once and never overwrites the fixed build. From inside
# plugins/, so its .cargo/config.toml (target wasm32-wasip2) applies.
echo "building the legacy json-to-table (wasm32-wasip2)…" >&2
(cd "$root/plugins" && CARGO_TARGET_DIR="$target/wasm-plugins" \
    cargo build --quiet --profile variant -p json-to-table --features json-to-table/legacy-offsets)
mkdir -p "$example/plugins"
cp "$target/wasm-plugins/wasm32-wasip2/variant/json_to_table.wasm" \
    "$example/plugins/json_to_table_legacy.wasm"

"$host" --config "$example/pipeline.toml" run
"$host" --config "$example/pipeline.toml" status
