#!/usr/bin/env node
// Builds a JavaScript Strata plugin into a WebAssembly component.
//
//     node build.mjs ENTRY.js [-o OUT.wasm] [--wit DIR|FILE] [--world plugin]
//
// 1. esbuild bundles ENTRY.js and everything it imports (the SDK, npm
//    packages such as apache-arrow) into one ES module; the WIT interfaces
//    (`strata:…`, `wasi:…`) stay imports.
// 2. jco componentize (componentize-js, SpiderMonkey) turns the bundle into
//    a component for the `plugin` world, with the `http` and `fetch-event`
//    features disabled: the component then imports no wasi:http or
//    wasi:sockets, which the sandbox refuses. No `--aot` (it would download
//    a binary).
//
// Bare imports resolve from the plugin's own node_modules, if any, then
// from this script's (plugins/js/node_modules after `npm ci`). The WIT is
// `--wit` (a folder of .wit files, or one .wit file), else the nearest
// `wit/` folder above ENTRY.js, else the Strata repo's.
// Prints the component's path.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const toolDir = dirname(fileURLToPath(import.meta.url));

/** The folder of an installed package, looked up from this script's folder. */
function findPackage(name) {
  for (let dir = toolDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

function usage(message) {
  if (message) console.error(`error: ${message}`);
  console.error("usage: node build.mjs ENTRY.js [-o OUT.wasm] [--wit DIR|FILE] [--world plugin]");
  process.exit(2);
}

const args = process.argv.slice(2);
let entry = null;
let out = null;
let wit = null;
let world = "plugin";
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "-o" || a === "--out") out = args[++i];
  else if (a === "--wit") wit = args[++i];
  else if (a === "--world") world = args[++i];
  else if (a === "-h" || a === "--help") usage();
  else if (a.startsWith("-")) usage(`unknown option ${a}`);
  else if (entry === null) entry = a;
  else usage(`unexpected argument ${a}`);
}
if (entry === null) usage("no entry file");
entry = resolve(entry);
if (!existsSync(entry)) usage(`${entry} does not exist`);

function hasWit(path) {
  if (!existsSync(path)) return false;
  if (statSync(path).isFile()) return path.endsWith(".wit");
  return readdirSync(path).some((f) => f.endsWith(".wit"));
}

// In the Strata repository: its wit/, the newest contract, which the SDK
// speaks.
const repoWit = resolve(toolDir, "../../wit");
if (wit === null) {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    if (hasWit(join(dir, "wit"))) {
      wit = join(dir, "wit");
      break;
    }
    if (dirname(dir) === dir) break;
  }
  wit ??= repoWit;
}
wit = resolve(wit);
if (!hasWit(wit)) usage(`no WIT files in ${wit}`);

out = resolve(out ?? join(dirname(entry), "build", basename(entry).replace(/\.[cm]?js$/, "").replaceAll("-", "_") + ".wasm"));
mkdirSync(dirname(out), { recursive: true });

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.error(
    `error: esbuild is not installed next to ${toolDir}; run \`npm ci\` in ${toolDir} (it installs esbuild, jco and componentize-js)`,
  );
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "strata-js-"));
try {
  // Named after the entry: error locations say `<entry>.bundle.js:LINE`.
  const bundle = join(work, basename(entry).replace(/\.[cm]?js$/, "") + ".bundle.js");
  await esbuild.build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["module", "import", "default"],
    external: ["strata:*", "wasi:*"],
    nodePaths: [join(dirname(entry), "node_modules"), join(toolDir, "node_modules")],
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
  });

  const jcoDir = findPackage("@bytecodealliance/jco");
  if (jcoDir === null) {
    console.error(`error: @bytecodealliance/jco is not installed; run \`npm ci\` in ${toolDir}`);
    process.exit(1);
  }
  const jco = join(jcoDir, JSON.parse(readFileSync(join(jcoDir, "package.json"), "utf8")).bin.jco);
  const result = spawnSync(
    process.execPath,
    [jco, "componentize", bundle, "--wit", wit, "--world-name", world, "--disable", "http", "fetch-event", "-o", out],
    { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
  );
  if (result.status !== 0) {
    if (result.stdout) process.stderr.write(result.stdout);
    console.error(`error: jco componentize failed (${result.status ?? result.signal})`);
    process.exit(1);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(out);
