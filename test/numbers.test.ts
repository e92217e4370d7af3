/**
 * Numbers, byte for byte with CPython: ints at every boundary of the opcode choice (BININT1,
 * BININT2, BININT, LONG1, LONG4, and INT/LONG lines in protocols 0-1), number and bigint inputs
 * giving the same bytes, and floats as BINFLOAT and as protocol 0 FLOAT lines in Python's repr
 * layout, over thousands of doubles from a seeded PRNG.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PicklingError, UnpicklingError, dumps, loads } from './helpers/pickle.js';
import { genops } from '../src/tools/genops.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A small seeded PRNG (mulberry32): the same numbers on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

async function pyList(code: string, data?: Uint8Array): Promise<unknown[]> {
  const r = await py.eval(code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  return fromTagged(r.tagged!) as unknown[];
}

/** CPython's pickles of the ints (given as decimal text) at `protocol`. */
async function pyIntPickles(ints: bigint[], protocol: number): Promise<Uint8Array[]> {
  // Hex text: int(s, 16) has no digit limit. Protocols 0 and 1 write huge ints as decimal
  // LONG lines, which CPython 3.11+ refuses past sys.get_int_max_str_digits() unless lifted.
  const json = new Uint8Array(Buffer.from(JSON.stringify(ints.map((v) => v.toString(16)))));
  return (await pyList(
    'import json, sys\n' +
      "limit = sys.get_int_max_str_digits() if hasattr(sys, 'get_int_max_str_digits') else None\n" +
      'if limit is not None: sys.set_int_max_str_digits(0)\n' +
      'try:\n' +
      `    result = [pickle.dumps(int(s, 16), ${protocol}) for s in json.loads(data)]\n` +
      'finally:\n' +
      '    if limit is not None: sys.set_int_max_str_digits(limit)',
    json,
  )) as Uint8Array[];
}

/** CPython's pickles of the doubles (sent as their exact big-endian bits) at `protocol`. */
async function pyFloatPickles(xs: number[], protocol: number): Promise<Uint8Array[]> {
  const bits = new Uint8Array(xs.length * 8);
  const view = new DataView(bits.buffer);
  xs.forEach((x, i) => view.setFloat64(i * 8, x, false));
  return (await pyList(
    `import struct\nxs = struct.unpack('>%dd' % (len(data) // 8), data)\n` +
      `result = [pickle.dumps(x, ${protocol}) for x in xs]`,
    bits,
  )) as Uint8Array[];
}

const showInt = (v: bigint): string => {
  const s = String(v);
  return s.length > 30 ? `${s.slice(0, 12)}…(${s.length} digits)` : s;
};

function sameNumber(a: unknown, b: number): boolean {
  return typeof a === 'number' && (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)));
}

/** Ints at and around every byte-length boundary of the two's-complement encoding. */
function boundaryInts(): bigint[] {
  const out = new Set<bigint>([
    0n,
    1n,
    -1n,
    2n ** 53n,
    -(2n ** 53n),
    10n ** 1000n,
    -(10n ** 1000n),
  ]);
  for (const b of [0xffn, 0x100n, 0xffffn, 0x10000n, 2n ** 31n, 2n ** 32n]) {
    for (const d of [-1n, 0n, 1n]) {
      out.add(b + d);
      out.add(-(b + d));
    }
  }
  for (let bytes = 1; bytes <= 260; bytes += bytes < 12 ? 1 : bytes < 250 ? 61 : 1) {
    const top = 2n ** BigInt(8 * bytes - 1);
    for (const v of [top - 1n, top, -top, -top - 1n]) out.add(v);
  }
  // 255 bytes is the last LONG1 size; 256 the first LONG4 one.
  for (const v of [2n ** 2039n - 1n, 2n ** 2039n, -(2n ** 2039n), -(2n ** 2039n) - 1n]) out.add(v);
  out.add(-(2n ** 100000n) + 12345n);
  out.add(2n ** 100000n);
  return [...out];
}

