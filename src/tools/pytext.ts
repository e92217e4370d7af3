/**
 * The text conversions `pickletools` applies to opcode arguments, with CPython 3.11's exact
 * results and error messages: `int(bytes)`, `float(bytes)`, UTF-8 with `surrogatepass`,
 * `raw-unicode-escape`, `codecs.escape_decode` followed by an ASCII decode, and `repr()` of
 * strings and ints. Strings are kept as arrays of code points, because a Python string can hold
 * a high and a low surrogate as two separate characters, which a JS string would merge.
 *
 * The core has its own decoders (for loading); these exist so that `dis` and `optimize` fail
 * where and how pickletools fails.
 */
import { escapeDecode, pyFloatRepr } from '../core/text.js';
import { reprBytes } from '../core/python/repr.js';

/** A Python `ValueError` (or one of its subclasses) with CPython's message. */
export class PyValueError extends Error {
  override name = 'PyValueError';
  /** `'encoding'` for a `UnicodeDecodeError`, `'limit'` for the int digit limit. */
  readonly kind: 'value' | 'encoding' | 'limit';

  constructor(message: string, kind: 'value' | 'encoding' | 'limit' = 'value') {
    super(message);
    this.kind = kind;
  }
}

/** `sys.get_int_max_str_digits()` on CPython 3.11 and later. */
export const INT_MAX_STR_DIGITS = 4300;

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** Python's `Py_ISSPACE` for bytes. */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

function bytesOf(data: Uint8Array, start: number, end: number): Uint8Array {
  return data.subarray(start, end);
}

