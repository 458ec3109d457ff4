#!/usr/bin/env bash
# Builds the host (the pipeline's plugins are inside it: std:json-to-table,
# std:aggregate), then runs the weather pipeline (it needs internet: it
# calls the Open-Meteo archive API) and prints its status. Run from anywhere.
set -euo pipefail
example="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$example/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac  # as cargo resolves it

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
echo "building host (and the standard plugins it carries)…" >&2
cargo build --quiet --manifest-path "$root/Cargo.toml" -p strata-host
host="$target/debug/host"

"$host" --config "$example/pipeline.toml" run
"$host" --config "$example/pipeline.toml" status
