/**
 * `loads`, `loadAll` and `Unpickler`: bytes to values. The decode loop is one `for`: read an
 * opcode byte, call its handler from a 256-entry table. No recursion on nesting depth.
 */
import { ErrorCode, UnpicklingError } from './errors.js';
import { DISPATCH, EXACT_DISPATCH } from './handlers.js';
import { Machine, type UnpicklerOptions } from './machine.js';
import { OP } from './opcodes.js';
import { Reader } from './reader.js';

export type { UnpicklerOptions } from './machine.js';

/** Anything that holds bytes. */
export type BytesLike = Uint8Array | ArrayBufferView | ArrayBuffer;

function toUint8Array(data: BytesLike): Uint8Array {
  // A plain view even for a Node Buffer, so values sliced from it are plain Uint8Arrays.
  if (data instanceof Uint8Array && data.constructor === Uint8Array) return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`Expected bytes (Uint8Array, ArrayBuffer or a view), got ${typeof data}`);
}

/**
 * Reads pickles from a buffer, one per `load()`, the way Python's `pickle.Unpickler` reads them
 * from a file: the memo carries over from one pickle to the next.
 *
 * @example
 * ```ts
 * const u = new Unpickler(bytes);
 * while (!u.atEnd) console.log(u.load());
 * ```
 */
export class Unpickler {
  private readonly reader: Reader;
  private readonly machine: Machine;
  private readonly dispatch: typeof DISPATCH;

  constructor(data: BytesLike, options: UnpicklerOptions = {}) {
    this.reader = new Reader(toUint8Array(data));
    this.machine = new Machine(this.reader, options);
    this.dispatch = options.exact ? EXACT_DISPATCH : DISPATCH;
  }

  /** Byte offset of the next pickle (after the last STOP read). */
  get position(): number {
    return this.reader.pos;
  }

  /** Whether every byte has been read. */
  get atEnd(): boolean {
    return this.reader.pos >= this.reader.end;
  }

  /** Reads the next pickle and returns its value. */
  load(): unknown {
    const r = this.reader;
    const m = this.machine;
    const dispatch = this.dispatch;
    const data = r.data;
    m.stack.length = 0;
    m.marks.length = 0;
    m.fence = 0;
    m.proto = 0;
    m.needsFixup = false;
    m.lastReduced = null;
    if (r.pos >= r.end) {
      r.opStart = r.pos;
      throw new UnpicklingError(ErrorCode.EOF, 'Ran out of input', { offset: r.pos });
    }
    const stop = OP.STOP;
    for (;;) {
      const start = r.pos;
      if (start >= r.end) {
        throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated: no STOP', {
          offset: start,
        });
      }
      const code = data[start]!;
      r.opStart = start;
      r.pos = start + 1;
      const handler = dispatch[code];
      if (handler !== undefined) {
        handler(m);
      } else if (code === stop) {
        break;
      } else {
        throw new UnpicklingError(
          ErrorCode.UNKNOWN_OPCODE,
          `invalid load key, '\\x${code.toString(16).padStart(2, '0')}'`,
          { offset: start },
        );
      }
    }
    if (m.marks.length > 0) {
      throw m.error(ErrorCode.BAD_STACK, 'MARK left open at STOP');
    }
    if (m.stack.length !== 1) {
      if (m.stack.length === 0) m.underflow();
      throw m.error(
        ErrorCode.BAD_STACK,
        `${m.stack.length} values left on the stack at STOP, expected 1`,
      );
    }
    const value = m.stack.pop();
    return m.needsFixup ? m.fixup(value) : value;
  }

  /** Loads every remaining pickle. */
  *[Symbol.iterator](): Generator<unknown, void, undefined> {
    while (!this.atEnd) yield this.load();
  }
}

/**
 * The value of the pickle at the start of `data` (bytes after its STOP are ignored, as in
 * Python).
 *
 * @example
 * ```ts
 * loads(new Uint8Array([0x80, 0x04, 0x4b, 0x2a, 0x2e])); // 42
 * ```
 */
export function loads(data: BytesLike, options: UnpicklerOptions = {}): unknown {
  return new Unpickler(data, options).load();
}

/** Every pickle in `data`, one after another (a file written by repeated `pickle.dump`). */
export function loadAll(
  data: BytesLike,
  options: UnpicklerOptions = {},
): Generator<unknown, void, undefined> {
  return new Unpickler(data, options)[Symbol.iterator]();
}
