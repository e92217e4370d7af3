/**
 * pickletools' `genops` as `dis` and `optimize` need it: its argument readers (`read_uint1` ...
 * `read_long4`) with the same values and the same `ValueError`s, in the same order, for each
 * argument descriptor of the opcode table, and `readPtOp`, which reads one opcode the way
 * `_genops` does. So `dis` and `optimize` fail exactly where pickletools fails. (The exported
 * `genops` reads through the core's descriptors, which follow the unpickler's rules instead.)
 */
import type { ArgumentDescriptor } from '../core/args.js';
import { ErrorCode, UnpicklingError } from '../core/errors.js';
import { OPCODE_BY_CODE, type OpcodeInfo } from '../core/opcodes.js';
import { decodeLong } from '../core/args.js';
import { reprBytes } from '../core/python/repr.js';
import {
  PyValueError,
  latin1CodePoints,
  pyDecodeRawUnicodeEscape,
  pyDecodeUtf8,
  pyEscapeDecodeAscii,
  pyFloatFromBytes,
  pyIntFromBytes,
  reprCodePoints,
  reprFloat,
  reprInt,
} from './pytext.js';

/** An argument as pickletools' reader returns it, typed as Python would see it. */
export type PtArg =
  | { readonly type: 'int'; readonly value: number | bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'str'; readonly codePoints: readonly number[] }
  | { readonly type: 'bytes' | 'bytearray'; readonly value: Uint8Array };

/** Python's `repr()` of an argument. Throws `PyValueError` for ints over the digit limit. */
export function reprArg(arg: PtArg): string {
  switch (arg.type) {
    case 'int':
    case 'bool':
      return reprInt(arg.value);
    case 'float':
      return reprFloat(arg.value);
    case 'str':
      return reprCodePoints(arg.codePoints);
    case 'bytes':
      return reprBytes(arg.value);
    case 'bytearray':
      return `bytearray(${reprBytes(arg.value)})`;
  }
}

/** The integer an argument stands for as a memo key or protocol (`True == 1` in Python). */
export function intOfArg(arg: PtArg | undefined): number | bigint | undefined {
  if (arg === undefined) return undefined;
  if (arg.type === 'int') return arg.value;
  if (arg.type === 'bool') return arg.value ? 1 : 0;
  return undefined;
}

/** A file-like cursor: `read(n)` returns at most `n` bytes, as `io.BytesIO.read` does. */
export class PtCursor {
  readonly data: Uint8Array;
  pos: number;

  constructor(data: Uint8Array, pos: number) {
    this.data = data;
    this.pos = pos;
  }

  /** Up to `n` bytes (a view). */
  read(n: number): Uint8Array {
    const start = this.pos;
    const end = Math.min(this.data.length, start + Math.max(0, n));
    this.pos = end;
    return this.data.subarray(start, end);
  }

  /** `readline()`: up to and including the next newline, or to the end. */
  readline(): Uint8Array {
    const nl = this.data.indexOf(0x0a, this.pos);
    return this.read(nl < 0 ? this.data.length - this.pos : nl + 1 - this.pos);
  }
}

const int = (value: number | bigint): PtArg => ({ type: 'int', value });
const str = (codePoints: readonly number[]): PtArg => ({ type: 'str', codePoints });

function narrow(v: bigint): number | bigint {
  return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
}

function fixed(f: PtCursor, n: number, name: string): DataView {
  const b = f.read(n);
  if (b.length !== n) throw new PyValueError(`not enough data in stream to read ${name}`);
  return new DataView(b.buffer, b.byteOffset, n);
}

const readUint1 = (f: PtCursor) => fixed(f, 1, 'uint1').getUint8(0);
const readUint2 = (f: PtCursor) => fixed(f, 2, 'uint2').getUint16(0, true);
const readInt4 = (f: PtCursor) => fixed(f, 4, 'int4').getInt32(0, true);
const readUint4 = (f: PtCursor) => fixed(f, 4, 'uint4').getUint32(0, true);
const readUint8 = (f: PtCursor) => narrow(fixed(f, 8, 'uint8').getBigUint64(0, true));

