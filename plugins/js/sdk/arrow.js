// Plugins that see Arrow tables instead of rows: the pure-JS `apache-arrow`
// package, bundled into the component by esbuild.
//
//     import { Plugin } from "./strata-plugin.js";
//     import { exportArrowPlugin, arrow } from "./arrow.js";
//
//     class Passthrough extends Plugin {
//       static info = { name: "passthrough", version: "0.1.0", description: "" };
//       process(input, partition, table) { return table; }
//     }
//     export const transform = exportArrowPlugin(Passthrough);
//
// `open(ctx)` is optional here (batches carry their schema, so it returns
// nothing); it may declare how inputs are read with
// `ctx.inputs[i].read({ columns, ordered })`, as for a JSON-lines plugin.
// `process(input, partition, table)` gets an `arrow.Table` (one record
// batch) and the id of the input partition it comes from. `process` and
// `finish` return a Table, an array of Tables, null, or (a generator) yield
// Tables: `finish` then hands the host one Table per call. Every output
// table of a partition must have the same schema. int64 columns are
// BigInt64Arrays, so they are exact; decimals are `arrow.Decimal` values.

import { tableFromIPC, tableToIPC } from "apache-arrow";

import { Drain, Plugin, PluginError, context, describe, guard, outputItems, partitionId, plan } from "./strata-plugin.js";

export * as arrow from "apache-arrow";

function isTable(value) {
  return typeof value?.schema === "object" && typeof value?.numRows === "number";
}

let written = 0;

function encodeTables(tables) {
  return tables.map((table) => {
    written += 1;
    if (!isTable(table)) throw new PluginError(`output ${written} is not an Arrow Table`);
    return tableToIPC(table, "stream");
  });
}

/** The tables `process` returned or yielded. */
function collectTables(result) {
  const items = outputItems(result, "process", isTable);
  return Array.isArray(items) ? items : [...{ [Symbol.iterator]: () => items }].filter((t) => t != null);
}

/** The object to export as `transform` for an Arrow plugin class. */
export function exportArrowPlugin(PluginClass) {
  let ctx = null;
  let plugin = null;
  let drain = null;
  return {
    describe() {
      return describe(PluginClass, "arrow-ipc");
    },
    open(wit) {
      return guard(() => {
        ctx = context(wit);
        plugin = new PluginClass();
        plugin.ctx = ctx;
        // The base class's open asks for an output schema, which an Arrow
        // plugin has no need to give.
        if (plugin.open !== Plugin.prototype.open) plugin.open(ctx);
        written = 0;
        drain = null;
        return plan(ctx, undefined);
      });
    },
    process(input, partition, batch) {
      return guard(() => {
        const id = partitionId(ctx, input, partition);
        return encodeTables(collectTables(plugin.process(input, id, tableFromIPC(batch))));
      });
    },
    finish() {
      return guard(() => {
        drain ??= new Drain(
          plugin.finish(),
          "finish",
          isTable,
          (item, pending) => {
            if (item === null || item === undefined) return false;
            pending.push(item);
            return true;
          },
          encodeTables,
        );
        return drain.next();
      });
    },
  };
}
