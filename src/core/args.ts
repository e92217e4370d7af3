/**
 * Argument descriptors: how each opcode's inline argument is laid out in the bytes, read and
 * written in one place. Names, sizes and the values `read` returns follow CPython's
 * `pickletools` (its `ArgumentDescriptor`s), so `genops` and `dis` can be driven by this table.
 */
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';
import { ErrorCode } from './errors.js';
import { reprBytes } from './python/repr.js';
import {
  TextError,
  decodeRawUnicodeEscape,
  decodeUtf8,
  encodeRawUnicodeEscape,
  encodeUtf8,
  escapeDecode,
  parsePyInt,
  parsePyFloat,
  pyFloatRepr,
  decodeLatin1,
  encodeLatin1,
} from './text.js';

/** A decoded inline argument, as `pickletools.genops` gives it. */
export type ArgValue = number | bigint | boolean | string | Uint8Array;

/** Special values of `n`, as in pickletools. */
export const ArgSize = {
  UP_TO_NEWLINE: -1,
  TAKEN_FROM_ARGUMENT1: -2,
  TAKEN_FROM_ARGUMENT4: -3,
  TAKEN_FROM_ARGUMENT4U: -4,
  TAKEN_FROM_ARGUMENT8U: -5,
} as const;

export interface ArgumentDescriptor<T extends ArgValue = ArgValue> {
  readonly name: string;
  /** Fixed byte size, or one of `ArgSize`. */
  readonly n: number;
  readonly doc: string;
  read(r: Reader): T;
  write(w: Writer, value: T): void;
}

function arg<T extends ArgValue>(d: ArgumentDescriptor<T>): ArgumentDescriptor<T> {
  return d;
}

/** Runs a text parser, turning its error into a located `UnpicklingError`. */
function parsing<T>(r: Reader, f: () => T, code: ErrorCode = ErrorCode.BAD_ARGUMENT): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TextError) throw r.error(code, e.message, e);
    throw e;
  }
}

/** The text of a newline-terminated line (latin-1, so every byte is kept). */
function readLineText(r: Reader): string {
  const start = r.pos;
  const nl = r.line();
  return decodeLatin1(r.data.subarray(start, nl));
}