describe('numbers: ints', () => {
  test('ints at every opcode boundary: byte-identical with CPython at every protocol', async (t) => {
    if (!needPython(t)) return;
    const ints = boundaryInts();
    const failures: string[] = [];
    // The Python side lifts its 4300-digit limit for protocols 0-1 (see pyIntPickles): so does
    // this side.
    const limits = { maxIntDigits: Infinity };
    for (const p of PROTOCOLS) {
      const want = await pyIntPickles(ints, p);
      ints.forEach((v, i) => {
        const got = dumps(v, { protocol: p, maxIntDigits: Infinity });
        if (hex(got) !== hex(want[i]!)) failures.push(`dumps ${showInt(v)} @${p}`);
        const back = loads(want[i]!, { exact: true, limits });
        if (back !== v) failures.push(`loads ${showInt(v)} @${p}: ${String(back).slice(0, 20)}`);
        const narrow = loads(want[i]!, { limits });
        const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
        if (narrow !== (safe ? Number(v) : v)) failures.push(`default loads ${showInt(v)} @${p}`);
      });
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);
  });

  test('the opcode chosen for each size is the one pickletools names', async (t) => {
    if (!needPython(t)) return;
    const cases: Array<[bigint, number, string]> = [
      [0n, 2, 'BININT1'],
      [255n, 2, 'BININT1'],
      [256n, 2, 'BININT2'],
      [65535n, 2, 'BININT2'],
      [65536n, 2, 'BININT'],
      [-1n, 2, 'BININT'],
      [2n ** 31n - 1n, 2, 'BININT'],
      [-(2n ** 31n), 2, 'BININT'],
      [2n ** 31n, 2, 'LONG1'],
      [-(2n ** 31n) - 1n, 2, 'LONG1'],
      [2n ** 2039n - 1n, 2, 'LONG1'],
      [-(2n ** 2039n), 2, 'LONG1'],
      [2n ** 2039n, 2, 'LONG4'],
      [-(2n ** 2039n) - 1n, 2, 'LONG4'],
      [2n ** 31n - 1n, 0, 'INT'],
      [2n ** 31n, 0, 'LONG'],
      [2n ** 31n, 1, 'LONG'],
      [-(2n ** 31n), 1, 'BININT'],
    ];
    for (const [v, p, op] of cases) {
      const data = dumps(v, { protocol: p });
      const ops = [...genops(data)].map((o) => o.opcode.name).filter((n) => n !== 'PROTO');
      assert.equal(ops[0], op, `${showInt(v)} @${p}`);
      const pyOps = await pyList(
        'import pickletools\nresult = [op.name for op, _, _ in pickletools.genops(data)]',
        data,
      );
      assert.deepEqual(
        pyOps.filter((n) => n !== 'PROTO'),
        ops,
        `${showInt(v)} @${p}`,
      );
    }
  });

  test('a safe-integer number and the same bigint give identical bytes', async (t) => {
    if (!needPython(t)) return;
    const next = prng(7);
    const values: number[] = [
      0,
      1,
      -1,
      255,
      256,
      65535,
      65536,
      2 ** 31 - 1,
      2 ** 31,
      -(2 ** 31),
      -(2 ** 31) - 1,
      2 ** 32,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    for (let i = 0; i < 500; i++) {
      const bits = next() % 54;
      const v = Math.floor((next() / 2 ** 32) * 2 ** bits);
      values.push(i % 2 && v !== 0 ? -v : v);
    }
    const failures: string[] = [];
    for (const p of PROTOCOLS) {
      const want = await pyIntPickles(
        values.map((v) => BigInt(v)),
        p,
      );
      values.forEach((v, i) => {
        const a = dumps(v, { protocol: p });
        const b = dumps(BigInt(v), { protocol: p });
        if (hex(a) !== hex(b) || hex(a) !== hex(want[i]!)) failures.push(`${v} @${p}`);
      });
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);
  });

  test('random bigints of up to 300 bytes, both signs, both directions', async (t) => {
    if (!needPython(t)) return;
    const next = prng(42);
    const ints: bigint[] = [];
    for (let i = 0; i < 1000; i++) {
      const words = 1 + (next() % 75);
      let v = 0n;
      for (let w = 0; w < words; w++) v = (v << 32n) | BigInt(next());
      v >>= BigInt(next() % 32);
      ints.push(next() % 2 ? -v : v);
    }
    const failures: string[] = [];
    for (const p of PROTOCOLS) {
      const want = await pyIntPickles(ints, p);
      ints.forEach((v, i) => {
        if (hex(dumps(v, { protocol: p })) !== hex(want[i]!))
          failures.push(`dumps ${showInt(v)} @${p}`);
        if (loads(want[i]!, { exact: true }) !== v) failures.push(`loads ${showInt(v)} @${p}`);
      });
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);
  });

  test('an int of more than 4300 digits at protocols 0-1: the LONG line CPython writes with its digit limit lifted', async (t) => {
    if (!needPython(t)) return;
    const v = 7n ** 6000n; // 5071 digits
    for (const p of [0, 1]) {
      // By default, as CPython 3.11+: a PicklingError (CPython: ValueError, "Exceeds the limit").
      const refused = await py.eval(`result = None\npickle.dumps(7 ** 6000, ${p})`);
      assert.equal(refused.error?.type, 'ValueError', 'CPython refuses to write it');
      assert.throws(
        () => dumps(v, { protocol: p }),
        (e: unknown) => e instanceof PicklingError && /4300 digits/.test(e.message),
      );
      assert.equal(dumps(10n ** 4299n, { protocol: p }).length > 4300, true); // 4300 digits: fine
      const data = dumps(v, { protocol: p, maxIntDigits: Infinity });
      const [want] = await pyIntPickles([v], p);
      assert.equal(hex(data), hex(want!));
      // CPython (3.11+) by default refuses to read such a line (the conversion is quadratic), and
      // so does pickle-ts, unless the limit is lifted.
      assert.throws(
        () => loads(data),
        (e: unknown) => e instanceof UnpicklingError && e.code === 'LIMIT_EXCEEDED',
      );
      assert.equal(loads(data, { limits: { maxIntDigits: Infinity } }), v);
      const r = await py.eval(
        "import sys\nresult = 'no digit limit'\n" +
          "if hasattr(sys, 'get_int_max_str_digits'):\n    pickle.loads(data)",
        data,
      );
      if (r.error) assert.equal(r.error.type, 'ValueError', r.error.message);
      else assert.deepEqual(r.tagged, { t: 'str', v: 'no digit limit' });
    }
  });

  test('a number that is not a safe integer is a float (2**53 pickles as 2.0**53)', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      for (const [v, expr] of [
        [2 ** 53, '2.0**53'],
        [-(2 ** 53), '-2.0**53'],
        [1e20, '1e20'],
      ] as const) {
        assert.equal(
          hex(dumps(v, { protocol: p })),
          hex(await py.bytes(`result = pickle.dumps(${expr}, ${p})`)),
          `${v} @${p}`,
        );
      }
    }
  });
});

