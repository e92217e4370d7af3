import { Tuple } from './tuple.js';

/** Node's hook for `console.log`/`util.inspect` (a registered symbol: no Node import needed). */
const inspect = Symbol.for('nodejs.util.inspect.custom');
type Inspect = (value: unknown, options: object) => string;

/** What a Python global does when a pickle calls it; absent parts leave the result inert. */
export interface GlobalBehavior {
  /** `callable(*args)`: used by REDUCE, INST and OBJ. */
  call?: (args: readonly unknown[]) => unknown;
  /** `cls.__new__(cls, *args, **kwargs)`: used by NEWOBJ and NEWOBJ_EX. */
  construct?: (args: readonly unknown[], kwargs: unknown) => unknown;
}

/**
 * A Python global (a class, a function) named by module and qualified name. Unpickling never
 * imports or runs anything: a name the registry does not know becomes an inert `PyGlobal`, and
 * calling it in the pickle builds an inert `PyObject`. It pickles back as the same global.
 */
export class PyGlobal {
  readonly module: string;
  readonly name: string;
  /** Present on globals the registry gives meaning to (`builtins.set`, registered classes). */
  readonly call: GlobalBehavior['call'];
  readonly construct: GlobalBehavior['construct'];

  constructor(module: string, name: string, behavior: GlobalBehavior = {}) {
    this.module = module;
    this.name = name;
    this.call = behavior.call;
    this.construct = behavior.construct;
  }

  /** `module.name`, as Python prints a class's full name. */
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }

  toString(): string {
    return `<global ${this.module}.${this.name}>`;
  }

  [inspect](): string {
    return `PyGlobal<${this.fullName}>`;
  }
}

/** How the pickle built a `PyObject`: which opcode, and so which one writes it back. */
export type PyObjectKind = 'reduce' | 'newobj' | 'newobj_ex' | 'inst' | 'obj';

/**
 * An object the pickle built from a callable the registry does not know, held exactly as the
 * pickle gave it: the callable, its arguments, the BUILD state, and the items APPENDS and
 * SETITEMS added. Change any part; `dumps` writes it back the way `__reduce__` would.
 */
export class PyObject {
  /** The class or callable, usually a `PyGlobal`. */
  cls: unknown;
  /** Positional arguments to the callable (REDUCE) or to `cls.__new__` (NEWOBJ). */
  args: Tuple;
  /** Keyword arguments to `cls.__new__` (NEWOBJ_EX only). */
  kwargs: unknown;
  kind: PyObjectKind;
  /** The BUILD state (`__setstate__` argument or `__dict__` update); `undefined` if none. */
  state: unknown;
  /**
   * The callable that applies `state` instead of BUILD (a `__reduce__` 6th item): the pickle
   * calls `stateSetter(obj, state)` and discards the result.
   */
  stateSetter: unknown;
  /** Items appended by APPEND/APPENDS (list subclasses). */
  listItems: unknown[];
  /** Pairs set by SETITEM/SETITEMS (dict subclasses), in order. */
  dictItems: Array<[unknown, unknown]>;

  constructor(cls: unknown, args: Tuple, kind: PyObjectKind = 'reduce', kwargs?: unknown) {
    this.cls = cls;
    this.args = args;
    this.kind = kind;
    this.kwargs = kwargs;
    this.state = undefined;
    this.stateSetter = undefined;
    this.listItems = [];
    this.dictItems = [];
  }

  /** `module.name` of the class, when it is a global. */
  get className(): string | undefined {
    return this.cls instanceof PyGlobal ? this.cls.fullName : undefined;
  }

  [inspect](_depth: number, options: object, show: Inspect): string {
    const parts: Record<string, unknown> = { args: this.args };
    if (this.kind !== 'reduce') parts.kind = this.kind;
    if (this.kwargs !== undefined) parts.kwargs = this.kwargs;
    if (this.state !== undefined) parts.state = this.state;
    if (this.stateSetter !== undefined) parts.stateSetter = this.stateSetter;
    if (this.listItems.length > 0) parts.listItems = this.listItems;
    if (this.dictItems.length > 0) parts.dictItems = this.dictItems;
    const cls = this.cls instanceof PyGlobal ? this.cls.fullName : show(this.cls, options);
    return `PyObject<${cls}> ${show(parts, options)}`;
  }
}
