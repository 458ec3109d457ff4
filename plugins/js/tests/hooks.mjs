// Module resolution hooks for tests/register.mjs.

let host = null;

export function initialize({ version }) {
  host = `strata:plugin/host@${version}`;
}

export async function resolve(specifier, context, next) {
  if (specifier === host) {
    return { url: new URL("./fake-host.mjs", import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