/** Doubles from random bit patterns (every exponent), without NaN payloads. */
function randomDoubles(seed: number, n: number): number[] {
  const next = prng(seed);
  const view = new DataView(new ArrayBuffer(8));
  const out: number[] = [];
  while (out.length < n) {
    view.setUint32(0, next());
    view.setUint32(4, next());
    const x = view.getFloat64(0);
    if (!Number.isNaN(x)) out.push(x);
  }
  return out;
}

/** Doubles near the repr layout switches: k * 10**e, around 1e16 and 1e-4, and integers. */
function decimalDoubles(seed: number, n: number): number[] {
  const next = prng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const digits = 1 + (next() % 17);
    const k = Math.floor((next() / 2 ** 32) * 10 ** digits);
    const e = -25 + (next() % 45);
    const x = Number(`${k}e${e}`);
    out.push(i % 3 === 0 ? -x : x);
  }
  return out;
}

const SPECIAL_FLOATS = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1e16,
  1e-5,
  1e-4,
  0.0001,
  1e15,
  1000000000000000,
  9999999999999998,
  1e17,
  1e22,
  1e-7,
  0.1,
  0.5,
  1 / 3,
  2 / 3,
  5e-324,
  2.2250738585072014e-308,
  1.7976931348623157e308,
  1.2345678901234568e20,
  1.2345678901234568e-5,
  0.00012345,
  12345678901234568,
  2 ** 53,
  2 ** 63,
  -1.5,
  3,
  100,
  1e100,
  1e-100,
  4.35,
  0.3,
  1.1,
  2.675,
  1e21,
  1e-6,
];

