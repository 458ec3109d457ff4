// Gold, in JavaScript: groups rows and computes aggregates. The same params
// and the same output rows as the Rust plugin `plugins/aggregate`.
//
// Params:
// - `group_by`: the group columns (none: one output row over all input,
//   even no input).
// - `aggregates` (required): [{ "column": "amount", "fn": "sum", "as": "total" }, …];
//   `fn` is one of sum, count, min, max, avg; `count` without a column
//   counts rows, with one its non-null values; `as` defaults to
//   `<fn>_<column>` (or `count`).
// - `filter`: { "column": …, "equals": … }, or a list of them (all must
//   hold), on string, integer, float and bool columns; null never equals.
//
// Types: sum of integers is int64 (an overflow is an error), of floats
// float64, of decimal128(P,S) decimal128(38,S); avg of integers and floats
// is float64, of decimal128(P,S) decimal128(38,S+4) rounded half away from
// zero; min and max keep the column's type; count is int64, never null.
// The output is sorted by the group columns, nulls first.

import {
  BadInput,
  BadParams,
  PluginError,
  Plugin,
  decimalScale,
  exportPlugin,
  formatDecimal,
  log,
  parseDecimal,
} from "../sdk/strata-plugin.js";

const INT_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL_LIMIT = 10n ** 38n;

/** What kind of values a column type holds, as this plugin handles them. */
function kindOf(type) {
  if (type === "bool") return "bool";
  if (INT_TYPES.includes(type)) return "int";
  if (type === "float32" || type === "float64") return "float";
  if (type === "utf8" || type === "LargeUtf8") return "str";
  if (type === "binary" || type === "LargeBinary") return "bin";
  if (type === "date32") return "date";
  if (type.startsWith("timestamp")) return "ts";
  if (decimalScale(type) !== null) return "dec";
  return null;
}

/** Compares strings by code point, as UTF-8 bytes sort. */
function compareStrings(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y >= 0xe000 : x >= 0xe000)) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function compareFloats(a, b) {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) - Number.isNaN(b);
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) {
    const x = Object.is(a, -0);
    const y = Object.is(b, -0);
    return x === y ? 0 : x ? -1 : 1;
  }
  return 0;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A comparison of two non-null values of a column type. */
function comparator(type) {
  switch (kindOf(type)) {
    case "bool":
      return (a, b) => Number(a) - Number(b);
    case "int":
      return (a, b) => {
        const x = BigInt(a);
        const y = BigInt(b);
        return x < y ? -1 : x > y ? 1 : 0;
      };
    case "float":
      return compareFloats;
    case "dec": {
      const scale = decimalScale(type);
      return (a, b) => {
        const x = parseDecimal(a, scale);
        const y = parseDecimal(b, scale);
        return x < y ? -1 : x > y ? 1 : 0;
      };
    }
    case "bin":
      return (a, b) => compareStrings(hex(a), hex(b));
    default: // str, date, ts: fixed-format text sorts as its values do
      return compareStrings;
  }
}

/** The key of a group value, equal exactly when the values are. */
function keyPart(value) {
  if (value === null || value === undefined) return "n";
  if (typeof value === "string") return "s" + value;
  if (value instanceof Uint8Array) return "b" + hex(value);
  if (typeof value === "number" && Object.is(value, -0)) return "-0";
  return JSON.stringify(value);
}

/** The key of a row's group: length-prefixed parts, so never ambiguous. */
function groupKey(row, groupBy) {
  if (groupBy.length === 1) return keyPart(row[groupBy[0]]);
  let key = "";
  for (const g of groupBy) {
    const part = keyPart(row[g]);
    key += part.length + ":" + part;
  }
  return key;
}

function parseObjects(value, what, fields, required) {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new BadParams(`${what} must be objects with ${fields.join(", ")}`);
    }
    for (const k of Object.keys(item)) {
      if (!fields.includes(k)) {
        throw new BadParams(`${what}: unknown field \`${k}\`, expected one of ${fields.join(", ")}`);
      }
    }
    for (const k of required) {
      if (!(k in item)) throw new BadParams(`${what}: missing field \`${k}\``);
    }
    return item;
  });
}

/** The rows where `column` equals `want` are kept; null never equals. */
function equalsTest(want, field) {
  const kind = kindOf(field.type);
  const mismatch = () =>
    new BadParams(`filter on \`${field.name}\`: cannot compare a ${field.type} column with ${JSON.stringify(want)}`);
  switch (kind) {
    case "str":
      if (typeof want !== "string") throw mismatch();
      return (v) => v === want;
    case "bool":
      if (typeof want !== "boolean") throw mismatch();
      return (v) => v === want;
    case "int": {
      let target;
      if (typeof want === "number" && Number.isInteger(want)) target = BigInt(want);
      else if (typeof want === "string" && /^\s*[+-]?\d+\s*$/.test(want)) target = BigInt(want.trim());
      else throw mismatch();
      return (v) => v !== null && v !== undefined && BigInt(v) === target;
    }
    case "float": {
      const target = typeof want === "number" ? want : typeof want === "string" ? Number(want.trim()) : NaN;
      if (Number.isNaN(target) || (typeof want === "string" && want.trim() === "")) throw mismatch();
      return (v) => v === target;
    }
    default:
      throw new BadParams(`filter on \`${field.name}\`: filters on ${field.type} columns are not supported`);
  }
}

