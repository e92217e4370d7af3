import { ByteArray } from './bytes.js';
import { isDictObject } from './dict.js';
import { FrozenSet } from './frozenset.js';
import { PyGlobal, PyObject } from './object.js';
import { Tuple } from './tuple.js';

/** Python's type name of a JS value, for messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return v instanceof Tuple ? 'tuple' : 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof FrozenSet) return 'frozenset';
  if (v instanceof Set) return 'set';
  if (v instanceof ByteArray) return 'bytearray';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyGlobal) return v.fullName;
  if (v instanceof PyObject) return `${v.className ?? 'object'} object`;
  if (typeof v === 'object' && isDictObject(v)) return 'dict';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