/** `int(b)` for bytes `data[start, end)`, base 10, as CPython 3.11 parses it. */
export function pyIntFromBytes(data: Uint8Array, start: number, end: number): bigint {
  const invalid = () =>
    new PyValueError(
      `invalid literal for int() with base 10: ${reprBytes(bytesOf(data, start, Math.min(end, start + 200))).slice(0, 200)}`,
    );
  let i = start;
  while (i < end && isSpace(data[i]!)) i++;
  let negative = false;
  if (i < end && (data[i] === 0x2b || data[i] === 0x2d)) {
    negative = data[i] === 0x2d;
    i++;
  }
  const digitsStart = i;
  let digits = 0;
  let prev = 0;
  // Digits with single underscores between them; a bad underscore ends the number.
  while (i < end) {
    const c = data[i]!;
    if (c === 0x5f) {
      if (!isDigit(prev)) break;
    } else if (isDigit(c)) {
      digits++;
    } else {
      break;
    }
    prev = c;
    i++;
  }
  if (digits === 0) throw invalid();
  if (prev === 0x5f) throw invalid();
  if (digits > INT_MAX_STR_DIGITS) {
    throw new PyValueError(
      `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
      'limit',
    );
  }
  const numberEnd = i;
  while (i < end && isSpace(data[i]!)) i++;
  if (i !== end) throw invalid();
  let text = '';
  for (let k = digitsStart; k < numberEnd; k++)
    if (data[k] !== 0x5f) text += String.fromCharCode(data[k]!);
  const v = BigInt(text);
  return negative ? -v : v;
}

const FLOAT_SYNTAX =
  /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

/** `float(b)` for bytes `data[start, end)`, as CPython 3.11 parses it (overflow gives inf). */
export function pyFloatFromBytes(data: Uint8Array, start: number, end: number): number {
  const invalid = () =>
    new PyValueError(`could not convert string to float: ${reprBytes(bytesOf(data, start, end))}`);
  let s = start;
  let e = end;
  while (s < e && isSpace(data[s]!)) s++;
  while (e > s && isSpace(data[e - 1]!)) e--;
  // Underscores only between digits (`_Py_string_to_number_with_underscores`).
  let text = '';
  let prev = 0;
  for (let k = s; k < e; k++) {
    const c = data[k]!;
    if (c >= 0x80) throw invalid();
    if (c === 0x5f) {
      if (!isDigit(prev)) throw invalid();
    } else {
      if (prev === 0x5f && !isDigit(c)) throw invalid();
      text += String.fromCharCode(c);
    }
    prev = c;
  }
  if (prev === 0x5f || !FLOAT_SYNTAX.test(text)) throw invalid();
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) {
    return text.startsWith('-') ? -Infinity : Infinity;
  }
  return Number(text);
}

function decodeError(
  encoding: string,
  data: Uint8Array,
  start: number,
  end: number,
  reason: string,
): PyValueError {
  const where =
    end - start === 1
      ? `byte 0x${hex2(data[start]!)} in position ${start}`
      : `bytes in position ${start}-${end - 1}`;
  return new PyValueError(`'${encoding}' codec can't decode ${where}: ${reason}`, 'encoding');
}

const isCont = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;

/**
 * `str(b, 'utf-8', 'surrogatepass')` as code points, following CPython's decoder: where it
 * reports an error, what the error covers, and when `surrogatepass` accepts an encoded surrogate.
 */
export function pyDecodeUtf8(b: Uint8Array): number[] {
  const out: number[] = [];
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      out.push(c);
      i++;
      continue;
    }
    // 0 = end of data, 1 = invalid start, k >= 2 = invalid continuation covering k - 1 bytes.
    let fault = -1;
    let size = 0;
    if (c < 0xc2) fault = 1;
    else if (c < 0xe0) {
      if (n - i < 2) fault = 0;
      else if (!isCont(b[i + 1])) fault = 2;
      else size = 2;
    } else if (c < 0xf0) {
      const c2 = b[i + 1];
      const badSecond = (c2: number) => !isCont(c2) || (c2 < 0xa0 ? c === 0xe0 : c === 0xed);
      if (n - i < 3) fault = n - i < 2 ? 0 : badSecond(c2!) ? 2 : 0;
      else if (badSecond(c2!)) fault = 2;
      else if (!isCont(b[i + 2])) fault = 3;
      else size = 3;
    } else if (c < 0xf5) {
      const c2 = b[i + 1];
      const badSecond = (c2: number) => !isCont(c2) || (c2 < 0x90 ? c === 0xf0 : c === 0xf4);
      if (n - i < 4) {
        if (n - i < 2) fault = 0;
        else if (badSecond(c2!)) fault = 2;
        else if (n - i < 3) fault = 0;
        else fault = isCont(b[i + 2]) ? 0 : 3;
      } else if (badSecond(c2!)) fault = 2;
      else if (!isCont(b[i + 2])) fault = 3;
      else if (!isCont(b[i + 3])) fault = 4;
      else size = 4;
    } else fault = 1;

    if (size > 0) {
      let cp = c & (size === 2 ? 0x1f : size === 3 ? 0x0f : 0x07);
      for (let k = 1; k < size; k++) cp = (cp << 6) | (b[i + k]! & 0x3f);
      out.push(cp);
      i += size;
      continue;
    }
    // surrogatepass: a three-byte sequence that encodes a surrogate is accepted.
    if (n - i >= 3 && (c & 0xf0) === 0xe0 && isCont(b[i + 1]) && isCont(b[i + 2])) {
      const cp = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
      if (cp >= 0xd800 && cp <= 0xdfff) {
        out.push(cp);
        i += 3;
        continue;
      }
    }
    if (fault === 0) throw decodeError('utf-8', b, i, n, 'unexpected end of data');
    if (fault === 1) throw decodeError('utf-8', b, i, i + 1, 'invalid start byte');
    throw decodeError('utf-8', b, i, i + fault - 1, 'invalid continuation byte');
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** `str(b, 'raw-unicode-escape')` as code points, with CPython 3.11's errors. */
export function pyDecodeRawUnicodeEscape(b: Uint8Array): number[] {
  const out: number[] = [];
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i++]!;
    if (c !== 0x5c || i >= n) {
      out.push(c);
      continue;
    }
    const start = i - 1;
    const kind = b[i++]!;
    let count: number;
    let message: string;
    if (kind === 0x75) {
      count = 4;
      message = 'truncated \\uXXXX escape';
    } else if (kind === 0x55) {
      count = 8;
      message = 'truncated \\UXXXXXXXX escape';
    } else {
      out.push(0x5c, kind);
      continue;
    }
    let cp = 0;
    for (; count > 0; count--, i++) {
      const h = i < n ? hexDigit(b[i]!) : -1;
      if (h < 0) throw decodeError('rawunicodeescape', b, start, i, message);
      cp = cp * 16 + h;
    }
    if (cp > 0x10ffff)
      throw decodeError('rawunicodeescape', b, start, i, '\\Uxxxxxxxx out of range');
    out.push(cp);
  }
  return out;
}

