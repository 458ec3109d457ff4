// Lets node run the SDK and the plugins outside a component: `node --import
// ./tests/register.mjs --test tests/*.test.mjs` (npm test). The host
// interface (`strata:plugin/host@VERSION`, at the version of the WIT the
// plugins are built against: build-all.mjs) resolves to tests/fake-host.mjs;
// an import of another version does not resolve, so the SDK's import is
// checked against the contract too.

import { readFileSync } from "node:fs";
import { register } from "node:module";

import { witPath } from "../build-all.mjs";

function contractVersion(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    // A folder: its strata.wit.
    text = readFileSync(`${path}/strata.wit`, "utf8");
  }
  const m = /^package\s+strata:plugin@([^;\s]+)\s*;/m.exec(text);
  if (!m) throw new Error(`no \`package strata:plugin@…;\` in ${path}`);
  return m[1];
}

register("./hooks.mjs", import.meta.url, { data: { version: contractVersion(witPath()) } });