/** An aggregate's per-group state and result, for a column of `type` (or none). */
function accumulator(fn, field) {
  if (field === null) {
    if (fn !== "count") throw new Error(`\`${fn}\` needs a column`);
    return { type: "int64", nullable: false, start: () => 0, add: (n) => n + 1, result: (n) => n };
  }
  const kind = kindOf(field.type);
  const unsupported = () => new Error(`\`${fn}\` of a ${field.type} column is not supported`);
  const scale = decimalScale(field.type);
  switch (fn) {
    case "count":
      return {
        type: "int64",
        nullable: false,
        start: () => 0,
        add: (n, v) => (v === null || v === undefined ? n : n + 1),
        result: (n) => n,
      };
    case "sum":
      if (kind === "int") {
        return {
          type: "int64",
          nullable: true,
          start: () => null,
          add: (s, v) => (v == null ? s : (s ?? 0n) + BigInt(v)),
          result: (s, name) => {
            if (s === null) return null;
            if (s < INT64_MIN || s > INT64_MAX) throw new BadInput(`aggregate \`${name}\`: sum overflows int64`);
            return Number.isSafeInteger(Number(s)) ? Number(s) : s;
          },
        };
      }
      if (kind === "float") {
        return {
          type: "float64",
          nullable: true,
          start: () => null,
          add: (s, v) => (v == null ? s : (s ?? 0) + v),
          result: (s) => s,
        };
      }
      if (kind === "dec") {
        return {
          type: `decimal128(38,${scale})`,
          nullable: true,
          start: () => null,
          add: (s, v) => (v == null ? s : (s ?? 0n) + parseDecimal(v, scale)),
          result: (s, name) => {
            if (s === null) return null;
            if ((s < 0n ? -s : s) >= DECIMAL_LIMIT) {
              throw new BadInput(`aggregate \`${name}\`: sum overflows decimal128(38,${scale})`);
            }
            return formatDecimal(s, scale);
          },
        };
      }
      throw unsupported();
    case "avg":
      if (kind === "int" || kind === "float") {
        return {
          type: "float64",
          nullable: true,
          start: () => [kind === "int" ? 0n : 0, 0],
          add: (st, v) => {
            if (v == null) return st;
            st[0] += kind === "int" ? BigInt(v) : v;
            st[1] += 1;
            return st;
          },
          result: ([sum, n]) => (n === 0 ? null : Number(sum) / n),
        };
      }
      if (kind === "dec") {
        const outScale = Math.min(scale + 4, 38);
        const factor = 10n ** BigInt(outScale - scale);
        return {
          type: `decimal128(38,${outScale})`,
          nullable: true,
          start: () => [0n, 0n],
          add: (st, v) => {
            if (v == null) return st;
            st[0] += parseDecimal(v, scale);
            st[1] += 1n;
            return st;
          },
          result: ([sum, n], name) => {
            if (n === 0n) return null;
            const scaled = sum * factor;
            let q = scaled / n;
            const r = scaled % n;
            if (2n * (r < 0n ? -r : r) >= n) q += scaled < 0n ? -1n : 1n;
            if ((q < 0n ? -q : q) >= DECIMAL_LIMIT) {
              throw new BadInput(`aggregate \`${name}\`: avg overflows decimal128(38)`);
            }
            return formatDecimal(q, outScale);
          },
        };
      }
      throw unsupported();
    case "min":
    case "max": {
      if (kind === null || kind === "bin") throw unsupported();
      const cmp = comparator(field.type);
      const sign = fn === "max" ? 1 : -1;
      return {
        type: field.type,
        nullable: true,
        start: () => null,
        add: (best, v) => (v == null ? best : best === null || sign * cmp(v, best) > 0 ? v : best),
        result: (best) => best,
      };
    }
    default:
      throw new Error(`aggregate function \`${fn}\` is not one of sum, count, min, max, avg`);
  }
}

class Aggregate extends Plugin {
  static info = {
    name: "aggregate-js",
    version: "1.0.0",
    description: "Groups rows and computes sum, count, min, max and avg (JavaScript)",
  };

