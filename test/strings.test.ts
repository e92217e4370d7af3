/**
 * Strings, byte for byte with CPython in both directions: lone surrogates, astral characters,
 * the BOM, long multi-frame strings, the SHORT_BINUNICODE/BINUNICODE boundary with multi-byte
 * characters, and protocol 0's raw-unicode-escape UNICODE lines.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dumps, loads } from './helpers/pickle.js';
import { genops } from '../src/tools/genops.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, toTagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const escape = (s: string): string =>
  s.length > 40
    ? `${s.length} chars: ${JSON.stringify(s.slice(0, 20))}…`
    : JSON.stringify(s).replace(
        /[\u007f-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );

/** CPython's `pickle.dumps(s, protocol)` for each of `values` (sent as tagged JSON). */
async function pyDumpsEach(values: unknown[], protocol: number): Promise<Uint8Array[]> {
  const json = new Uint8Array(Buffer.from(JSON.stringify(toTagged(values))));
  const r = await py.eval(
    `import json\nvalues = from_tagged(json.loads(data))\n` +
      `result = [pickle.dumps(v, ${protocol}) for v in values]`,
    json,
  );
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  return fromTagged(r.tagged!) as Uint8Array[];
}

/** Each string dumps to CPython's bytes at every protocol, and loads back from them. */
async function checkBothWays(strings: string[]): Promise<void> {
  const failures: string[] = [];
  for (const p of PROTOCOLS) {
    const want = await pyDumpsEach(strings, p);
    strings.forEach((s, i) => {
      const got = dumps(s, { protocol: p });
      if (hex(got) !== hex(want[i]!)) {
        failures.push(
          `dumps ${escape(s)} @${p}: got ${hex(got).slice(0, 80)} want ${hex(want[i]!).slice(0, 80)}`,
        );
      }
      let back: unknown;
      try {
        back = loads(want[i]!);
      } catch (e) {
        back = e;
      }
      if (back !== s) failures.push(`loads ${escape(s)} @${p}: got ${String(back).slice(0, 60)}`);
    });
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);
}

describe('strings: byte-identical with CPython, both directions', () => {
  test('lone surrogates', async (t) => {
    if (!needPython(t)) return;
    await checkBothWays([
      '\ud800',
      '\udfff',
      'a\ud800b',
      '\udc00\ud800',
      'x\udbff',
      '\udc00' + '\u00e9'.repeat(100),
      '\ud83d'.repeat(90),
      'end\ud800',
    ]);
  });

  test('lone surrogates reach Python as lone surrogates (py.check)', async (t) => {
    if (!needPython(t)) return;
    for (const s of ['\ud800', 'a\udfffb', '\udc00\ud800']) {
      for (const p of PROTOCOLS) {
        assert.equal(await py.check(dumps(s, { protocol: p }), toTagged(s)), undefined);
      }
      const r = await py.eval(
        'result = [hex(ord(c)) for c in pickle.loads(data)]',
        dumps(s, { protocol: 4 }),
      );
      assert.deepEqual(
        fromTagged(r.tagged!),
        [...s].map((c) => `0x${c.charCodeAt(0).toString(16)}`),
      );
    }
  });

  test('two surrogates Python holds as separate code points load as the JS pair', async (t) => {
    if (!needPython(t)) return;
    // In Python '\ud83d\ude00' (two code points) is not '😀'; JS has no way to tell them apart.
    for (const p of PROTOCOLS) {
      const data = await py.bytes(`result = pickle.dumps('\\ud83d\\ude00', ${p})`);
      assert.equal(loads(data), '\ud83d\ude00', `@${p}`);
    }
  });

  test('astral characters', async (t) => {
    if (!needPython(t)) return;
    await checkBothWays([
      '😀',
      '𝄞',
      '\u{10ffff}',
      '\u{10000}',
      'a😀b𝄞c',
      '😀'.repeat(63),
      '😀'.repeat(64),
      '👩‍👩‍👧‍👦',
      '🇫🇷',
      '\u{1f600}\u00e9\u20ac\u0041',
    ]);
  });

  test('the BOM (U+FEFF) is kept, at the start, alone and inside', async (t) => {
    if (!needPython(t)) return;
    const strings = ['\ufeff', '\ufeffabc', 'a\ufeffb', '\ufeff\ufeff', '\ufeff'.repeat(100)];
    await checkBothWays(strings);
    for (const s of strings) {
      for (const p of PROTOCOLS) {
        const v = loads(dumps(s, { protocol: p })) as string;
        assert.equal(v.length, s.length, `@${p}`);
        assert.equal(v.charCodeAt(0), s.charCodeAt(0));
      }
    }
  });

  test('control characters, backslashes and newlines', async (t) => {
    if (!needPython(t)) return;
    await checkBothWays([
      '',
      '\n',
      '\r\n',
      '\\',
      '\\u0041',
      '\\U0001f600',
      'a\\nb',
      '\0',
      '\x1a',
      'tab\there',
      '\x7f\x80\x9f\xa0\xff',
      String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i)),
    ]);
  });

  test('every Latin-1 character and a sample of the BMP, one string each', async (t) => {
    if (!needPython(t)) return;
    const strings: string[] = [];
    for (let c = 0; c < 0x100; c++) strings.push(String.fromCharCode(c));
    for (let c = 0x100; c < 0x10000; c += 97) strings.push(`x${String.fromCharCode(c)}y`);
    await checkBothWays(strings);
  });

  test('one string holding every BMP code point except surrogates', async (t) => {
    if (!needPython(t)) return;
    let s = '';
    for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) s += String.fromCharCode(c);
    await checkBothWays([s]);
  });
});

