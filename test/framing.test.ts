/**
 * Protocol 4 and 5 framing: pickle-ts splits frames exactly where CPython's C pickler does (so
 * big pickles are byte-identical), every FRAME length matches the opcodes it holds, a frame
 * longer than the input is TRUNCATED, and unframed or pure-Python-framed pickles load.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteArray, ErrorCode, UnpicklingError, dumps, loads } from './helpers/pickle.js';
import { genops } from '../src/tools/genops.js';
import { assertSameValue } from './helpers/equal.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, toTagged, type Tagged } from './helpers/tagged.js';

const FRAME_TARGET = 64 * 1024;
const hex = (b: Uint8Array, at = 0, n = 24): string =>
  Buffer.from(b.subarray(Math.max(0, at - 8), at + n)).toString('hex');

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Equal bytes, with a short message at the first difference (the pickles are large). */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (Buffer.compare(actual, expected) === 0) return;
  const at = firstDiff(actual, expected);
  assert.fail(
    `${what}: ${actual.length} bytes vs CPython's ${expected.length}, first difference at ${at}: ` +
      `got ${hex(actual, at)} want ${hex(expected, at)}`,
  );
}

interface Frame {
  pos: number;
  length: number;
}

/**
 * Walks a pickle with genops and checks its framing: each FRAME's length ends exactly on an
 * opcode boundary and no opcode straddles a frame end. Outside frames there may only be large
 * payloads (over 64 KiB), PROTO, and runs of fewer than 4 bytes (a frame that small loses its
 * header). Returns the frames.
 */
function checkFrames(data: Uint8Array, what: string): Frame[] {
  const ops = [...genops(data)];
  const frames: Frame[] = [];
  let frameEnd = -1;
  let run = 0;
  const endRun = (at: number) => {
    assert.ok(run < 4, `${what}: ${run} unframed bytes before ${at}`);
    run = 0;
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const end = i + 1 < ops.length ? ops[i + 1]!.pos : data.length;
    if (frameEnd >= 0 && op.pos === frameEnd) frameEnd = -1;
    if (op.opcode.name === 'FRAME') {
      assert.equal(frameEnd, -1, `${what}: FRAME at ${op.pos} inside another frame`);
      endRun(op.pos);
      const length = Number(op.arg);
      frames.push({ pos: op.pos, length });
      frameEnd = end + length;
      assert.ok(frameEnd <= data.length, `${what}: FRAME at ${op.pos} runs past the end`);
      assert.ok(length >= 4, `${what}: FRAME at ${op.pos} holds only ${length} bytes`);
      assert.ok(length < 2 * FRAME_TARGET, `${what}: FRAME at ${op.pos} is ${length} bytes`);
      continue;
    }
    if (frameEnd >= 0) {
      assert.ok(end <= frameEnd, `${what}: ${op.opcode.name} at ${op.pos} straddles a frame end`);
    } else if (end - op.pos > FRAME_TARGET) {
      endRun(op.pos);
    } else if (op.opcode.name !== 'PROTO') {
      run += end - op.pos;
    }
  }
  assert.ok(frameEnd === -1 || frameEnd === data.length, `${what}: last frame not closed`);
  endRun(data.length);
  return frames;
}

/** A value built in Python by `expr`, as pickle-ts sees it, and CPython's pickles of it. */
interface BigCase {
  name: string;
  expr: string;
}

const BIG: BigCase[] = [
  { name: 'a list of 100,000 ints', expr: 'list(range(100000))' },
  { name: 'a list of 100,000 mixed-size ints', expr: '[i * 7919 - 300000 for i in range(100000)]' },
  { name: 'a list of 30,000 floats', expr: '[i / 7 for i in range(30000)]' },
  {
    name: 'a 70 KB str among small values',
    expr: "[1, 'small', 'x' * 70000, 2, 'after', b'tail']",
  },
  {
    name: 'a 70 KB bytes among small values',
    expr: "['a', b'\\x01' * 70000, 'b', [3, 4]]",
  },
  {
    name: 'bytes of exactly 65536 and 65535 bytes',
    expr: "[b'a' * 65535, 0, b'b' * 65536, 1, b'c' * 65537]",
  },
  {
    name: 'str of 65535, 65536 and 65537 UTF-8 bytes',
    expr: "['a' * 65535, 'b' * 65536, 'é' * 32768, 'c' * 65537]",
  },
  { name: 'a 30,000-char str (under 64 KiB in UTF-8)', expr: "['q' * 30000, 'r' * 21846]" },
  { name: 'a 80 KB non-ASCII str', expr: "['€' * 27000, 'end']" },
  { name: 'many medium strings', expr: "['s%05d' % i + 'm' * 90 for i in range(3000)]" },
  {
    name: 'a dict of 20,000 string keys',
    expr: "{'key%d' % i: [i, str(i)] for i in range(20000)}",
  },
  { name: 'a set of 5,000 ints', expr: 'set(range(5000))' },
  { name: 'nested lists of bytes', expr: "[[b'z' * 1000] * 3 for _ in range(200)]" },
  { name: 'a tuple of 70,000 ints', expr: 'tuple(range(70000))' },
  { name: 'big bytes first', expr: "[b'\\xff' * 100000, 'x']" },
  { name: 'a 70 KB bytearray', expr: "[1, bytearray(b'\\x07' * 70000), 2]" },
];