/**
 * `codecs.escape_decode(b)[0].decode('ascii')`, as pickletools reads STRING, PERSID, GLOBAL and
 * INST arguments.
 */
export function pyEscapeDecodeAscii(b: Uint8Array): number[] {
  let decoded: Uint8Array;
  try {
    decoded = escapeDecode(b, 0, b.length);
  } catch (e) {
    // The core's escape_decode messages are CPython's ("invalid \x escape at position 0").
    throw new PyValueError((e as Error).message);
  }
  const out: number[] = new Array<number>(decoded.length);
  for (let k = 0; k < decoded.length; k++) {
    const c = decoded[k]!;
    if (c >= 0x80) {
      throw new PyValueError(
        `'ascii' codec can't decode byte 0x${hex2(c)} in position ${k}: ordinal not in range(128)`,
        'encoding',
      );
    }
    out[k] = c;
  }
  return out;
}

/** `bytes.decode('latin-1')` as code points. */
export function latin1CodePoints(b: Uint8Array): number[] {
  return Array.from(b);
}

// Python's str.isprintable(): not Other (Cc, Cf, Cs, Co, Cn) and not a separator except space.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** `repr(str)` of a Python string given as code points. */
export function reprCodePoints(cps: readonly number[]): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const cp of cps) {
    if (cp === 0x27) hasSingle = true;
    else if (cp === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? 0x22 : 0x27;
  const q = String.fromCharCode(quote);
  const parts: string[] = [q];
  for (const cp of cps) {
    if (cp === quote || cp === 0x5c) parts.push('\\' + String.fromCharCode(cp));
    else if (cp === 0x0a) parts.push('\\n');
    else if (cp === 0x0d) parts.push('\\r');
    else if (cp === 0x09) parts.push('\\t');
    else if (cp < 0x20 || cp === 0x7f) parts.push('\\x' + hex2(cp));
    else if (cp < 0x7f) parts.push(String.fromCharCode(cp));
    else if (cp >= 0xd800 && cp <= 0xdfff) parts.push('\\u' + cp.toString(16));
    else {
      const ch = String.fromCodePoint(cp);
      if (!NON_PRINTABLE.test(ch)) parts.push(ch);
      else if (cp <= 0xff) parts.push('\\x' + hex2(cp));
      else if (cp <= 0xffff) parts.push('\\u' + cp.toString(16).padStart(4, '0'));
      else parts.push('\\U' + cp.toString(16).padStart(8, '0'));
    }
  }
  parts.push(q);
  return parts.join('');
}

/** A JS string of the code points (surrogate code points stay, possibly pairing up). */
export function codePointsToString(cps: readonly number[]): string {
  let out = '';
  for (let k = 0; k < cps.length; k += 4096) {
    out += String.fromCodePoint(...cps.slice(k, k + 4096));
  }
  return out;
}

/** `repr(int)`, refusing (as CPython 3.11 does) ints of more than 4300 decimal digits. */
export function reprInt(v: number | bigint | boolean): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  const magnitude = v < 0n ? -v : v;
  // 2**14300 has 4305 digits: above that the limit is certain, and toString would be slow.
  const bits = magnitude.toString(16).length * 4;
  if (bits > 14400) throw limitError();
  const text = String(v);
  if (text.length - (v < 0n ? 1 : 0) > INT_MAX_STR_DIGITS) throw limitError();
  return text;
}

function limitError(): PyValueError {
  return new PyValueError(
    `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit`,
    'limit',
  );
}

/** `repr(float)`. */
export const reprFloat = pyFloatRepr;
