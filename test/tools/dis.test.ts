/**
 * `dis` against CPython's `pickletools.dis`: the same text for every pickle of the differential
 * corpus (protocols 0-5) and every committed fixture, with and without annotations; and for
 * malformed pickles (hand-written, every truncation, seeded mutations) the same text up to the
 * failure, the same message, at the same opcode.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumps, Pickler, UnpicklingError } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { dis, disChunks, type DisOptions } from '../../src/tools/index.js';
import { fixturePickles, pyDisMany, pyDisStream, type PyDis } from './oracle.js';
import { handWritten, mutations, truncations } from './malformed.js';

/** Our result in the oracle's shape: text so far, and the error's reason and offset. */
function ours(data: Uint8Array, options: DisOptions): PyDis {
  let text = '';
  const gen = disChunks(data, options);
  try {
    for (;;) {
      const r = gen.next();
      if (r.done) return { text, end: r.value };
      text += r.value;
    }
  } catch (e) {
    if (!(e instanceof UnpicklingError)) throw e;
    return { text, error: e.reason, at: e.offset };
  }
}

/** Compares every case; returns the failures (name, what differs). */
async function compare(
  cases: ReadonlyArray<readonly [string, Uint8Array]>,
  annotate: number,
  indentlevel = 4,
): Promise<string[]> {
  const expected = await pyDisMany(
    cases.map(([, d]) => d),
    annotate,
    indentlevel,
  );
  const failures: string[] = [];
  cases.forEach(([name, data], i) => {
    const want = expected[i]!;
    const got = ours(data, { annotate, indentlevel });
    if (got.text !== want.text) {
      failures.push(`${name}: text differs\n--- python\n${want.text}\n--- pickle-ts\n${got.text}`);
    } else if (got.error !== want.error) {
      failures.push(
        `${name}: error ${JSON.stringify(got.error)} != python ${want.type}: ${JSON.stringify(want.error)}`,
      );
    } else if (want.error !== undefined && got.at !== want.at) {
      failures.push(`${name}: error at byte ${got.at}, python at ${want.at}`);
    } else if (want.error === undefined && got.end !== want.end) {
      failures.push(`${name}: ends at ${got.end}, python at ${want.end}`);
    }
  });
  return failures;
}

const summary = (failures: string[]) =>
  `${failures.length} differ:\n${failures.slice(0, 5).join('\n\n')}`;

test('dis equals pickletools.dis on the corpus, protocols 0-5, with and without annotate', async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const cases = corpus.flatMap((c) =>
    c.pickles.map((p, proto) => [`${c.name} (protocol ${proto})`, p] as const),
  );
  assert.ok(cases.length > 900, `corpus has ${cases.length} pickles`);
  let failures = await compare(cases, 0);
  assert.equal(failures.length, 0, summary(failures));
  // Annotations change only the ends of lines: the big pickles (pure-Python pickletools takes
  // seconds on them) need not run twice.
  const small = cases.filter(([, p]) => p.length <= 20_000);
  assert.ok(small.length > 900);
  failures = await compare(small, 30);
  assert.equal(failures.length, 0, summary(failures));
});

test('dis equals pickletools.dis on the committed fixtures (Python 2.7 and hand-made)', async (t) => {
  if (!needPython(t)) return;
  const cases = fixturePickles().map(({ name, data }) => [name, data] as const);
  assert.ok(cases.length > 250);
  for (const annotate of [0, 30]) {
    const failures = await compare(cases, annotate);
    assert.equal(failures.length, 0, summary(failures));
  }
});

test('malformed pickles: the same text, message and offset as pickletools', async (t) => {
  if (!needPython(t)) return;
  const cases = handWritten();
  for (const annotate of [0, 30]) {
    const failures = await compare(cases, annotate);
    assert.equal(failures.length, 0, summary(failures));
  }
  // Every kind of check is reached: make sure the cases fail in many different ways.
  const expected = await pyDisMany(
    cases.map(([, d]) => d),
    0,
  );
  const messages = new Set(expected.map((r) => r.error?.replace(/\d+/g, 'N')).filter(Boolean));
  assert.ok(messages.size >= 35, `only ${messages.size} distinct errors`);
});

