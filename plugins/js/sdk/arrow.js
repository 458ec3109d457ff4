// Plugins that see Arrow tables instead of rows: the pure-JS `apache-arrow`
// package, bundled into the component by esbuild.
//
//     import { Plugin } from "./strata-plugin.js";
//     import { exportArrowPlugin, arrow } from "./arrow.js";
//
//     class Passthrough extends Plugin {
//       static info = { name: "passthrough", version: "0.1.0", description: "" };
//       open(ctx) {}                      // nothing to declare: batches carry their schema
//       process(input, table) { return table; }
//     }
//     export const transform = exportArrowPlugin(Passthrough);
//
// `process` gets an `arrow.Table` (one record batch); `process` and `finish`
// return a Table, an array of Tables, or null. Every output table of a
// partition must have the same schema. int64 columns are BigInt64Arrays, so
// they are exact; decimals are `arrow.Decimal` values.

import { tableFromIPC, tableToIPC } from "apache-arrow";

import { context, describe, guard, PluginError } from "./strata-plugin.js";

export * as arrow from "apache-arrow";

function encodeTables(out) {
  if (out == null) return [];
  const tables = Array.isArray(out) ? out : [out];
  return tables.map((table, i) => {
    if (typeof table?.schema !== "object" || typeof table?.numRows !== "number") {
      throw new PluginError(`output ${i + 1} is not an Arrow Table`);
    }
    return tableToIPC(table, "stream");
  });
}

/** The object to export as `transform` for an Arrow plugin class. */
export function exportArrowPlugin(PluginClass) {
  let plugin = null;
  return {
    describe() {
      return describe(PluginClass, "arrow-ipc");
    },
    open(wit) {
      return guard(() => {
        plugin = new PluginClass();
        plugin.open(context(wit));
        return undefined;
      });
    },
    process(input, batch) {
      return guard(() => encodeTables(plugin.process(input, tableFromIPC(batch))));
    },
    finish() {
      return guard(() => encodeTables(plugin.finish()));
    },
  };
}
