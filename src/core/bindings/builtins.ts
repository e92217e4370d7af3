/**
 * Bindings for the `builtins`, `_codecs` and `copyreg` globals CPython's own pickles use for
 * built-in types: sets and bytes before protocols 4 and 3, bytearray before 5, complex, slices
 * and ranges, nested class names (`getattr`), and the `copyreg` forms of plain class instances.
 * All data-only: none runs user code.
 */
import { ErrorCode, UnpicklingError } from '../errors.js';
import type { Registry } from '../registry.js';
import { ByteArray } from '../python/bytes.js';
import { Range, Slice } from '../python/builtins.js';
import { Complex } from '../python/complex.js';
import { PyFloat } from '../python/float.js';
import { FrozenSet } from '../python/frozenset.js';
import { PyGlobal, PyObject } from '../python/object.js';
import { isDictObject } from '../python/dict.js';
import { Tuple, tuple } from '../python/tuple.js';
import { typeName } from '../python/typename.js';
import { chargeAllocation } from '../limits.js';
import { encodeLatin1, encodeUtf8, normalizeEncoding } from '../text.js';
import { BUILTINS_COMPLEX, BUILTINS_RANGE, BUILTINS_SLICE } from './names.js';

function fail(message: string): never {
  throw new UnpicklingError(ErrorCode.BAD_OPERAND, message);
}

function iterableItems(v: unknown, what: string): unknown[] {
  if (Array.isArray(v) || v instanceof Set) return [...(v as Iterable<unknown>)];
  if (typeof v === 'string') return [...v];
  if (v instanceof Uint8Array) return [...v];
  return fail(`${what}() argument must be iterable, not '${typeName(v)}'`);
}

/** `str.encode(encoding)` for the encodings Python's own pickles use. */
function encodeText(s: unknown, encoding: unknown): Uint8Array {
  if (typeof s !== 'string') fail(`encode() argument 1 must be str, not ${typeName(s)}`);
  const enc = typeof encoding === 'string' ? normalizeEncoding(encoding) : 'utf8';
  if (enc === 'utf8') return encodeUtf8(s);
  if (enc === 'latin1' || enc === 'ascii') {
    const out = encodeLatin1(s, enc === 'latin1' ? 0xff : 0x7f);
    if (out === undefined)
      fail(
        `'${String(encoding)}' codec can't encode a character of ${JSON.stringify(s.slice(0, 20))}`,
      );
    return out;
  }
  return fail(`unsupported encoding for bytes in a pickle: ${String(encoding)}`);
}

function toBytes(args: readonly unknown[], what: string): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const [src, encoding] = args;
  if (typeof src === 'string') {
    if (encoding === undefined) fail(`string argument without an encoding`);
    if (typeof encoding !== 'string')
      fail(`${what}() argument 'encoding' must be str, not ${typeName(encoding)}`);
    return encodeText(src, encoding);
  }
  if (encoding !== undefined) fail(`encoding without a string argument`);
  if (src instanceof Uint8Array) return src.slice();
  if (
    (typeof src === 'number' && Number.isInteger(src)) ||
    typeof src === 'bigint' ||
    typeof src === 'boolean'
  ) {
    // bytes(n): n zero bytes (a bigint in exact mode), counted against the limits first, since
    // a 5-byte int can ask for gigabytes.
    const n = Number(src);
    if (n < 0) fail('negative count');
    chargeAllocation(n);
    try {
      return new Uint8Array(n);
    } catch (e) {
      throw new UnpicklingError(
        ErrorCode.LIMIT_EXCEEDED,
        `${what}(${n}) is larger than this JavaScript engine can hold`,
        { cause: e },
      );
    }
  }
  const items = iterableItems(src, what);
  const out = new Uint8Array(items.length);
  items.forEach((item, i) => {
    // An int in either mode (a bigint in exact mode), or a bool, which is an int in Python.
    const b =
      typeof item === 'bigint' ? Number(item) : item === true ? 1 : item === false ? 0 : item;
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) {
      fail(`${what}() items must be integers in range(0, 256)`);
    }
    out[i] = b;
  });
  return out;
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail(`complex() argument must be a number, not '${typeName(v)}'`);
}

function toInt(v: unknown, what: string): number | bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail(`'${typeName(v)}' object cannot be interpreted as an integer in ${what}()`);
}

/**
 * The object a registered class makes for `cls.__new__(cls, *args)`, or undefined when `cls` is
 * not registered (the call stays an inert `PyObject`).
 */
function newInstance(cls: unknown, args: readonly unknown[], kwargs: unknown): unknown {
  return cls instanceof PyGlobal && cls.construct ? cls.construct(args, kwargs) : undefined;
}