describe('numbers: floats', () => {
  test("protocol 0 FLOAT lines use Python's repr layout", async (t) => {
    if (!needPython(t)) return;
    const want = await pyFloatPickles(SPECIAL_FLOATS, 0);
    const reprs = await pyList(
      'import struct\nresult = [repr(x) for x in struct.unpack(">%dd" % (len(data) // 8), data)]',
      (() => {
        const b = new Uint8Array(SPECIAL_FLOATS.length * 8);
        SPECIAL_FLOATS.forEach((x, i) => new DataView(b.buffer).setFloat64(i * 8, x));
        return b;
      })(),
    );
    SPECIAL_FLOATS.forEach((x, i) => {
      const got = dumps(x, { protocol: 0, exact: true });
      assert.equal(hex(got), hex(want[i]!), `${x}`);
      const op = [...genops(got)][0]!;
      assert.equal(op.opcode.name, 'FLOAT');
      // The line is F + repr(x) + newline.
      assert.equal(Buffer.from(got.subarray(1, got.indexOf(0x0a))).toString('latin1'), reprs[i]);
    });
    // Spot checks of the layout itself, as CPython writes it.
    assert.deepEqual(reprs.slice(0, 11), [
      '0.0',
      '-0.0',
      'nan',
      'inf',
      '-inf',
      '1e+16',
      '1e-05',
      '0.0001',
      '0.0001',
      '1000000000000000.0',
      '1000000000000000.0',
    ]);
  });

  for (const [name, xs] of [
    ['special values', SPECIAL_FLOATS],
    ['4,000 doubles from random bits', randomDoubles(1, 4000)],
    ['3,000 decimal-looking doubles', decimalDoubles(2, 3000)],
  ] as const) {
    test(`${name}: BINFLOAT and FLOAT byte-identical with CPython, both directions`, async (t) => {
      if (!needPython(t)) return;
      const failures: string[] = [];
      for (const p of PROTOCOLS) {
        const want = await pyFloatPickles([...xs], p);
        xs.forEach((x, i) => {
          const got = dumps(x, { protocol: p, exact: true });
          if (hex(got) !== hex(want[i]!)) {
            failures.push(`dumps ${x} @${p}: got ${hex(got)} want ${hex(want[i]!)}`);
          }
          // Default mode writes the same unless the double is a safe integer (then an int).
          if (!Number.isSafeInteger(x) || Object.is(x, -0)) {
            if (hex(dumps(x, { protocol: p })) !== hex(want[i]!)) {
              failures.push(`default-mode dumps ${x} @${p}`);
            }
          }
          let back: unknown;
          try {
            back = loads(want[i]!, { exact: true });
          } catch (e) {
            back = e;
          }
          if (!sameNumber(back, x)) failures.push(`loads ${x} @${p}: ${String(back)}`);
        });
      }
      assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);
    });
  }

  test('FLOAT lines CPython reads that it does not write', async (t) => {
    if (!needPython(t)) return;
    for (const line of [
      '1',
      '-0',
      '1E5',
      '.5',
      '5.',
      '+3.25',
      'Infinity',
      '-inf',
      'NaN',
      '1_0',
      ' 2',
      '0x10',
      '1e400',
      '',
    ]) {
      const data = new Uint8Array(Buffer.from(`F${line}\n.`, 'latin1'));
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
          `F${line}: CPython refused (${r.error.message}), pickle-ts gave ${String(ours)}`,
        );
      } else {
        const theirs = fromTagged(r.tagged!) as number;
        assert.ok(sameNumber(ours, theirs), `F${line}: ${String(ours)} vs CPython ${theirs}`);
      }
    }
  });
});
