// A JavaScript plugin in the Arrow format, for the host's tests: reads
// every input batch as an apache-arrow Table and writes it back unchanged
// (all inputs, in order), so the Arrow path through jco is exercised.

import { Plugin } from "../../sdk/strata-plugin.js";
import { exportArrowPlugin } from "../../sdk/arrow.js";

class ArrowPassthrough extends Plugin {
  static info = {
    name: "test-arrow-passthrough-js",
    version: "0.1.0",
    description: "Copies every input batch to the output through apache-arrow",
  };

  open() {
    this.rows = 0;
  }

  process(_input, _partition, table) {
    this.rows += table.numRows;
    return table;
  }

  finish() {
    console.log(`${this.rows} row(s) passed through apache-arrow`);
    return null;
  }
}

export const transform = exportArrowPlugin(ArrowPassthrough);