describe('framing: byte-identical with CPython on big values', () => {
  for (const c of BIG) {
    test(`${c.name}: protocols 4 and 5`, async (t) => {
      if (!needPython(t)) return;
      const r = await py.eval(`result = ${c.expr}`);
      const tagged = r.tagged as Tagged;
      const value = fromTagged(tagged);
      for (const p of [4, 5]) {
        // CPython's pickle of the same value (equal strings as one object, as pickle-ts writes).
        const want = await py.dumps(toTagged(value), p);
        const got = dumps(value, { protocol: p });
        assertSameBytes(got, want, `@${p}`);
        const frames = checkFrames(got, `@${p}`);
        if (got.length > 2 * FRAME_TARGET) {
          assert.ok(frames.length >= 1, `@${p}: ${got.length} bytes and no frame`);
        }
        assertSameValue(loads(want), value, `load @${p}`);
        assert.equal(await py.check(got, toTagged(value)), undefined, `@${p}`);
      }
    });
  }

  test('a list of 100,000 ints written by CPython: frames split where pickle-ts splits them', async (t) => {
    if (!needPython(t)) return;
    const want = await py.bytes('result = pickle.dumps(list(range(100000)), 4)');
    const value = Array.from({ length: 100000 }, (_, i) => i);
    const got = dumps(value);
    assertSameBytes(got, want, 'list(range(100000))');
    const framesGot = checkFrames(got, 'pickle-ts');
    const framesWant = checkFrames(want, 'CPython');
    assert.deepEqual(framesGot, framesWant);
    assert.ok(framesGot.length >= 4);
  });

  test('small pickles carry one frame, or none below 4 bytes, as CPython writes them', async (t) => {
    if (!needPython(t)) return;
    for (const [expr, value] of [
      ['None', null],
      ['1', 1],
      ['[]', []],
      ["'ab'", 'ab'],
      ['[1, 2]', [1, 2]],
    ] as const) {
      for (const p of [4, 5]) {
        const want = await py.bytes(`result = pickle.dumps(${expr}, ${p})`);
        const got = dumps(value, { protocol: p });
        assertSameBytes(got, want, `${expr} @${p}`);
        checkFrames(got, `${expr} @${p}`);
      }
    }
  });
});

