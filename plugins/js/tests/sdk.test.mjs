// Unit tests of the JavaScript SDK's glue and the shipped JS plugins, without
// a host: `npm test` (node --import ./tests/register.mjs --test tests/*.test.mjs).
// Each test drives the object a plugin exports as `transform` with the values
// jco would hand it for the contract's types.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { tableFromArrays, tableFromIPC, tableToIPC } from "apache-arrow";

import { logged } from "./fake-host.mjs";
import {
  BadParams,
  Params,
  Plugin,
  exportPlugin,
  limits,
  log,
  typeFromWit,
  typeToWit,
} from "../sdk/strata-plugin.js";
import { exportArrowPlugin } from "../sdk/arrow.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A partition-context: inputs as [dataset, [[name, type]], [partition ids]]. */
function context(inputs, params = "{}") {
  return {
    dataset: "silver/out",
    partition: "date=2025-02-18",
    periodStart: "2025-02-18T00:00:00Z",
    periodEnd: "2025-02-19T00:00:00Z",
    params,
    inputs: inputs.map(([dataset, fields, partitions]) => ({
      dataset,
      fields: fields.map(([name, type, nullable = true]) => ({ name, dataType: typeToWit(type), nullable })),
      partitions,
    })),
  };
}

const ONE_INPUT = [["bronze/tx", [["id", "utf8"], ["amount", "decimal128(12,2)"], ["note", "utf8"]], ["date=2025-02-18"]]];

function lines(...rows) {
  return encoder.encode(rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
}

function decode(chunks) {
  return chunks.flatMap((c) =>
    decoder
      .decode(c)
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l)),
  );
}

/** The plugin-error a call threw: [tag, message]. */
function errorOf(call) {
  try {
    call();
  } catch (e) {
    assert.ok(typeof e?.tag === "string", `not a plugin-error: ${e}`);
    return [e.tag, e.val];
  }
  assert.fail("no plugin-error thrown");
}

/** Every finish call's output until the empty list. */
function drain(transform, read = decode) {
  const calls = [];
  for (let i = 0; i < 100; i++) {
    const chunks = transform.finish();
    if (chunks.length === 0) return calls;
    calls.push(read(chunks));
  }
  assert.fail("finish never returned an empty list");
}

class Echo extends Plugin {
  static info = { name: "echo", version: "1.2.3", description: "copies" };
  open(ctx) {
    this.seen = [];
    Echo.last = this;
    return ctx.inputs[0].fields;
  }
  process(input, partition, rows) {
    this.seen.push([input, partition, rows]);
    return rows;
  }
}

describe("params", () => {
  test("keep their JSON types and destructure", () => {
    const p = Params.parse('{"n": 3, "s": "3", "f": 1.5, "b": true, "l": ["a"], "t": {"x": 1}}');
    const { n, s, limit = 10 } = p;
    assert.equal(n, 3);
    assert.equal(s, "3");
    assert.equal(limit, 10);
    assert.deepEqual(Object.keys(p), ["n", "s", "f", "b", "l", "t"]);
    assert.equal(JSON.stringify(p), '{"n":3,"s":"3","f":1.5,"b":true,"l":["a"],"t":{"x":1}}');
    assert.equal(p.get("n", undefined, "integer"), 3);
    assert.equal(p.get("f", undefined, "number"), 1.5);
    assert.deepEqual(p.require("t", "object"), { x: 1 });
    assert.equal(p.get("missing", 7, "integer"), 7);
    assert.equal(p.flag("b"), true);
    assert.equal(p.flag("nope", false), false);
    assert.equal(p.get("s", undefined, ["integer", "string"]), "3");
  });

  test("a wrong type or a missing key is bad-params", () => {
    const p = Params.parse('{"n": "3", "b": 1, "l": [1, 2]}');
    assert.throws(() => p.get("n", undefined, "integer"), { message: 'param `n` must be an integer, not "3"' });
    assert.throws(() => p.flag("b"), { message: "param `b` must be true or false, not 1" });
    assert.throws(() => p.require("x"), { message: "missing required param `x`" });
    assert.throws(() => p.list("l"), BadParams);
    assert.throws(() => p.checkKnown(["n", "l"]), { message: "unknown param `b`; this plugin takes: n, l" });
  });

  test("list takes an array or comma-separated text", () => {
    const p = new Params({ a: ["x", " y ", ""], b: "x, y,,", c: null });
    assert.deepEqual(p.list("a"), ["x", "y"]);
    assert.deepEqual(p.list("b"), ["x", "y"]);
    assert.deepEqual(p.list("c"), []);
    assert.deepEqual(p.list("d"), []);
  });

  test("odd keys stay data", () => {
    const p = Params.parse('{"__proto__": {"polluted": 1}, "get": 5}');
    assert.equal({}.polluted, undefined);
    assert.deepEqual(p["__proto__"], { polluted: 1 });
    assert.equal(p.get, 5, "a param named like a method hides it");
    assert.equal(Params.prototype.get.call(p, "get"), 5);
  });

  test("empty or not an object", () => {
    assert.deepEqual(Object.keys(Params.parse("")), []);
    assert.throws(() => Params.parse("[1]"), BadParams);
    assert.throws(() => Params.parse("{"), BadParams);
  });
});

