/**
 * Options for loading a pickle into values that convert to tagged JSON and back, or dump again,
 * without losing anything: exact numbers, persistent IDs kept, and only the data-only globals
 * resolved, so every other class stays an inert `PyObject` that writes back exactly as it came.
 */
import { builtinRegistry, type PicklerOptions, type UnpicklerOptions } from '../index.js';
import { keepPersistentIds } from './persistent.js';

/**
 * The globals CPython's own pickles of built-in types call: sets and bytes before protocols 4
 * and 3, bytearray before 5, complex, nested class names.
 */
const DATA_ONLY = new Set([
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytes',
  'builtins.bytearray',
  'builtins.complex',
  'builtins.getattr',
  '_codecs.encode',
]);

/** A `findClass` that resolves the data-only globals and leaves every other one inert. */
export function dataOnlyFindClass(module: string, name: string): unknown {
  return DATA_ONLY.has(`${module}.${name}`) ? builtinRegistry.resolve(module, name) : undefined;
}

/**
 * `loads` options for a lossless round trip (with `losslessDumpOptions`).
 *
 * @example
 * ```ts
 * const text = toJson(loads(bytes, losslessLoadOptions), { tagged: true, exact: true });
 * dumps(fromJson(text), { ...losslessDumpOptions, protocol: 4 }); // the same bytes as CPython's
 * ```
 */
export const losslessLoadOptions: Readonly<UnpicklerOptions> = {
  exact: true,
  findClass: dataOnlyFindClass,
  persistentLoad: keepPersistentIds.persistentLoad,
};

/** `dumps` options that write back what `losslessLoadOptions` loaded. */
export const losslessDumpOptions: Readonly<PicklerOptions> = {
  exact: true,
  persistentId: keepPersistentIds.persistentId,
};
