/**
 * Python 2 <-> 3 import renames, as `pickle` applies them with `fix_imports` (the tables are
 * generated from CPython's `_compat_pickle` by scripts/gen_compat.py).
 */
import {
  IMPORT_MAPPING,
  NAME_MAPPING,
  REVERSE_IMPORT_MAPPING,
  REVERSE_NAME_MAPPING,
} from './compat-data.js';

/** A Python 2 global's Python 3 name (what the unpickler does for protocols 0-2). */
export function python3Name(module: string, name: string): [string, string] {
  const key = `${module}\n${name}`;
  if (Object.hasOwn(NAME_MAPPING, key)) {
    const [m, n] = NAME_MAPPING[key]!;
    return [m, n];
  }
  if (Object.hasOwn(IMPORT_MAPPING, module)) return [IMPORT_MAPPING[module]!, name];
  return [module, name];
}

/** A Python 3 global's Python 2 name (what the pickler does for protocols 0-2). */
export function python2Name(module: string, name: string): [string, string] {
  const key = `${module}\n${name}`;
  if (Object.hasOwn(REVERSE_NAME_MAPPING, key)) {
    const [m, n] = REVERSE_NAME_MAPPING[key]!;
    return [m, n];
  }
  if (Object.hasOwn(REVERSE_IMPORT_MAPPING, module)) return [REVERSE_IMPORT_MAPPING[module]!, name];
  return [module, name];
}