describe("types", () => {
  test("every type round-trips", () => {
    const names = [
      "bool",
      "int8",
      "int16",
      "int32",
      "int64",
      "uint8",
      "uint16",
      "uint32",
      "uint64",
      "float32",
      "float64",
      "utf8",
      "binary",
      "date32",
      "timestamp-us",
      "timestamp-us-utc",
      "decimal128(38,4)",
    ];
    for (const name of names) assert.equal(typeFromWit(typeToWit(name)), name);
    assert.deepEqual(typeToWit("bool"), { tag: "boolean" });
    assert.deepEqual(typeToWit("decimal128( 12 , 2 )"), { tag: "decimal128", val: { precision: 12, scale: 2 } });
  });

  test("an unknown output type fails open", () => {
    class Bad extends Plugin {
      open() {
        return [{ name: "x", type: "string" }];
      }
    }
    const [tag, message] = errorOf(() => exportPlugin(Bad).open(context(ONE_INPUT)));
    assert.equal(tag, "failed");
    assert.match(message, /unknown column type "string"/);
  });
});

describe("open", () => {
  test("describe", () => {
    assert.deepEqual(exportPlugin(Echo).describe(), {
      name: "echo",
      version: "1.2.3",
      description: "copies",
      format: "json-lines",
    });
  });

  test("the context and a plan without reads", () => {
    const plan = exportPlugin(Echo).open(context(ONE_INPUT, '{"k": 3}'));
    const ctx = Echo.last.ctx;
    assert.equal(ctx.partition, "date=2025-02-18");
    assert.equal(ctx.params.k, 3);
    assert.equal(ctx.inputs[0].dataset, "bronze/tx");
    assert.deepEqual(ctx.inputs[0].partitions, ["date=2025-02-18"]);
    assert.equal(ctx.inputs[0].field("amount").type, "decimal128(12,2)");
    assert.deepEqual(
      plan.output.map((f) => [f.name, f.dataType.tag]),
      [
        ["id", "utf8"],
        ["amount", "decimal128"],
        ["note", "utf8"],
      ],
    );
    assert.deepEqual(plan.inputs, [], "nothing declared: every input whole and in order");
  });

  test("read declares a projection and the order per input", () => {
    let got = null;
    class Reads extends Plugin {
      open(ctx) {
        got = ctx.inputs[1].read({ columns: ["b", "a", "b"], ordered: false });
        return [{ name: "a", type: "int64", nullable: false }, { name: "b", type: "utf8" }];
      }
    }
    const inputs = [
      ["x/one", [["z", "utf8"]], ["p1"]],
      ["x/two", [["a", "int64"], ["c", "utf8"], ["b", "utf8"]], ["p1", "p2"]],
    ];
    const plan = exportPlugin(Reads).open(context(inputs));
    assert.deepEqual(
      got.map((f) => f.name),
      ["a", "b"],
    );
    assert.deepEqual(plan.inputs, [
      { columns: undefined, ordered: true },
      { columns: ["b", "a"], ordered: false },
    ]);
    assert.deepEqual(
      plan.output.map((f) => f.nullable),
      [false, true],
    );
  });

  test("reading an unknown column is bad-params", () => {
    class Reads extends Plugin {
      open(ctx) {
        ctx.inputs[0].read({ columns: ["nope"] });
        return [];
      }
    }
    assert.deepEqual(errorOf(() => exportPlugin(Reads).open(context(ONE_INPUT))), [
      "bad-params",
      "input `bronze/tx` has no column `nope` (it has: id, amount, note)",
    ]);
  });

  test("no output schema fails", () => {
    class NoSchema extends Plugin {
      open() {}
    }
    const [tag, message] = errorOf(() => exportPlugin(NoSchema).open(context(ONE_INPUT)));
    assert.equal(tag, "failed");
    assert.match(message, /no output schema/);
  });
});

