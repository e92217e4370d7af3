/**
 * The decode loop's fast path for list batches (src/core/runs.ts): lists of many atoms load as
 * CPython builds them, with no holes, whatever interrupts a batch (a nested container, a GET of
 * the list itself, a bad string, truncation, stream chunk boundaries, a limit), at every
 * protocol. The pickles are CPython's, and so are the expected values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ErrorCode,
  StreamUnpickler,
  Unpickler,
  UnpicklingError,
  dumps,
  loads,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged } from './helpers/tagged.js';
import { assertSameValue } from './helpers/equal.js';
import { genops } from '../src/tools/genops.js';

/** Python code that builds `value`; the test gets its pickles and its value. */
const LISTS: Record<string, string> = {
  ints: 'value = list(range(-70000, 70000, 7))',
  'small ints': 'value = [i % 256 for i in range(5000)]',
  floats: 'value = [i * 0.37 - 100 for i in range(5000)]',
  strings: "value = ['s%d' % i if i % 10 else 'ü%d€' % i for i in range(5000)]",
  'shared strings': "a, b = 'alpha', 'beta'\nvalue = [a if i % 3 else b for i in range(5000)]",
  atoms: "value = [[None, True, False, 1, 2.5, 'x', 70000][i % 7] for i in range(5000)]",
  'nested in a later batch':
    'value = list(range(2500)) + [[1, 2], (3, 4), {"k": 5}] + list(range(2500))',
  'itself in a later batch': 'value = list(range(3000))\nvalue.append(value)\nvalue += range(2000)',
  'a long string in a later batch': "value = list(range(1500)) + ['x' * 300] + list(range(1500))",
  'mixed kinds': "value = list(range(1200)) + [0.5] * 1200 + ['s'] * 1200 + list(range(1200))",
  'lists of lists': 'value = [list(range(i % 1500)) for i in range(40)]',
};

/** Every index holds a value: a presized list must not keep a hole. */
function assertNoHoles(v: unknown): void {
  if (!Array.isArray(v)) return;
  assert.equal(Object.keys(v).length, v.length, 'the list has holes');
  for (const x of v) if (x !== v) assertNoHoles(x);
}

async function pickles(code: string): Promise<{ value: unknown; pickles: Uint8Array[] }> {
  const r = await py.eval(`${code}\nresult = value`);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  const out: Uint8Array[] = [];
  for (let protocol = 0; protocol <= 5; protocol++) {
    out.push(await py.bytes(`${code}\nresult = pickle.dumps(value, ${protocol})`));
  }
  return { value: fromTagged(r.tagged!), pickles: out };
}

function* chunked(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.slice(i, i + size);
}