/** `read_stringnl(f, decode=False, stripquotes=False)`: the line without its newline. */
function readLine(f: PtCursor, name = 'stringnl'): Uint8Array {
  const line = f.readline();
  if (line[line.length - 1] !== 0x0a) {
    throw new PyValueError(`no newline found when trying to read ${name}`);
  }
  return line.subarray(0, line.length - 1);
}

/** `read_stringnl(f)`: quotes stripped, escapes undone, ASCII. */
function readStringnl(f: PtCursor): readonly number[] {
  let data = readLine(f);
  const q = data[0];
  if (q !== 0x22 && q !== 0x27) {
    throw new PyValueError(`no string quotes around ${reprBytes(data)}`);
  }
  if (data[data.length - 1] !== q) {
    throw new PyValueError(
      `strinq quote ${reprBytes(data.subarray(0, 1))} not found at both ends of ${reprBytes(data)}`,
    );
  }
  // b'"'[1:-1] is b'': a lone quote character is an empty string to pickletools.
  data = data.length >= 2 ? data.subarray(1, data.length - 1) : data.subarray(1, 1);
  return pyEscapeDecodeAscii(data);
}

function counted(f: PtCursor, n: number | bigint, name: string): Uint8Array {
  // A bigint count is past 2**53: more than any input holds.
  const data = f.read(typeof n === 'bigint' ? Number.MAX_SAFE_INTEGER : n);
  if (typeof n === 'bigint' || data.length !== n) {
    throw new PyValueError(`expected ${n} bytes in a ${name}, but only ${data.length} remain`);
  }
  return data;
}

const MAXSIZE = 2n ** 63n - 1n;

function readSize8(f: PtCursor, name: string): number | bigint {
  const n = readUint8(f);
  if (BigInt(n) > MAXSIZE) throw new PyValueError(`${name} byte count > sys.maxsize: ${n}`);
  return n;
}

function readLong(f: PtCursor, n: number, name: string): PtArg {
  const data = f.read(n);
  if (data.length !== n) throw new PyValueError(`not enough data in stream to read ${name}`);
  return int(decodeLong(data, 0, n));
}

/** Reader by argument descriptor name: the table pickletools builds with `ArgumentDescriptor`. */
const READERS: Record<string, (f: PtCursor) => PtArg> = {
  uint1: (f) => int(readUint1(f)),
  uint2: (f) => int(readUint2(f)),
  int4: (f) => int(readInt4(f)),
  uint4: (f) => int(readUint4(f)),
  uint8: (f) => int(readUint8(f)),
  stringnl: (f) => str(readStringnl(f)),
  stringnl_noescape: (f) => str(pyEscapeDecodeAscii(readLine(f))),
  stringnl_noescape_pair: (f) => {
    const first = pyEscapeDecodeAscii(readLine(f));
    const second = pyEscapeDecodeAscii(readLine(f));
    return str([...first, 0x20, ...second]);
  },
  string1: (f) => str(latin1CodePoints(counted(f, readUint1(f), 'string1'))),
  string4: (f) => {
    const n = readInt4(f);
    if (n < 0) throw new PyValueError(`string4 byte count < 0: ${n}`);
    return str(latin1CodePoints(counted(f, n, 'string4')));
  },
  bytes1: (f) => ({ type: 'bytes', value: counted(f, readUint1(f), 'bytes1') }),
  bytes4: (f) => ({ type: 'bytes', value: counted(f, readUint4(f), 'bytes4') }),
  bytes8: (f) => ({ type: 'bytes', value: counted(f, readSize8(f, 'bytes8'), 'bytes8') }),
  bytearray8: (f) => ({
    type: 'bytearray',
    value: counted(f, readSize8(f, 'bytearray8'), 'bytearray8'),
  }),
  unicodestringnl: (f) => str(pyDecodeRawUnicodeEscape(readLine(f, 'unicodestringnl'))),
  unicodestring1: (f) => str(pyDecodeUtf8(counted(f, readUint1(f), 'unicodestring1'))),
  unicodestring4: (f) => str(pyDecodeUtf8(counted(f, readUint4(f), 'unicodestring4'))),
  unicodestring8: (f) =>
    str(pyDecodeUtf8(counted(f, readSize8(f, 'unicodestring8'), 'unicodestring8'))),
  decimalnl_short: (f) => {
    const s = readLine(f);
    if (s.length === 2 && s[0] === 0x30 && (s[1] === 0x30 || s[1] === 0x31)) {
      return { type: 'bool', value: s[1] === 0x31 };
    }
    return int(narrow(pyIntFromBytes(s, 0, s.length)));
  },
  decimalnl_long: (f) => {
    let s = readLine(f);
    if (s[s.length - 1] === 0x4c) s = s.subarray(0, s.length - 1);
    return int(narrow(pyIntFromBytes(s, 0, s.length)));
  },
  floatnl: (f) => {
    const s = readLine(f);
    return { type: 'float', value: pyFloatFromBytes(s, 0, s.length) };
  },
  float8: (f) => {
    const b = f.read(8);
    if (b.length !== 8) throw new PyValueError('not enough data in stream to read float8');
    return { type: 'float', value: new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false) };
  },
  long1: (f) => readLong(f, readUint1(f), 'long1'),
  long4: (f) => {
    const n = readInt4(f);
    if (n < 0) throw new PyValueError(`long4 byte count < 0: ${n}`);
    return readLong(f, n, 'long4');
  },
};

