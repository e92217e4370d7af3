/**
 * Resource limits for loading untrusted pickles. Every limit fails with an `UnpicklingError` of
 * code `LIMIT_EXCEEDED` that names the limit, before the memory or time it guards is spent.
 *
 * The decoder itself needs no depth limit (nothing in pickle-ts recurses on nesting depth), so
 * `maxDepth` is there for code of yours that walks results recursively.
 */

import { OPCODES, type OpName } from './opcodes.js';

/** Limits on what one load may consume. Pass any subset as the `limits` option. */
export interface UnpicklerLimits {
  /**
   * Bytes of input an `Unpickler` or `StreamUnpickler` reads in all (over every pickle it loads).
   * A length field that would read past it fails before anything is allocated. Default
   * `Infinity`: `loads` holds its input already; set it for streams from untrusted sources.
   */
  readonly maxInputBytes: number;
  /**
   * Nesting depth of a loaded value: `[]` is 1 deep, `[[]]` 2, and `42` 0; a shared value counts
   * at its deepest place, and a cycle is followed once. Checked after STOP, with one walk over
   * the value's containers when it could be deeper than this. Default `Infinity`.
   */
  readonly maxDepth: number;
  /** Memo entries. Default 100,000,000. */
  readonly maxMemo: number;
  /**
   * Items in one list, tuple, dict, set or frozenset, and values on the unpickling stack.
   * Default 100,000,000 (V8 cannot grow an array much past 134,000,000 items: the process
   * aborts).
   */
  readonly maxItems: number;
  /**
   * Decimal digits of an int written as text (INT, LONG: protocol 0). Default 4300, CPython's
   * `sys.get_int_max_str_digits()`, because converting decimal text takes time quadratic in its
   * length. Hexadecimal and octal ints are not limited, as in CPython.
   */
  readonly maxIntDigits: number;
  /** Bytes of a LONG4 int. Default 134,217,728: V8's largest `bigint` (2**30 bits). */
  readonly maxLongBytes: number;
  /**
   * An estimate of the JavaScript heap the loaded values take: containers, strings, big ints,
   * objects, and the stack and memo that hold them. (`bytes` payloads live outside the heap and
   * are bounded by the input.) Default 1 GiB: a pickle of a few bytes per object cannot run
   * Node out of heap, which kills the process.
   */
  readonly maxHeapBytes: number;
}

/** The limits a load applies unless its `limits` option overrides them. */
export const DEFAULT_LIMITS: Readonly<UnpicklerLimits> = Object.freeze({
  maxInputBytes: Infinity,
  maxDepth: Infinity,
  maxMemo: 100_000_000,
  maxItems: 100_000_000,
  maxIntDigits: 4300,
  maxLongBytes: 2 ** 27,
  maxHeapBytes: 2 ** 30,
});

/** The `limits` option: any subset of the limits. */
export type LimitOptions = { readonly [K in keyof UnpicklerLimits]?: number | undefined };

/** The option names, for messages. */
export type LimitName = keyof UnpicklerLimits;

/** The limits with the defaults filled in; throws a `TypeError` on a bad value. */
export function resolveLimits(limits: LimitOptions | undefined): UnpicklerLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  const out = { ...DEFAULT_LIMITS } as { -readonly [K in LimitName]: number };
  for (const [k, v] of Object.entries(limits)) {
    if (!(k in DEFAULT_LIMITS)) throw new TypeError(`unknown limit '${k}'`);
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
      throw new TypeError(`limit ${k} must be a number >= 0 or Infinity, got ${String(v)}`);
    }
    out[k as LimitName] = v;
  }
  return out;
}

/**
 * Estimated heap bytes each opcode adds (the value it creates and the slot that holds it), from
 * V8's object sizes; 8 (one slot) for opcodes not listed. Opcodes with a text or int payload add
 * its length on top (`Machine.charge`).
 */
const HEAP_COST: Readonly<Partial<Record<OpName, number>>> = {
  EMPTY_LIST: 48,
  LIST: 48,
  EMPTY_TUPLE: 48,
  TUPLE: 48,
  TUPLE1: 56,
  TUPLE2: 64,
  TUPLE3: 72,
  EMPTY_DICT: 64,
  DICT: 64,
  SETITEM: 24,
  SETITEMS: 24,
  EMPTY_SET: 160,
  FROZENSET: 160,
  ADDITEMS: 16,
  APPEND: 8,
  REDUCE: 120,
  NEWOBJ: 120,
  NEWOBJ_EX: 120,
  INST: 160,
  OBJ: 160,
  BUILD: 16,
  BINFLOAT: 24,
  FLOAT: 24,
  INT: 24,
  LONG: 32,
  LONG1: 32,
  LONG4: 32,
  STRING: 32,
  BINSTRING: 32,
  SHORT_BINSTRING: 32,
  UNICODE: 32,
  BINUNICODE: 32,
  SHORT_BINUNICODE: 32,
  BINUNICODE8: 32,
  BINBYTES: 96,
  SHORT_BINBYTES: 96,
  BINBYTES8: 96,
  BYTEARRAY8: 96,
  NEXT_BUFFER: 96,
  READONLY_BUFFER: 96,
  GLOBAL: 64,
  STACK_GLOBAL: 64,
  PERSID: 32,
  BINPERSID: 32,
  EXT1: 8,
  EXT2: 8,
  EXT4: 8,
  MARK: 8,
  POP: 0,
  POP_MARK: 0,
  FRAME: 0,
  PROTO: 0,
  STOP: 0,
};

/** `HEAP_COST` by opcode byte, for the decode loop. */
export const HEAP_COST_BY_CODE: Int32Array = (() => {
  const table = new Int32Array(256);
  for (const o of OPCODES) table[o.code] = HEAP_COST[o.name] ?? 8;
  return table;
})();

/** The decode loop runs `Machine.checkpoint` each time it has read this many more bytes. */
export const CHECKPOINT_BYTES = 1 << 16;

/** Something that counts bytes against `maxHeapBytes` (the running machine). */
interface Charger {
  charge(bytes: number): void;
}

let charger: Charger | undefined;

/**
 * Runs `f` (a binding the pickle calls, such as `bytes(n)`) with `chargeAllocation` counting
 * against `c`. Bindings run synchronously inside one opcode, so one slot is enough.
 */
export function withCharger<T>(c: Charger, f: () => T): T {
  const outer = charger;
  charger = c;
  try {
    return f();
  } finally {
    charger = outer;
  }
}

/**
 * Called by a binding before it allocates memory the input's size does not bound (`bytes(n)`
 * makes n bytes from a 5-byte int): throws LIMIT_EXCEEDED past `maxHeapBytes`.
 */
export function chargeAllocation(bytes: number): void {
  charger?.charge(bytes);
}
