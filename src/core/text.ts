/**
 * Text codecs as CPython's pickle uses them: UTF-8 with `surrogatepass`, raw-unicode-escape
 * (protocol 0 UNICODE), `escape_decode` (protocol 0 STRING), 8-bit decodings for Python 2 `str`,
 * and the number syntaxes of the text opcodes (`int(s, 0)`, `strtol`, `float(s)`, `repr(float)`).
 *
 * Decoders return `undefined` or throw a plain `TextError`; the unpickler turns that into an
 * `UnpicklingError` carrying the byte offset.
 */

/** A text or number syntax error, without position; callers add the pickle context. */
export class TextError extends Error {
  override name = 'TextError';
}

// `ignoreBOM` keeps a leading U+FEFF, which is part of a Python string's value.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

// Below this many bytes a JS loop beats a TextDecoder call (~2x for 8-byte keys on Node 20).
const SHORT_STRING = 24;

/** Scratch space for the short-string fast path (reused: no allocation per string). */
const codes: number[] = new Array<number>(2 * SHORT_STRING).fill(0);
/** `codesOfLength[k]`: a scratch array of k char codes (up to two per byte of a short string). */
const codesOfLength: number[][] = Array.from({ length: 2 * SHORT_STRING + 1 }, (_, k) =>
  new Array<number>(k).fill(0),
);

/** Decodes UTF-8 as Python's `bytes.decode('utf-8', 'surrogatepass')` does. */
export function decodeUtf8(data: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= SHORT_STRING) {
    // Short strings: one fromCharCode call over a reused array is ~2x faster than a TextDecoder
    // call, and than building the string char by char (200k 8-byte keys: 16 ms vs 26-31 ms).
    // Well-formed 2-, 3- and 4-byte sequences are decoded here too (the strings data set, one
    // in ten non-ASCII: loads 57 -> 40 ms); anything unusual goes to the full decoders.
    // ASCII, the common case, goes straight into the array of its length (no second copy).
    const ascii = codesOfLength[n]!;
    let a = start;
    for (let j = 0; a < end; a++, j++) {
      const b = data[a]!;
      if (b >= 0x80) break;
      ascii[j] = b;
    }
    if (a === end) return String.fromCharCode.apply(null, ascii);
    let k = 0;
    for (let i = start; i < end;) {
      const b = data[i]!;
      if (b < 0x80) {
        codes[k++] = b;
        i++;
      } else if (b >= 0xc2 && b <= 0xdf && i + 1 < end) {
        const b1 = data[i + 1]!;
        if ((b1 & 0xc0) !== 0x80) return decodeUtf8Long(data, start, end);
        codes[k++] = ((b & 0x1f) << 6) | (b1 & 0x3f);
        i += 2;
      } else if (b >= 0xe0 && b <= 0xef && i + 2 < end) {
        const b1 = data[i + 1]!;
        const b2 = data[i + 2]!;
        const cp = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        // Overlong forms and surrogates (which 'surrogatepass' allows) take the full path.
        if (
          (b1 & 0xc0) !== 0x80 ||
          (b2 & 0xc0) !== 0x80 ||
          cp < 0x800 ||
          (cp >= 0xd800 && cp <= 0xdfff)
        ) {
          return decodeUtf8Long(data, start, end);
        }
        codes[k++] = cp;
        i += 3;
      } else if (b >= 0xf0 && b <= 0xf4 && i + 3 < end) {
        const b1 = data[i + 1]!;
        const b2 = data[i + 2]!;
        const b3 = data[i + 3]!;
        const cp = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
        if (
          (b1 & 0xc0) !== 0x80 ||
          (b2 & 0xc0) !== 0x80 ||
          (b3 & 0xc0) !== 0x80 ||
          cp < 0x10000 ||
          cp > 0x10ffff
        ) {
          return decodeUtf8Long(data, start, end);
        }
        codes[k++] = 0xd7c0 + (cp >> 10);
        codes[k++] = 0xdc00 | (cp & 0x3ff);
        i += 4;
      } else {
        return decodeUtf8Long(data, start, end);
      }
    }
    // Through an array of exactly k items: setting `codes.length` instead costs ~10% of the
    // strings data set's loads.
    const out = codesOfLength[k]!;
    for (let j = 0; j < k; j++) out[j] = codes[j]!;
    return String.fromCharCode.apply(null, out);
  }
  return decodeUtf8Long(data, start, end);
}