describe("process", () => {
  test("a batch names its input and partition", () => {
    const inputs = [["bronze/tx", [["id", "utf8"], ["blob", "binary"]], ["date=2025-02-16", "date=2025-02-17"]]];
    const t = exportPlugin(Echo);
    t.open(context(inputs));
    const out = t.process(0, 1, lines({ id: "a", blob: "00ff" }));
    const [input, partition, rows] = Echo.last.seen[0];
    assert.equal(input, 0);
    assert.equal(partition, "date=2025-02-17");
    assert.deepEqual(rows[0].blob, new Uint8Array([0, 255]));
    assert.deepEqual(decode(out), [{ id: "a", blob: "00ff" }]);
    const [tag, message] = errorOf(() => t.process(0, 2, new Uint8Array()));
    assert.equal(tag, "failed");
    assert.match(message, /reads 2 partitions/);
  });

  test("a generator, a throw, bad-input", () => {
    class Gen extends Echo {
      *process(_input, _partition, rows) {
        for (const row of rows) {
          if (row.id === "bad") throw new BadParams("row `bad`");
          if (row.id === "boom") throw new RangeError("boom");
          yield row;
        }
        yield [{ id: "extra" }];
      }
    }
    const t = exportPlugin(Gen);
    t.open(context(ONE_INPUT));
    assert.deepEqual(decode(t.process(0, 0, lines({ id: "a" }))), [{ id: "a" }, { id: "extra" }]);
    assert.deepEqual(errorOf(() => t.process(0, 0, lines({ id: "bad" }))), ["bad-params", "row `bad`"]);
    const [tag, message] = errorOf(() => t.process(0, 0, lines({ id: "boom" })));
    assert.equal(tag, "failed");
    assert.match(message, /^RangeError: boom/);
  });
});

describe("finish", () => {
  let chunk;
  beforeEach(() => {
    chunk = limits.outputChunkRows;
    limits.outputChunkRows = 2;
  });
  afterEach(() => {
    limits.outputChunkRows = chunk;
  });

  function collect(finish) {
    class Collect extends Plugin {
      open() {
        return [{ name: "n", type: "int64", nullable: false }];
      }
    }
    Collect.prototype.finish = finish;
    const t = exportPlugin(Collect);
    t.open(context(ONE_INPUT));
    return t;
  }
  const rows = (n) => Array.from({ length: n }, (_, i) => ({ n: i }));

  test("an array comes at once", () => {
    assert.deepEqual(drain(collect(() => rows(5))), [rows(5)]);
  });

  test("nothing", () => {
    assert.deepEqual(drain(collect(() => null)), []);
    assert.deepEqual(drain(collect(() => [])), []);
    assert.deepEqual(
      drain(
        collect(function* () {
          yield* [];
        }),
      ),
      [],
    );
  });

  test("yielded rows come a chunk per call", () => {
    const calls = drain(
      collect(function* () {
        yield* rows(5);
      }),
    );
    assert.deepEqual(calls, [
      [{ n: 0 }, { n: 1 }],
      [{ n: 2 }, { n: 3 }],
      [{ n: 4 }],
    ]);
  });

  test("yielded arrays come one per call", () => {
    const calls = drain(
      collect(function* () {
        yield [];
        yield [{ n: 0 }, { n: 1 }];
        yield null;
        yield [{ n: 2 }];
      }),
    );
    assert.deepEqual(calls, [[{ n: 0 }, { n: 1 }], [{ n: 2 }]]);
  });

  test("a throw in the generator fails that call", () => {
    const t = collect(function* () {
      yield { n: 0 };
      throw new Error("late");
    });
    const [tag, message] = errorOf(() => t.finish());
    assert.equal(tag, "failed");
    assert.match(message, /^Error: late/);
  });

  test("a row that is not an object", () => {
    const t = collect(function* () {
      yield 3;
    });
    assert.match(errorOf(() => t.finish())[1], /finish\(\) yielded a number/);
    assert.match(errorOf(() => collect(() => ({ n: 1 })).finish())[1], /returned one object/);
  });
});