describe('strings: long strings and size boundaries', () => {
  test('70,000-char strings (several frames at protocols 4 and 5)', async (t) => {
    if (!needPython(t)) return;
    await checkBothWays([
      'a'.repeat(70000),
      'é'.repeat(70000),
      '€'.repeat(70000),
      '😀'.repeat(35000),
      'ab\ud800'.repeat(23334),
      Array.from({ length: 70000 }, (_, i) => String.fromCharCode(0x20 + (i % 0x3000))).join(''),
    ]);
  });

  test('strings around 64 KiB of UTF-8', async (t) => {
    if (!needPython(t)) return;
    const strings: string[] = [];
    for (const n of [21845, 21846, 21847]) strings.push('€'.repeat(n));
    for (const n of [65535, 65536, 65537]) strings.push('a'.repeat(n));
    for (const n of [32767, 32768]) strings.push('é'.repeat(n));
    await checkBothWays(strings);
  });

  test('85/86 three-byte chars: 255 and 256 UTF-8 bytes (SHORT_BINUNICODE / BINUNICODE)', async (t) => {
    if (!needPython(t)) return;
    const cases: Array<[string, number, string]> = [
      ['€'.repeat(85), 255, 'SHORT_BINUNICODE'],
      ['€'.repeat(86), 258, 'BINUNICODE'],
      ['a' + '€'.repeat(85), 256, 'BINUNICODE'],
      ['é'.repeat(127) + 'a', 255, 'SHORT_BINUNICODE'],
      ['é'.repeat(128), 256, 'BINUNICODE'],
      ['😀'.repeat(63) + 'abc', 255, 'SHORT_BINUNICODE'],
      ['😀'.repeat(64), 256, 'BINUNICODE'],
      ['a'.repeat(255), 255, 'SHORT_BINUNICODE'],
      ['a'.repeat(256), 256, 'BINUNICODE'],
    ];
    await checkBothWays(cases.map(([s]) => s));
    for (const [s, n, op] of cases) {
      const ops = [...genops(dumps(s, { protocol: 4 }))];
      const str = ops.find((o) => o.opcode.name.includes('UNICODE'))!;
      assert.equal(str.opcode.name, op, escape(s));
      assert.equal(Buffer.byteLength(str.arg as string), n);
    }
  });

  test('every length from 0 to 300 of 1-, 2-, 3- and 4-byte characters and mixes', async (t) => {
    if (!needPython(t)) return;
    const strings: string[] = [];
    for (let n = 0; n <= 300; n++) {
      strings.push('a'.repeat(n), 'é'.repeat(n >> 1), '€'.repeat(n / 3));
      strings.push('😀'.repeat(n >> 2), 'a€'.repeat(n >> 2), 'é😀'.repeat(n / 6));
    }
    await checkBothWays([...new Set(strings)]);
  });
});

describe('strings: protocol 0 UNICODE', () => {
  test('raw-unicode-escape lines are the ones CPython writes, and they load back', async (t) => {
    if (!needPython(t)) return;
    const strings = [
      'plain',
      'a\\b',
      'line\nbreak',
      'cr\rlf',
      'nul\0',
      'sub\x1a',
      'latin\xe9\xff',
      '\u0100\u20ac',
      '\ud800',
      '😀',
      '\\u0041 is not A',
      ' spaces ',
    ];
    await checkBothWays(strings);
    for (const s of strings) {
      const ops = [...genops(dumps(s, { protocol: 0 }))];
      assert.equal(ops[0]!.opcode.name, 'UNICODE');
      assert.equal(ops[0]!.arg, s);
    }
  });

  test('UNICODE lines CPython never writes but pickle.loads reads', async (t) => {
    if (!needPython(t)) return;
    for (const line of ['\\u00e9', '\\U0001F600', 'a\\u005cb', '\\x41', 'no\\escape', '\\']) {
      const data = new Uint8Array(Buffer.from(`V${line}\n.`, 'latin1'));
      const r = await py.load(data);
      let ours: unknown;
      try {
        ours = loads(data);
      } catch (e) {
        ours = e;
      }
      if (r.error) {
        assert.ok(
          ours instanceof Error,
          `${line}: CPython refused, pickle-ts gave ${String(ours)}`,
        );
      } else {
        assert.equal(ours, fromTagged(r.tagged!), line);
      }
    }
  });
});