function decodeUtf8Long(data: Uint8Array, start: number, end: number): string {
  try {
    return utf8Decoder.decode(data.subarray(start, end));
  } catch {
    // Not strict UTF-8: maybe surrogates written by 'surrogatepass', maybe just bad bytes.
    return decodeUtf8Surrogatepass(data, start, end);
  }
}

/** The slow path: a full UTF-8 decoder that also accepts encoded surrogates (ED A0..BF xx). */
function decodeUtf8Surrogatepass(data: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let out = '';
  let i = start;
  while (i < end) {
    const b0 = data[i]!;
    let cp: number;
    let need: number;
    let min: number;
    if (b0 < 0x80) {
      cp = b0;
      need = 0;
      min = 0;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f;
      need = 1;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f;
      need = 2;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07;
      need = 3;
      min = 0x10000;
    } else {
      throw new TextError(`invalid start byte 0x${hex2(b0)} in UTF-8 at position ${i - start}`);
    }
    if (i + need >= end && need > 0) {
      throw new TextError(`unexpected end of UTF-8 data at position ${i - start}`);
    }
    for (let k = 1; k <= need; k++) {
      const b = data[i + k]!;
      if ((b & 0xc0) !== 0x80) {
        throw new TextError(`invalid continuation byte in UTF-8 at position ${i - start + k}`);
      }
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) {
      throw new TextError(`invalid UTF-8 sequence at position ${i - start}`);
    }
    i += need + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 4096) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

declare global {
  interface String {
    /** ES2024; present in Node 20 and current browsers. */
    isWellFormed(): boolean;
  }
}

/** Worst-case UTF-8 size of a JS string: 3 bytes per UTF-16 code unit. */
export function maxUtf8Length(s: string): number {
  return s.length * 3;
}

/**
 * Encodes `s` as UTF-8 with `surrogatepass` into `out` at `pos`, which must have room for
 * `maxUtf8Length(s)` bytes. Returns the number of bytes written.
 */
export function encodeUtf8Into(s: string, out: Uint8Array, pos: number): number {
  const n = s.length;
  if (n <= SHORT_STRING) {
    // Short ASCII strings: a plain loop avoids encodeInto's call overhead.
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[pos + i] = c;
    }
    if (i === n) return n;
  }
  if (s.isWellFormed()) {
    return utf8Encoder.encodeInto(s, out.subarray(pos)).written;
  }
  return encodeUtf8From(s, 0, out, pos);
}

/**
 * UTF-8 with `surrogatepass` of `s` from code unit `i` on, into `out` at `pos + i`: the first `i`
 * code units, ASCII, are written already. A loop: it beats a TextEncoder call on short strings,
 * and TextEncoder cannot write lone surrogates. Returns the bytes of the whole string.
 */
export function encodeUtf8From(s: string, i: number, out: Uint8Array, pos: number): number {
  let p = pos + i;
  for (; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // BMP character or lone surrogate: three bytes, as 'surrogatepass' writes them.
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - pos;
}

/** UTF-8 bytes of `s` with `surrogatepass`, as a new array. */
export function encodeUtf8(s: string): Uint8Array {
  const buf = new Uint8Array(maxUtf8Length(s));
  return buf.slice(0, encodeUtf8Into(s, buf, 0));
}

/** Iterates the code points of a JS string as Python sees them (a lone surrogate is one). */
function* codePoints(s: string): Generator<number> {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        yield 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        continue;
      }
    }
    yield c;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function fromCodePoint(cp: number): string {
  // String.fromCodePoint refuses nothing in range, and keeps lone surrogates.
  return String.fromCodePoint(cp);
}