/** Two's-complement little-endian integer of any length (LONG1, LONG4). */
export function decodeLong(data: Uint8Array, start: number, end: number): number | bigint {
  const n = end - start;
  if (n === 0) return 0;
  if (n <= 6) {
    // Up to 48 bits: exact in a double, no bigint needed.
    let v = 0;
    for (let i = end - 1; i >= start; i--) v = v * 256 + data[i]!;
    if (data[end - 1]! >= 0x80) v -= 2 ** (8 * n);
    return v;
  }
  // Through hex text: linear in the length, where shifting a growing bigint byte by byte
  // would be quadratic (a 1 MB LONG4 took seconds). The text is built as ASCII bytes and
  // decoded once: concatenating a long string two characters at a time is five times slower.
  let v: bigint;
  if (n <= 64) {
    let hex = '';
    for (let i = end - 1; i >= start; i--) hex += HEX[data[i]!];
    v = BigInt('0x' + hex);
  } else {
    const text = new Uint8Array(2 * n + 2);
    text[0] = 0x30; // '0'
    text[1] = 0x78; // 'x'
    for (let i = end - 1, j = 2; i >= start; i--, j += 2) {
      const b = data[i]! << 1;
      text[j] = HEX_CODES[b]!;
      text[j + 1] = HEX_CODES[b + 1]!;
    }
    v = BigInt(asciiDecoder.decode(text));
  }
  if (data[end - 1]! >= 0x80) v -= 1n << BigInt(8 * n);
  return Number.MIN_SAFE_INTEGER <= v && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** The two ASCII hex digits of each byte value, at `2 * byte` and `2 * byte + 1`. */
const HEX_CODES = new Uint8Array(HEX.flatMap((h) => [h.charCodeAt(0), h.charCodeAt(1)]));
const asciiDecoder = new TextDecoder('latin1');

/** The shortest two's-complement little-endian bytes of `x`, as Python's `encode_long`. */
export function encodeLong(x: number | bigint): Uint8Array {
  if (typeof x === 'number' && Number.isSafeInteger(x)) return encodeSafeLong(x);
  let v = BigInt(x);
  if (v === 0n) return new Uint8Array(0);
  const neg = v < 0n;
  // bit_length() of |x|, then (bit_length >> 3) + 1 bytes, as CPython computes it.
  const absHex = (neg ? -v : v).toString(16);
  const bitLength = (absHex.length - 1) * 4 + Number.parseInt(absHex[0]!, 16).toString(2).length;
  let nbytes = (bitLength >> 3) + 1;
  if (neg) v += 1n << BigInt(8 * nbytes);
  // Bytes from hex text: linear, where peeling bytes off a bigint would be quadratic.
  const hex = v.toString(16).padStart(nbytes * 2, '0');
  const out = new Uint8Array(nbytes);
  for (let i = 0; i < nbytes; i++) {
    const j = hex.length - 2 * (i + 1);
    out[i] = Number.parseInt(hex.slice(j, j + 2), 16);
  }
  if (neg && nbytes > 1 && out[nbytes - 1] === 0xff && (out[nbytes - 2]! & 0x80) !== 0) {
    nbytes--;
  }
  return out.subarray(0, nbytes);
}

function encodeSafeLong(x: number): Uint8Array {
  const out = new Uint8Array(8);
  return out.subarray(0, writeSafeLong(x, out, 0));
}

/**
 * `encode_long`'s bytes of a safe integer, written into `out` at `pos` (room for 8 bytes), with
 * number arithmetic, no bigint or hex text; returns how many. The pickler writes LONG1 this way
 * in place (records dumps, 30k 48-bit ints: 6 ms of an array per int gone).
 */
export function writeSafeLong(x: number, out: Uint8Array, pos: number): number {
  if (x === 0) return 0;
  const a = Math.abs(x);
  const bitLength =
    a < 0x100000000 ? 32 - Math.clz32(a) : 64 - Math.clz32(Math.floor(a / 0x100000000));
  let n = (bitLength >> 3) + 1;
  // Two's complement as a high int (sign-extending) and a low uint32.
  const hi = Math.floor(x / 0x100000000);
  const lo = x - hi * 0x100000000;
  for (let i = 0; i < n; i++) out[pos + i] = i < 4 ? lo >>> (8 * i) : hi >> (8 * (i - 4));
  // A negative number whose top byte is only sign: one byte less, as CPython writes it.
  if (x < 0 && n > 1 && out[pos + n - 1] === 0xff && (out[pos + n - 2]! & 0x80) !== 0) n--;
  return n;
}

function writeLine(w: Writer, text: string): void {
  w.ascii(text);
  w.byte(0x0a);
}

function writeLineBytes(w: Writer, data: Uint8Array): void {
  w.bytes(data);
  w.byte(0x0a);
}

/** A Python 2 str argument given as latin-1 text. */
function latin1Bytes(s: string): Uint8Array {
  const out = encodeLatin1(s);
  if (out === undefined) throw new RangeError('a Python 2 str argument must be latin-1 text');
  return out;
}

export const uint1 = arg<number>({
  name: 'uint1',
  n: 1,
  doc: 'One-byte unsigned integer.',
  read: (r) => r.u8(),
  write: (w, v) => w.byte(v),
});

export const uint2 = arg<number>({
  name: 'uint2',
  n: 2,
  doc: 'Two-byte unsigned integer, little-endian.',
  read: (r) => r.u16(),
  write: (w, v) => w.u16(v),
});

export const int4 = arg<number>({
  name: 'int4',
  n: 4,
  doc: "Four-byte signed integer, little-endian, 2's complement.",
  read: (r) => r.i32(),
  write: (w, v) => w.i32(v),
});

export const uint4 = arg<number>({
  name: 'uint4',
  n: 4,
  doc: 'Four-byte unsigned integer, little-endian.',
  read: (r) => r.u32(),
  write: (w, v) => w.i32(v),
});

export const uint8 = arg<number | bigint>({
  name: 'uint8',
  n: 8,
  doc: 'Eight-byte unsigned integer, little-endian.',
  read: (r) => {
    const v = r.u64big();
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  },
  write: (w, v) => w.u64(v),
});

export const stringnl = arg<string>({
  name: 'stringnl',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'A newline-terminated string, a Python 2 repr: quoted, with backslash escapes.',
  read: (r) => {
    const start = r.pos;
    const nl = r.line();
    const d = r.data;
    const q = d[start];
    if (nl - start < 2 || (q !== 0x22 && q !== 0x27) || d[nl - 1] !== q) {
      throw r.error(ErrorCode.BAD_ARGUMENT, 'the STRING opcode argument must be quoted');
    }
    return parsing(r, () => decodeLatin1(escapeDecode(d, start + 1, nl - 1)));
  },
  write: (w, v) => writeLine(w, reprBytes(latin1Bytes(v), '')),
});

export const stringnl_noescape = arg<string>({
  name: 'stringnl_noescape',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'A newline-terminated string, without quotes or escapes.',
  read: (r) => readLineText(r),
  write: (w, v) => writeLine(w, v),
});

export const stringnl_noescape_pair = arg<string>({
  name: 'stringnl_noescape_pair',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'Two newline-terminated strings (module, then name); read as "module name".',
  read: (r) => `${readLineText(r)} ${readLineText(r)}`,
  write: (w, v) => {
    const space = v.indexOf(' ');
    writeLineBytes(w, encodeUtf8(v.slice(0, space)));
    writeLineBytes(w, encodeUtf8(v.slice(space + 1)));
  },
});

function readSized(r: Reader, size: number): Uint8Array {
  if (size < 0) throw r.error(ErrorCode.BAD_ARGUMENT, `negative byte count: ${size}`);
  return r.bytes(size);
}

export const string1 = arg<string>({
  name: 'string1',
  n: ArgSize.TAKEN_FROM_ARGUMENT1,
  doc: 'A byte string of at most 255 bytes, one-byte length first.',
  read: (r) => decodeLatin1(readSized(r, r.u8())),
  write: (w, v) => {
    w.byte(v.length);
    w.bytes(latin1Bytes(v));
  },
});

export const string4 = arg<string>({
  name: 'string4',
  n: ArgSize.TAKEN_FROM_ARGUMENT4,
  doc: 'A byte string, four-byte signed length first.',
  read: (r) => decodeLatin1(readSized(r, r.i32())),
  write: (w, v) => {
    w.i32(v.length);
    w.bytes(latin1Bytes(v));
  },
});

export const bytes1 = arg<Uint8Array>({
  name: 'bytes1',
  n: ArgSize.TAKEN_FROM_ARGUMENT1,
  doc: 'Bytes of at most 255, one-byte length first.',
  read: (r) => readSized(r, r.u8()),
  write: (w, v) => {
    w.byte(v.length);
    w.bytes(v);
  },
});

export const bytes4 = arg<Uint8Array>({
  name: 'bytes4',
  n: ArgSize.TAKEN_FROM_ARGUMENT4U,
  doc: 'Bytes, four-byte unsigned length first.',
  read: (r) => readSized(r, r.u32()),
  write: (w, v) => {
    w.i32(v.length);
    w.bytes(v);
  },
});

export const bytes8 = arg<Uint8Array>({
  name: 'bytes8',
  n: ArgSize.TAKEN_FROM_ARGUMENT8U,
  doc: 'Bytes, eight-byte unsigned length first.',
  read: (r) => readSized(r, r.u64()),
  write: (w, v) => {
    w.u64(v.length);
    w.bytes(v);
  },
});

export const bytearray8 = arg<Uint8Array>({
  name: 'bytearray8',
  n: ArgSize.TAKEN_FROM_ARGUMENT8U,
  doc: 'A bytearray, eight-byte unsigned length first.',
  read: (r) => readSized(r, r.u64()),
  write: (w, v) => {
    w.u64(v.length);
    w.bytes(v);
  },
});

export const unicodestringnl = arg<string>({
  name: 'unicodestringnl',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'A newline-terminated string in raw-unicode-escape.',
  read: (r) => {
    const start = r.pos;
    const nl = r.line();
    // CPython raises UnicodeDecodeError for a bad escape, as for bad UTF-8.
    return parsing(r, () => decodeRawUnicodeEscape(r.data, start, nl), ErrorCode.BAD_ENCODING);
  },
  write: (w, v) => writeLineBytes(w, encodeRawUnicodeEscape(v)),
});

function readUtf8(r: Reader, size: number): string {
  const p = r.skip(size);
  return parsing(r, () => decodeUtf8(r.data, p, p + size));
}

function writeUtf8(w: Writer, v: string, writeLength: (n: number) => void): void {
  const bytes = encodeUtf8(v);
  writeLength(bytes.length);
  w.bytes(bytes);
}

export const unicodestring1 = arg<string>({
  name: 'unicodestring1',
  n: ArgSize.TAKEN_FROM_ARGUMENT1,
  doc: 'A UTF-8 string of at most 255 bytes, one-byte length first.',
  read: (r) => readUtf8(r, r.u8()),
  write: (w, v) => writeUtf8(w, v, (n) => w.byte(n)),
});

export const unicodestring4 = arg<string>({
  name: 'unicodestring4',
  n: ArgSize.TAKEN_FROM_ARGUMENT4U,
  doc: 'A UTF-8 string, four-byte unsigned length first.',
  read: (r) => readUtf8(r, r.u32()),
  write: (w, v) => writeUtf8(w, v, (n) => w.i32(n)),
});

export const unicodestring8 = arg<string>({
  name: 'unicodestring8',
  n: ArgSize.TAKEN_FROM_ARGUMENT8U,
  doc: 'A UTF-8 string, eight-byte unsigned length first.',
  read: (r) => readUtf8(r, r.u64()),
  write: (w, v) => writeUtf8(w, v, (n) => w.u64(n)),
});

export const decimalnl_short = arg<number | bigint | boolean>({
  name: 'decimalnl_short',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'A newline-terminated decimal integer; "00" and "01" mean False and True.',
  read: (r) => {
    const text = readLineText(r);
    if (text === '00') return false;
    if (text === '01') return true;
    return narrow(parsing(r, () => parsePyInt(text, 10)));
  },
  write: (w, v) => writeLine(w, v === false ? '00' : v === true ? '01' : String(v)),
});

export const decimalnl_long = arg<number | bigint>({
  name: 'decimalnl_long',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'A newline-terminated decimal integer with a trailing "L".',
  read: (r) => {
    let text = readLineText(r);
    if (text.endsWith('L')) text = text.slice(0, -1);
    return narrow(parsing(r, () => parsePyInt(text, 10)));
  },
  write: (w, v) => writeLine(w, `${String(v)}L`),
});

export const floatnl = arg<number>({
  name: 'floatnl',
  n: ArgSize.UP_TO_NEWLINE,
  doc: 'A newline-terminated decimal float, as repr() writes it.',
  read: (r) => {
    const text = readLineText(r);
    return parsing(r, () => parsePyFloat(text));
  },
  write: (w, v) => writeLine(w, pyFloatRepr(v)),
});

export const float8 = arg<number>({
  name: 'float8',
  n: 8,
  doc: 'An IEEE 754 double, big-endian.',
  read: (r) => r.f64(),
  write: (w, v) => w.f64(v),
});

export const long1 = arg<number | bigint>({
  name: 'long1',
  n: ArgSize.TAKEN_FROM_ARGUMENT1,
  doc: "A two's-complement little-endian integer, one-byte length first.",
  read: (r) => {
    const n = r.u8();
    const p = r.skip(n);
    return decodeLong(r.data, p, p + n);
  },
  write: (w, v) => {
    const bytes = encodeLong(v);
    w.byte(bytes.length);
    w.bytes(bytes);
  },
});

export const long4 = arg<number | bigint>({
  name: 'long4',
  n: ArgSize.TAKEN_FROM_ARGUMENT4,
  doc: "A two's-complement little-endian integer, four-byte signed length first.",
  read: (r) => {
    const n = r.i32();
    if (n < 0) throw r.error(ErrorCode.BAD_ARGUMENT, 'LONG pickle has negative byte count');
    const p = r.skip(n);
    return decodeLong(r.data, p, p + n);
  },
  write: (w, v) => {
    const bytes = encodeLong(v);
    w.i32(bytes.length);
    w.bytes(bytes);
  },
});

function narrow(v: bigint): number | bigint {
  return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
}
