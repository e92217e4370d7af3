/**
 * What Python globals and JS classes mean to each other. Unpickling resolves `(module, name)`
 * only through a registry (or the user's `findClass` hook): nothing is imported and nothing runs
 * unless a binding says so, and a name with no binding becomes an inert `PyGlobal`. Pickling
 * finds how to write an instance of a JS class through the same registry.
 *
 * Registries are per instance. `builtinRegistry` (sealed) holds the built-in and standard-library
 * bindings; a `new Registry()` holds yours, and is consulted before the built-in one wherever
 * you pass it (`loads`/`dumps` options, `Pickler`, `Unpickler`).
 */
import {
  classBinding,
  enumBinding,
  namedTupleBinding,
  type ClassOptions,
} from './bindings/classes.js';
import type { ReduceValue } from './pickler.js';
import { PyGlobal, type GlobalBehavior } from './python/object.js';

const key = (module: string, name: string) => `${module}\n${name}`;

/** A constructor, as the key under which a class's instances are written. */
export type Constructor<T = unknown> = abstract new (...args: never[]) => T;

/** How instances of one JS class are written and rebuilt. */
export interface ClassBinding<T = never> {
  /** The Python class, with the behaviour REDUCE/NEWOBJ use to rebuild an instance. */
  readonly global: PyGlobal;
  /** Python's `__reduce_ex__(protocol)` for an instance. */
  readonly reduce: (value: T, protocol: number) => ReduceValue;
  /** Python's `__setstate__`, for BUILD. */
  readonly restore?: (value: T, state: unknown) => void;
  /** Items of APPEND/APPENDS, for instances that are not arrays. */
  readonly append?: (value: T, items: readonly unknown[]) => void;
  /** Pairs of SETITEM/SETITEMS, for instances that are not Maps (Python's `__setitem__`). */
  readonly setItems?: (value: T, pairs: ReadonlyArray<readonly [unknown, unknown]>) => void;
}

export class Registry {
  private readonly globals = new Map<string, PyGlobal>();
  private readonly classes = new Map<Constructor<unknown>, ClassBinding>();
  private sealed = false;

  /** Makes this registry read-only. */
  seal(): this {
    this.sealed = true;
    return this;
  }

  private check(): void {
    if (this.sealed)
      throw new TypeError('this registry is sealed: add your bindings to a new Registry()');
  }

  /**
   * Gives `module.name` a behaviour when a pickle calls it (REDUCE, NEWOBJ). Returns the bound
   * global, which pickles as `module.name`.
   *
   * @example
   * ```ts
   * const registry = new Registry();
   * registry.defineGlobal('fractions', 'Fraction', { call: ([n, d]) => Number(n) / Number(d) });
   * loads(bytes, { registry });
   * ```
   */
  defineGlobal(module: string, name: string, behavior: GlobalBehavior): PyGlobal {
    this.check();
    const g = new PyGlobal(module, name, behavior);
    this.globals.set(key(module, name), g);
    return g;
  }

  /**
   * Binds a JS class to a Python class, both ways. With no options, an instance pickles the way
   * a plain Python class instance does (NEWOBJ, then BUILD with its own enumerable fields as the
   * state dict) and loads into a real instance of `cls` (the constructor is not run for NEWOBJ,
   * as Python's `__new__` does not run `__init__`; REDUCE calls `new cls(...args)`). Classes may
   * implement Python's protocol as methods: `__reduce_ex__`/`__reduce__`, `__getstate__`,
   * `__setstate__`, `__getnewargs_ex__`/`__getnewargs__`.
   *
   * @example
   * ```ts
   * class Point { constructor(public x = 0, public y = 0) {} }
   * const registry = new Registry();
   * registry.register('geometry', 'Point', Point);
   * loads(dumps(new Point(1, 2), { registry }), { registry }); // Point { x: 1, y: 2 }
   * ```
   */
  register<T extends object>(
    module: string,
    qualname: string,
    cls: Constructor<T>,
    options: ClassOptions<T> = {},
  ): PyGlobal {
    this.check();
    const binding = classBinding(module, qualname, cls, options);
    this.globals.set(key(module, qualname), binding.global);
    this.addClass(cls, binding);
    return binding.global;
  }

  /** Sets how instances of `cls` are written and restored (bindings made by hand). */
  addClass<T>(cls: Constructor<T>, binding: ClassBinding<T>): void {
    this.check();
    this.classes.set(cls as Constructor<unknown>, binding as unknown as ClassBinding);
  }

  /** Adds a bound global made by hand. */
  addGlobal(global: PyGlobal): void {
    this.check();
    this.globals.set(key(global.module, global.name), global);
  }

  /**
   * Names the fields of a `collections.namedtuple` class, so its instances load as `NamedTuple`s
   * readable by field name (a pickle holds only the class and the values).
   */
  defineNamedTuple(module: string, qualname: string, fields: readonly string[]): PyGlobal {
    this.check();
    const g = namedTupleBinding(module, qualname, fields);
    this.globals.set(key(module, qualname), g);
    return g;
  }

  /**
   * Names the members of an `enum.Enum` class, so its members load as `EnumMember`s with their
   * names (a pickle holds only the class and the value).
   */
  defineEnum(
    module: string,
    qualname: string,
    members: Readonly<Record<string, unknown>>,
  ): PyGlobal {
    this.check();
    const g = enumBinding(module, qualname, members);
    this.globals.set(key(module, qualname), g);
    return g;
  }

  /** The bound global for `module.name`, or `undefined` if the name has no binding here. */
  resolve(module: string, name: string): PyGlobal | undefined {
    return this.globals.get(key(module, name));
  }

  /** The binding for instances of `value`'s class (its exact constructor), if any. */
  bindingFor(value: object): ClassBinding<object> | undefined {
    return this.classes.get(value.constructor as Constructor<unknown>) as
      ClassBinding<object> | undefined;
  }
}

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
