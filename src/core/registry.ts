/**
 * What a Python global means in JS. Unpickling resolves `(module, name)` only here (or through
 * the user's `findClass` hook): nothing is imported and nothing runs unless a binding says so.
 * A name with no binding becomes an inert `PyGlobal`.
 *
 * Registries are per instance: `new Registry()` starts from the built-in bindings, and users add
 * their own before passing it to `loads`/`dumps`, a `Pickler` or an `Unpickler`.
 */
import { ErrorCode, UnpicklingError } from './errors.js';
import { ByteArray } from './python/bytes.js';
import { Complex } from './python/complex.js';
import { FrozenSet } from './python/frozenset.js';
import { PyGlobal, type GlobalBehavior } from './python/object.js';
import { encodeLatin1, encodeUtf8, normalizeEncoding } from './text.js';
import { typeName } from './python/typename.js';

const key = (module: string, name: string) => `${module}\n${name}`;

export class Registry {
  private readonly globals = new Map<string, PyGlobal>();
  private readonly parent: Registry | null;
  private sealed = false;

  /** A registry that starts with `parent`'s bindings (by default, the built-in ones). */
  constructor(parent: Registry | null = builtinRegistry) {
    this.parent = parent;
  }

  /** Makes this registry read-only. */
  seal(): this {
    this.sealed = true;
    return this;
  }

  /** Gives `module.name` a behaviour when a pickle calls it. Returns the bound global. */
  defineGlobal(module: string, name: string, behavior: GlobalBehavior): PyGlobal {
    if (this.sealed) throw new TypeError('this registry is sealed; extend it with new Registry()');
    const g = new PyGlobal(module, name, behavior);
    this.globals.set(key(module, name), g);
    return g;
  }

  /** The bound global for `module.name`, or `undefined` if the name has no binding. */
  resolve(module: string, name: string): PyGlobal | undefined {
    return this.globals.get(key(module, name)) ?? this.parent?.resolve(module, name);
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in bindings: the data-only callables CPython's pickler itself writes for built-in types
// (sets and bytes before protocols 4 and 3, bytearray before 5, complex, nested class names).

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
  if (typeof src === 'string') return encodeText(src, encoding);
  if (src instanceof Uint8Array) return src.slice();
  if (typeof src === 'number' && Number.isInteger(src) && src >= 0) return new Uint8Array(src);
  const items = iterableItems(src, what);
  const out = new Uint8Array(items.length);
  items.forEach((b, i) => {
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

function makeBuiltins(): Registry {
  const r = new Registry(null);
  const define = (module: string, name: string, behavior: GlobalBehavior) =>
    r.defineGlobal(module, name, behavior);
  define('builtins', 'set', { call: (a) => new Set(a.length ? iterableItems(a[0], 'set') : []) });
  define('builtins', 'frozenset', {
    call: (a) => new FrozenSet(a.length ? iterableItems(a[0], 'frozenset') : []),
  });
  define('builtins', 'bytes', { call: (a) => toBytes(a, 'bytes') });
  define('builtins', 'bytearray', { call: (a) => ByteArray.copyOf(toBytes(a, 'bytearray')) });
  define('_codecs', 'encode', { call: (a) => encodeText(a[0], a[1] ?? 'utf-8') });
  define('builtins', 'complex', {
    call: (a) => new Complex(a.length > 0 ? toFloat(a[0]) : 0, a.length > 1 ? toFloat(a[1]) : 0),
  });
  // getattr(cls, 'Inner') is how protocols 0-3 name a nested class: keep it a global name.
  define('builtins', 'getattr', {
    call: (a) => {
      const [target, attr] = a;
      if (target instanceof PyGlobal && typeof attr === 'string' && a.length === 2) {
        return new PyGlobal(target.module, `${target.name}.${attr}`);
      }
      return undefined; // anything else stays an inert call
    },
  });
  return r.seal();
}

/** The built-in bindings every registry starts from. Sealed. */
export const builtinRegistry: Registry = makeBuiltins();

/**
 * Extension codes (`copyreg.add_extension`): small integers standing for globals, written as
 * EXT1/EXT2/EXT4 from protocol 2. Per instance, like CPython's registry but not process-wide.
 */
export class ExtensionRegistry {
  private readonly byCode = new Map<number, readonly [string, string]>();
  private readonly byName = new Map<string, number>();

  /** Registers `code` for `module.name`, with `copyreg.add_extension`'s checks. */
  add(module: string, name: string, code: number): this {
    if (!Number.isInteger(code) || code < 1 || code > 0x7fffffff) {
      throw new RangeError(`extension code ${code} out of range (1 to 2**31 - 1)`);
    }
    const k = key(module, name);
    const oldCode = this.byName.get(k);
    const oldName = this.byCode.get(code);
    if (oldCode === code && oldName) return this;
    if (oldCode !== undefined)
      throw new Error(`key ${module}.${name} is already registered with code ${oldCode}`);
    if (oldName) throw new Error(`code ${code} is already in use for key ${oldName.join('.')}`);
    this.byCode.set(code, [module, name]);
    this.byName.set(k, code);
    return this;
  }

  /** The `[module, name]` a code stands for. */
  lookup(code: number): readonly [string, string] | undefined {
    return this.byCode.get(code);
  }

  /** The code registered for `module.name`. */
  codeOf(module: string, name: string): number | undefined {
    return this.byName.get(key(module, name));
  }

  get size(): number {
    return this.byCode.size;
  }
}
