/**
 * Allowlists for `findClass`: resolve only the globals you name, and refuse every other one
 * with `GLOBAL_BLOCKED` (by default an unknown global is not refused but stays inert).
 */
import { builtinRegistry } from './bindings/index.js';
import { PyGlobal } from './python/object.js';
import type { Registry } from './registry.js';

/** A global, as `'module:qualname'`, `'module:*'` (the whole module) or `[module, qualname]`. */
export type GlobalName = string | readonly [module: string, qualname: string];

/**
 * A `findClass` that resolves the globals in `names` (through `registry`, then the built-in
 * bindings, else as an inert `PyGlobal`) and throws for any other one, so `loads` fails with
 * `GLOBAL_BLOCKED` at the opcode that names it.
 *
 * @example
 * ```ts
 * loads(bytes, { findClass: allowlist(['datetime:datetime', 'datetime:timezone', 'collections:*']) });
 * ```
 */
export function allowlist(
  names: Iterable<GlobalName>,
  registry?: Registry,
): (module: string, name: string) => PyGlobal {
  const exact = new Set<string>();
  const modules = new Set<string>();
  for (const n of names) {
    const [module, name] = typeof n === 'string' ? split(n) : n;
    if (name === '*') modules.add(module);
    else exact.add(`${module}\n${name}`);
  }
  return (module, name) => {
    if (!modules.has(module) && !exact.has(`${module}\n${name}`)) {
      throw new Error(`${module}.${name} is not in the allowlist`);
    }
    return (
      registry?.resolve(module, name) ??
      builtinRegistry.resolve(module, name) ??
      new PyGlobal(module, name)
    );
  };
}

function split(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon < 0)
    throw new TypeError(`expected 'module:qualname' in an allowlist, got ${JSON.stringify(text)}`);
  return [text.slice(0, colon), text.slice(colon + 1)];
}
