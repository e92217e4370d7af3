/**
 * Your own classes: what `registry.register(module, qualname, Class, options)` does by default.
 * An instance pickles as a plain Python class instance does, and a pickle of one loads into a
 * real instance of the class. What Python kept apart from `__dict__` (NEWOBJ arguments, slot
 * state, a state that is not a dict) is remembered on the instance under symbol keys, so that
 * load-then-dump writes it back.
 */
import { ErrorCode, UnpicklingError } from '../errors.js';
import type { ReduceValue } from '../pickler.js';
import type { ClassBinding, Constructor } from '../registry.js';
import { EnumMember } from '../python/builtins.js';
import { NamedTuple } from '../python/collections.js';
import { isDictObject, isObjectKey } from '../python/dict.js';
import { PyGlobal } from '../python/object.js';
import { Tuple, toTuple, tuple } from '../python/tuple.js';
import {
  BUILTINS_DICT,
  BUILTINS_LIST,
  BUILTINS_OBJECT,
  COPYREG_NEWOBJ,
  COPYREG_NEWOBJ_EX,
  COPYREG_RECONSTRUCTOR,
} from './names.js';

/** Options of `registry.register`. */
export interface ClassOptions<T> {
  /** Python's `__reduce_ex__(protocol)`. Defaults to a plain class's reduce (see above). */
  reduce?: (value: T, protocol: number) => ReduceValue;
  /** Python's `__setstate__(state)`, for BUILD. Defaults to setting fields from a state dict. */
  restore?: (value: T, state: unknown) => void;
  /** `cls(*args)`, for REDUCE. Defaults to `new cls(...args)`. */
  call?: (args: readonly unknown[]) => T;
  /** `cls.__new__(cls, *args, **kwargs)`, for NEWOBJ. Defaults to an instance whose constructor did not run. */
  construct?: (args: readonly unknown[], kwargs: unknown) => T;
}

/** NEWOBJ arguments an instance was built with: `{ args, kwargs }`. */
export const NEWARGS = Symbol.for('pickle-ts.newargs');
/** Names of the fields that came from slot state (the second item of a `(dict, slots)` state). */
export const SLOTS = Symbol.for('pickle-ts.slots');
/** A BUILD state that could not become fields (not a dict), kept to be written back. */
export const STATE = Symbol.for('pickle-ts.state');
/** The `__reduce__` state setter the pickle called on this instance (a 6th reduce item). */
export const STATE_SETTER = Symbol.for('pickle-ts.stateSetter');

interface Remembered {
  [NEWARGS]?: { args: readonly unknown[]; kwargs: unknown };
  [SLOTS]?: { names: readonly string[]; dictWasNone: boolean };
  [STATE]?: unknown;
  [STATE_SETTER]?: unknown;
}

/** Notes the state setter a pickle applied, so that dumping applies it again. */
export function rememberStateSetter(obj: object, setter: unknown): void {
  remember(obj, STATE_SETTER, setter);
}

/** Python's protocol methods, when a JS class implements them. */
interface PythonProtocol {
  __reduce_ex__?(protocol: number): ReduceValue;
  __reduce__?(): ReduceValue;
  __getstate__?(): unknown;
  __setstate__?(state: unknown): void;
  __getnewargs_ex__?(): readonly [readonly unknown[], unknown];
  __getnewargs__?(): readonly unknown[];
  __setitem__?(key: unknown, value: unknown): void;
  append?(item: unknown): void;
  extend?(items: readonly unknown[]): void;
}

function remember(obj: object, key: symbol, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: false });
}

function fail(message: string): never {
  throw new UnpicklingError(ErrorCode.BAD_OPERAND, message);
}

/** Entries of a dict value (plain object or Map). */
function dictEntries(d: unknown): Array<[unknown, unknown]> | undefined {
  if (d instanceof Map) return [...d.entries()];
  if (typeof d === 'object' && d !== null && isDictObject(d)) {
    return Object.keys(d).map((k) => [k, (d as Record<string, unknown>)[k]]);
  }
  return undefined;
}

