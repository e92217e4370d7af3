/**
 * Protocol 5 out-of-band buffers against CPython: `pickle.PickleBuffer` with `buffer_callback`
 * and `buffers=` on the Python side, `PickleBuffer` with `bufferCallback` and `buffers` on the
 * pickle-ts side. Loading views the memory given (no copy); in-band buffers are BYTEARRAY8 and
 * bytes; every pickle is compared byte for byte with CPython's.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { genops } from '../src/tools/genops.js';
import { assertSameValue } from './helpers/equal.js';
import {
  ByteArray,
  ErrorCode,
  PickleBuffer,
  Pickler,
  PicklingError,
  UnpicklingError,
  dumps,
  loads,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, type Tagged } from './helpers/tagged.js';

const IMPORT = 'import pickle\nfrom pickle import PickleBuffer\n';
/** The Python value the tests pickle; `sample()` below is the same in JS. */
const PY_SAMPLE =
  "[PickleBuffer(bytearray(b'abc')), PickleBuffer(b'xyz'), PickleBuffer(bytearray()), b'inband', 'tail']";

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const opNames = (b: Uint8Array): string[] => [...genops(b)].map((o) => o.opcode.name);

async function pyValue(code: string, data?: Uint8Array): Promise<Tagged> {
  const r = await py.eval(IMPORT + code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}\n${code}`);
  return r.tagged!;
}

/** The JS counterpart of PY_SAMPLE, over the given memory. */
function sample(abc: Uint8Array, xyz: Uint8Array): unknown[] {
  return [
    new PickleBuffer(abc),
    new PickleBuffer(xyz, true),
    new PickleBuffer(new Uint8Array(0)),
    ascii('inband'),
    'tail',
  ];
}

/** CPython's out-of-band pickle of PY_SAMPLE and its buffers (bytes, readonly). */
async function pyOutOfBand(): Promise<{ data: Uint8Array; buffers: Uint8Array[]; ro: boolean[] }> {
  const [data, buffers, ro] = fromTagged(
    await pyValue(
      `bufs = []\ndata = pickle.dumps(${PY_SAMPLE}, protocol=5, buffer_callback=bufs.append)\n` +
        'result = (data, [b.raw().tobytes() for b in bufs], [b.raw().readonly for b in bufs])',
    ),
  ) as [Uint8Array, Uint8Array[], boolean[]];
  return { data, buffers, ro };
}

describe('protocol 5 out-of-band buffers against CPython', () => {
  test('CPython -> pickle-ts: NEXT_BUFFER gives a PickleBuffer viewing the memory passed in buffers', async (t) => {
    if (!needPython(t)) return;
    const { data, buffers, ro } = await pyOutOfBand();
    assert.deepEqual(ro, [false, true, false]);
    const ops = opNames(data);
    assert.equal(ops.filter((o) => o === 'NEXT_BUFFER').length, 3);
    assert.equal(ops.filter((o) => o === 'READONLY_BUFFER').length, 1);
    // The memory handed in: views at an offset inside larger ArrayBuffers.
    const backing = new ArrayBuffer(32);
    const abc = new Uint8Array(backing, 5, 3);
    abc.set(buffers[0]!);
    const xyz = new Uint8Array(new ArrayBuffer(8), 2, 3);
    xyz.set(buffers[1]!);
    const empty = new Uint8Array(0);
    const v = loads(data, { buffers: [abc, xyz, empty] }) as unknown[];
    assert.equal(v.length, 5);
    const [b0, b1, b2] = v as PickleBuffer[];
    for (const b of [b0, b1, b2]) assert.ok(b instanceof PickleBuffer);
    assert.equal(b0!.data, abc, 'the given view itself, not a copy');
    assert.equal(b0!.data.buffer, backing);
    assert.equal(b0!.data.byteOffset, 5);
    assert.equal(b0!.readonly, false);
    assert.equal(b1!.data.buffer, xyz.buffer, 'READONLY_BUFFER keeps the memory');
    assert.equal(b1!.data.byteOffset, 2);
    assert.equal(b1!.readonly, true);
    assert.equal(b2!.data.length, 0);
    // Mutations of the caller's memory show through the loaded buffers.
    abc[0] = 0x41;
    new Uint8Array(backing)[6] = 0x42;
    assert.deepEqual([...b0!.data], [0x41, 0x42, 0x63]);
    xyz[2] = 0x5a;
    assert.equal(b1!.data[2], 0x5a);
    assert.deepEqual(v.slice(3), [ascii('inband'), 'tail']);
  });

  test('buffers may be ArrayBuffers, DataViews, other typed arrays or PickleBuffers; extra ones are ignored', async (t) => {
    if (!needPython(t)) return;
    const { data, buffers } = await pyOutOfBand();
    const ab = new Uint8Array(buffers[0]!).buffer;
    const dv = new DataView(new Uint8Array(buffers[1]!).buffer);
    const pb = new PickleBuffer(new Uint16Array(0));
    const v = loads(data, { buffers: [ab, dv, pb, new Uint8Array(9)] }) as PickleBuffer[];
    assert.equal(v[0]!.data.buffer, ab);
    assert.equal(v[1]!.data.buffer, dv.buffer);
    assert.equal(v[1]!.readonly, true);
    assert.equal(v[2], pb, 'a PickleBuffer is used as given');
    // Python ignores the extra buffer as well.
    const r = await pyValue(
      "v = pickle.loads(data, buffers=[bytearray(b'abc'), b'xyz', bytearray(), b'extra'])\n" +
        'result = [bytes(v[0]), bytes(v[1]), memoryview(v[1]).readonly, v[3]]',
      data,
    );
    assertSameValue(fromTagged(r), [ascii('abc'), ascii('xyz'), true, ascii('inband')]);
  });

  test('pickle-ts -> CPython: bufferCallback sees each PickleBuffer; the pickle is CPython bytes; Python loads it with buffers=', async (t) => {
    if (!needPython(t)) return;
    const { data: want } = await pyOutOfBand();
    const value = sample(ascii('abc'), ascii('xyz'));
    const seen: PickleBuffer[] = [];
    const data = dumps(value, {
      protocol: 5,
      bufferCallback: (b) => {
        seen.push(b);
        return false;
      },
    });
    assert.equal(hex(data), hex(want));
    assert.deepEqual(seen, value.slice(0, 3));
    assert.equal(seen[0], value[0], 'the PickleBuffer itself');
    const r = await pyValue(
      "bufs = [bytearray(b'abc'), bytearray(b'xyz'), bytearray()]\n" +
        'v = pickle.loads(data, buffers=bufs)\n' +
        'result = [v[0] is bufs[0], type(v[0]).__name__, memoryview(v[1]).readonly,' +
        ' bytes(v[1]), bytes(v[2]), v[3], v[4]]',
      data,
    );
    assertSameValue(fromTagged(r), [
      true,
      'bytearray',
      true,
      ascii('xyz'),
      ascii(''),
      ascii('inband'),
      'tail',
    ]);
  });

  test('in-band: no callback, or a callback returning true, writes BYTEARRAY8/bytes as CPython', async (t) => {
    if (!needPython(t)) return;
    const [plain, truthy] = fromTagged(
      await pyValue(
        `result = (pickle.dumps(${PY_SAMPLE}, 5), pickle.dumps(${PY_SAMPLE}, 5, buffer_callback=lambda b: True))`,
      ),
    ) as Uint8Array[];
    assert.equal(hex(plain!), hex(truthy!));
    const called: PickleBuffer[] = [];
    const viaCallback = dumps(sample(ascii('abc'), ascii('xyz')), {
      protocol: 5,
      bufferCallback: (b) => called.push(b) > 0,
    });
    assert.equal(called.length, 3);
    for (const got of [dumps(sample(ascii('abc'), ascii('xyz')), { protocol: 5 }), viaCallback]) {
      assert.equal(hex(got), hex(plain!));
      assert.ok(opNames(got).includes('BYTEARRAY8') && !opNames(got).includes('NEXT_BUFFER'));
      // What Python loads from the in-band pickle, pickle-ts loads too: bytearray and bytes.
      const pyLoaded = fromTagged(await pyValue('result = pickle.loads(data)', got));
      const v = loads(got);
      assertSameValue(v, pyLoaded);
      assert.ok((v as unknown[])[0] instanceof ByteArray);
    }
  });

  test('mixed, shared and large buffers: byte-identical with CPython', async (t) => {
    if (!needPython(t)) return;
    const big = new Uint8Array(70000).map((_, i) => i % 256);
    const cases: Array<[name: string, pyCode: string, js: () => Uint8Array]> = [
      [
        'callback chooses per buffer',
        "result = pickle.dumps([PickleBuffer(bytearray(b'ab')), PickleBuffer(bytearray(b'long one')), PickleBuffer(b'ro')]," +
          ' 5, buffer_callback=lambda b: b.raw().nbytes < 4)',
        () =>
          dumps(
            [
              new PickleBuffer(ascii('ab')),
              new PickleBuffer(ascii('long one')),
              new PickleBuffer(ascii('ro'), true),
            ],
            { protocol: 5, bufferCallback: (b) => b.data.length < 4 },
          ),
      ],
      [
        'one buffer twice, in-band (memoized)',
        "b = PickleBuffer(bytearray(b'twice'))\nresult = pickle.dumps([b, b], 5)",
        () => {
          const b = new PickleBuffer(ascii('twice'));
          return dumps([b, b], { protocol: 5 });
        },
      ],
      [
        'one readonly buffer twice, in-band (memoized)',
        "b = PickleBuffer(b'twice')\nresult = pickle.dumps([b, b], 5)",
        () => {
          const b = new PickleBuffer(ascii('twice'), true);
          return dumps([b, b], { protocol: 5 });
        },
      ],
      [
        'one buffer twice, out-of-band (sent twice)',
        "b = PickleBuffer(b'twice')\nn = []\nresult = pickle.dumps([b, b], 5, buffer_callback=n.append)\nassert len(n) == 2",
        () => {
          const b = new PickleBuffer(ascii('twice'), true);
          let n = 0;
          const out = dumps([b, b], { protocol: 5, bufferCallback: () => void n++ });
          assert.equal(n, 2);
          return out;
        },
      ],
      [
        'a buffer over float64 memory, in-band and out-of-band',
        "import array\na = array.array('d', [1.5, -2.25, 1e300])\n" +
          'result = pickle.dumps([PickleBuffer(a), PickleBuffer(a)], 5,' +
          ' buffer_callback=lambda b, answers=iter([True, False]): next(answers))',
        () => {
          const f = new Float64Array([1.5, -2.25, 1e300]);
          const answers = [true, false];
          return dumps([new PickleBuffer(f), new PickleBuffer(f)], {
            protocol: 5,
            bufferCallback: () => answers.shift(),
          });
        },
      ],
      [
        'large in-band buffers (outside frames)',
        'big = bytes(i % 256 for i in range(70000))\n' +
          "result = pickle.dumps([PickleBuffer(bytearray(big)), PickleBuffer(big), 'after'], 5)",
        () =>
          dumps([new PickleBuffer(big.slice()), new PickleBuffer(big, true), 'after'], {
            protocol: 5,
          }),
      ],
    ];
    for (const [name, pyCode, js] of cases) {
      const want = await py.bytes(IMPORT + pyCode);
      assert.equal(hex(js()), hex(want), name);
    }
  });

  test('missing buffers: UnpicklingError BUFFERS, where CPython raises UnpicklingError', async (t) => {
    if (!needPython(t)) return;
    const { data } = await pyOutOfBand();
    const cases: Array<[pyArgs: string, buffers: Uint8Array[] | undefined]> = [
      ['', undefined],
      [', buffers=[]', []],
      [", buffers=[bytearray(b'abc')]", [ascii('abc')]],
    ];
    for (const [pyArgs, buffers] of cases) {
      const r = await py.eval(IMPORT + `result = pickle.loads(data${pyArgs})`, data);
      assert.equal(r.error?.type, 'UnpicklingError', pyArgs);
      assert.throws(
        () => loads(data, buffers === undefined ? {} : { buffers }),
        (e: unknown) =>
          e instanceof UnpicklingError &&
          e.code === ErrorCode.BUFFERS &&
          e.opcode === 'NEXT_BUFFER' &&
          data[e.offset!] === 0x97,
        pyArgs,
      );
    }
    // Stricter than CPython, which pushes any object: a buffer must be bytes-like.
    assert.throws(
      () => loads(data, { buffers: [42] as unknown as Uint8Array[] }),
      (e: unknown) => e instanceof UnpicklingError && e.code === ErrorCode.BUFFERS,
    );
  });

  test('PickleBuffer below protocol 5 is a PicklingError, as in CPython', async (t) => {
    if (!needPython(t)) return;
    for (const p of [0, 1, 2, 3, 4]) {
      for (const [pyBuf, jsBuf] of [
        ["bytearray(b'x')", new PickleBuffer(ascii('x'))],
        ["b'x'", new PickleBuffer(ascii('x'), true)],
      ] as const) {
        const r = await py.eval(IMPORT + `result = pickle.dumps([PickleBuffer(${pyBuf})], ${p})`);
        assert.equal(r.error?.type, 'PicklingError', `@${p}`);
        assert.throws(
          () => dumps([jsBuf], { protocol: p }),
          (e: unknown) =>
            e instanceof PicklingError &&
            e.code === ErrorCode.PROTOCOL &&
            e.path === 'value[0]' &&
            /protocol >= 5/.test(e.message),
          `@${p}`,
        );
      }
    }
  });

  test('bufferCallback below protocol 5 fails when the Pickler is made, as CPython (ValueError)', async (t) => {
    if (!needPython(t)) return;
    for (const p of [0, 1, 2, 3, 4]) {
      const r = await py.eval(
        IMPORT + `import io\npickle.Pickler(io.BytesIO(), ${p}, buffer_callback=print)`,
      );
      assert.equal(r.error?.type, 'ValueError', `@${p}`);
      let called = false;
      const bufferCallback = () => (called = true);
      for (const make of [
        () => new Pickler({ protocol: p, bufferCallback }),
        () => dumps(1, { protocol: p, bufferCallback }),
      ]) {
        assert.throws(
          make,
          (e: unknown) => e instanceof PicklingError && e.code === ErrorCode.BAD_OPTION,
          `@${p}`,
        );
      }
      assert.equal(called, false);
    }
    // protocol -1 means the highest, where a callback is allowed (as in Python).
    const ok = await py.eval(
      IMPORT + 'import io\npickle.Pickler(io.BytesIO(), -1, buffer_callback=print)',
    );
    assert.equal(ok.error, undefined);
    const out = dumps(new PickleBuffer(ascii('q')), { protocol: -1, bufferCallback: () => false });
    assert.equal(out[1], 5);
    assert.ok(opNames(out).includes('NEXT_BUFFER'));
  });
});
