/**
 * Functions as pickles. A function travels in one of three ways, tried in this order:
 *
 * 1. **Built-in**: `Math.cos`, `JSON.parse`, `String`, ... are globals in every thread, so they
 *    are pickled as the global `globalThis` `Math.cos`.
 * 2. **By reference**: a function exported from a module (other than the main script) is pickled
 *    as the global `<module URL>` `<export name>`, as Python pickles a module's top-level
 *    function; the worker imports the module. V8's inspector says which module defined it and
 *    where, and the module's source says whether that definition is exported (exports.ts).
 * 3. **By source**, as dill sends a lambda: `Function.prototype.toString`, parsed to find the
 *    names it takes from the scope around it. Globals are fine; anything else must be passed as
 *    a capture (`capture({ k }, fn)`), or the function is refused before anything is sent.
 */
import { ErrorCode, PickleError, PicklingError, PyGlobal, type ReduceValue } from '../index.js';
import { tuple } from '../index.js';
import type { FunctionLocator } from './locate.js';
import { analyzeSource, type SourceKind } from './source.js';

/** Any function: what the pool accepts as a task. */
export type AnyFunction = (...args: never[]) => unknown;

const CAPTURED = Symbol('pickle-ts.pool.captured');
const SOURCE_FUNCTION = new PyGlobal('pickle_ts.pool', 'source_function');
/** The module name of built-in globals: `globalThis` `Math.cos`. */
export const GLOBAL_THIS = 'globalThis';
/** Helpers compilers put into function bodies, supplied again where the function is rebuilt. */
const COMPILER_HELPERS = new Set(['__name']);
const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const NAMESPACES = ['Math', 'JSON', 'Reflect', 'Atomics', 'Intl', 'console', 'WebAssembly'];

interface Captured {
  fn: AnyFunction;
  captures: Readonly<Record<string, unknown>>;
}

/**
 * `fn` with the values of the names it takes from the scope around it, for sending by source:
 * each value is pickled with the function and bound to its name in the worker. Calling the
 * result here calls `fn`.
 *
 * @example
 * ```ts
 * const k = 3;
 * await pool.map(capture({ k }, (x: number) => x * k), [1, 2]); // [3, 6]
 * ```
 */
export function capture<F extends AnyFunction>(captures: Record<string, unknown>, fn: F): F {
  if (typeof fn !== 'function') throw new TypeError(`capture() needs a function, got ${typeof fn}`);
  for (const name of Object.keys(captures)) {
    if (!IDENTIFIER.test(name) || name === '__proto__') {
      throw new TypeError(`capture name ${JSON.stringify(name)} is not a JavaScript identifier`);
    }
  }
  const inner = capturedOf(fn)?.fn ?? fn;
  const merged = { ...capturedOf(fn)?.captures, ...captures };
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    return (inner as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: inner.name });
  Object.defineProperty(wrapped, CAPTURED, { value: { fn: inner, captures: merged } });
  return wrapped as unknown as F;
}

function capturedOf(fn: AnyFunction): Captured | undefined {
  return (fn as unknown as { [CAPTURED]?: Captured })[CAPTURED];
}

/**
 * A function the pool cannot send, with what to do instead.
 *
 * @example
 * ```ts
 * const k = 2;
 * await pool.map((x: number) => x * k, [1]).catch((e) => e.freeVariables); // ['k']
 * ```
 */
export class FunctionPicklingError extends PicklingError {
  override name = 'FunctionPicklingError';
  /** The names the function reads from the scope around it (not globals, not captured). */
  readonly freeVariables: readonly string[];

  constructor(reason: string, freeVariables: readonly string[] = []) {
    super(ErrorCode.UNPICKLABLE, reason);
    this.freeVariables = freeVariables;
  }
}

/** How a function is pickled, decided once per function. */
type FunctionForm =
  | { kind: 'global'; global: PyGlobal; module: string | undefined }
  | {
      kind: 'source';
      sourceKind: SourceKind;
      source: string;
      name: string;
      globals: string[];
      needs: string[];
    };

function describeName(fn: AnyFunction): string {
  return fn.name ? `function ${fn.name}` : 'an anonymous function';
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}

/** Where exported functions live: the module URLs this thread has imported for the pool. */
export interface ModuleTable {
  /** The namespace of `url`, `null` if it cannot be imported, `undefined` if not tried yet. */
  get(url: string): object | null | undefined;
}

export interface FunctionCodecOptions {
  /** Finds the module a function comes from; without one, functions go by source. */
  locator: FunctionLocator | undefined;
  /** The modules imported in this thread, where exported functions are looked up. */
  modules: ModuleTable;
  /** The main script's URL: its exports go by source, since importing it would run it again. */
  entryUrl: string | undefined;
}

