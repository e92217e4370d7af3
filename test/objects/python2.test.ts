/**
 * Python 2: pickles written by Python 2.7 itself (test/fixtures/py2-stdlib, made by its committed
 * make.py) load with `encoding: 'latin1'` and `'bytes'` to what Python 3 gives with the same
 * options; and what pickle-ts writes at protocols 0-2 loads in Python 2.7 to the expected values
 * (checked by running 2.7).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import {
  ByteArray,
  Complex,
  Counter,
  Decimal,
  DefaultDict,
  Deque,
  Fraction,
  FrozenSet,
  OrderedDict,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyTime,
  PyTimeDelta,
  Range,
  Slice,
  UUID,
  UnpicklingError,
  dumps,
  loads,
  pyRepr,
  tuple,
} from '../helpers/pickle.js';

const DIR = fileURLToPath(new URL('../fixtures/py2-stdlib/', import.meta.url));
const PY2 = process.env.PYTHON2 ?? '/root/.pyenv/versions/2.7.18/bin/python';
type Result = { type: string; repr: string } | { error: string };
const expected = JSON.parse(readFileSync(DIR + 'expected.json', 'utf8')) as Record<
  string,
  Record<'latin1' | 'bytes', Result>
>;

describe('Python 2.7-written standard-library pickles', () => {
  test('every fixture loads with latin1 and bytes as Python 3 loads it (repr, or an error)', () => {
    const failures: string[] = [];
    let loaded = 0;
    for (const [file, results] of Object.entries(expected)) {
      const data = readFileSync(DIR + file);
      for (const encoding of ['latin1', 'bytes'] as const) {
        const want = results[encoding];
        try {
          const v = loads(data, { encoding });
          if ('error' in want)
            failures.push(
              `${file} (${encoding}): Python raised ${want.error}, pickle-ts loaded ${pyRepr(v)}`,
            );
          else if (pyRepr(v) !== want.repr)
            failures.push(`${file} (${encoding}): ${pyRepr(v)} != ${want.repr}`);
          else loaded++;
        } catch (e) {
          if (!('error' in want)) failures.push(`${file} (${encoding}): threw ${String(e)}`);
          else if (!(e instanceof UnpicklingError))
            failures.push(`${file} (${encoding}): not an UnpicklingError: ${String(e)}`);
        }
      }
    }
    assert.equal(failures.length, 0, failures.slice(0, 30).join('\n'));
    assert.ok(loaded > 150, `${loaded} loads compared`);
  });
});

describe('pickles pickle-ts writes at protocols 0-2 load in Python 2.7', () => {
  const values: Array<[string, unknown]> = [
    ['None', null],
    ['True', true],
    ['-1', -1],
    // Python 3 writes ints past 32 bits as LONG, which Python 2 loads as a long.
    ['long(2**31)', 2 ** 31],
    ['2**70', 2n ** 70n],
    ['1.5', 1.5],
    ["u'text \\xe9 \\u20ac'", 'text é €'],
    ["'raw\\x00\\xff'", new Uint8Array([0x72, 0x61, 0x77, 0, 0xff])],
    ["[1, u'a', None]", [1, 'a', null]],
    ["(1, (u'x',))", tuple<unknown>(1, tuple('x'))],
    ["{u'a': 1, u'b': [2]}", { a: 1, b: [2] }],
    [
      '{1: 2, (3, 4): None}',
      new Map<unknown, unknown>([
        [1, 2],
        [tuple(3, 4), null],
      ]),
    ],
    ['set([1, 2])', new Set([1, 2])],
    ["frozenset([u'a'])", new FrozenSet(['a'])],
    ['(1.5-2j)', new Complex(1.5, -2)],
    ["bytearray('ab')", ByteArray.copyOf(new Uint8Array([97, 98]))],
    ['datetime.date(2020, 1, 2)', new PyDate(2020, 1, 2)],
    ['datetime.datetime(2020, 1, 2, 3, 4, 5, 678901)', new PyDateTime(2020, 1, 2, 3, 4, 5, 678901)],
    ['datetime.time(13, 14, 15, 16)', new PyTime(13, 14, 15, 16)],
    ['datetime.timedelta(-1, 5, 7)', new PyTimeDelta(-1, 5, 7)],
    ["decimal.Decimal('-1.10')", new Decimal('-1.10')],
    ['fractions.Fraction(3, 4)', new Fraction(3, 4)],
    [
      "collections.OrderedDict([(u'b', 1), (u'a', 2)])",
      new OrderedDict([
        ['b', 1],
        ['a', 2],
      ]),
    ],
    [
      "collections.defaultdict(list, {u'k': [1]})",
      new DefaultDict(new PyGlobal('builtins', 'list'), [['k', [1]]]),
    ],
    ['collections.deque([1, 2], maxlen=3)', Deque.fromItems([1, 2], 3)],
    ["collections.Counter({u'a': 2})", new Counter([['a', 2]])],
    [
      "uuid.UUID('12345678-1234-5678-1234-567812345678')",
      new UUID('12345678-1234-5678-1234-567812345678'),
    ],
    ['xrange(0, 12, 3)', new Range(0, 12, 3)],
    ['slice(1, None, 2)', new Slice(1, null, 2)],
  ];

  for (const protocol of [0, 1, 2]) {
    test(`protocol ${protocol}`, (t) => {
      if (!existsSync(PY2)) {
        if (process.env.CI === 'true')
          throw new Error(`Python 2.7 is required under CI=true: ${PY2}`);
        t.skip(`Python 2.7 not found at ${PY2} (set PYTHON2)`);
        return;
      }
      const cases = values.map(([expr, v]) => [
        Buffer.from(dumps(v, { protocol })).toString('base64'),
        expr,
      ]);
      const r = spawnSync(
        PY2,
        [fileURLToPath(new URL('../python/py2_check.py', import.meta.url))],
        {
          input: JSON.stringify(cases),
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const results = JSON.parse(r.stdout) as Array<string | null>;
      const failures = results
        .map((d, i) => (d === null ? null : `${values[i]![0]}: ${d}`))
        .filter(Boolean);
      assert.deepEqual(failures, []);
    });
  }
});