/**
 * Protocol 0 UNICODE: `raw-unicode-escape`, plus the escapes CPython's pickler adds for
 * backslash, NUL, newline, carriage return and 0x1a, so the line stays one line.
 */
export function encodeRawUnicodeEscape(s: string): Uint8Array {
  const bytes: number[] = [];
  const push = (text: string) => {
    for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i));
  };
  for (const cp of codePoints(s)) {
    if (cp >= 0x10000) {
      push('\\U' + cp.toString(16).padStart(8, '0'));
    } else if (
      cp >= 0x100 ||
      cp === 0x5c ||
      cp === 0 ||
      cp === 0x0a ||
      cp === 0x0d ||
      cp === 0x1a
    ) {
      push('\\u' + cp.toString(16).padStart(4, '0'));
    } else {
      bytes.push(cp);
    }
  }
  return Uint8Array.from(bytes);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Decodes `raw-unicode-escape` as CPython 3.11 does: only `\uXXXX` and `\UXXXXXXXX` escape. */
export function decodeRawUnicodeEscape(data: Uint8Array, start: number, end: number): string {
  // Runs without a backslash are decoded whole (latin-1), not char by char: a 4 MiB line took
  // 225 ms through `out += char`, mostly collecting the garbage strings.
  let out = '';
  let i = start;
  while (i < end) {
    let j = i;
    while (j < end && data[j] !== 0x5c) j++;
    if (j > i) out += decodeLatin1(data.subarray(i, j));
    if (j >= end) break;
    i = j + 1;
    if (i >= end) {
      out += '\\';
      break;
    }
    const kind = data[i++]!;
    let count: number;
    if (kind === 0x75 /* u */) count = 4;
    else if (kind === 0x55 /* U */) count = 8;
    else {
      out += '\\' + String.fromCharCode(kind);
      continue;
    }
    let cp = 0;
    for (let k = 0; k < count; k++, i++) {
      if (i >= end) {
        throw new TextError(
          `truncated \\${count === 4 ? 'uXXXX' : 'UXXXXXXXX'} escape in raw-unicode-escape`,
        );
      }
      const h = hexValue(data[i]!);
      if (h < 0) {
        throw new TextError(
          `truncated \\${count === 4 ? 'uXXXX' : 'UXXXXXXXX'} escape in raw-unicode-escape`,
        );
      }
      cp = cp * 16 + h;
    }
    if (cp > 0x10ffff) throw new TextError('\\Uxxxxxxxx out of range in raw-unicode-escape');
    out += fromCodePoint(cp);
  }
  return out;
}

/**
 * Python's `codecs.escape_decode`, which the STRING opcode applies to its quoted argument:
 * `\\ \' \" \a \b \f \n \r \t \v`, octal `\ooo`, `\xhh`, backslash-newline; other escapes stay.
 */
