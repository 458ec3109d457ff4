// The built components themselves, without the Strata host: each one in
// build/ (here and in ../python/build, made by build-all.mjs and build.py)
// is transpiled by jco into JavaScript and driven through the contract with
// a fake host interface, so the SDKs are checked inside WebAssembly
// (SpiderMonkey, CPython) at the contract's real types.
//
//     npm run test:components
//
// (node --experimental-wasm-extended-const: componentize-py's core modules
// use extended constant expressions, which Node 20 gates.) A component that
// is not built is skipped.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { tableFromArrays, tableFromIPC, tableToIPC } from "apache-arrow";

const js = dirname(dirname(fileURLToPath(import.meta.url)));
const work = mkdtempSync(join(tmpdir(), "strata-components-"));
symlinkSync(join(js, "node_modules"), join(work, "node_modules"));
writeFileSync(join(work, "package.json"), '{"type": "module"}\n');
writeFileSync(join(work, "host.mjs"), "export const logged = [];\nexport function log(level, message) { logged.push([level, message]); }\n");
after(() => rmSync(work, { recursive: true, force: true }));

const { logged } = await import(pathToFileURL(join(work, "host.mjs")).href);

/** The transform a built component exports, or null if it is not built. */
async function load(wasm) {
  if (!existsSync(wasm)) return null;
  const name = wasm.split("/").pop().replace(/\.wasm$/, "");
  const jcoDir = join(js, "node_modules", "@bytecodealliance", "jco");
  const jco = join(jcoDir, JSON.parse(readFileSync(join(jcoDir, "package.json"), "utf8")).bin.jco);
  const result = spawnSync(
    process.execPath,
    [jco, "transpile", wasm, "-o", join(work, name), "--no-typescript", "--map", "strata:plugin/host@0.2.0=../host.mjs"],
    { encoding: "utf8" },
  );
  assert.equal(result.status, 0, result.stderr);
  return (await import(pathToFileURL(join(work, name, `${name}.js`)).href)).transform;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const field = (name, tag, val) => ({ name, dataType: val === undefined ? { tag } : { tag, val }, nullable: true });
const context = (fields, partitions, params) => ({
  dataset: "x/out",
  partition: "date=2025-02-18",
  periodStart: "2025-02-18T00:00:00Z",
  periodEnd: "2025-02-19T00:00:00Z",
  params: JSON.stringify(params),
  inputs: [{ dataset: "x/in", fields, partitions }],
});
const lines = (...rows) => encoder.encode(rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
const rowsOf = (chunks) => chunks.flatMap((c) => decoder.decode(c).split("\n").filter(Boolean).map((l) => JSON.parse(l)));
function drain(t) {
  const calls = [];
  for (let c = t.finish(); c.length > 0; c = t.finish()) calls.push(c);
  return calls;
}
/** The plugin-error a call returned as its err: [tag, message]. */
function errorOf(call) {
  try {
    call();
  } catch (e) {
    const err = e.payload ?? e;
    return [err.tag, err.val];
  }
  assert.fail("no error");
}

test("clean_dedupe_py: plan, partition index, finish yielded and drained", async (t) => {
  const transform = await load(join(js, "../python/build/clean_dedupe_py.wasm"));
  if (transform === null) return t.skip("not built");
  assert.equal(transform.describe().format, "json-lines");
  const fields = [field("id", "utf8"), field("at", "timestamp-us-utc"), field("name", "utf8"), field("junk", "utf8")];
  const params = { key: "id", order_by: "at", trim: ["name"], drop_columns: ["junk", "at"] };
  const plan = transform.open(context(fields, ["date=2025-02-17", "date=2025-02-18"], params));
  assert.deepEqual(plan.inputs, [{ columns: ["id", "at", "name"], ordered: true }]);
  assert.deepEqual(
    plan.output.map((f) => f.name),
    ["id", "name"],
  );
  const batch = lines(
    { id: "b", at: "2025-02-18T01:00:00.000000Z", name: " old " },
    { id: "a", at: "2025-02-18T01:00:00.000000Z", name: " x " },
    { id: "b", at: "2025-02-18T02:00:00.000000Z", name: " new " },
  );
  assert.deepEqual(transform.process(0, 1, batch), []);
  assert.deepEqual(drain(transform).map(rowsOf), [
    [
      { id: "a", name: "x" },
      { id: "b", name: "new" },
    ],
  ]);
  assert.ok(logged.some(([, m]) => m.includes("3 row(s) in, 0 without a key dropped, 2 row(s) out")));
  assert.deepEqual(errorOf(() => transform.open(context(fields, ["p"], { key: "id", order_by: 3 }))), [
    "bad-params",
    "param `order_by` must be a string, not 3",
  ]);
});

test("test_misbehave_py: a raise names its line", async (t) => {
  const transform = await load(join(js, "../python/build/test_misbehave_py.wasm"));
  if (transform === null) return t.skip("not built");
  transform.open(context([field("n", "int64")], ["p"], { mode: "raise" }));
  const [tag, message] = errorOf(() => transform.process(0, 0, lines({ n: 1 })));
  assert.equal(tag, "failed");
  assert.match(message, /ValueError: python plugin failed on purpose \(at misbehave\.py:\d+ in process\)/);
});

test("aggregate_js: projection and totals", async (t) => {
  const transform = await load(join(js, "build/aggregate_js.wasm"));
  if (transform === null) return t.skip("not built");
  const fields = [
    field("id", "utf8"),
    field("currency", "utf8"),
    field("amount", "decimal128", { precision: 12, scale: 2 }),
    field("status", "utf8"),
  ];
  const params = {
    group_by: ["currency"],
    filter: { column: "status", equals: "settled" },
    aggregates: [{ column: "amount", fn: "sum", as: "total" }],
  };
  const plan = transform.open(context(fields, ["d1", "d2"], params));
  assert.deepEqual(plan.inputs, [{ columns: ["currency", "amount", "status"], ordered: true }]);
  assert.deepEqual(plan.output[1].dataType, { tag: "decimal128", val: { precision: 38, scale: 2 } });
  transform.process(0, 0, lines({ currency: "USD", amount: "1.50", status: "settled" }, { currency: "EUR", amount: "2.00", status: "settled" }));
  transform.process(0, 1, lines({ currency: "USD", amount: "3.25", status: "settled" }));
  assert.deepEqual(drain(transform).map(rowsOf), [
    [
      { currency: "EUR", total: "2.00" },
      { currency: "USD", total: "4.75" },
    ],
  ]);
  assert.equal(errorOf(() => transform.open(context(fields, ["p"], { aggregates: "nope" })))[0], "bad-params");
});

test("test_arrow_passthrough_js: Arrow through the component", async (t) => {
  const transform = await load(join(js, "build/test_arrow_passthrough_js.wasm"));
  if (transform === null) return t.skip("not built");
  assert.equal(transform.describe().format, "arrow-ipc");
  assert.deepEqual(transform.open(context([field("n", "int32")], ["p1"], {})).inputs, []);
  const out = transform.process(0, 0, tableToIPC(tableFromArrays({ n: Int32Array.from([4, 5]) }), "stream"));
  assert.deepEqual([...tableFromIPC(out[0]).getChild("n").toArray()], [4, 5]);
  assert.deepEqual(transform.finish(), []);
});
