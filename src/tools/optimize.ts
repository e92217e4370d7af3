/**
 * `optimize`: CPython's `pickletools.optimize`, byte for byte. It drops the PUTs (and MEMOIZEs)
 * no GET uses, renumbers the memo densely, drops the FRAMEs, and frames the result again at
 * protocol 4+ the way `pickle._Pickler` frames (64 KiB frames, payloads above that unframed).
 */
import { ErrorCode, UnpicklingError } from '../core/errors.js';
import { HIGHEST_PROTOCOL, OP } from '../core/opcodes.js';
import { PtCursor, intOfArg, readPtOp, reprArg } from './ptargs.js';

const FRAME_SIZE_MIN = 4;
const FRAME_SIZE_TARGET = 64 * 1024;

/** Growable output bytes. */
class ByteSink {
  private buf = new Uint8Array(1024);
  length = 0;

  write(data: Uint8Array): void {
    if (this.length + data.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + data.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(0);
    this.length = 0;
    return out;
  }
}

/** `pickle._Framer`: frames grow to 64 KiB and are committed before the next opcode. */
class Framer {
  private frame: ByteSink | null = null;

  constructor(private readonly file: ByteSink) {}

  startFraming(): void {
    this.frame = new ByteSink();
  }

  endFraming(): void {
    if (this.frame && this.frame.length > 0) {
      this.commitFrame(true);
      this.frame = null;
    }
  }

  commitFrame(force = false): void {
    const f = this.frame;
    if (!f || (f.length < FRAME_SIZE_TARGET && !force)) return;
    const data = f.take();
    if (data.length >= FRAME_SIZE_MIN) {
      const header = new Uint8Array(9);
      header[0] = OP.FRAME;
      new DataView(header.buffer).setBigUint64(1, BigInt(data.length), true);
      this.file.write(header);
    }
    this.file.write(data);
    this.frame = new ByteSink();
  }

  write(data: Uint8Array): void {
    (this.frame ?? this.file).write(data);
  }

  writeUnframed(data: Uint8Array): void {
    this.file.write(data);
  }
}

/** `pickle._Pickler.put(idx)` / `get(idx)`: the memo opcodes for a protocol. */
function memoOp(kind: 'put' | 'get', idx: number, proto: number): Uint8Array {
  if (kind === 'put' && proto >= 4) return Uint8Array.of(OP.MEMOIZE);
  if (proto >= 1) {
    if (idx < 256) return Uint8Array.of(kind === 'put' ? OP.BINPUT : OP.BINGET, idx);
    const out = new Uint8Array(5);
    out[0] = kind === 'put' ? OP.LONG_BINPUT : OP.LONG_BINGET;
    new DataView(out.buffer).setUint32(1, idx, true);
    return out;
  }
  const text = `${String.fromCharCode(kind === 'put' ? OP.PUT : OP.GET)}${idx}\n`;
  return new TextEncoder().encode(text);
}

type Step =
  | { kind: 'put'; key: number | bigint }
  | { kind: 'get'; key: number | bigint; pos: number; name: string }
  | { kind: 'copy'; start: number; end: number };

/**
 * The pickle at the start of `data` without the memo entries nothing reads, as
 * `pickletools.optimize` writes it (the same bytes). Bytes after the STOP are dropped.
 *
 * A GET of a memo key that no earlier PUT stored throws an `UnpicklingError` (pickletools fails
 * there too, with a `TypeError`, except at protocol 0, where it writes `GNone`).
 *
 * @example
 * ```ts
 * import { optimize } from 'pickle-ts/tools';
 * const smaller = optimize(bytes); // loads to the same value
 * ```
 */
export function optimize(data: Uint8Array): Uint8Array {
  return optimizeAt(data, 0).bytes;
}

/**
 * `optimize` of the pickle that starts at `start` (as if the bytes began there); also returns
 * the offset just past its STOP, for files that hold several pickles. `onProgress` hears of
 * the offset reached now and then.
 */
export function optimizeAt(
  data: Uint8Array,
  start: number,
  onProgress?: (offset: number) => void,
): { bytes: Uint8Array; end: number } {
  const oldids = new Set<number | bigint>(); // every PUT id
  const newids = new Map<number | bigint, number | null>(); // ids some GET uses
  const steps: Step[] = [];
  let proto = 0;
  let protoheader: Uint8Array = new Uint8Array(0);
  const f = new PtCursor(data, start);
  for (let count = 1; ; count++) {
    const { op, arg, pos } = readPtOp(f);
    if ((count & 0xfff) === 0) onProgress?.(pos);
    const end = f.pos;
    const name = op.name;
    if (name.includes('PUT')) {
      const key = intOfArg(arg)!;
      oldids.add(key);
      steps.push({ kind: 'put', key });
    } else if (name === 'MEMOIZE') {
      const idx = oldids.size;
      oldids.add(idx);
      steps.push({ kind: 'put', key: idx });
    } else if (name === 'FRAME') {
      // dropped: the output is framed again
    } else if (name.includes('GET')) {
      if (op.proto > proto) proto = op.proto;
      const key = intOfArg(arg)!;
      newids.set(key, null);
      steps.push({ kind: 'get', key, pos, name });
    } else if (name === 'PROTO') {
      const v = Number(intOfArg(arg));
      if (v > proto) proto = v;
      if (pos === start) protoheader = data.subarray(pos, end);
      else steps.push({ kind: 'copy', start: pos, end });
    } else {
      steps.push({ kind: 'copy', start: pos, end });
    }
    if (op.code === OP.STOP) break;
  }
  if (proto > HIGHEST_PROTOCOL) {
    throw new UnpicklingError(
      ErrorCode.UNSUPPORTED_PROTOCOL,
      `pickle protocol must be <= ${HIGHEST_PROTOCOL}`,
      { offset: start, opcode: 'PROTO' },
    );
  }

  // Copy the opcodes except for PUTs without a corresponding GET.
  const out = new ByteSink();
  out.write(protoheader); // the PROTO header goes before any framing
  const framer = new Framer(out);
  if (proto >= 4) framer.startFraming();
  let idx = 0;
  for (const step of steps) {
    let bytes: Uint8Array;
    let frameless = false;
    if (step.kind === 'put') {
      if (!newids.has(step.key)) continue;
      bytes = memoOp('put', idx, proto);
      newids.set(step.key, idx);
      idx += 1;
    } else if (step.kind === 'get') {
      const target = newids.get(step.key);
      if (target === null || target === undefined) {
        throw new UnpicklingError(
          ErrorCode.MEMO_MISSING,
          `memo key ${reprArg({ type: 'int', value: step.key })} has never been stored into`,
          { offset: step.pos, opcode: step.name },
        );
      }
      bytes = memoOp('get', target, proto);
    } else {
      bytes = data.subarray(step.start, step.end);
      frameless = bytes.length > FRAME_SIZE_TARGET;
    }
    framer.commitFrame(frameless);
    if (frameless) framer.writeUnframed(bytes);
    else framer.write(bytes);
  }
  framer.endFraming();
  return { bytes: out.take().slice(), end: f.pos };
}