/** Sets fields as Python's `__dict__.update` does: own data properties, no setters. */
function setFields(obj: object, entries: Array<[unknown, unknown]>): void {
  for (const [k, v] of entries) {
    Object.defineProperty(obj, k as string, {
      value: v,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}

/**
 * Default BUILD: `__setstate__` if the class has one; else a dict's items become fields, and a
 * `(dict, slots)` pair sets both (slots with assignment, as Python's `setattr`). Any other state
 * is kept (under `STATE`) to be written back.
 */
export function restoreFields(obj: object, state: unknown): void {
  const p = obj as PythonProtocol & Remembered;
  if (typeof p.__setstate__ === 'function') {
    p.__setstate__(state);
    return;
  }
  if (state === null || state === undefined) return;
  let dict: unknown = state;
  let slots: unknown = null;
  if (
    state instanceof Tuple &&
    state.length === 2 &&
    (state[0] === null || dictEntries(state[0])) &&
    dictEntries(state[1])
  ) {
    [dict, slots] = state;
  }
  const dictItems = dict === null ? [] : dictEntries(dict);
  const slotItems = slots === null ? [] : dictEntries(slots)!;
  const allStrings = [...(dictItems ?? []), ...slotItems].every(([k]) => typeof k === 'string');
  if (dictItems === undefined || !allStrings) {
    remember(obj, STATE, state);
    return;
  }
  setFields(obj, dictItems);
  for (const [k, v] of slotItems) (obj as Record<string, unknown>)[k as string] = v;
  if (slots !== null) {
    remember(obj, SLOTS, {
      names: slotItems.map(([k]) => k as string),
      dictWasNone: dict === null,
    });
  }
}

/** The state a plain Python class would pickle: its fields as a dict, or undefined if none. */
export function fieldState(obj: object): unknown {
  const p = obj as PythonProtocol & Remembered;
  if (typeof p.__getstate__ === 'function') return p.__getstate__();
  if (p[STATE] !== undefined) return p[STATE];
  const keys = Object.keys(obj).filter((k) => !(Array.isArray(obj) && /^\d+$/.test(k)));
  const slotNames = new Set(p[SLOTS]?.names ?? []);
  const dictKeys = keys.filter((k) => !slotNames.has(k));
  const toDict = (names: readonly string[]) => {
    if (names.every(isObjectKey)) {
      const d: Record<string, unknown> = {};
      for (const k of names) d[k] = (obj as Record<string, unknown>)[k];
      return d;
    }
    return new Map(names.map((k) => [k, (obj as Record<string, unknown>)[k]]));
  };
  if (p[SLOTS]) {
    const slotKeys = keys.filter((k) => slotNames.has(k));
    const dictPart = dictKeys.length === 0 && p[SLOTS].dictWasNone ? null : toDict(dictKeys);
    return tuple<unknown>(dictPart, toDict(slotKeys));
  }
  return dictKeys.length === 0 ? undefined : toDict(dictKeys);
}

/** Python's `object.__reduce_ex__(protocol)` for a plain class instance. */
export function plainReduce(cls: PyGlobal, obj: object, protocol: number): ReduceValue {
  const p = obj as PythonProtocol & Remembered;
  if (typeof p.__reduce_ex__ === 'function') return p.__reduce_ex__(protocol);
  if (typeof p.__reduce__ === 'function') return p.__reduce__();
  let args: readonly unknown[] = [];
  let kwargs: unknown;
  if (typeof p.__getnewargs_ex__ === 'function') [args, kwargs] = p.__getnewargs_ex__();
  else if (typeof p.__getnewargs__ === 'function') args = p.__getnewargs__();
  else if (p[NEWARGS]) ({ args, kwargs } = p[NEWARGS]);
  const hasKwargs =
    kwargs !== undefined && kwargs !== null && (dictEntries(kwargs)?.length ?? 0) > 0;
  const state = fieldState(obj);
  const setter = p[STATE_SETTER];
  const isList = Array.isArray(obj);
  const isDict = obj instanceof Map;
  if (protocol < 2 && args.length === 0 && !hasKwargs) {
    // copyreg._reconstructor(cls, base, base(obj)): protocols 0-1 of a plain class, a list
    // subclass or a dict subclass (its items go in the base value).
    const base = isList ? BUILTINS_LIST : isDict ? BUILTINS_DICT : BUILTINS_OBJECT;
    const baseValue = isList ? [...(obj as unknown[])] : isDict ? new Map(obj) : null;
    return [COPYREG_RECONSTRUCTOR, tuple<unknown>(cls, base, baseValue), state, null, null, setter];
  }
  const listItems = isList ? [...(obj as unknown[])] : null;
  const dictItems = isDict ? [...obj.entries()] : null;
  if (hasKwargs) {
    const newArgs = tuple<unknown>(cls, toTuple(args), kwargs);
    return [COPYREG_NEWOBJ_EX, newArgs, state, listItems, dictItems, setter];
  }
  return [COPYREG_NEWOBJ, tuple(cls, ...args), state, listItems, dictItems, setter];
}

/**
 * An instance of `cls` whose constructor did not run (Python's `cls.__new__` without
 * `__init__`). Subclasses of Array, Map and Set get a real array, map or set.
 */
function uninitialized<T>(cls: Constructor<T>): T {
  for (const base of [Array, Map, Set] as const) {
    if (cls.prototype instanceof base) return Reflect.construct(base, [], cls) as T;
  }
  return Object.create(cls.prototype as object) as T;
}

/** The binding `registry.register` makes. */
export function classBinding<T extends object>(
  module: string,
  qualname: string,
  cls: Constructor<T>,
  options: ClassOptions<T>,
): ClassBinding<T> {
  const concrete = cls as unknown as new (...args: unknown[]) => T;
  const global = new PyGlobal(module, qualname, {
    call: options.call ?? ((args) => new concrete(...args)),
    construct:
      options.construct ??
      ((args, kwargs) => {
        const obj = uninitialized(cls);
        const hasKwargs = (dictEntries(kwargs)?.length ?? 0) > 0;
        if (args.length > 0 || hasKwargs)
          remember(obj, NEWARGS, { args: [...args], kwargs: hasKwargs ? kwargs : undefined });
        return obj;
      }),
  });
  return {
    global,
    reduce: options.reduce ?? ((value, protocol) => plainReduce(global, value, protocol)),
    restore: options.restore ?? restoreFields,
    append: (value, items) => {
      const p = value as PythonProtocol;
      if (typeof p.extend === 'function') p.extend(items);
      else if (typeof p.append === 'function') for (const item of items) p.append(item);
      else
        fail(`cannot append to a ${qualname}: give it append() or extend(), or make it an Array`);
    },
    setItems: (value, pairs) => {
      const p = value as PythonProtocol;
      if (typeof p.__setitem__ !== 'function') {
        fail(
          `cannot set items on a ${qualname}: give it __setitem__(key, value), or make it a Map`,
        );
      }
      for (const [k, v] of pairs) p.__setitem__(k, v);
    },
  };
}

/** The global `registry.defineNamedTuple` binds. */
export function namedTupleBinding(
  module: string,
  qualname: string,
  fields: readonly string[],
): PyGlobal {
  const make = (args: readonly unknown[]) => {
    if (args.length !== fields.length) {
      fail(
        `${qualname}() takes ${fields.length} positional arguments but ${args.length} were given`,
      );
    }
    const t = new NamedTuple();
    t.cls = global;
    t.fields = fields;
    args.forEach((v, i) => (t[i] = v));
    return t;
  };
  const global: PyGlobal = new PyGlobal(module, qualname, { call: make, construct: make });
  return global;
}

/** Python's `__reduce_ex__` of a `NamedTuple`, by protocol, as a namedtuple class writes it. */
export function namedTupleReduce(t: NamedTuple, protocol: number): ReduceValue {
  return protocol < 2
    ? [COPYREG_RECONSTRUCTOR, tuple<unknown>(t.cls, new PyGlobal('builtins', 'tuple'), toTuple(t))]
    : [COPYREG_NEWOBJ, tuple<unknown>(t.cls, ...t)];
}

/** The global `registry.defineEnum` binds. */
export function enumBinding(
  module: string,
  qualname: string,
  members: Readonly<Record<string, unknown>>,
): PyGlobal {
  const names = Object.keys(members);
  const numeric = (v: unknown): v is number | bigint =>
    typeof v === 'number' || typeof v === 'bigint';
  const same = (a: unknown, b: unknown) =>
    a === b || (numeric(a) && numeric(b) && Number(a) === Number(b));
  const global: PyGlobal = new PyGlobal(module, qualname, {
    call: (args) => {
      const value = args[0];
      const name = names.find((n) => same(members[n], value));
      if (name === undefined) fail(`${String(value)} is not a valid ${qualname}`);
      return new EnumMember(global, name, value);
    },
  });
  return global;
}