export function escapeDecode(data: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let n = 0;
  let i = start;
  while (i < end) {
    const c = data[i++]!;
    if (c !== 0x5c) {
      out[n++] = c;
      continue;
    }
    if (i >= end) throw new TextError('Trailing \\ in string');
    const e = data[i++]!;
    switch (e) {
      case 0x0a: // backslash-newline: a line continuation
        break;
      case 0x5c:
      case 0x27:
      case 0x22:
        out[n++] = e;
        break;
      case 0x62: // \b
        out[n++] = 0x08;
        break;
      case 0x66: // \f
        out[n++] = 0x0c;
        break;
      case 0x74: // \t
        out[n++] = 0x09;
        break;
      case 0x6e: // \n
        out[n++] = 0x0a;
        break;
      case 0x72: // \r
        out[n++] = 0x0d;
        break;
      case 0x76: // \v
        out[n++] = 0x0b;
        break;
      case 0x61: // \a
        out[n++] = 0x07;
        break;
      case 0x78: {
        // \xhh: exactly two hex digits
        const h1 = i < end ? hexValue(data[i]!) : -1;
        const h2 = i + 1 < end ? hexValue(data[i + 1]!) : -1;
        if (h1 < 0 || h2 < 0) {
          throw new TextError(`invalid \\x escape at position ${i - start - 2}`);
        }
        out[n++] = h1 * 16 + h2;
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2 && i < end && data[i]! >= 0x30 && data[i]! <= 0x37; k++) {
            v = v * 8 + (data[i++]! - 0x30);
          }
          out[n++] = v & 0xff;
        } else {
          // An unknown escape keeps its backslash (Python warns, then keeps it).
          out[n++] = 0x5c;
          out[n++] = e;
        }
    }
  }
  return out.slice(0, n);
}

/** Decodes 8-bit text (Python 2 `str`) as `bytes.decode(encoding, errors)` would. */
export function decode8bit(data: Uint8Array, encoding: string, errors: string): string {
  const enc = normalizeEncoding(encoding);
  if (enc === 'ascii' || enc === 'latin1') {
    const limit = enc === 'ascii' ? 0x80 : 0x100;
    let s = '';
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (b < limit) s += String.fromCharCode(b);
      else if (errors === 'strict') {
        throw new TextError(
          `'ascii' codec can't decode byte 0x${hex2(b)} in position ${i}: ordinal not in range(128)`,
        );
      } else if (errors === 'replace') s += '\ufffd';
      else if (errors === 'surrogateescape') s += String.fromCharCode(0xdc00 + b);
      else if (errors === 'backslashreplace') s += '\\x' + hex2(b);
      else if (errors !== 'ignore') throw new TextError(`unknown error handler name '${errors}'`);
    }
    return s;
  }
  if (enc === 'utf8') {
    if (errors === 'strict') return decodeUtf8(data, 0, data.length);
    if (errors === 'replace') return new TextDecoder('utf-8', { ignoreBOM: true }).decode(data);
  }
  if (errors !== 'strict' && errors !== 'replace') {
    throw new TextError(`errors='${errors}' is supported only for ASCII, latin1 and UTF-8`);
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(encoding, { fatal: errors === 'strict', ignoreBOM: true });
  } catch {
    throw new TextError(`unknown encoding: ${encoding}`);
  }
  try {
    return decoder.decode(data);
  } catch {
    throw new TextError(`'${encoding}' codec can't decode the bytes`);
  }
}

/** Python's codec name normalization for the encodings handled natively here. */
export function normalizeEncoding(encoding: string): string {
  const e = encoding.toLowerCase().replace(/[-_ ]/g, '');
  if (e === 'ascii' || e === 'usascii' || e === '646') return 'ascii';
  if (e === 'latin1' || e === 'latin' || e === 'iso88591' || e === 'l1' || e === '8859')
    return 'latin1';
  if (e === 'utf8' || e === 'u8' || e === 'utf') return 'utf8';
  if (e === 'bytes') return 'bytes';
  return e;
}

/** Decodes ASCII text strictly (PERSID, INST names). */
export function decodeAscii(data: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    if (b >= 0x80) {
      throw new TextError(`non-ASCII byte 0x${hex2(b)} at position ${i - start}`);
    }
    s += String.fromCharCode(b);
  }
  return s;
}

/** Latin-1 text of a byte range (every byte is one code point). */
export function decodeLatin1(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i += 4096) {
    s += String.fromCharCode(...data.subarray(i, Math.min(i + 4096, data.length)));
  }
  return s;
}