/** Pickles functions (`reduce`) and rebuilds them (`compile`, `resolve`). One per codec. */
export class FunctionCodec {
  private readonly forms = new WeakMap<AnyFunction, FunctionForm>();
  /** Forms of functions given captures: always by source, so the captures apply. */
  private readonly capturedForms = new WeakMap<AnyFunction, FunctionForm>();
  private builtins: Map<unknown, string> | undefined;
  /** Source forms by source text: a lambda made anew for each call is parsed once. */
  private readonly sources = new Map<string, Extract<FunctionForm, { kind: 'source' }>>();
  /**
   * Source texts of functions found not to be exports. A new function with the same text (the
   * same lambda made again) is not looked up again when its source form can be sent as it is:
   * with no free variables, by source and by reference behave the same.
   */
  private readonly notExported = new Set<string>();
  private readonly compiled = new Map<string, AnyFunction>();
  private readonly factories = new Map<string, (...values: unknown[]) => AnyFunction>();

  constructor(private readonly options: FunctionCodecOptions) {}

  /**
   * The reduce value of `fn`. Adds the module URLs the receiver must import to `modules`.
   */
  reduce(fn: AnyFunction, modules: Set<string>): ReduceValue {
    const captured = capturedOf(fn);
    const target = captured?.fn ?? fn;
    const form = this.formOf(target, captured !== undefined);
    if (form.kind === 'global') {
      if (form.module !== undefined) modules.add(form.module);
      return form.global;
    }
    const captures = captured?.captures ?? null;
    const missing = form.needs.filter((n) => !captures || !Object.hasOwn(captures, n));
    if (missing.length > 0) throw freeVariableError(target, missing);
    return [
      SOURCE_FUNCTION,
      tuple<unknown>(form.sourceKind, form.source, form.name, form.globals, captures),
    ];
  }

  private formOf(fn: AnyFunction, captured: boolean): FunctionForm {
    const cache = captured ? this.capturedForms : this.forms;
    let form = cache.get(fn);
    if (form === undefined) {
      form = this.describe(fn, captured);
      cache.set(fn, form);
    }
    return form;
  }

  private describe(fn: AnyFunction, captured: boolean): FunctionForm {
    const path = this.builtinTable().get(fn);
    if (path !== undefined) {
      return { kind: 'global', global: new PyGlobal(GLOBAL_THIS, path), module: undefined };
    }
    const source = Function.prototype.toString.call(fn);
    if (NATIVE_CODE.test(source)) {
      if (fn.name.startsWith('bound ')) {
        throw new FunctionPicklingError(
          `cannot send bound function \`${fn.name}\` to a worker: bind() hides both the function ` +
            'and the values bound to it. Pass those values as task arguments or captures ' +
            'instead, for example capture({ obj }, (x) => obj.method(x)).',
        );
      }
      throw new FunctionPicklingError(
        `cannot send native function \`${fn.name || '(anonymous)'}\` to a worker: it has no ` +
          'source and is not a built-in global (such as Math.cos or JSON.parse). Call it from a ' +
          'function exported by a module, or from a lambda.',
      );
    }
    let form: Extract<FunctionForm, { kind: 'source' }> | undefined;
    let unsendable: unknown;
    try {
      form = this.sourceFormOf(fn, source);
    } catch (e) {
      unsendable = e;
    }
    if (!captured && !(form?.needs.length === 0 && this.notExported.has(source))) {
      const exported = this.exportOf(fn);
      if (exported) return exported;
      this.notExported.add(source);
    }
    if (!form) throw unsendable;
    return form;
  }

  private sourceFormOf(fn: AnyFunction, source: string): Extract<FunctionForm, { kind: 'source' }> {
    let form = this.sources.get(source);
    if (form === undefined) {
      form = sourceForm(fn, source);
      this.sources.set(source, form);
    }
    return form.name === fn.name ? form : { ...form, name: fn.name };
  }

  private exportOf(fn: AnyFunction): FunctionForm | undefined {
    const found = this.options.locator?.locate(fn);
    if (!found || found.exportName === undefined || found.url === this.options.entryUrl) {
      return undefined;
    }
    const { url, exportName } = found;
    return { kind: 'global', global: new PyGlobal(url, exportName), module: url };
  }

  /** Every function reachable from a global in one or two steps, by identity. */
  private builtinTable(): Map<unknown, string> {
    if (this.builtins) return this.builtins;
    const table = new Map<unknown, string>();
    const g = globalThis as unknown as Record<string, unknown>;
    const addMembers = (owner: unknown, prefix: string) => {
      for (const key of Object.getOwnPropertyNames(owner)) {
        const d = Object.getOwnPropertyDescriptor(owner, key);
        if (typeof d?.value === 'function' && !table.has(d.value)) {
          table.set(d.value, `${prefix}.${key}`);
        }
      }
    };
    for (const key of Object.getOwnPropertyNames(globalThis)) {
      const d = Object.getOwnPropertyDescriptor(globalThis, key);
      if (typeof d?.value === 'function' && IDENTIFIER.test(key) && !table.has(d.value)) {
        table.set(d.value, key);
      }
    }
    for (const key of Object.getOwnPropertyNames(globalThis)) {
      const d = Object.getOwnPropertyDescriptor(globalThis, key);
      if (typeof d?.value === 'function' && IDENTIFIER.test(key)) addMembers(d.value, key);
    }
    for (const ns of NAMESPACES) if (g[ns] !== undefined) addMembers(g[ns], ns);
    this.builtins = table;
    return table;
  }