export function addBuiltinBindings(r: Registry): void {
  const define = (module: string, name: string, call: (args: readonly unknown[]) => unknown) =>
    r.defineGlobal(module, name, { call });
  define('builtins', 'set', (a) => new Set(a.length ? iterableItems(a[0], 'set') : []));
  define(
    'builtins',
    'frozenset',
    (a) => new FrozenSet(a.length ? iterableItems(a[0], 'frozenset') : []),
  );
  define('builtins', 'bytes', (a) => toBytes(a, 'bytes'));
  define('builtins', 'bytearray', (a) => {
    const bytes = toBytes(a, 'bytearray');
    // A fresh buffer of bytes(n) becomes the bytearray as it is; only a shared one is copied.
    return typeof a[0] === 'number' || typeof a[0] === 'bigint'
      ? new ByteArray(bytes.buffer as ArrayBuffer)
      : ByteArray.copyOf(bytes);
  });
  define('_codecs', 'encode', (a) => encodeText(a[0], a[1] ?? 'utf-8'));
  define(
    'builtins',
    'complex',
    (a) => new Complex(a.length > 0 ? toFloat(a[0]) : 0, a.length > 1 ? toFloat(a[1]) : 0),
  );
  define('builtins', 'slice', (a) =>
    a.length === 1 ? new Slice(null, a[0], null) : new Slice(a[0], a[1], a[2] ?? null),
  );
  define('builtins', 'range', (a) => {
    if (a.length === 0) fail('range expected at least 1 argument, got 0');
    if (a.length > 3) fail(`range expected at most 3 arguments, got ${a.length}`);
    if (a.length === 1) return new Range(0, toInt(a[0], 'range'));
    const step = a.length > 2 ? toInt(a[2], 'range') : 1;
    if (step === 0 || step === 0n) fail('range() arg 3 must not be zero');
    return new Range(toInt(a[0], 'range'), toInt(a[1], 'range'), step);
  });
  // getattr(cls, 'Inner') names a nested class (protocols 0-3); the unpickler resolves it as
  // the global `cls.Inner`. Any other getattr call stays inert.
  define('builtins', 'getattr', () => undefined);
  // copyreg's forms of `cls.__new__(cls, ...)`: real instances for registered classes.
  define('copyreg', '_reconstructor', (a) => {
    // obj = base.__new__(cls, state); base.__init__(obj, state), for base object, tuple, list
    // or dict: a list or dict subclass gets its items from the state.
    const [cls, base, state] = a;
    const baseName = base instanceof PyGlobal && base.module === 'builtins' ? base.name : '';
    if (baseName === 'tuple')
      return newInstance(cls, Array.isArray(state) ? [...state] : [], undefined);
    const inst = newInstance(cls, [], undefined);
    if (inst === undefined || baseName === 'object') return inst;
    if (baseName === 'list' && Array.isArray(inst) && Array.isArray(state)) inst.push(...state);
    else if (baseName === 'dict' && inst instanceof Map && state instanceof Map)
      for (const [k, v] of state) inst.set(k, v);
    else if (
      baseName === 'dict' &&
      inst instanceof Map &&
      typeof state === 'object' &&
      state !== null
    ) {
      for (const k of Object.keys(state)) inst.set(k, (state as Record<string, unknown>)[k]);
    }
    return inst;
  });
  // How protocols 0 and 1 write NEWOBJ and NEWOBJ_EX: the same object as those opcodes give
  // (a registered class's instance, else an inert PyObject of that kind, which writes back as
  // NEWOBJ from protocol 2 and as this call below it).
  define('copyreg', '__newobj__', (a) => {
    const [cls, ...args] = a;
    return (
      newInstance(cls, args, undefined) ??
      (cls instanceof PyGlobal || cls instanceof PyObject
        ? new PyObject(cls, tuple(...args), 'newobj')
        : undefined)
    );
  });
  define('copyreg', '__newobj_ex__', (a) => {
    const [cls, args, kwargs] = a;
    const isDict =
      kwargs instanceof Map ||
      (typeof kwargs === 'object' && kwargs !== null && isDictObject(kwargs));
    if (!(args instanceof Tuple) || !isDict) return undefined;
    return (
      newInstance(cls, args, kwargs) ??
      (cls instanceof PyGlobal || cls instanceof PyObject
        ? new PyObject(cls, args, 'newobj_ex', kwargs)
        : undefined)
    );
  });

  r.addClass(Complex, {
    global: BUILTINS_COMPLEX,
    reduce: (z) => [BUILTINS_COMPLEX, tuple(new PyFloat(z.re), new PyFloat(z.im))],
  });
  r.addClass(Slice, {
    global: BUILTINS_SLICE,
    reduce: (s) => [BUILTINS_SLICE, tuple(s.start, s.stop, s.step)],
  });
  r.addClass(Range, {
    global: BUILTINS_RANGE,
    reduce: (s) => [BUILTINS_RANGE, tuple(s.start, s.stop, s.step)],
  });
}