describe('list batches', () => {
  for (const [name, code] of Object.entries(LISTS)) {
    test(`${name}: protocols 0-5, whole and streamed`, async (t) => {
      if (!needPython(t)) return;
      const { value, pickles: ps } = await pickles(code);
      for (const [protocol, data] of ps.entries()) {
        const got = loads(data);
        assertSameValue(got, value);
        assertNoHoles(got);
        // Loading twice from one Unpickler: the memo carries over (a GET in the second pickle
        // can fetch the first one's list, as in CPython), and nothing is left presized.
        const twice = new Uint8Array([...data, ...data]);
        const u = new Unpickler(twice);
        const both = await py.eval(
          'import io\nu = pickle.Unpickler(io.BytesIO(data))\nresult = [u.load(), u.load()]',
          twice,
        );
        assertSameValue([u.load(), u.load()], fromTagged(both.tagged!));
        if (protocol >= 4) {
          for (const size of [1, 7, 4096]) {
            const s = new StreamUnpickler(chunked(data, size));
            const streamed = await s.load();
            assertSameValue(streamed, value);
            assertNoHoles(streamed);
          }
        }
      }
    });
  }

  test('truncated anywhere: TRUNCATED, where CPython fails too', async (t) => {
    if (!needPython(t)) return;
    const { pickles: ps } = await pickles(LISTS.floats!);
    const data = ps[4]!;
    for (let cut = 1; cut < data.length; cut += 613) {
      const part = data.subarray(0, cut);
      assert.throws(
        () => loads(part),
        (e: unknown) => e instanceof UnpicklingError && e.code === ErrorCode.TRUNCATED,
      );
      const r = await py.load(part);
      assert.ok(r.error, `CPython loads a pickle cut at ${cut}`);
    }
  });

  test('a bad string in a later batch fails at its opcode, as CPython fails', async (t) => {
    if (!needPython(t)) return;
    const { pickles: ps } = await pickles(LISTS.strings!);
    const data = ps[4]!.slice();
    // The 3000th string's first byte becomes an invalid UTF-8 start byte.
    const strings = [...genops(data)].filter((o) => o.opcode.name === 'SHORT_BINUNICODE');
    const op = strings[3000]!;
    data[op.pos + 2] = 0xff;
    let error: unknown;
    try {
      loads(data);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof UnpicklingError);
    assert.equal(error.code, ErrorCode.BAD_ENCODING);
    assert.equal(error.offset, op.pos);
    const r = await py.load(data);
    assert.equal(r.error?.type, 'UnicodeDecodeError');
  });

  test('limits hold inside a batch run', async (t) => {
    if (!needPython(t)) return;
    const { pickles: ps } = await pickles(LISTS.ints!);
    const data = ps[4]!;
    assert.throws(
      () => loads(data, { limits: { maxItems: 15000 } }),
      (e: unknown) =>
        e instanceof UnpicklingError &&
        e.code === ErrorCode.LIMIT_EXCEEDED &&
        /maxItems/.test(e.message),
    );
    assert.throws(
      () => loads(data, { limits: { maxHeapBytes: 100_000 } }),
      (e: unknown) =>
        e instanceof UnpicklingError &&
        e.code === ErrorCode.LIMIT_EXCEEDED &&
        /maxHeapBytes/.test(e.message),
    );
    assert.equal((loads(data, { limits: { maxItems: 20000 } }) as unknown[]).length, 20000);
  });

  test('exact mode: ints of a batch are bigints', async (t) => {
    if (!needPython(t)) return;
    const { value, pickles: ps } = await pickles(LISTS.atoms!);
    const got = loads(ps[4]!, { exact: true }) as unknown[];
    const expected = (value as unknown[]).map((v) =>
      typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v,
    );
    assertSameValue(got, expected);
  });

  test("pickle-ts's own pickles of big lists load back", () => {
    const value = Array.from({ length: 30000 }, (_, i) =>
      i % 3 === 0 ? i : i % 3 === 1 ? i + 0.5 : `s${i}`,
    );
    for (let protocol = 1; protocol <= 5; protocol++) {
      assertSameValue(loads(dumps(value, { protocol })), value);
    }
  });
});

/** Bytes of a hand-made pickle: strings are latin1 text, numbers bytes. */
function bytesOf(...parts: Array<string | number>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const ch of p) out.push(ch.charCodeAt(0));
  }
  return new Uint8Array(out);
}

/** A SETITEMS batch of `n` string keys k0.. with int values. */
function pairs(n: number): string {
  let s = '(';
  for (let i = 0; i < n; i++)
    s += `\x8c\x02k${String.fromCharCode(0x61 + i)}K${String.fromCharCode(i)}`;
  return `${s}u`;
}

// A new list or dict whose first batch may replace it (exact-size list, dict from a template)
// must not be replaced once anything else holds it: a second memo slot, a GET, a DUP.
const FRESH: Record<string, Uint8Array> = {
  'a list memoized twice': bytesOf('\x80\x02]q\x00(]q\x01q\x02(K\x01K\x02eh\x01h\x02e.'),
  'a list fetched by GET before its items': bytesOf('\x80\x04]\x94h\x00(K\x01K\x02e\x86.'),
  'a list DUPed before its items': bytesOf('\x80\x02]2(K\x01K\x02e\x86.'),
  'a list in a sparse memo slot': bytesOf('\x80\x02]q\x05(K\x01K\x02eh\x05\x86.'),
  'a list that holds itself': bytesOf('\x80\x04]\x94(h\x00K\x01e.'),
  'a list APPENDed one item at a time': bytesOf('\x80\x02]q\x00K\x01aK\x02ah\x00\x86.'),
  'a dict of 20 keys memoized twice': bytesOf(`\x80\x04](}\x94q\x01${pairs(20)}h\x00h\x01e.`),
  'a dict of 20 keys in a sparse memo slot': bytesOf(
    `\x80\x02](}r\x40\x42\x0f\x00${pairs(20)}j\x40\x42\x0f\x00e.`,
  ),
  'a dict of 20 keys fetched by GET before its items': bytesOf(
    `\x80\x04}\x94h\x00${pairs(20)}\x86.`,
  ),
};

describe('fresh containers', () => {
  for (const [name, data] of Object.entries(FRESH)) {
    test(`${name}: loads with the sharing CPython gives`, async (t) => {
      if (!needPython(t)) return;
      const r = await py.load(data);
      assert.equal(r.error, undefined, `CPython: ${r.error?.type}: ${r.error?.message}`);
      assertSameValue(loads(data), fromTagged(r.tagged!));
    });
  }
});
