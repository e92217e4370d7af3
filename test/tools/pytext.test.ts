/**
 * The text conversions `dis` and `optimize` apply to arguments, fuzzed against CPython: UTF-8
 * with surrogatepass, raw-unicode-escape, `int(bytes)` and `float(bytes)`, values and error
 * messages alike.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { py, needPython } from '../helpers/python.js';
import {
  PyValueError,
  pyDecodeRawUnicodeEscape,
  pyDecodeUtf8,
  pyFloatFromBytes,
  pyIntFromBytes,
  reprFloat,
} from '../../src/tools/pytext.js';
import { random } from './malformed.js';

type Kind = 'utf8' | 'rawunicode' | 'int' | 'float';

async function pyMany(kind: Kind, cases: Uint8Array[]) {
  const hex = cases.map((c) => Buffer.from(c).toString('hex'));
  const r = await py.eval(
    `import tools_oracle as t\nresult = t.text_many(${JSON.stringify(kind)}, ${JSON.stringify(hex)})`,
  );
  if (r.error) throw new Error(r.error.message);
  return JSON.parse((r.tagged as { v: string }).v) as Array<{ value?: unknown; error?: string }>;
}

function ours(kind: Kind, b: Uint8Array): { value?: unknown; error?: string } {
  try {
    if (kind === 'utf8') return { value: pyDecodeUtf8(b) };
    if (kind === 'rawunicode') return { value: pyDecodeRawUnicodeEscape(b) };
    if (kind === 'int') return { value: String(pyIntFromBytes(b, 0, b.length)) };
    return { value: reprFloat(pyFloatFromBytes(b, 0, b.length)) };
  } catch (e) {
    if (!(e instanceof PyValueError)) throw e;
    return { error: e.message };
  }
}

/** Random strings over an alphabet of byte sequences that matter for the codec. */
function generate(
  alphabet: ReadonlyArray<readonly number[]>,
  count: number,
  seed: number,
): Uint8Array[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const parts: number[] = [];
    const n = Math.floor(next() * 7);
    for (let i = 0; i < n; i++) parts.push(...alphabet[Math.floor(next() * alphabet.length)]!);
    return new Uint8Array(parts);
  });
}

const bytesOf = (s: string) => [...s].map((c) => c.charCodeAt(0));

const ALPHABETS: Record<Kind, ReadonlyArray<readonly number[]>> = {
  utf8: [
    [0x61],
    [0x80],
    [0xbf],
    [0xc0],
    [0xc2],
    [0xc3, 0xa9],
    [0xdf],
    [0xe0],
    [0xe0, 0xa0],
    [0xe0, 0x80],
    [0xe2, 0x82, 0xac],
    [0xe2, 0x82],
    [0xed],
    [0xed, 0xa0],
    [0xed, 0xa0, 0x80],
    [0xed, 0xbf, 0xbf],
    [0xed, 0x9f, 0xbf],
    [0xef, 0xbf, 0xbf],
    [0xf0],
    [0xf0, 0x90],
    [0xf0, 0x8f],
    [0xf0, 0x9f, 0x98, 0x80],
    [0xf0, 0x9f, 0x98],
    [0xf4, 0x8f, 0xbf, 0xbf],
    [0xf4, 0x90],
    [0xf5],
    [0xff],
    [0x28],
  ],
  rawunicode: [
    bytesOf('a'),
    bytesOf('\\'),
    bytesOf('\\u'),
    bytesOf('\\U'),
    bytesOf('0'),
    bytesOf('00'),
    bytesOf('d8'),
    bytesOf('dc00'),
    bytesOf('ffff'),
    bytesOf('0011'),
    bytesOf('0010'),
    bytesOf('g'),
    bytesOf('\\x41'),
    [0xe9],
    bytesOf('F'),
  ],
  int: [
    bytesOf('1'),
    bytesOf('0'),
    bytesOf('9'),
    bytesOf('_'),
    bytesOf('-'),
    bytesOf('+'),
    bytesOf(' '),
    bytesOf('\t'),
    bytesOf('\n'),
    bytesOf('x'),
    bytesOf('L'),
    [0],
    [0xe9],
    bytesOf('12'),
    bytesOf('0x'),
  ],
  float: [
    bytesOf('1'),
    bytesOf('0'),
    bytesOf('.'),
    bytesOf('e'),
    bytesOf('E'),
    bytesOf('-'),
    bytesOf('+'),
    bytesOf('_'),
    bytesOf(' '),
    bytesOf('inf'),
    bytesOf('nan'),
    bytesOf('Infinity'),
    bytesOf('5'),
    bytesOf('x'),
    bytesOf('e9'),
    bytesOf('99'),
    [0],
  ],
};

for (const kind of Object.keys(ALPHABETS) as Kind[]) {
  test(`${kind}: the same values and errors as CPython on 3000 generated inputs`, async (t) => {
    if (!needPython(t)) return;
    const cases = generate(ALPHABETS[kind], 3000, kind.length * 7919);
    const expected = await pyMany(kind, cases);
    let errors = 0;
    cases.forEach((c, i) => {
      const want = expected[i]!;
      if (want.error) errors++;
      assert.deepEqual(ours(kind, c), want, `${kind} of ${Buffer.from(c).toString('hex')}`);
    });
    // Both outcomes are well represented.
    assert.ok(errors > 100 && errors < 2900, `${errors} errors`);
  });
}