describe('framing: reading', () => {
  test('a FRAME longer than what remains of the input is TRUNCATED at the FRAME', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes('result = pickle.dumps(list(range(50000)), 4)');
    const frames = checkFrames(data, 'CPython');
    assert.ok(frames.length >= 2);
    for (const f of frames) {
      for (const cut of [f.pos + 9, f.pos + 9 + (f.length >> 1), f.pos + 9 + f.length - 1]) {
        const part = data.subarray(0, cut);
        let err: unknown;
        try {
          loads(part);
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof UnpicklingError, `cut at ${cut}: ${String(err)}`);
        assert.equal(err.code, ErrorCode.TRUNCATED);
        assert.equal(err.offset, f.pos, err.message);
        assert.equal(err.opcode, 'FRAME');
        const r = await py.load(part);
        assert.ok(r.error, `CPython loaded a cut at ${cut}`);
      }
    }
  });

  test('a FRAME whose 8-byte length claims more than the input', async (t) => {
    const data = new Uint8Array([
      0x80, 0x04, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x4b, 0x01, 0x2e,
    ]);
    let err: unknown;
    try {
      loads(data);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UnpicklingError);
    assert.equal(err.code, ErrorCode.TRUNCATED);
    assert.equal(err.offset, 2);
    if (!needPython(t)) return;
    assert.ok((await py.load(data)).error);
  });

  test("a FRAME length off by a few bytes: loads as CPython's C unpickler loads it", async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes("result = pickle.dumps([1, 'two', 3.0], 4)");
    const frames = checkFrames(data, 'CPython');
    assert.equal(frames.length, 1);
    for (const delta of [-5, -1, 1, 100]) {
      const bad = new Uint8Array(data);
      new DataView(bad.buffer).setBigUint64(3, BigInt(frames[0]!.length + delta), true);
      // The checker notices a frame running past its opcodes or the input.
      if (delta > 0) assert.throws(() => checkFrames(bad, `delta ${delta}`));
      const r = await py.load(bad);
      let ours: unknown;
      try {
        ours = loads(bad);
      } catch (e) {
        ours = e;
      }
      if (r.error) {
        assert.ok(
          ours instanceof UnpicklingError,
          `delta ${delta}: CPython refused, we gave ${String(ours)}`,
        );
        assert.equal(ours.code, ErrorCode.TRUNCATED);
      } else {
        assertSameValue(ours, fromTagged(r.tagged!), `delta ${delta}`);
      }
    }
  });

  test('CPython protocol 4 and 5 pickles with their FRAMEs removed load the same', async (t) => {
    if (!needPython(t)) return;
    for (const expr of [
      'list(range(100000))',
      "['x' * 70000, b'y' * 65536, {'a': (1, 2.5)}]",
      "{'k%d' % i: 'v' * (i % 50) for i in range(5000)}",
    ]) {
      const expected = fromTagged((await py.eval(`result = ${expr}`)).tagged!);
      for (const p of [4, 5]) {
        const unframed = await py.bytes(
          `import pickletools\nd = pickle.dumps(${expr}, ${p})\n` +
            `ops = list(pickletools.genops(d))\n` +
            `ends = [pos for _, _, pos in ops[1:]] + [len(d)]\n` +
            `result = b''.join(d[pos:end] for (op, _, pos), end in zip(ops, ends) if op.name != 'FRAME')`,
        );
        assert.equal(
          [...genops(unframed)].some((o) => o.opcode.name === 'FRAME'),
          false,
          'FRAME left in',
        );
        assert.equal(await py.check(unframed, toTagged(expected)), undefined, 'CPython reads it');
        assertSameValue(loads(unframed), expected, `${expr} @${p}`);
      }
    }
  });

  test("pure-Python pickle._Pickler's framing loads the same", async (t) => {
    if (!needPython(t)) return;
    for (const expr of [
      'list(range(100000))',
      "[b'a' * 65535, 'b' * 70000, bytearray(b'c' * 70000), (1, 2)]",
      "['s%05d' % i for i in range(20000)]",
    ]) {
      const expected = fromTagged((await py.eval(`result = ${expr}`)).tagged!);
      for (const p of [4, 5]) {
        const data = await py.bytes(
          `import io\nf = io.BytesIO()\npickle._Pickler(f, ${p}).dump(${expr})\nresult = f.getvalue()`,
        );
        checkFrames(data, `pickle._Pickler ${expr} @${p}`);
        assertSameValue(loads(data), expected, `${expr} @${p}`);
      }
    }
  });

  test('a pickle mixing framed and unframed parts loads', async (t) => {
    if (!needPython(t)) return;
    // Frame only the middle opcodes by hand: PROTO, EMPTY_LIST MEMOIZE MARK, then a FRAME
    // around "K 1 K 2", then APPENDS and STOP unframed.
    const body = [0x4b, 0x01, 0x4b, 0x02];
    const data = new Uint8Array([
      0x80,
      0x04,
      0x5d,
      0x94,
      0x28,
      0x95,
      body.length,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...body,
      0x65,
      0x2e,
    ]);
    assert.deepEqual(loads(data), [1, 2]);
    assert.equal(await py.check(data, toTagged([1, 2])), undefined);
  });

  test('a ByteArray payload of 64 KiB or more is written outside a frame (protocol 5)', async (t) => {
    if (!needPython(t)) return;
    const big = ByteArray.copyOf(new Uint8Array(FRAME_TARGET).fill(9));
    const got = dumps(['a', big, 'b'], { protocol: 5 });
    assertSameBytes(
      got,
      await py.bytes("result = pickle.dumps(['a', bytearray(b'\\x09' * 65536), 'b'], 5)"),
      'bytearray',
    );
    const ops = [...genops(got)].map((o) => o.opcode.name);
    assert.ok(ops.includes('BYTEARRAY8'));
    checkFrames(got, 'bytearray');
  });
});
