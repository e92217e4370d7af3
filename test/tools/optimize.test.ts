/**
 * `optimize` against CPython's `pickletools.optimize`: the same bytes for every pickle of the
 * corpus and the fixtures (framing at protocol 4+ included), loading to a value equal to the
 * original's (checked by Python); the same failures for malformed input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumps, loads, Pickler, UnpicklingError } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { optimize } from '../../src/tools/index.js';
import { optimizeAt } from '../../src/tools/optimize.js';
import { fixturePickles, pyOptimizeMany } from './oracle.js';
import { handWritten } from './malformed.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function compare(
  cases: ReadonlyArray<readonly [string, Uint8Array]>,
  checkLoad = true,
): Promise<string[]> {
  const expected = await pyOptimizeMany(
    cases.map(([, d]) => d),
    checkLoad,
  );
  const failures: string[] = [];
  cases.forEach(([name, data], i) => {
    const want = expected[i]!;
    let got: string;
    try {
      got = hex(optimize(data));
    } catch (e) {
      if (!(e instanceof UnpicklingError)) throw e;
      if (want.error === undefined) failures.push(`${name}: ${e.message}, python succeeded`);
      return;
    }
    if (want.error !== undefined) failures.push(`${name}: python failed (${want.error})`);
    else if (got !== want.hex)
      failures.push(`${name}: bytes differ\n${got.slice(0, 200)}\n${want.hex!.slice(0, 200)}`);
    else if (want.diff) failures.push(`${name}: optimized pickle loads differently: ${want.diff}`);
  });
  return failures;
}

const summary = (failures: string[]) =>
  `${failures.length} differ:\n${failures.slice(0, 5).join('\n\n')}`;

test('optimize equals pickletools.optimize on the corpus, protocols 0-5, and loads equal', async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const cases = corpus.flatMap((c) =>
    c.pickles.map((p, proto) => [`${c.name} (protocol ${proto})`, p] as const),
  );
  const failures = await compare(cases);
  assert.equal(failures.length, 0, summary(failures));
  // It does something: the corpus's memoized pickles get smaller.
  const shrunk = cases.filter(([, p]) => optimize(p).length < p.length).length;
  assert.ok(shrunk > cases.length / 3, `only ${shrunk} of ${cases.length} got smaller`);
});

test('optimize equals pickletools.optimize on the fixtures and on odd or malformed pickles', async (t) => {
  if (!needPython(t)) return;
  const fixtures = fixturePickles().map(({ name, data }) => [name, data] as const);
  // Python 2 pickles need encoding= and hold objects without __eq__: pickle-ts checks that the
  // optimized ones load equal (its values compare structurally).
  let failures = await compare(fixtures, false);
  // Python writes "gNone" for a GET of a key never PUT at protocol 0; pickle-ts refuses it.
  failures = failures.filter((f) => !f.startsWith('handmade/get_missing.pkl'));
  assert.equal(failures.length, 0, summary(failures));
  let loaded = 0;
  for (const [name, data] of fixtures) {
    let original: unknown;
    let optimized: Uint8Array;
    try {
      original = loads(data, { encoding: 'latin1' });
      optimized = optimize(data); // fails as pickletools does on non-ASCII Python 2 str
    } catch {
      continue;
    }
    assert.deepStrictEqual(loads(optimized, { encoding: 'latin1' }), original, name);
    loaded++;
  }
  assert.ok(loaded > 200, `${loaded} fixtures loaded`);
  // The hand-written malformed pickles: each fails in both, or gives the same bytes.
  const odd = handWritten().filter(
    ([name]) => !/GET before PUT|BINGET missing|LONG_BINGET missing/.test(name),
  );
  failures = await compare(odd, false);
  assert.equal(failures.length, 0, summary(failures));
});

test('framing at protocol 4: frames of 64 KiB and large payloads unframed, as pickle._Pickler', async (t) => {
  if (!needPython(t)) return;
  const big = new Uint8Array(100_000).fill(7);
  const values: Array<[string, unknown]> = [
    ['many small strings', Array.from({ length: 30_000 }, (_, i) => `s${i % 5000}`)],
    ['a big payload between small ones', ['a', big, 'b', [big, 'c']]],
    ['ints', Array.from({ length: 70_000 }, (_, i) => i)],
  ];
  const cases = values.flatMap(([name, v]) =>
    [4, 5].map((protocol) => [`${name} p${protocol}`, dumps(v, { protocol })] as const),
  );
  const failures = await compare(cases);
  assert.equal(failures.length, 0, summary(failures));
});

test('optimizeAt steps through a file of several pickles', () => {
  const p = new Pickler({ protocol: 2 });
  const stream = Buffer.concat([dumps(['a', 'a']), dumps([1, 2], { protocol: 0 })]);
  const first = optimizeAt(stream, 0);
  const second = optimizeAt(stream, first.end);
  assert.equal(second.end, stream.length);
  assert.deepEqual(loads(first.bytes), ['a', 'a']);
  assert.deepEqual(loads(second.bytes), [1, 2]);
  // A pickle that reads what an earlier one stored cannot stand alone.
  const shared = ['x'];
  const linked = Buffer.concat([p.dump(shared), p.dump(shared)]);
  const one = optimizeAt(linked, 0);
  assert.throws(
    () => optimizeAt(linked, one.end),
    (e: unknown) =>
      e instanceof UnpicklingError && e.code === 'MEMO_MISSING' && e.offset === one.end + 2,
  );
});
