// The JavaScript SDK for Strata transform plugins (contract strata:plugin@0.2.0).
//
// A plugin is a class with `open`, `process` and `finish` over arrays of row
// objects, exported with `exportPlugin`:
//
//     import { Plugin, exportPlugin } from "./strata-plugin.js";
//
//     class Upper extends Plugin {
//       static info = { name: "upper", version: "0.1.0", description: "Upper-cases a column" };
//       open(ctx) {
//         this.column = ctx.params.require("column", "string");
//         return ctx.inputs[0].fields;            // the output schema
//       }
//       process(input, partition, rows) {
//         for (const row of rows) if (row[this.column] != null) row[this.column] = row[this.column].toUpperCase();
//         return rows;
//       }
//     }
//
//     export const transform = exportPlugin(Upper);
//
// Build it with `node build.mjs upper.js -o upper.wasm` (or `host plugin
// build`): esbuild bundles it into one module, jco (componentize-js) makes
// a WebAssembly component of it, with the http and fetch-event features
// disabled so that it imports nothing the sandbox refuses.
//
// The calls. The host makes a fresh instance for every partition and calls
// `open(ctx)` once, `process(input, partition, rows)` once per input batch,
// then `finish()`. `process` and `finish` return rows: an array of objects,
// null or undefined for none, or an iterable (a generator).
//
// `ctx` has `dataset` and `partition` ("date=2025-02-18") of the output,
// `periodStart`/`periodEnd` (RFC 3339, end exclusive), `params` and
// `inputs`. The SDK also sets `this.ctx` before `open`.
//
// Params: `ctx.params` holds the dataset's params from pipeline.toml as
// JSON values (3 is a number, "3" a string; arrays and tables as arrays and
// objects), so `const { column, limit = 10 } = ctx.params` works. Its
// methods check them and fail the partition with `bad-params` naming the
// key: `require(key, type)`, `get(key, fallback, type)` (type: "string",
// "number", "integer", "boolean", "array", "object", or an array of them),
// `list(key)` (an array of strings, or one comma-separated string),
// `flag(key, fallback)` and `checkKnown(keys)`. (A param named like one of
// these methods hides it on that object; `Params.prototype.get.call(…)`
// still reaches it.)
//
// Inputs: `ctx.inputs[i]` has `dataset` ("layer/name"), `fields` (every
// column: { name, type, nullable }) and `partitions` (the partition ids this
// partition reads, oldest first: one for a same-day input, several for a
// window or an `all` input). In `open` a plugin may say how it reads one:
//
//     ctx.inputs[0].read({ columns: ["id", "amount"], ordered: false });
//
// `columns`: the host reads only these (a projection: batches hold only
// these columns); `ordered: false`: the input's partitions may arrive in any
// order (each partition's batches still together and in order). Without a
// `read` call an input is read whole and in order. `read` returns the
// fields it reads.
//
// `process` gets `input` (the index into `ctx.inputs`), `partition` (the id
// of the input partition the batch comes from, one of
// `ctx.inputs[input].partitions`) and the rows.
//
// `finish` is where a plugin that collects rows writes them out: return
// them all at once as an array, or make it a generator and `yield` rows one
// at a time (or arrays of rows); the SDK hands them to the host a chunk at a
// time, so a partition's output need not be in memory at once:
//
//     *finish() {
//       for (const [key, n] of this.counts) yield { key, rows: n };
//     }
//
// Values, by column type: bool, ints and floats are numbers and booleans
// (ints are exact up to 2^53: use the Arrow format, `./arrow.js`, for larger
// int64 values); utf8, date32 ("2025-02-18") and timestamps
// ("2025-02-18T10:00:00.000000Z", always six decimals, so they sort as text)
// are strings; decimal128 values are strings with exactly their scale's
// decimals ("10.50": see `parseDecimal`/`formatDecimal` for exact
// arithmetic); binary values are Uint8Arrays. Output may also use BigInt for
// integers and Date for timestamps. A missing key in an output row is null.
// A field's `type` is the type's name: bool, int8 … uint64, float32,
// float64, utf8, binary, date32, timestamp-us, timestamp-us-utc or
// decimal128(P,S).
//
// Throw `BadParams` or `BadInput` to fail the partition with your message;
// any other exception fails it too, with its name and message.
// `console.log` goes to the host's log. The clock is fixed at the Unix epoch
// and Math.random is seeded: a plugin gives the same output on every run.