/** The code units of `s` as bytes, or `undefined` if one is above `max` (0xff latin-1, 0x7f ASCII). */
export function encodeLatin1(s: string, max = 0xff): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > max) return undefined;
    out[i] = c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers in text form

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * `int(text, base)` for base 0 or 10, as `PyLong_FromString` parses it: surrounding whitespace,
 * a sign, `0x`/`0o`/`0b` prefixes (base 0), and single underscores between digits.
 */
export function parsePyInt(text: string, base: 0 | 10): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(.*?)[ \t\n\v\f\r]*$/s.exec(text);
  const body = m?.[2] ?? '';
  const neg = m?.[1] === '-';
  let digits: string;
  let prefix = '';
  let radix = 10;
  if (base === 0 && /^0[xXoObB]/.test(body)) {
    prefix = body.slice(0, 2).toLowerCase();
    radix = prefix === '0x' ? 16 : prefix === '0o' ? 8 : 2;
    digits = body.slice(2);
    // After a prefix, one underscore may precede the first digit.
    if (digits.startsWith('_')) digits = digits.slice(1);
  } else {
    digits = body;
  }
  const digitClass =
    radix === 16 ? '[0-9a-fA-F]' : radix === 8 ? '[0-7]' : radix === 2 ? '[01]' : '[0-9]';
  if (!new RegExp(`^${digitClass}+(_${digitClass}+)*$`).test(digits)) {
    throw new TextError(`invalid literal for int() with base ${base}: ${JSON.stringify(text)}`);
  }
  digits = digits.replace(/_/g, '');
  if (
    base === 0 &&
    radix === 10 &&
    digits.length > 1 &&
    digits[0] === '0' &&
    /[1-9]/.test(digits)
  ) {
    throw new TextError(`invalid literal for int() with base 0: ${JSON.stringify(text)}`);
  }
  const v = radix === 10 ? BigInt(digits) : BigInt(prefix + digits);
  return neg ? -v : v;
}

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

/**
 * C's `strtol(s, &end, 0)` on a 64-bit long, as the INT opcode uses it first: returns the value
 * and whether it consumed the whole line; `undefined` value on overflow.
 */
export function strtol0(text: string): { value: bigint | undefined; rest: string } {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  let neg = false;
  if (text[i] === '+' || text[i] === '-') {
    neg = text[i] === '-';
    i++;
  }
  let radix = 10;
  if (
    text[i] === '0' &&
    (text[i + 1] === 'x' || text[i + 1] === 'X') &&
    hexValue(text.charCodeAt(i + 2)) >= 0
  ) {
    radix = 16;
    i += 2;
  } else if (text[i] === '0') {
    radix = 8;
  }
  const start = i;
  while (i < text.length) {
    const d = hexValue(text.charCodeAt(i));
    if (d < 0 || d >= radix) break;
    i++;
  }
  if (i === start) return { value: 0n, rest: text }; // no digits: nothing consumed
  const digits = text.slice(start, i);
  let v = radix === 10 ? BigInt(digits) : BigInt((radix === 16 ? '0x' : '0o') + digits);
  if (neg) v = -v;
  return { value: v > LONG_MAX || v < LONG_MIN ? undefined : v, rest: text.slice(i) };
}

const FLOAT_SYNTAX =
  /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

/** `float(text)` as the FLOAT opcode parses it: no surrounding spaces, overflow is an error. */
export function parsePyFloat(text: string): number {
  if (!FLOAT_SYNTAX.test(text)) {
    throw new TextError(`could not convert string to float: ${JSON.stringify(text)}`);
  }
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) {
    return text.startsWith('-') ? -Infinity : Infinity;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) throw new TextError(`value too large to convert to float: ${text}`);
  return v;
}

/** Python's `repr(float)`: the shortest digits that round-trip, in Python's layout. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest round-trip digits.
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  const decpt = exp + 1; // position of the decimal point relative to the digits
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = exp < 0 ? `-${String(-exp).padStart(2, '0')}` : `+${String(exp).padStart(2, '0')}`;
  return `${sign}${m}e${e}`;
}