  open(ctx) {
    const p = ctx.params;
    p.checkKnown(["group_by", "aggregates", "filter"]);
    this.groupBy = p.list("group_by");
    const specs = p.get("aggregates");
    if (specs === undefined) {
      throw new BadParams("missing required param `aggregates` (a list of {column, fn, as})");
    }
    if (!Array.isArray(specs)) throw new BadParams("param `aggregates` must be a list of {column, fn, as}");
    if (specs.length === 0) throw new BadParams("param `aggregates` is empty");
    const names = [...this.groupBy];
    this.aggregates = parseObjects(specs, "param `aggregates`", ["column", "fn", "as"], ["fn"]).map((spec) => {
      if (!["sum", "count", "min", "max", "avg"].includes(spec.fn)) {
        throw new BadParams(`aggregate function \`${spec.fn}\` is not one of sum, count, min, max, avg`);
      }
      const column = spec.column ?? null;
      const name = spec.as ?? (column === null ? spec.fn : `${spec.fn}_${column}`);
      if (names.includes(name)) throw new BadParams(`output column \`${name}\` would appear twice; set \`as\``);
      names.push(name);
      return { column, fn: spec.fn, name };
    });
    const filter = p.get("filter");
    this.filterSpecs = filter == null ? [] : parseObjects(filter, "param `filter`", ["column", "equals"], ["column", "equals"]);

    const input = ctx.inputs[0];
    if (input === undefined || input.fields.length === 0) {
      throw new PluginError("no input schema: cannot tell the output schema");
    }
    const fieldOf = (param, name) => {
      const f = input.fields.find((x) => x.name === name);
      if (f === undefined) {
        throw new BadParams(
          `param \`${param}\` names column \`${name}\`, which the input does not have (it has: ${input.fields
            .map((x) => x.name)
            .join(", ")})`,
        );
      }
      return f;
    };
    this.groupFields = this.groupBy.map((g) => fieldOf("group_by", g));
    for (const f of this.groupFields) {
      if (kindOf(f.type) === null) throw new BadParams(`cannot group by \`${f.name}\`: ${f.type} columns are not supported`);
    }
    this.filters = this.filterSpecs.map((f) => ({ column: f.column, test: equalsTest(f.equals, fieldOf("filter", f.column)) }));
    this.accs = this.aggregates.map((a) => {
      const field = a.column === null ? null : fieldOf("aggregates", a.column);
      try {
        return accumulator(a.fn, field);
      } catch (e) {
        if (e instanceof PluginError) throw e;
        throw new BadParams(`aggregate \`${a.name}\`: ${e.message}`);
      }
    });
    // Read only the columns used (at least one, for the row count). In
    // order: float sums depend on it.
    const used = [
      ...this.groupBy,
      ...this.aggregates.flatMap((a) => (a.column === null ? [] : [a.column])),
      ...this.filters.map((f) => f.column),
    ];
    input.read({ columns: used.length > 0 ? used : [input.fields[0].name] });
    this.groups = new Map();
    this.rowsIn = 0;
    this.rowsKept = 0;
    return [
      ...this.groupFields,
      ...this.aggregates.map((a, i) => ({ name: a.name, type: this.accs[i].type, nullable: this.accs[i].nullable })),
    ];
  }

  process(_input, _partition, rows) {
    this.rowsIn += rows.length;
    const { groupBy, filters, aggregates, accs, groups } = this;
    for (const row of rows) {
      if (!filters.every((f) => f.test(row[f.column]))) continue;
      this.rowsKept += 1;
      const key = groupKey(row, groupBy);
      let group = groups.get(key);
      if (group === undefined) {
        group = { keys: groupBy.map((g) => row[g] ?? null), states: accs.map((a) => a.start()) };
        groups.set(key, group);
      }
      for (let i = 0; i < accs.length; i++) {
        const column = aggregates[i].column;
        group.states[i] = accs[i].add(group.states[i], column === null ? undefined : row[column]);
      }
    }
    return null;
  }

  finish() {
    let list = [...this.groups.values()];
    if (this.groupBy.length === 0 && list.length === 0) {
      list = [{ keys: [], states: this.accs.map((a) => a.start()) }];
    }
    const cmps = this.groupFields.map((f) => comparator(f.type));
    list.sort((a, b) => {
      for (let i = 0; i < cmps.length; i++) {
        const x = a.keys[i];
        const y = b.keys[i];
        if (x === null || y === null) {
          if (x !== y) return x === null ? -1 : 1;
          continue;
        }
        const c = cmps[i](x, y);
        if (c !== 0) return c;
      }
      return 0;
    });
    const out = list.map((g) => {
      const row = {};
      this.groupBy.forEach((name, i) => {
        row[name] = g.keys[i];
      });
      this.aggregates.forEach((a, i) => {
        row[a.name] = this.accs[i].result(g.states[i], a.name);
      });
      return row;
    });
    log(`${this.rowsIn} row(s) in, ${this.rowsKept} after the filter, ${out.length} group(s) out`);
    return out;
  }
}

export const transform = exportPlugin(Aggregate);
