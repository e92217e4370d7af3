/**
 * What the scanner's pickle machine holds on its stack and in its memo: enough of each value to
 * follow names and calls (constants, containers, globals, modules, objects built by calls), and
 * nothing Python would have to run to know.
 */
import type { Severity } from './types.js';

/** A constant pushed by the pickle. `str8` is a Python 2 `str` (STRING opcodes). */
export interface ConstValue {
  readonly kind: 'const';
  readonly py: 'none' | 'bool' | 'int' | 'float' | 'str' | 'str8' | 'bytes' | 'bytearray';
  readonly value: null | boolean | number | bigint | string | Uint8Array;
}

export interface SequenceValue {
  readonly kind: 'tuple' | 'list' | 'set' | 'frozenset';
  readonly items: Value[];
}

export interface DictValue {
  readonly kind: 'dict';
  readonly entries: Array<readonly [Value, Value]>;
}

/** A class, function or other attribute of a module: a GLOBAL, or a name reached later. */
export interface GlobalValue {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
  readonly severity: Severity;
  /** Where the pickle named it. */
  readonly offset: number;
  /** Evaluated globals (getattr, ...): the import finding to upgrade if the value escapes. */
  readonly evaluated: boolean;
}

/** A module object (what `__import__('os')` returns). */
export interface ModuleValue {
  readonly kind: 'module';
  readonly module: string;
  readonly severity: Severity;
}

/** What a call returned: an instance of `cls` when it was a class, else some result. */
export interface ObjectValue {
  readonly kind: 'object';
  /** What was called. */
  readonly callee: Value;
  readonly args: readonly Value[] | undefined;
  /** The call's severity: a value made by a dangerous call is itself untrusted. */
  readonly severity: Severity;
  readonly offset: number;
  /** What BUILD gave it (the last BUILD). */
  state?: Value;
  /** Items APPENDed / SETITEMed into it (list and dict subclasses). */
  readonly items: Value[];
}

/** A value the scanner cannot see into: a persistent ID, an out-of-band buffer, ... */
export interface OpaqueValue {
  readonly kind: 'opaque';
  readonly what: string;
  readonly severity: Severity;
}

export type Value =
  ConstValue | SequenceValue | DictValue | GlobalValue | ModuleValue | ObjectValue | OpaqueValue;

export const NONE: ConstValue = { kind: 'const', py: 'none', value: null };

/** The text of a `str` constant (Python 2 `str` counts: Python 3 decodes it to `str`). */
export function stringOf(v: Value | undefined): string | undefined {
  return v?.kind === 'const' && (v.py === 'str' || v.py === 'str8') && typeof v.value === 'string'
    ? v.value
    : undefined;
}

/** The bytes of a `bytes`-like constant (a Python 2 `str` is bytes, as latin-1). */
export function bytesOf(v: Value | undefined): Uint8Array | undefined {
  if (v?.kind !== 'const') return undefined;
  if (v.value instanceof Uint8Array) return v.value;
  if (v.py === 'str8' && typeof v.value === 'string') return latin1(v.value);
  return undefined;
}

export function latin1(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}

/** The items of a tuple or list, or `undefined` for anything else. */
export function itemsOf(v: Value | undefined): readonly Value[] | undefined {
  return v?.kind === 'tuple' || v?.kind === 'list' ? v.items : undefined;
}

/** The value of `key` in a dict value whose keys are strings. */
export function dictGet(v: Value | undefined, key: string): Value | undefined {
  if (v?.kind !== 'dict') return undefined;
  for (let i = v.entries.length - 1; i >= 0; i--) {
    const [k, value] = v.entries[i]!;
    if (stringOf(k) === key) return value;
  }
  return undefined;
}

/** A short description of a value for messages: `os.system`, `'ls'`, `<result of f()>`. */
export function describe(v: Value | undefined, depth = 0): string {
  if (v === undefined) return '<nothing>';
  switch (v.kind) {
    case 'const':
      if (typeof v.value === 'string') return quote(v.value);
      if (v.value instanceof Uint8Array) return `<${v.value.length} bytes>`;
      if (v.value === null) return 'None';
      if (typeof v.value === 'boolean') return v.value ? 'True' : 'False';
      return String(v.value);
    case 'tuple':
    case 'list': {
      if (depth > 1) return v.kind === 'tuple' ? '(...)' : '[...]';
      const shown = v.items.slice(0, 4).map((i) => describe(i, depth + 1));
      if (v.items.length > 4) shown.push('...');
      const inner = shown.join(', ') + (v.kind === 'tuple' && v.items.length === 1 ? ',' : '');
      return v.kind === 'tuple' ? `(${inner})` : `[${inner}]`;
    }
    case 'set':
    case 'frozenset':
      return `<${v.kind} of ${v.items.length}>`;
    case 'dict':
      return `<dict of ${v.entries.length}>`;
    case 'global':
      return v.module ? `${v.module}.${v.name}` : v.name;
    case 'module':
      return `<module ${v.module}>`;
    case 'object':
      return depth > 1 ? '<result>' : `<result of ${describe(v.callee, depth + 1)}(...)>`;
    case 'opaque':
      return `<${v.what}>`;
  }
}

function quote(s: string): string {
  const shown = s.length > 40 ? `${s.slice(0, 37)}...` : s;
  return `'${shown.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}'`;
}
