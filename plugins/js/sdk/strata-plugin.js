// The JavaScript SDK for Strata transform plugins.
//
// A plugin is a class with `open`, `process` and `finish` over arrays of row
// objects, exported with `exportPlugin`:
//
//     import { Plugin, exportPlugin } from "./strata-plugin.js";
//
//     class Upper extends Plugin {
//       static info = { name: "upper", version: "0.1.0", description: "Upper-cases a column" };
//       open(ctx) {
//         this.column = ctx.params.require("column");
//         return ctx.inputs[0].fields;            // the output schema
//       }
//       process(input, rows) {
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
// The host makes a fresh instance for every partition and calls `open` once,
// `process` once per input batch (`input` is the index into `ctx.inputs`),
// then `finish` once. `process` and `finish` return rows (an array of
// objects; null or undefined for none). Rows cross as JSON lines; the host
// reads them back by the schema `open` returned.
//
// Values, by column type: bool, ints and floats are numbers and booleans
// (ints are exact up to 2^53: use the Arrow format, `./arrow.js`, for larger
// int64 values); utf8, date32 ("2025-02-18") and timestamps
// ("2025-02-18T10:00:00.000000Z", always six decimals, so they sort as text)
// are strings; decimal128 values are strings with exactly their scale's
// decimals ("10.50": see `parseDecimal`/`formatDecimal` for exact
// arithmetic); binary values are Uint8Arrays. Output may also use BigInt for
// integers and Date for timestamps. A missing key in an output row is null.
//
// Throw `BadParams` or `BadInput` to fail the partition with your message;
// any other exception fails it too, with its name and message.
// `console.log` goes to the host's log. The clock is fixed at the Unix epoch
// and Math.random is seeded: a plugin gives the same output on every run.

import { log as hostLog } from "strata:plugin/host@0.1.0";

/** Rows per JSON-lines chunk handed back to the host. */
const OUTPUT_CHUNK_ROWS = 1 << 16;

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

/**
 * The dataset's params from pipeline.toml. String values arrive as they
 * are; any other value (number, bool, array, table) as JSON text.
 */
export class Params {
  constructor(pairs) {
    this.pairs = pairs;
  }

  get(key, fallback = undefined) {
    const found = this.pairs.find(([k]) => k === key);
    return found === undefined ? fallback : found[1];
  }

  require(key) {
    const value = this.get(key);
    if (value === undefined) throw new BadParams(`missing required param \`${key}\``);
    return value;
  }

  /** The value parsed as JSON, or `fallback` if unset. */
  json(key, fallback = undefined) {
    const value = this.get(key);
    if (value === undefined) return fallback;
    try {
      return JSON.parse(value);
    } catch (e) {
      throw new BadParams(`param \`${key}\`: ${e.message} in \`${value}\``);
    }
  }

  /** A list of strings: a JSON array or comma-separated text; trimmed, empty ones dropped. */
  list(key) {
    const value = this.get(key);
    if (value === undefined) return [];
    let items;
    if (value.trimStart().startsWith("[")) {
      try {
        items = JSON.parse(value);
      } catch (e) {
        throw new BadParams(
          `param \`${key}\` must be a list of strings (a JSON array or comma-separated): ${e.message}`,
        );
      }
      if (!Array.isArray(items) || !items.every((i) => typeof i === "string")) {
        throw new BadParams(`param \`${key}\` must be a list of strings`);
      }
    } else {
      items = value.split(",");
    }
    return items.map((i) => i.trim()).filter((i) => i !== "");
  }

  flag(key, fallback = undefined) {
    const value = this.get(key);
    if (value === undefined) return fallback;
    if (value.trim() === "true") return true;
    if (value.trim() === "false") return false;
    throw new BadParams(`param \`${key}\` must be true or false, not \`${value}\``);
  }

  /** BadParams for any key not in `known`: catches typos. */
  checkKnown(known) {
    for (const [k] of this.pairs) {
      if (!known.includes(k)) {
        throw new BadParams(`unknown param \`${k}\`; this plugin takes: ${known.join(", ")}`);
      }
    }
  }
}

/** Subclass this; set `static info = { name, version, description }`. */
export class Plugin {
  /** Begin a partition; return the output schema: [{ name, type, nullable }]. */
  open(_ctx) {
    throw new PluginError("a plugin must implement open() and return its output fields");
  }

  /** One batch of rows of input number `input`; return output rows. */
  process(_input, _rows) {
    return null;
  }

  /** No more input; return the remaining output rows. */
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

function encodeRows(rows) {
  if (rows == null) return [];
  if (!Array.isArray(rows)) throw new PluginError("return an array of rows (objects)");
  const chunks = [];
  for (let start = 0; start < rows.length; start += OUTPUT_CHUNK_ROWS) {
    const lines = [];
    const end = Math.min(rows.length, start + OUTPUT_CHUNK_ROWS);
    for (let i = start; i < end; i++) {
      const row = rows[i];
      if (row === null || typeof row !== "object" || Array.isArray(row)) {
        throw new PluginError(`output row ${i + 1} is not an object`);
      }
      lines.push(JSON.stringify(row, replacer));
    }
    chunks.push(encoder.encode(lines.join("\n") + "\n"));
  }
  return chunks;
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
    params: new Params(ctx.params),
    inputs: ctx.inputs.map((input) => ({
      dataset: input.dataset,
      fields: input.fields.map((f) => ({ name: f.name, type: f.dataType, nullable: f.nullable })),
    })),
  };
}

/** The object to export as `transform` for a JSON-lines plugin class. */
export function exportPlugin(PluginClass) {
  let plugin = null;
  let binaryColumns = [];
  return {
    describe() {
      return describe(PluginClass, "json-lines");
    },
    open(wit) {
      return guard(() => {
        const ctx = context(wit);
        binaryColumns = ctx.inputs.map((i) =>
          i.fields.filter((f) => f.type === "binary").map((f) => f.name),
        );
        plugin = new PluginClass();
        const fields = plugin.open(ctx);
        if (!Array.isArray(fields)) {
          throw new PluginError("open() returned no output schema: return [{ name, type, nullable }]");
        }
        return fields.map((f) => ({
          name: String(f.name),
          dataType: String(f.type ?? f.dataType),
          nullable: f.nullable ?? true,
        }));
      });
    },
    process(input, batch) {
      return guard(() => encodeRows(plugin.process(input, decodeRows(batch, binaryColumns[input] ?? []))));
    },
    finish() {
      return guard(() => encodeRows(plugin.finish()));
    },
  };
}