describe("arrow", () => {
  const table = (values) => tableFromArrays({ n: Int32Array.from(values) });
  const numbers = (chunks) => chunks.flatMap((c) => [...tableFromIPC(c).getChild("n").toArray()]);

  test("process gets a Table and its partition; finish drains yielded Tables", () => {
    const seen = [];
    class Arrowy extends Plugin {
      process(input, partition, t) {
        seen.push([input, partition, t.numRows]);
        return t;
      }
      *finish() {
        yield table([7]);
        yield null;
        yield table([8, 9]);
      }
    }
    const t = exportArrowPlugin(Arrowy);
    assert.equal(t.describe().format, "arrow-ipc");
    const plan = t.open(context([["bronze/x", [["n", "int32"]], ["p1", "p2"]]]));
    assert.deepEqual(plan, { output: undefined, inputs: [] });
    assert.deepEqual(numbers(t.process(0, 1, tableToIPC(table([1, 2]), "stream"))), [1, 2]);
    assert.deepEqual(seen, [[0, "p2", 2]]);
    assert.deepEqual(drain(t, numbers), [[7], [8, 9]]);
  });

  test("a single Table from finish comes at once", () => {
    class One extends Plugin {
      finish() {
        return table([1, 2, 3]);
      }
    }
    const t = exportArrowPlugin(One);
    t.open(context(ONE_INPUT));
    assert.deepEqual(drain(t, numbers), [[1, 2, 3]]);
  });
});

describe("shipped plugins", () => {
  test("aggregate reads only the columns it uses, in order", async () => {
    const { transform } = await import("../aggregate/aggregate.js");
    const inputs = [
      [
        "silver/tx",
        [
          ["id", "utf8"],
          ["currency", "utf8"],
          ["amount", "decimal128(12,2)"],
          ["status", "utf8"],
          ["note", "utf8"],
        ],
        ["date=2025-02-16", "date=2025-02-17", "date=2025-02-18"],
      ],
    ];
    const params = JSON.stringify({
      group_by: ["currency"],
      filter: { column: "status", equals: "settled" },
      aggregates: [
        { column: "amount", fn: "sum", as: "total" },
        { fn: "count", as: "n" },
      ],
    });
    const plan = transform.open(context(inputs, params));
    assert.deepEqual(plan.inputs, [{ columns: ["currency", "amount", "status"], ordered: true }]);
    assert.deepEqual(
      plan.output.map((f) => [f.name, typeFromWit(f.dataType)]),
      [
        ["currency", "utf8"],
        ["total", "decimal128(38,2)"],
        ["n", "int64"],
      ],
    );
    transform.process(
      0,
      0,
      lines(
        { currency: "USD", amount: "1.50", status: "settled" },
        { currency: "EUR", amount: "2.00", status: "settled" },
      ),
    );
    transform.process(0, 2, lines({ currency: "USD", amount: "3.25", status: "settled" }, { currency: "USD", amount: "9.00", status: "void" }));
    assert.deepEqual(drain(transform), [
      [
        { currency: "EUR", total: "2.00", n: 1 },
        { currency: "USD", total: "4.75", n: 2 },
      ],
    ]);
    assert.ok(logged.some(([, m]) => m.includes("4 row(s) in, 3 after the filter, 2 group(s) out")));
  });

  test("aggregate with only a count still reads one column", async () => {
    const { transform } = await import("../aggregate/aggregate.js");
    const plan = transform.open(context(ONE_INPUT, '{"aggregates": [{"fn": "count"}]}'));
    assert.deepEqual(plan.inputs, [{ columns: ["id"], ordered: true }]);
  });

  test("aggregate: a string where a list belongs is bad-params", async () => {
    const { transform } = await import("../aggregate/aggregate.js");
    const [tag] = errorOf(() => transform.open(context(ONE_INPUT, '{"aggregates": "[{\\"fn\\": \\"count\\"}]"}')));
    assert.equal(tag, "bad-params");
  });

  test("misbehave fails on purpose", async () => {
    const { transform } = await import("../test/misbehave/misbehave.js");
    assert.deepEqual(errorOf(() => transform.open(context(ONE_INPUT, '{"mode": "bad-params"}'))), [
      "bad-params",
      "param `mode` is bad on purpose",
    ]);
    transform.open(context(ONE_INPUT, '{"mode": "bad-line"}'));
    assert.deepEqual(drain(transform), [[{ n: 1 }, { n: 2 }, { n: "three" }]]);
  });

  test("arrow-passthrough copies its batches", async () => {
    const { transform } = await import("../test/arrow-passthrough/arrow-passthrough.js");
    transform.open(context([["bronze/x", [["n", "int32"]], ["p1"]]]));
    const batch = tableToIPC(tableFromArrays({ n: Int32Array.from([4, 5]) }), "stream");
    const out = transform.process(0, 0, batch);
    assert.deepEqual([...tableFromIPC(out[0]).getChild("n").toArray()], [4, 5]);
    assert.deepEqual(transform.finish(), []);
    log("done");
    assert.deepEqual(logged.at(-1), ["info", "done"]);
  });
});
