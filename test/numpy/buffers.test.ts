/**
 * Protocol 5 and zero-copy: out-of-band buffers become arrays over the caller's memory (no copy
 * when aligned, one copy when not); in-band data is viewed inside the input with `zeroCopy`
 * when aligned, else copied once; writing with a `bufferCallback` hands numpy the array's own
 * memory. Checked against numpy in both directions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteArray, PickleBuffer, dumps, loads } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import type { Tagged } from '../helpers/tagged.js';
import { genops } from '../../src/tools/genops.js';
import { NDArray, numpyRegistry } from '../../src/numpy/index.js';
import { fromHex, pyJson, toHex } from './canon.js';

const registry = numpyRegistry();

/** numpy's pickle of `expr` at protocol 5 with out-of-band buffers: [pickle, ...buffers]. */
async function outOfBand(expr: string): Promise<Uint8Array[]> {
  const r = await py.eval(
    `import numpy as np\nbufs = []\nd = pickle.dumps(${expr}, 5, buffer_callback=bufs.append)\n` +
      'result = [d] + [bytes(b.raw()) for b in bufs]',
  );
  if (r.error) throw new Error(`python: ${r.error.message}`);
  return (r.tagged as { v: Array<{ v: string }> }).v.map((t) => fromHex(t.v));
}

/** `bytes` placed in a fresh ArrayBuffer at byte offset `offset`. */
function placed(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(bytes.length + offset + 8), offset, bytes.length);
  out.set(bytes);
  return out;
}

/** Where the payload of the pickle's one BYTEARRAY8 / BINBYTES / SHORT_BINBYTES data starts. */
function payloadOffset(pickle: Uint8Array, minLength: number): number {
  for (const op of genops(pickle)) {
    const arg = op.arg;
    if (arg instanceof Uint8Array && arg.length >= minLength) {
      const header =
        op.opcode.name === 'SHORT_BINBYTES' ? 2 : op.opcode.name === 'BINBYTES' ? 5 : 9;
      return op.pos + header;
    }
  }
  throw new Error('no payload found');
}

test('out-of-band buffers: the array views the caller’s memory, without a copy', async (t) => {
  if (!needPython(t)) return;
  const [pickle, buffer] = await outOfBand('np.arange(12, dtype="<f8").reshape(3, 4)');
  const mine = placed(buffer!, 16);
  const a = loads(pickle!, { registry, buffers: [mine] }) as NDArray<Float64Array>;
  assert.equal(a.data.buffer, mine.buffer, 'same memory');
  assert.equal(a.data.byteOffset, 16);
  assert.equal(a.get(2, 3), 11);
  new Float64Array(mine.buffer, 16, 12)[5] = -1; // the caller's memory changes: so does the array
  assert.equal(a.get(1, 1), -1);

  // Misaligned for Float64Array: copied once, values intact.
  const odd = placed(buffer!, 3);
  const b = loads(pickle!, { registry, buffers: [odd] }) as NDArray<Float64Array>;
  assert.notEqual(b.data.buffer, odd.buffer);
  assert.deepEqual([...b.data], [...Array(12).keys()]);

  // A PickleBuffer (read-only or not) works too, and numpy's read-only flag is kept.
  const c = loads(pickle!, {
    registry,
    buffers: [new PickleBuffer(mine, true)],
  }) as NDArray<Float64Array>;
  assert.equal(c.data.buffer, mine.buffer);
  assert.equal(c.readonly, true);
});

test('out-of-band buffers of Fortran-order, big-endian, unicode and 0-d arrays', async (t) => {
  if (!needPython(t)) return;
  const cases: Array<[string, unknown]> = [
    [
      'np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))',
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    ],
    ['np.array([1.5, -2], ">f8")', [1.5, -2]],
    ['np.array(["ab", "é"], "<U2")', ['ab', 'é']],
    ['np.array(7, "<i2")', 7],
    ['np.zeros((0, 2), "<f4")', []],
  ];
  for (const [expr, values] of cases) {
    const [pickle, ...buffers] = await outOfBand(expr);
    const a = loads(pickle!, { registry, buffers }) as NDArray;
    assert.deepEqual(a.toArray(), values, expr);
    // And back: numpy loads pickle-ts's out-of-band pickle to the same array.
    const out: PickleBuffer[] = [];
    const data = dumps(a, { registry, protocol: 5, bufferCallback: (b) => void out.push(b) });
    const check = await py.eval(
      `import numpy as np, json\nsrc = json.loads(data.decode())\nexpected = ${expr}\n` +
        'x = pickle.loads(bytes.fromhex(src["pickle"]), buffers=[bytes.fromhex(h) for h in src["buffers"]])\n' +
        'result = bool(x.dtype == expected.dtype and x.shape == expected.shape and np.array_equal(x, expected)' +
        ' and x.flags.f_contiguous == expected.flags.f_contiguous)',
      new TextEncoder().encode(
        JSON.stringify({ pickle: toHex(data), buffers: out.map((b) => toHex(b.data)) }),
      ),
    );
    assert.deepEqual(check.tagged, { t: 'bool', v: true } satisfies Tagged, expr);
  }
});