test('every truncation and 1500 seeded mutations of corpus pickles', async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const small = corpus
    .flatMap((c) => c.pickles.map((p, proto) => [`${c.name} p${proto}`, p] as const))
    .filter(([, p]) => p.length <= 160);
  const truncated = small
    .filter((_, i) => i % 4 === 0)
    .flatMap(([name, p]) => truncations(p).map((d, n) => [`${name} cut at ${n}`, d] as const));
  assert.ok(truncated.length > 2000, `${truncated.length} truncations`);
  let failures = await compare(truncated, 0);
  assert.equal(failures.length, 0, summary(failures));
  const mutated = mutations(
    small.map(([, p]) => p),
    1500,
    20240601,
  ).map((d, i) => [`mutation ${i}`, d] as const);
  failures = await compare(mutated, 30);
  assert.equal(failures.length, 0, summary(failures));
});

test('indentlevel and the annotate column hint behave as in pickletools', async (t) => {
  if (!needPython(t)) return;
  const nested = [
    ['nested', dumps([[1, [2, { a: [3] }]], new Set([1])], { protocol: 1 })],
    ['nested p0', dumps([[1, [2, { a: [3] }]]], { protocol: 0 })],
    ['marks', handWritten().find(([n]) => n === 'nested marks')![1]],
  ] as const;
  for (const [indentlevel, annotate] of [
    [0, 0],
    [2, 1],
    [8, 45],
    [-1, 60],
  ] as const) {
    const failures = await compare(nested, annotate, indentlevel);
    assert.equal(failures.length, 0, summary(failures));
  }
});

test('several pickles from one Pickler: a shared memo, as pickletools with memo=', async (t) => {
  if (!needPython(t)) return;
  for (const protocol of [0, 2, 4]) {
    const p = new Pickler({ protocol });
    const shared = ['x', 'y'];
    const stream = Buffer.concat([p.dump([shared, 'z']), p.dump([shared, 'z']), p.dump('w')]);
    for (const sharedMemo of [true, false]) {
      const expected = await pyDisStream(stream, 30, sharedMemo);
      const memo = new Map();
      let start = 0;
      for (const want of expected) {
        const got = ours(stream, { annotate: 30, start, ...(sharedMemo ? { memo } : {}) });
        assert.equal(got.text, want.text);
        assert.equal(got.error, want.error);
        if (got.end !== undefined) start = got.end;
      }
      // Without the memo the second pickle's GET fails; with it, all three disassemble.
      assert.equal(expected.length, sharedMemo ? 3 : 2);
    }
  }
});

test('dis returns the whole text, and annotate: true is the command line column (30)', () => {
  const bytes = dumps({ a: [1, 2] }, { protocol: 2 });
  const text = dis(bytes, { annotate: true });
  assert.equal(text, dis(bytes, { annotate: 30 }));
  assert.match(text, /^ {4}0: \\x80 PROTO {6}2 {14}Protocol version indicator\.$/m);
  assert.match(text, /highest protocol among opcodes = 2\n$/);
  assert.throws(
    () => dis(new Uint8Array([0x4e, 0x4e, 0x2e])),
    (e: unknown) =>
      e instanceof UnpicklingError &&
      e.code === 'BAD_STACK' &&
      e.offset === 2 &&
      e.reason === 'stack not empty after STOP: [None]',
  );
});

test('a large pickle streams in pieces, with progress reports', () => {
  const bytes = dumps(Array.from({ length: 50_000 }, (_, i) => `item ${i}`));
  const offsets: number[] = [];
  const pieces = [...disChunks(bytes, { onProgress: (o) => offsets.push(o) })];
  assert.ok(pieces.length > 5, `${pieces.length} pieces`);
  assert.equal(pieces.join(''), dis(bytes));
  assert.ok(offsets.length > 10 && offsets.every((o, i) => i === 0 || o > offsets[i - 1]!));
});
