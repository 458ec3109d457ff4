#!/usr/bin/env node
// Builds the JavaScript plugins of this folder into WebAssembly components.
//
//     node build-all.mjs [NAME ...]          # all, or the named ones
//     node build-all.mjs --wit PATH [NAME ...]
//
// Each lands in build/NAME.wasm, made by build.mjs. `cargo test` builds the
// same plugins itself (tests/artifacts). The WIT is `--wit`, else
// $STRATA_WIT, else WIT below.

import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

// The contract the plugins are built against: a WIT file or folder.
const WIT = join(here, "..", "..", "wit");

/** [entry, component name], as tests/artifacts/build.rs lists them. */
export const PLUGINS = [
  ["aggregate/aggregate.js", "aggregate_js"],
  ["test/misbehave/misbehave.js", "test_misbehave_js"],
  ["test/arrow-passthrough/arrow-passthrough.js", "test_arrow_passthrough_js"],
];

/** The WIT to build against. */
export function witPath(arg = null) {
  return resolve(here, arg ?? process.env.STRATA_WIT ?? WIT);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let wit = null;
  const names = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--wit") wit = args[++i];
    else names.push(args[i]);
  }
  const unknown = names.filter((n) => !PLUGINS.some(([, name]) => name === n));
  if (unknown.length > 0) {
    console.error(`unknown plugin(s): ${unknown.join(", ")}`);
    process.exit(2);
  }
  for (const [entry, name] of PLUGINS) {
    if (names.length > 0 && !names.includes(name)) continue;
    const result = spawnSync(
      process.execPath,
      [join(here, "build.mjs"), join(here, entry), "-o", join(here, "build", `${name}.wasm`), "--wit", witPath(wit)],
      { stdio: "inherit" },
    );
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
}