test('writing with a bufferCallback hands over the array’s own memory', async (t) => {
  if (!needPython(t)) return;
  const data = Float64Array.from({ length: 1000 }, (_, i) => i / 8);
  const a = NDArray.from(data, [10, 100]);
  const seen: PickleBuffer[] = [];
  const pickle = dumps(a, { registry, protocol: 5, bufferCallback: (b) => void seen.push(b) });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.data.buffer, data.buffer, 'no copy: the PickleBuffer views the data');
  assert.equal(seen[0]!.readonly, false);
  // numpy's own out-of-band pickle of the same array is the same bytes.
  const [theirs] = await outOfBand('(np.arange(1000) / 8).reshape(10, 100)');
  assert.deepEqual(pickle, theirs);
  // A read-only array goes out as READONLY_BUFFER, as numpy sends a non-writeable array.
  const ro = new NDArray('<f8', [2], Float64Array.of(1, 2), { readonly: true });
  const roPickle = dumps(ro, { registry, protocol: 5, bufferCallback: () => false });
  const [roTheirs] = await outOfBand(
    '(lambda a: (a.setflags(write=False), a)[1])(np.array([1.0, 2.0]))',
  );
  assert.deepEqual(roPickle, roTheirs);
});

test('in-band data: viewed inside the input with zeroCopy when aligned, else copied once', async (t) => {
  if (!needPython(t)) return;
  const { p4, p5 } = await pyJson<{ p4: string; p5: string }>(
    'a = np.arange(4096, dtype="<f8")\n' +
      'result = json.dumps({"p4": pickle.dumps(a, 4).hex(), "p5": pickle.dumps(a, 5).hex()})',
  );
  for (const [name, hex] of [
    ['protocol 4 (BINBYTES)', p4],
    ['protocol 5 (BYTEARRAY8)', p5],
  ] as const) {
    const pickle = fromHex(hex);
    const at = payloadOffset(pickle, 4096 * 8);
    // Shift the pickle so that its payload starts on an 8-byte boundary, then off it.
    const aligned = placed(pickle, (8 - (at % 8)) % 8);
    const a = loads(aligned, { registry, zeroCopy: true }) as NDArray<Float64Array>;
    assert.equal(a.data.buffer, aligned.buffer, `${name}: a view of the input`);
    assert.equal(a.data.byteOffset, aligned.byteOffset + at);
    assert.equal(a.get(4095), 4095);

    const misaligned = placed(pickle, ((8 - (at % 8)) % 8) + 1);
    const b = loads(misaligned, { registry, zeroCopy: true }) as NDArray<Float64Array>;
    assert.notEqual(b.data.buffer, misaligned.buffer, `${name}: misaligned, so copied`);
    assert.equal(b.data.byteOffset, 0);
    assert.equal(b.data.buffer.byteLength, 4096 * 8, 'one copy, of exactly the data');
    assert.equal(b.get(4095), 4095);

    // Without zeroCopy the core copies the payload once, and the array views that copy.
    const c = loads(aligned, { registry }) as NDArray<Float64Array>;
    assert.notEqual(c.data.buffer, aligned.buffer);
    assert.equal(c.data.buffer.byteLength, 4096 * 8, `${name}: one copy, viewed`);
    assert.equal(c.get(4095), 4095);
  }
});

test('zeroCopy (the core option): bytes and bytearray payloads view the input', () => {
  const cases: Array<[Uint8Array, number]> = [
    [Uint8Array.of(1, 2, 3), 3], // SHORT_BINBYTES
    [new Uint8Array(300).fill(9), 4], // BINBYTES
    [new ByteArray(300).fill(7), 5], // BYTEARRAY8
  ];
  for (const [value, protocol] of cases) {
    const pickle = dumps(value, { protocol });
    const viewed = loads(pickle, { zeroCopy: true }) as Uint8Array;
    const copied = loads(pickle) as Uint8Array;
    assert.deepEqual([...viewed], [...value]);
    assert.equal(viewed.constructor, value.constructor);
    assert.equal(viewed.buffer, pickle.buffer, `protocol ${protocol}: a view`);
    assert.notEqual(copied.buffer, pickle.buffer, `protocol ${protocol}: a copy by default`);
  }
});
