/**
 * The pickler's explicit stack. Containers do not recurse: each pushes a `Frame` that writes
 * its children one by one, so a value nested a million deep pickles without a stack overflow.
 * Frames are reused from a pool, so steady-state pickling allocates none.
 */
import { ErrorCode, PicklingError } from './errors.js';

/** A batched container: list, dict, set, or the items/pairs of a reduce value. */
export const F_BATCH = 0;
/** A tuple or frozenset: its items, then a check for a recursive reference. */
export const F_SEQUENCE = 1;
/** A fixed list of actions: reduce values, globals, persistent IDs, INST/OBJ. */
export const F_ACTIONS = 2;

/** `singleOp` use: never; only when the container has one item (C's exact list and dict); or for any lone batch (C's batch_list/batch_dict). */
export const SINGLE_NEVER = 0;
export const SINGLE_WHOLE = 1;
export const SINGLE_LONE = 2;

/** How a batch frame reads its children: items, keys of a dict, or [key, value] pairs. */
export const ITEMS = 0;
export const KEYS = 1;
export const PAIRS = 2;

// Actions of an F_ACTIONS frame, as triples (action, argument, path segment).
/** Save the argument (checking for a persistent ID). */
export const A_SAVE = 0;
/** Save the argument without asking for a persistent ID (the ID itself). */
export const A_SAVE_RAW = 1;
/** Save a string written afresh (a qualified name), never fetched from the memo. */
export const A_SAVE_FRESH = 2;
/** Write one opcode byte. */
export const A_BYTE = 3;
/** Write raw bytes. */
export const A_BYTES = 4;
/** Memoize the object built (or, if it is already memoized, replace it by a GET). */
export const A_MEMO = 5;
/** Memoize a global under its name. */
export const A_MEMO_GLOBAL = 6;
/** Write a reduce value's list items (batch_list). */
export const A_LIST_ITEMS = 7;
/** Write a reduce value's dict items (batch_dict). */
export const A_DICT_ITEMS = 8;

/** An F_ACTIONS frame writing a set or frozenset as `set(list)` (protocols 0-3). */
export const LABEL_SET = 1;

export class Frame {
  kind = F_BATCH;
  /** The container being written (tuples and frozensets check the memo for it at the end). */
  obj: unknown = undefined;
  /** Items, dict keys, pairs, or actions. */
  items: ArrayLike<unknown> = [];
  /** For KEYS: the dict the keys index. */
  dict: Map<unknown, unknown> | Record<string, unknown> | null = null;
  /** For KEYS of a plain object: its values, in the order of its keys (`Object.values`). */
  values: ArrayLike<unknown> | null = null;
  /** Fast mode: the container was entered (`enterFast`) and is left when this frame pops. */
  fastEntered = false;
  read = ITEMS;
  i = 0;
  n = 0;
  /** Index of the child being written, for error paths. */
  cur = 0;
  /** Batches: items per batch, the end of the open batch, whether one is open, was full. */
  batch = 0;
  end = 0;
  open = false;
  full = false;
  /** Whether the open batch uses `singleOp` (no MARK). */
  single = false;
  singleRule = SINGLE_NEVER;
  /** C's exact dicts and sets write one more, empty batch after a full one. */
  emptyTail = false;
  multiOp = 0;
  singleOp = 0;
  /** KEYS and PAIRS: 1 when the key of pair `i` is written and its value is next. */
  phase = 0;
  label = 0;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** How a key appears in an error path: `.name`, `["a b"]`, `[3]`. */
export function keySegment(k: unknown): string {
  if (typeof k === 'string') return IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean' || k === null) {
    return `[${String(k)}]`;
  }
  return '[<key>]';
}

function segment(f: Frame): string {
  switch (f.kind) {
    case F_ACTIONS:
      return f.items[f.cur + 2] as string;
    case F_SEQUENCE:
      return f.label === LABEL_SET ? `{${f.cur}}` : `[${f.cur}]`;
    default:
      if (f.read === KEYS) return keySegment(f.items[f.cur]);
      if (f.read === PAIRS)
        return keySegment((f.items[f.cur] as readonly unknown[] | undefined)?.[0]);
      return f.multiOp === 0x90 /* ADDITEMS */ ? `{${f.cur}}` : `[${f.cur}]`;
  }
}

/** Where in the value the frames stand: `value.items[3].when`. */
export function framePath(frames: readonly Frame[], depth: number): string {
  let path = 'value';
  for (let d = 0; d < depth; d++) {
    const f = frames[d]!;
    // set(list) below protocol 4: the reduce, its args tuple and the list read as `{i}`.
    if (f.kind === F_ACTIONS && f.label === LABEL_SET && d + 2 < depth) {
      path += `{${frames[d + 2]!.cur}}`;
      d += 2;
      continue;
    }
    path += segment(f);
  }
  return path;
}

/** An error inside `save()`; `dump()` adds the path to it from the frames. */
export class Unpicklable extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {
    super(reason);
  }

  toPicklingError(path: string): PicklingError {
    return new PicklingError(this.code, this.reason, { path });
  }
}
