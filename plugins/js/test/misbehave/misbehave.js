// A JavaScript plugin that fails on purpose, for the host's tests.
//
// Param `mode`:
// - `throw` (default): `process` (or `finish`, if no batch came) throws
//   `new Error("js plugin failed on purpose")`.
// - `bad-line`: declares `n: int64` and emits three rows; the third has
//   `n = "three"`, which is not an int64.
// - `bad-params`: `open` throws BadParams.

import { BadParams, Plugin, exportPlugin } from "../../sdk/strata-plugin.js";

class Misbehave extends Plugin {
  static info = {
    name: "test-misbehave-js",
    version: "0.1.0",
    description: "Fails on purpose (mode: throw, bad-line, bad-params)",
  };

  open(ctx) {
    this.mode = ctx.params.get("mode", "throw", "string");
    if (this.mode === "bad-params") throw new BadParams("param `mode` is bad on purpose");
    return [{ name: "n", type: "int64", nullable: false }];
  }

  process() {
    if (this.mode === "throw") throw new Error("js plugin failed on purpose");
    return null;
  }

  finish() {
    if (this.mode === "throw") throw new Error("js plugin failed on purpose");
    return [{ n: 1 }, { n: 2 }, { n: "three" }];
  }
}

export const transform = exportPlugin(Misbehave);