/** Reads the argument `arg` at the cursor, as pickletools' reader for it does. */
export function readPtArg(arg: ArgumentDescriptor, f: PtCursor): PtArg {
  const read = READERS[arg.name];
  if (read === undefined) throw new Error(`no pickletools reader for argument ${arg.name}`);
  return read(f);
}

/** An `UnpicklingError` whose `reason` is pickletools' message, at the opcode at `pos`. */
export function ptError(
  code: ErrorCode,
  reason: string,
  pos: number,
  op?: OpcodeInfo,
): UnpicklingError {
  return new UnpicklingError(code, reason, { offset: pos, opcode: op?.name });
}

/** Maps a `ValueError` of an argument reader to an error code. */
function readErrorCode(e: PyValueError): ErrorCode {
  if (e.kind === 'encoding') return ErrorCode.BAD_ENCODING;
  if (e.kind === 'limit') return ErrorCode.LIMIT_EXCEEDED;
  if (/^(not enough data|expected \d+ bytes|no newline found)/.test(e.message)) {
    return ErrorCode.TRUNCATED;
  }
  return ErrorCode.BAD_ARGUMENT;
}

export function located(e: unknown, pos: number, op?: OpcodeInfo): unknown {
  return e instanceof PyValueError ? ptError(readErrorCode(e), e.message, pos, op) : e;
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/**
 * The next opcode and its argument, as pickletools' `genops` reads them, failing as it fails.
 */
export function readPtOp(f: PtCursor): { op: OpcodeInfo; arg: PtArg | undefined; pos: number } {
  const pos = f.pos;
  if (pos >= f.data.length) {
    throw ptError(ErrorCode.TRUNCATED, 'pickle exhausted before seeing STOP', pos);
  }
  const code = f.data[pos]!;
  const op = OPCODE_BY_CODE[code];
  if (op === undefined) {
    throw ptError(
      ErrorCode.UNKNOWN_OPCODE,
      `at position ${pos}, opcode ${reprByte(code)} unknown`,
      pos,
    );
  }
  f.pos = pos + 1;
  let arg: PtArg | undefined;
  if (op.arg !== null) {
    try {
      arg = readPtArg(op.arg, f);
    } catch (e) {
      throw located(e, pos, op);
    }
  }
  return { op, arg, pos };
}

/** `repr(bytes([b]))`. */
function reprByte(b: number): string {
  if (b === 0x27) return `b"'"`;
  if (b === 0x5c) return "b'\\\\'";
  if (b === 0x0a) return "b'\\n'";
  if (b === 0x0d) return "b'\\r'";
  if (b === 0x09) return "b'\\t'";
  if (b < 0x20 || b >= 0x7f) return `b'\\x${hex2(b)}'`;
  return `b'${String.fromCharCode(b)}'`;
}