  // --- the receiving side ---------------------------------------------------------------------

  /** The value of a global a pickle names: a built-in, or an export of an imported module. */
  resolve(module: string, name: string): unknown {
    if (module === GLOBAL_THIS) {
      const value = walk(globalThis, name);
      if (typeof value !== 'function') {
        throw new PickleError(ErrorCode.GLOBAL_BLOCKED, `globalThis.${name} is not a function`);
      }
      return value;
    }
    const ns = this.options.modules.get(module);
    if (!ns) return undefined;
    const value = walk(ns, name);
    if (value === undefined) {
      throw new PickleError(
        ErrorCode.GLOBAL_BLOCKED,
        `module ${module} has no export ${JSON.stringify(name)} in this thread`,
      );
    }
    return value;
  }

  /** Rebuilds a function sent by source (the call behind `pickle_ts.pool.source_function`). */
  compile(args: readonly unknown[]): AnyFunction {
    const [kind, source, name, globals, captures] = args as [
      SourceKind,
      string,
      string,
      string[],
      Record<string, unknown> | null,
    ];
    const absent = globals.filter((n) => !(n in globalThis));
    if (absent.length > 0) {
      throw new FunctionPicklingError(
        `${name ? `function ${name}` : 'a function'} uses ${quoteList(absent)}, which ` +
          `${absent.length === 1 ? 'is a global' : 'are globals'} where it was written but not ` +
          'in this thread; pass them as captures.',
        absent,
      );
    }
    const names = captures ? Object.keys(captures) : [];
    const key = `${kind}\u0000${source}\u0000${names.join(',')}`;
    if (names.length === 0) {
      const cached = this.compiled.get(key);
      if (cached) return cached;
    }
    let factory = this.factories.get(key);
    if (!factory) {
      const value =
        kind === 'method'
          ? `const o = ({${source}\n}); const d = Object.getOwnPropertyDescriptor(o, Reflect.ownKeys(o)[0]); return d.value ?? d.get ?? d.set;`
          : `return (${source}\n);`;
      // Stack traces name the function's frames `pool-function:<name>`.
      const body = `"use strict"; ${value}\n//# sourceURL=pool-function:${name || 'anonymous'}`;
      factory = new Function('__name', ...names, body) as (...values: unknown[]) => AnyFunction;
      this.factories.set(key, factory);
    }
    const fn = factory(setName, ...names.map((n) => captures![n]));
    if (name && fn.name !== name) Object.defineProperty(fn, 'name', { value: name });
    if (names.length === 0) this.compiled.set(key, fn);
    return fn;
  }
}

function setName<T extends object>(target: T, name: string): T {
  return Object.defineProperty(target, 'name', { value: name, configurable: true });
}

function walk(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const part of path.split('.')) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      return undefined;
    }
    if (!Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function sourceForm(fn: AnyFunction, source: string): Extract<FunctionForm, { kind: 'source' }> {
  let analysis;
  try {
    analysis = analyzeSource(source);
  } catch (e) {
    throw new FunctionPicklingError(
      `cannot send ${describeName(fn)} to a worker: its source does not parse on its own ` +
        `(${(e as Error).message}). A method using a private field (#x) only works inside its ` +
        'class: export a function from a module instead.',
    );
  }
  for (const use of analysis.contextual) {
    const why =
      use === 'super'
        ? 'uses `super`, which only means something inside its class or object'
        : use === 'import.meta'
          ? 'uses `import.meta`, which belongs to the module it was written in'
          : `uses \`${use}\` from the function around it (an arrow function has no \`${use}\` of its own)`;
    throw new FunctionPicklingError(
      `cannot send ${describeName(fn)} to a worker by source: it ${why}. Export a function ` +
        'from a module (it is then sent by reference), or pass what it needs as arguments.',
    );
  }
  const globals: string[] = [];
  const needs: string[] = [];
  for (const name of analysis.freeVariables) {
    if (COMPILER_HELPERS.has(name)) continue;
    if (name in globalThis) globals.push(name);
    else needs.push(name);
  }
  return {
    kind: 'source',
    sourceKind: analysis.kind,
    source,
    name: fn.name,
    globals,
    needs,
  };
}

function freeVariableError(fn: AnyFunction, missing: string[]): FunctionPicklingError {
  const plural = missing.length > 1;
  const list = quoteList(missing);
  const obj = `{ ${missing.join(', ')} }`;
  return new FunctionPicklingError(
    `cannot send ${describeName(fn)} to a worker: it uses ${list} from the scope it was ` +
      `written in, and a function is sent by its source text, without ${plural ? 'them' : 'it'}. ` +
      `Pass ${plural ? 'them' : 'it'} as captures, pickled and bound to the same name${plural ? 's' : ''} in ` +
      `the worker: pool.map(fn, items, { captures: ${obj} }) or capture(${obj}, fn). Or export ` +
      'the function from a module other than the main script: it is then sent by reference.',
    missing,
  );
}