import { log as hostLog } from "strata:plugin/host@0.2.0";

/** The contract this SDK speaks. */
export const CONTRACT = "strata:plugin@0.2.0";

/** Rows per JSON-lines chunk handed back to the host. */
export const limits = { outputChunkRows: 1 << 16 };

/** Fails the partition with this message. */
export class PluginError extends Error {
  get kind() {
    return "failed";
  }
}

/** The params cannot be used: name the param and what is wrong. */
export class BadParams extends PluginError {
  get kind() {
    return "bad-params";
  }
}

/** The input cannot be transformed: name the row and the value. */
export class BadInput extends PluginError {
  get kind() {
    return "bad-input";
  }
}

/** A line in the host's log: level "debug", "info", "warn" or "error". */
export function log(message, level = "info") {
  const levels = { debug: "debug", info: "info", warn: "warn", error: "error" };
  hostLog(levels[level] ?? "info", String(message));
}

// --- params -----------------------------------------------------------------

const TYPE_WORDS = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a table",
};

function hasType(value, type) {
  if (Array.isArray(type)) return type.some((t) => hasType(value, t));
  switch (type) {
    case "string":
    case "boolean":
    case "number":
      return typeof value === type;
    case "integer":
      return Number.isInteger(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      throw new TypeError(`unknown param type ${JSON.stringify(type)}: one of ${Object.keys(TYPE_WORDS).join(", ")}`);
  }
}

function typeWords(type) {
  return Array.isArray(type) ? type.map(typeWords).join(" or ") : (TYPE_WORDS[type] ?? type);
}

/**
 * The dataset's params from pipeline.toml: an object whose own properties
 * are the params (JSON values), with methods that check them.
 */
export class Params {
  #values;

  constructor(values = {}) {
    this.#values = values;
    for (const key of Object.keys(values)) {
      Object.defineProperty(this, key, { value: values[key], enumerable: true, writable: true, configurable: true });
    }
  }

  /** Params from the contract's JSON object text. */
  static parse(text) {
    if (text == null || text.trim() === "") return new Params({});
    let values;
    try {
      values = JSON.parse(text);
    } catch (e) {
      throw new BadParams(`the params are not JSON: ${e.message}`);
    }
    if (values === null || typeof values !== "object" || Array.isArray(values)) {
      throw new BadParams(`the params must be a JSON object, not ${text}`);
    }
    return new Params(values);
  }

  /**
   * The value of `key`, or `fallback` if unset (or null). With `type`, a
   * value of another type is BadParams.
   */
  get(key, fallback = undefined, type = undefined) {
    const value = Object.hasOwn(this.#values, key) ? this.#values[key] : undefined;
    if (value === undefined || value === null) return fallback;
    if (type !== undefined && !hasType(value, type)) {
      throw new BadParams(`param \`${key}\` must be ${typeWords(type)}, not ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** The value of `key`; BadParams if it is unset (or of another `type`). */
  require(key, type = undefined) {
    const value = this.get(key, undefined, type);
    if (value === undefined) throw new BadParams(`missing required param \`${key}\``);
    return value;
  }

  /** An array of strings: an array, or one comma-separated string; items trimmed, empty ones dropped. */
  list(key) {
    const value = this.get(key);
    if (value === undefined) return [];
    let items;
    if (typeof value === "string") items = value.split(",");
    else if (Array.isArray(value) && value.every((i) => typeof i === "string")) items = value;
    else {
      throw new BadParams(
        `param \`${key}\` must be a list of strings (or one comma-separated string), not ${JSON.stringify(value)}`,
      );
    }
    return items.map((i) => i.trim()).filter((i) => i !== "");
  }

  /** A bool param: true or false. */
  flag(key, fallback = undefined) {
    return this.get(key, fallback, "boolean");
  }

  /** BadParams for any key not in `known`: catches typos. */
  checkKnown(known) {
    for (const k of Object.keys(this.#values)) {
      if (!known.includes(k)) {
        throw new BadParams(`unknown param \`${k}\`; this plugin takes: ${known.join(", ")}`);
      }
    }
  }
}

// --- column types -----------------------------------------------------------

const SIMPLE_TYPES = [
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
];

/** The contract's data-type for a type name ("int64", "decimal128(12,2)", …). */
export function typeToWit(type) {
  const name = typeof type === "string" ? type.trim() : type;
  if (name === "bool" || name === "boolean") return { tag: "boolean" };
  if (SIMPLE_TYPES.includes(name)) return { tag: name };
  const m = typeof name === "string" ? /^decimal128\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$/.exec(name) : null;
  if (m) return { tag: "decimal128", val: { precision: Number(m[1]), scale: Number(m[2]) } };
  throw new PluginError(
    `unknown column type ${JSON.stringify(type)}: one of bool, ${SIMPLE_TYPES.join(", ")} or decimal128(P,S)`,
  );
}

/** The type name of one of the contract's data-types. */
export function typeFromWit(dataType) {
  if (dataType.tag === "boolean") return "bool";
  if (dataType.tag === "decimal128") return `decimal128(${dataType.val.precision},${dataType.val.scale})`;
  if (SIMPLE_TYPES.includes(dataType.tag)) return dataType.tag;
  throw new PluginError(`the host sent an unknown column type ${JSON.stringify(dataType)}`);
}

// --- inputs -----------------------------------------------------------------

/** One input dataset of the partition: `index`, `dataset`, `fields`, `partitions`. */
export class Input {
  constructor(dataset, fields, partitions = [], index = 0) {
    this.index = index;
    this.dataset = dataset;
    this.fields = fields;
    this.partitions = partitions;
    /** The columns read (null: all) and whether in order, as `read` set them. */
    this.columns = null;
    this.ordered = true;
    this.declared = false;
  }

  /** The field called `name`, or undefined. */
  field(name) {
    return this.fields.find((f) => f.name === name);
  }

  /**
   * Says how this input is read (call it in `open`; a second call replaces
   * the first): `columns` to read (none: all), `ordered: false` if its
   * partitions may come in any order. Returns the fields read, in the
   * input's column order.
   */
  read({ columns = null, ordered = true } = {}) {
    if (columns !== null) {
      if (!Array.isArray(columns)) throw new TypeError("read({ columns }) takes an array of column names");
      columns = [...new Set(columns.map(String))];
      if (this.fields.length > 0) {
        for (const c of columns) {
          if (this.field(c) === undefined) {
            throw new BadParams(
              `input \`${this.dataset}\` has no column \`${c}\` (it has: ${this.fields.map((f) => f.name).join(", ")})`,
            );
          }
        }
      }
    }
    this.columns = columns;
    this.ordered = Boolean(ordered);
    this.declared = true;
    return this.readFields();
  }

  /** The fields the batches of this input hold. */
  readFields() {
    if (this.columns === null) return [...this.fields];
    return this.fields.filter((f) => this.columns.includes(f.name));
  }
}

/** Subclass this; set `static info = { name, version, description }`. */
export class Plugin {
  /** Begin a partition; return the output schema: [{ name, type, nullable }]. */
  open(_ctx) {
    throw new PluginError("a plugin must implement open() and return its output fields");
  }

  /** One batch of rows of input number `input`, from its partition `partition`; return output rows. */
  process(_input, _partition, _rows) {
    return null;
  }

  /** No more input; return (or yield) the remaining output rows. */
  finish() {
    return null;
  }
}

// --- decimals ---------------------------------------------------------------

/** The scale S of a `decimal128(P,S)` type name, or null for other types. */
export function decimalScale(type) {
  const m = /^decimal128\(\s*\d+\s*,\s*(\d+)\s*\)$/.exec(type);
  return m ? Number(m[1]) : null;
}

/** "10.50" at scale 2 → 1050n: the unscaled integer. Throws on more decimals than `scale`. */
export function parseDecimal(text, scale) {
  // The fast path: the host writes exactly `scale` decimals.
  if (typeof text === "string") {
    const dot = text.indexOf(".");
    if (scale > 0 ? dot > 0 && text.length - dot - 1 === scale : dot < 0) {
      const digits = scale > 0 ? text.slice(0, dot) + text.slice(dot + 1) : text;
      if (/^[+-]?\d+$/.test(digits)) return BigInt(digits);
    }
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(String(text).trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new BadInput(`\`${text}\` is not a decimal number`);
  let frac = m[3] ?? "";
  const extra = frac.slice(scale);
  if (/[^0]/.test(extra)) throw new BadInput(`\`${text}\` has more than ${scale} decimal places`);
  frac = frac.slice(0, scale).padEnd(scale, "0");
  const unscaled = BigInt((m[2] || "0") + frac);
  return m[1] === "-" ? -unscaled : unscaled;
}

/** 1050n at scale 2 → "10.50". */
export function formatDecimal(unscaled, scale) {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return (negative ? "-" : "") + whole + (scale > 0 ? "." + frac : "");
}

// --- rows -------------------------------------------------------------------

const hexDigits = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += hexDigits[b];
  return out;
}

function fromHex(text) {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

function replacer(_key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new PluginError(`${value} cannot be written as JSON`);
  }
  return value;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function decodeRows(batch, binaryColumns) {
  const text = decoder.decode(batch).trim();
  if (text === "") return [];
  const rows = JSON.parse("[" + text.replaceAll("\n", ",") + "]");
  for (const name of binaryColumns) {
    for (const row of rows) {
      const value = row[name];
      if (typeof value === "string") row[name] = fromHex(value);
    }
  }
  return rows;
}

/** Output rows to JSON-lines chunks, counting rows across calls so an error names the row. */
class Output {
  rows = 0;

  encode(rows) {
    const chunks = [];
    const size = limits.outputChunkRows;
    for (let start = 0; start < rows.length; start += size) {
      const lines = [];
      const end = Math.min(rows.length, start + size);
      for (let i = start; i < end; i++) {
        const row = rows[i];
        this.rows += 1;
        if (!isRow(row)) throw new PluginError(`output row ${this.rows} is not an object`);
        lines.push(JSON.stringify(row, replacer));
      }
      chunks.push(encoder.encode(lines.join("\n") + "\n"));
    }
    return chunks;
  }
}

function isRow(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describeValue(value) {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/**
 * What `process` or `finish` returned: an array (of rows; for Arrow, of
 * tables) as it is, an iterator for any other iterable, [] for nothing.
 * `single` tells a lone item that is returned as it is (an Arrow Table,
 * itself iterable).
 */
export function outputItems(result, what, single = null) {
  if (result === null || result === undefined) return [];
  if (Array.isArray(result)) return result;
  if (single !== null && single(result)) return [result];
  if (typeof result === "object" && typeof result[Symbol.iterator] === "function") {
    return result[Symbol.iterator]();
  }
  if (single === null && isRow(result)) {
    throw new PluginError(`${what}() returned one object: return an array of rows (objects)`);
  }
  throw new PluginError(`${what}() returned ${describeValue(result)}: return an array, null, or yield`);
}

/**
 * Hands `finish`'s output to the host across calls: an array at once, an
 * iterable `batch(items)` at a time; [] when there is no more. `take(item,
 * pending)` adds one yielded item to the pending output and says whether
 * to hand it over now.
 */
export class Drain {
  constructor(result, what, single, take, flush) {
    const items = outputItems(result, what, single);
    this.whole = Array.isArray(items) ? items : null;
    this.iterator = Array.isArray(items) ? null : items;
    this.take = take;
    this.flush = flush;
  }

  next() {
    if (this.whole !== null) {
      const all = this.whole;
      this.whole = [];
      return this.flush(all);
    }
    if (this.iterator === null) return [];
    const pending = [];
    for (;;) {
      const step = this.iterator.next();
      if (step.done) break;
      if (this.take(step.value, pending)) return this.flush(pending);
    }
    this.iterator = null;
    return this.flush(pending);
  }
}

/** Every row `process` returned or yielded. */
function collectRows(result, what) {
  const items = outputItems(result, what);
  if (Array.isArray(items)) return items;
  const rows = [];
  for (let step = items.next(); !step.done; step = items.next()) takeRow(what, step.value, rows);
  return rows;
}

/** One yielded item into `pending`; true when a chunk is full or a batch was yielded. */
function takeRow(what, item, pending) {
  if (item === null || item === undefined) return false;
  if (Array.isArray(item)) {
    for (const row of item) pending.push(row);
    return item.length > 0;
  }
  if (!isRow(item)) {
    throw new PluginError(`${what}() yielded ${describeValue(item)}: yield rows (objects) or arrays of rows`);
  }
  pending.push(item);
  return pending.length >= limits.outputChunkRows;
}

// --- the export -------------------------------------------------------------

/** The contract's plugin-error for a thrown value. */
export function failure(e) {
  if (e instanceof PluginError) return { tag: e.kind, val: e.message };
  if (e instanceof Error) {
    const where = String(e.stack ?? "")
      .split("\n")
      .find((l) => l.includes("@"));
    return { tag: "failed", val: `${e.name}: ${e.message}${where ? ` (at ${where.trim()})` : ""}` };
  }
  return { tag: "failed", val: String(e) };
}

/** Runs `call`, turning anything it throws into the contract's error. */
export function guard(call) {
  try {
    return call();
  } catch (e) {
    throw failure(e);
  }
}

/** What every plugin tells `describe`. */
export function describe(PluginClass, format) {
  const info = PluginClass.info ?? {};
  return {
    name: String(info.name ?? PluginClass.name ?? "plugin"),
    version: String(info.version ?? "0.1.0"),
    description: String(info.description ?? ""),
    format,
  };
}

/** The context the host sent, as the SDK shows it. */
export function context(ctx) {
  return {
    dataset: ctx.dataset,
    partition: ctx.partition,
    periodStart: ctx.periodStart,
    periodEnd: ctx.periodEnd,
    params: Params.parse(ctx.params),
    inputs: ctx.inputs.map(
      (input, i) =>
        new Input(
          input.dataset,
          input.fields.map((f) => ({ name: f.name, type: typeFromWit(f.dataType), nullable: f.nullable })),
          [...input.partitions],
          i,
        ),
    ),
  };
}

/** The contract's plan: the output schema (json-lines; undefined for Arrow) and how each input is read. */
export function plan(ctx, fields) {
  const output =
    fields === undefined
      ? undefined
      : fields.map((f) => ({
          name: String(f.name),
          dataType: typeToWit(f.type ?? f.dataType),
          nullable: f.nullable ?? true,
        }));
  const inputs = ctx.inputs.some((i) => i.declared)
    ? ctx.inputs.map((i) => ({ columns: i.columns === null ? undefined : [...i.columns], ordered: i.ordered }))
    : [];
  return { output, inputs };
}

/** The id of partition number `partition` of input number `input`, or a PluginError. */
export function partitionId(ctx, input, partition) {
  const inp = ctx.inputs[input];
  if (inp === undefined) throw new PluginError(`a batch of input ${input}, but there are ${ctx.inputs.length} inputs`);
  if (partition >= inp.partitions.length) {
    throw new PluginError(
      `a batch of partition ${partition} of input \`${inp.dataset}\`, which reads ${inp.partitions.length} partitions`,
    );
  }
  return inp.partitions[partition];
}

/** The object to export as `transform` for a JSON-lines plugin class. */
export function exportPlugin(PluginClass) {
  let ctx = null;
  let plugin = null;
  let binaryColumns = [];
  let output = null;
  let drain = null;
  return {
    describe() {
      return describe(PluginClass, "json-lines");
    },
    open(wit) {
      return guard(() => {
        ctx = context(wit);
        plugin = new PluginClass();
        plugin.ctx = ctx;
        const fields = plugin.open(ctx);
        if (!Array.isArray(fields)) {
          throw new PluginError("open() returned no output schema: return [{ name, type, nullable }]");
        }
        const result = plan(ctx, fields);
        binaryColumns = ctx.inputs.map((i) =>
          i
            .readFields()
            .filter((f) => f.type === "binary")
            .map((f) => f.name),
        );
        output = new Output();
        drain = null;
        return result;
      });
    },
    process(input, partition, batch) {
      return guard(() => {
        const id = partitionId(ctx, input, partition);
        const rows = decodeRows(batch, binaryColumns[input]);
        return output.encode(collectRows(plugin.process(input, id, rows), "process"));
      });
    },
    finish() {
      return guard(() => {
        drain ??= new Drain(
          plugin.finish(),
          "finish",
          null,
          (item, pending) => takeRow("finish", item, pending),
          (rows) => output.encode(rows),
        );
        return drain.next();
      });
    },
  };
}
