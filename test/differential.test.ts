/**
 * Differential tests against live CPython, both directions, every protocol, over the corpus of
 * test/python/corpus.py (every built-in type and its edges, shared and recursive structures).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { dumps, loads } from './helpers/pickle.js';
import { difference } from './helpers/equal.js';
import { hasPython, needPython, py, type CorpusCase } from './helpers/python.js';
import { fromTagged, toTagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];

function hex(b: Uint8Array, at: number): string {
  return Buffer.from(b.subarray(Math.max(0, at - 8), at + 24)).toString('hex');
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function report(failures: string[], total: number, what: string): void {
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${total} ${what} failed:\n  ${failures.slice(0, 25).join('\n  ')}`,
  );
}

describe('differential: CPython and pickle-ts', () => {
  let corpus: CorpusCase[] = [];
  before(async () => {
    if (hasPython()) corpus = await py.corpus();
  });

  test('corpus covers the required edges', (t) => {
    if (!needPython(t)) return;
    const names = corpus.map((c) => c.name);
    for (const required of [
      'int 0',
      'int -1',
      'int 255',
      'int 256',
      'int 65535',
      'int 2147483647',
      'int -2147483648',
      'int 9223372036854775808',
      'int -18446744073709551617',
      'int 10**1000',
      'float 0.0',
      'float -0.0',
      'float inf',
      'float -inf',
      'float nan',
      'float 5e-324',
      "str ''",
      'tuple 0',
      'tuple 4',
      'tuple 300',
      'dict float keys',
      'dict tuple keys',
      'dict None key',
      'dict bool keys',
      'recursive list',
      'shared',
    ]) {
      assert.ok(names.includes(required), `corpus lacks ${required}`);
    }
    assert.ok(corpus.length >= 150, `only ${corpus.length} cases`);
  });

  for (const exact of [false, true]) {
    const mode = exact ? 'exact mode' : 'default mode';

    test(`CPython -> pickle-ts: every corpus pickle loads to the expected value (${mode})`, (t) => {
      if (!needPython(t)) return;
      const failures: string[] = [];
      for (const c of corpus) {
        const expected = fromTagged(c.tagged, { exact });
        for (const p of PROTOCOLS) {
          try {
            const d = difference(loads(c.pickles[p]!, { exact }), expected);
            if (d) failures.push(`${c.name} @${p}: ${d}`);
          } catch (e) {
            failures.push(`${c.name} @${p}: threw ${String(e)}`);
          }
        }
      }
      report(failures, corpus.length * PROTOCOLS.length, 'loads');
    });

    test(`pickle-ts -> CPython: every corpus value dumps to a pickle Python loads equal (${mode})`, async (t) => {
      if (!needPython(t)) return;
      const failures: string[] = [];
      for (const c of corpus) {
        const value = fromTagged(c.tagged, { exact });
        // In default mode integral floats become ints: compare with what the JS value means.
        const expect = exact ? c.tagged : toTagged(value);
        for (const p of PROTOCOLS) {
          try {
            const d = await py.check(dumps(value, { protocol: p, exact }), expect);
            if (d) failures.push(`${c.name} @${p}: ${d}`);
          } catch (e) {
            failures.push(`${c.name} @${p}: threw ${String(e)}`);
          }
        }
      }
      report(failures, corpus.length * PROTOCOLS.length, 'dumps');
    });
  }

  test('byte-identical: exact-mode dumps equals CPython pickle.dumps, protocols 0-5', (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const c of corpus) {
      const value = fromTagged(c.tagged, { exact: true });
      for (const p of PROTOCOLS) {
        const want = c.pickles[p]!;
        const got = dumps(value, { protocol: p, exact: true });
        if (Buffer.compare(want, got) !== 0) {
          const at = firstDiff(want, got);
          failures.push(
            `${c.name} @${p}: differs at byte ${at}: want ${hex(want, at)} got ${hex(got, at)}`,
          );
        }
      }
    }
    report(failures, corpus.length * PROTOCOLS.length, 'byte comparisons');
  });

  test('byte-identical: default-mode dumps equals pickle.dumps of the same Python value', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const c of corpus) {
      const value = fromTagged(c.tagged);
      const tagged = toTagged(value);
      for (const p of PROTOCOLS) {
        const want = await py.dumps(tagged, p);
        const got = dumps(value, { protocol: p });
        if (Buffer.compare(want, got) !== 0) {
          const at = firstDiff(want, got);
          failures.push(
            `${c.name} @${p}: differs at byte ${at}: want ${hex(want, at)} got ${hex(got, at)}`,
          );
        }
      }
    }
    report(failures, corpus.length * PROTOCOLS.length, 'byte comparisons');
  });

  test('round trip: exact-mode loads then dumps reproduces every CPython pickle', (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const c of corpus) {
      for (const p of PROTOCOLS) {
        const b = c.pickles[p]!;
        try {
          const again = dumps(loads(b, { exact: true }), { protocol: p, exact: true });
          if (Buffer.compare(b, again) !== 0) {
            const at = firstDiff(b, again);
            failures.push(
              `${c.name} @${p}: differs at byte ${at}: want ${hex(b, at)} got ${hex(again, at)}`,
            );
          }
        } catch (e) {
          failures.push(`${c.name} @${p}: threw ${String(e)}`);
        }
      }
    }
    report(failures, corpus.length * PROTOCOLS.length, 'round trips');
  });
});
