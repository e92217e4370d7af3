/**
 * Malformed pickles for `dis` and `optimize`: hand-written cases for each check pickletools
 * makes (argument syntax, encodings, lengths, stack, marks, memo), plus every truncation and
 * seeded byte mutations of well-formed pickles.
 */

/** Bytes from a mix of strings (latin-1 code units) and byte arrays. */
export function bytes(...parts: Array<string | number[] | Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else out.push(...p);
  }
  return new Uint8Array(out);
}

const le4 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const le8 = (n: bigint) =>
  Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

/** Hand-written malformed (and odd but valid) pickles, by name. */
export function handWritten(): Array<[string, Uint8Array]> {
  const digits5000 = '1'.repeat(5000);
  return [
    // STRING (protocol 0): quotes, escapes, and the ASCII decode pickletools applies
    ['STRING unquoted', bytes('Sabc\n.')],
    ['STRING mismatched quotes', bytes(`S'abc"\n.`)],
    ['STRING one double quote', bytes('S"\n.')],
    ['STRING one single quote', bytes("S'\n.")],
    ['STRING empty line', bytes('S\n.')],
    ['STRING bad \\x escape', bytes("S'a\\x1g'\n.")],
    ['STRING trailing backslash', bytes("S'ab\\'\n.")],
    ['STRING escaped non-ASCII', bytes("S'caf\\xe9'\n.")],
    ['STRING raw non-ASCII', bytes("S'caf", [0xc3, 0xa9], "'\n.")],
    ['STRING octal escapes', bytes("S'\\101\\777\\q'\n.")],
    ['STRING no newline', bytes("S'abc'")],
    // INT, LONG, FLOAT text syntax
    ['INT with L', bytes('I12L\n.')],
    ['INT empty', bytes('I\n.')],
    ['INT underscores and spaces', bytes('I 1_000 \n.')],
    ['INT double underscore', bytes('I1__0\n.')],
    ['INT 01 is True', bytes('I01\n.')],
    ['INT 00 is False', bytes('I00\n.')],
    ['INT hex', bytes('I0x10\n.')],
    ['INT non-ASCII', bytes('I', [0xe9], '\n.')],
    ['INT over the digit limit', bytes(`I${digits5000}\n.`)],
    ['INT long junk', bytes(`I${'x'.repeat(300)}\n.`)],
    ['LONG with L', bytes('L123456789012345678901234567890L\n.')],
    ['LONG junk', bytes('Labc\n.')],
    ['LONG over the digit limit', bytes(`L${digits5000}L\n.`)],
    ['FLOAT overflow is inf', bytes('F1e999\n.')],
    ['FLOAT junk', bytes('Fabc\n.')],
    ['FLOAT underscores', bytes('F1_0.5\n.')],
    ['FLOAT bad underscore', bytes('F1_e5\n.')],
    ['FLOAT nan and spaces', bytes('F -nan \n.')],
    ['FLOAT empty', bytes('F\n.')],
    // UNICODE (raw-unicode-escape) and BINUNICODE (UTF-8, surrogatepass)
    ['UNICODE truncated \\u', bytes('V\\u12\n.')],
    ['UNICODE truncated \\U', bytes('V\\U1234567\n.')],
    ['UNICODE out of range', bytes('Vab\\U00110000\n.')],
    ['UNICODE surrogate pair as two escapes', bytes('V\\ud83d\\ude00\n.')],
    ['UNICODE lone surrogate', bytes('V\\udc80x\n.')],
    ['UNICODE backslash at end', bytes('Vab\\\n.')],
    ['BINUNICODE invalid start byte', bytes('X', le4(1), [0xff], '.')],
    ['BINUNICODE unexpected end', bytes('X', le4(2), 'a', [0xc3], '.')],
    ['BINUNICODE invalid continuation', bytes('X', le4(3), [0xe2, 0x82, 0x28], '.')],
    ['BINUNICODE overlong', bytes('X', le4(2), [0xc0, 0x80], '.')],
    ['BINUNICODE encoded surrogate', bytes('X', le4(3), [0xed, 0xa0, 0x80], '.')],
    [
      'BINUNICODE surrogates as a pair',
      bytes('X', le4(6), [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '.'),
    ],
    ['BINUNICODE truncated surrogate', bytes('X', le4(2), [0xed, 0xa0], '.')],
    ['BINUNICODE beyond U+10FFFF', bytes('X', le4(4), [0xf4, 0x90, 0x80, 0x80], '.')],
    ['BINUNICODE 4-byte truncated', bytes('X', le4(3), [0xf0, 0x9f, 0x98], '.')],
    ['BINUNICODE 4-byte bad third', bytes('X', le4(4), [0xf0, 0x9f, 0x28, 0x80], '.')],
    [
      'SHORT_BINUNICODE printable and not',
      bytes([0x80, 4, 0x8c, 9], 'a', [0xc3, 0xa9, 0xe2, 0x80, 0x8b, 0xf0, 0x9f, 0x98, 0x80], '.'),
    ],
    ['SHORT_BINSTRING latin-1', bytes('U', [3], 'a', [0xe9, 0xa0], '.')],
    ['BINSTRING negative length', bytes('T', le4(-5), '.')],
    ['BINSTRING too long', bytes('T', le4(100), 'abc.')],
    ['BINBYTES too long', bytes([0x80, 3], 'B', le4(100), 'abc.')],
    ['BINBYTES8 past maxsize', bytes([0x80, 4, 0x8e], le8(2n ** 63n), '.')],
    ['BINBYTES8 huge', bytes([0x80, 4, 0x8e], le8(2n ** 60n), 'ab.')],
    ['BINUNICODE8 too long', bytes([0x80, 4, 0x8d], le8(10n), 'ab.')],
    ['BYTEARRAY8', bytes([0x80, 5, 0x96], le8(3n), [0, 0x27, 0x22], '.')],
    ['BYTEARRAY8 too long', bytes([0x80, 5, 0x96], le8(300n), 'x.')],
    ['LONG1 truncated', bytes([0x80, 2, 0x8a, 5, 1, 2], '.')],
    ['LONG4 negative length', bytes([0x80, 2, 0x8b], le4(-1), '.')],
    [
      'LONG4 over the digit limit',
      bytes([0x80, 2, 0x8b], le4(2000), new Uint8Array(2000).fill(0x7f), '.'),
    ],
    [
      'LONG4 just under the digit limit',
      bytes([0x80, 2, 0x8b], le4(1780), new Uint8Array(1780).fill(0x11), '.'),
    ],
    ['FRAME truncated', bytes([0x80, 4, 0x95, 1, 2])],
    ['BININT truncated', bytes('J', [1, 2])],
    ['BINFLOAT truncated', bytes('G', [1, 2, 3])],
    ['BINFLOAT value', bytes('G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], '.')],
    ['BININT2 truncated', bytes('M', [1])],
    ['BININT1 truncated', bytes('K')],
    ['PROTO 6', bytes([0x80, 6], 'N.')],
    // opcodes and the end of the data
    ['empty', bytes()],
    ['no STOP', bytes('K', [1])],
    ['unknown opcode 0xff', bytes('K', [1], [0xff])],
    ['unknown opcode quote', bytes("K\x01'")],
    ['unknown opcode backslash', bytes('K\x01\\')],
    ['unknown opcode newline', bytes('K\x01\n')],
    // stack and marks
    ['POP on an empty stack', bytes('0.')],
    ['APPEND on an empty stack', bytes('a.')],
    ['TUPLE without MARK', bytes('K', [1], 't.')],
    ['POP_MARK without MARK', bytes('1.')],
    ['POP pops a MARK', bytes('(0N.')],
    ['POP pops a MARK with nothing under it', bytes('(0.')],
    ['DUP after MARK', bytes('K', [1], '(2K', [2], 't.')],
    ['stack not empty after STOP', bytes('NN.')],
    ['MARK open at STOP', bytes('(N.')],
    ['STOP on an empty stack', bytes('.')],
    ['nested marks', bytes('((K', [1], 'tK', [2], 'l.')],
    ['SETITEMS odd', bytes('}(K', [1], 'u.')],
    // memo
    ['PUT 01 is True', bytes('Np01\ng1\n0g01\n.')],
    ['GET before PUT', bytes('g7\n.')],
    ['BINGET missing', bytes('Nh', [3], '.')],
    ['LONG_BINGET missing', bytes('Nj', le4(300), '.')],
    ['PUT twice', bytes('Np1\np1\n.')],
    ['PUT on an empty stack', bytes('p1\nN.')],
    ['PUT of a MARK', bytes('(p1\nl.')],
    ['BINPUT twice', bytes('Nq', [5], 'q', [5], '.')],
    ['MEMOIZE after PUT 0', bytes([0x80, 4], 'Np0\n', [0x94], '.')],
    ['MEMOIZE on an empty stack', bytes([0x80, 4, 0x94], 'N.')],
    ['MEMOIZE of a MARK', bytes([0x80, 4], '(', [0x94], 'l.')],
    [
      'PUT huge key',
      bytes('Np123456789012345678901234567890\ng123456789012345678901234567890\n0.'),
    ],
    ['PUT negative key', bytes('Np-1\ng-1\n0.')],
    // globals and persistent IDs
    ['PERSID escapes', bytes('P\\x41b\\n\n.')],
    ['PERSID non-ASCII', bytes('Pcaf', [0xe9], '\n.')],
    ['GLOBAL non-ASCII module', bytes('cmod', [0xc3, 0xa9], '\nname\n.')],
    ['GLOBAL escapes', bytes('cm\\x41\nn\\\\x\n.')],
    ['GLOBAL one line only', bytes('cmodule\n')],
    ['INST', bytes('(imod\nCls\n.')],
    ['STACK_GLOBAL', bytes([0x80, 4, 0x8c, 1], 'm', [0x8c, 1], 'n', [0x93], '.')],
    ['EXT codes', bytes([0x80, 2, 0x82, 1, 0x83, 1, 2, 0x84], le4(123456), '...')],
  ];
}

/** A small seeded PRNG (mulberry32), so mutations are the same on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every proper prefix of `data` (the truncations). */
export function truncations(data: Uint8Array): Uint8Array[] {
  return Array.from({ length: data.length }, (_, n) => data.subarray(0, n));
}

/** `count` copies of pickles from `sources`, each with 1 to 3 bytes changed. */
export function mutations(
  sources: readonly Uint8Array[],
  count: number,
  seed: number,
): Uint8Array[] {
  const next = random(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const src = sources[Math.floor(next() * sources.length)]!;
    if (src.length === 0) continue;
    const copy = src.slice();
    const changes = 1 + Math.floor(next() * 3);
    for (let k = 0; k < changes; k++) {
      copy[Math.floor(next() * copy.length)] = Math.floor(next() * 256);
    }
    out.push(copy);
  }
  return out;
}
