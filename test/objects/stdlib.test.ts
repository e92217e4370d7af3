/**
 * Standard-library types both ways, at every protocol, against live CPython: Python's pickle
 * loads to the documented JS value, pickle-ts writes CPython's bytes back, Python loads what
 * pickle-ts writes to a value of the same type and repr, and `pyRepr` prints Python's repr.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Complex,
  Counter,
  Decimal,
  DefaultDict,
  Deque,
  Fraction,
  NamedTuple,
  OrderedDict,
  Partial,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyObject,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  Range,
  Registry,
  Slice,
  UUID,
  ZoneInfo,
  EnumMember,
  dumps,
  loads,
  pyRepr,
  tuple,
} from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const HELPERS = 'import objects_helpers as h\n';
const lit = (s: string) => JSON.stringify(s);

type Ctor = abstract new (...args: never[]) => unknown;

/** Python expression, the JS class its pickle loads as, and the protocols Python can write. */
const CASES: Array<[string, Ctor]> = [
  ['datetime.date(2020, 1, 2)', PyDate],
  ['datetime.date(1, 1, 1)', PyDate],
  ['datetime.date(9999, 12, 31)', PyDate],
  ['datetime.datetime(2020, 1, 2, 3, 4, 5, 6)', PyDateTime],
  ['datetime.datetime(2020, 1, 2, 3, 4, 5, 6, fold=1)', PyDateTime],
  ['datetime.datetime(1, 1, 1)', PyDateTime],
  ['datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)', PyDateTime],
  ['datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)', PyDateTime],
  [
    "datetime.datetime(2020, 1, 2, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30), 'IST'))",
    PyDateTime,
  ],
  [
    'datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone(-datetime.timedelta(hours=23, minutes=59)))',
    PyDateTime,
  ],
  [
    "datetime.datetime(2020, 11, 1, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo('America/New_York'))",
    PyDateTime,
  ],
  ["datetime.datetime(2021, 7, 14, 12, tzinfo=zoneinfo.ZoneInfo('Europe/Paris'))", PyDateTime],
  ['datetime.time()', PyTime],
  ['datetime.time(1, 2, 3, 4)', PyTime],
  ['datetime.time(23, 59, 59, 999999, tzinfo=datetime.timezone.utc, fold=1)', PyTime],
  ['datetime.timedelta(0)', PyTimeDelta],
  ['datetime.timedelta(days=-1, seconds=5, microseconds=7)', PyTimeDelta],
  ['datetime.timedelta(days=999999999, seconds=86399, microseconds=999999)', PyTimeDelta],
  ['datetime.timedelta.min', PyTimeDelta],
  ['datetime.timezone.utc', PyTimezone],
  ["datetime.timezone(datetime.timedelta(hours=-5), 'EST')", PyTimezone],
  ["zoneinfo.ZoneInfo('Europe/Paris')", ZoneInfo],
  ["decimal.Decimal('1.10')", Decimal],
  ["decimal.Decimal('-0')", Decimal],
  ["decimal.Decimal('-0.000')", Decimal],
  ["decimal.Decimal('NaN')", Decimal],
  ["decimal.Decimal('-sNaN12')", Decimal],
  ["decimal.Decimal('Infinity')", Decimal],
  ["decimal.Decimal('-Infinity')", Decimal],
  ["decimal.Decimal('1E+3')", Decimal],
  ["decimal.Decimal('0.000001')", Decimal],
  ["decimal.Decimal('1E-7')", Decimal],
  ["decimal.Decimal('123456789012345678901234567890.123456789')", Decimal],
  ['fractions.Fraction(3, 4)', Fraction],
  ['fractions.Fraction(-10**30, 7)', Fraction],
  ['collections.OrderedDict(a=1, b=[2])', OrderedDict],
  ['collections.OrderedDict()', OrderedDict],
  ["collections.OrderedDict([(1, 'x'), ((2, 3), 'y')])", OrderedDict],
  ["collections.defaultdict(list, {'a': [1]})", DefaultDict],
  ['collections.defaultdict(int)', DefaultDict],
  ['collections.defaultdict(None, {1: 2})', DefaultDict],
  ['collections.deque([1, 2, 3])', Deque],
  ['collections.deque([1, 2], maxlen=5)', Deque],
  ['collections.deque(maxlen=0)', Deque],
  ['collections.deque(range(1500))', Deque],
  ["collections.Counter('abracadabra')", Counter],
  ['collections.Counter()', Counter],
  ["uuid.UUID('12345678-1234-5678-1234-567812345678')", UUID],
  ['uuid.UUID(int=5, is_safe=uuid.SafeUUID.safe)', UUID],
  ['slice(1, 2, None)', Slice],
  ['slice(None, -1, 2)', Slice],
  ['range(10)', Range],
  ['range(0, 10, 3)', Range],
  ['range(10, 0, -2)', Range],
  ['range(-2**70, 2**70, 2**60)', Range],
  ['functools.partial(max, 1, key=abs)', Partial],
  ['functools.partial(print)', Partial],
  ['functools.partial(s.Plain, 1, y=2)', Partial],
  ['1+2j', Complex],
];

async function pythonPickle(expr: string, p: number): Promise<Uint8Array> {
  return py.bytes(`${HELPERS}result = h.dumps(${lit(expr)}, ${p})`);
}

async function pythonSame(
  expr: string,
  data: Uint8Array,
  protocol: number,
): Promise<string | undefined> {
  const r = await py.eval(`${HELPERS}result = h.same(${lit(expr)}, data, ${protocol})`, data);
  if (r.error) return `${r.error.type}: ${r.error.message}`;
  const t = r.tagged as { t: string; v?: string };
  return t.t === 'None' ? undefined : (t.v ?? t.t);
}

async function pythonRepr(expr: string): Promise<string> {
  const r = await py.eval(`${HELPERS}result = repr(h.value(${lit(expr)}))`);
  return (r.tagged as { v: string }).v;
}

/** repr of the value after Python's own pickle round trip at each protocol. */
async function pythonReprs(expr: string): Promise<string[]> {
  const r = await py.eval(`${HELPERS}result = h.reprs(${lit(expr)})`);
  return (r.tagged as { v: Array<{ v: string }> }).v.map((x) => x.v);
}

function report(failures: string[]): void {
  assert.equal(
    failures.length,
    0,
    `${failures.length} failures:\n  ${failures.slice(0, 30).join('\n  ')}`,
  );
}

describe('standard-library types, CPython -> pickle-ts -> CPython', () => {
  for (const exact of [true, false]) {
    test(`every type at every protocol (${exact ? 'exact' : 'default'} mode): value, CPython bytes, Python equal, repr`, async (t) => {
      if (!needPython(t)) return;
      const failures: string[] = [];
      for (const [expr, cls] of CASES) {
        const reprs = await pythonReprs(expr);
        for (const p of PROTOCOLS) {
          const data = await pythonPickle(expr, p);
          let value: unknown;
          try {
            value = loads(data, { exact });
          } catch (e) {
            failures.push(`${expr} @${p}: loads threw ${String(e)}`);
            continue;
          }
          if (!(value instanceof (cls as unknown as abstract new () => unknown))) {
            failures.push(
              `${expr} @${p}: loaded as ${(value as object)?.constructor?.name}, expected ${cls.name}`,
            );
            continue;
          }
          if (pyRepr(value, exact) !== reprs[p])
            failures.push(`${expr} @${p}: repr ${pyRepr(value, exact)} != ${reprs[p]}`);
          const again = dumps(value, { protocol: p, exact });
          // Default mode cannot tell 1.0 from 1; exact mode reproduces CPython's bytes.
          if (exact && Buffer.compare(again, data) !== 0) {
            failures.push(`${expr} @${p}: bytes differ from CPython's`);
          }
          const d = await pythonSame(expr, again, p);
          if (d) failures.push(`${expr} @${p}: Python loads ours as ${d}`);
        }
      }
      report(failures);
    });
  }
});

describe('standard-library values made in JS load in Python as the same type and value', () => {
  const utc = PyTimezone.utc;
  const ist = new PyTimezone(new PyTimeDelta(0, 5 * 3600 + 30 * 60), 'IST');
  const made: Array<[string, unknown]> = [
    ['datetime.date(2020, 1, 2)', new PyDate(2020, 1, 2)],
    ['datetime.datetime(2020, 1, 2, 3, 4, 5, 6)', new PyDateTime(2020, 1, 2, 3, 4, 5, 6)],
    [
      'datetime.datetime(2020, 1, 2, 3, 4, 5, 6, fold=1)',
      new PyDateTime(2020, 1, 2, 3, 4, 5, 6, null, 1),
    ],
    [
      'datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)',
      new PyDateTime(2020, 1, 2, 3, 4, 5, 6, utc),
    ],
    [
      "datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))",
      new PyDateTime(2020, 1, 2, 0, 0, 0, 0, ist),
    ],
    [
      "datetime.datetime(2020, 1, 2, tzinfo=zoneinfo.ZoneInfo('Asia/Tokyo'))",
      new PyDateTime(2020, 1, 2, 0, 0, 0, 0, new ZoneInfo('Asia/Tokyo')),
    ],
    [
      'datetime.datetime(2021, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.timezone.utc)',
      new Date(Date.UTC(2021, 2, 4, 5, 6, 7, 890)),
    ],
    ['datetime.time(12, 30, tzinfo=datetime.timezone.utc)', new PyTime(12, 30, 0, 0, utc)],
    ['datetime.timedelta(days=-3, seconds=86395)', new PyTimeDelta(0, -172805)],
    ['datetime.timedelta(microseconds=-1)', new PyTimeDelta(0, 0, -1)],
    ["decimal.Decimal('1.10')", new Decimal('1.10')],
    ["decimal.Decimal('1.1E+2')", new Decimal('1.1e2')],
    ["decimal.Decimal('-0')", new Decimal('-0')],
    ["decimal.Decimal('NaN')", new Decimal('nan')],
    ["decimal.Decimal('0.0000001')", new Decimal('0.0000001')],
    ['fractions.Fraction(-3, 4)', new Fraction(6n, -8n)],
    [
      "collections.OrderedDict([('b', 1), ('a', 2)])",
      new OrderedDict([
        ['b', 1],
        ['a', 2],
      ]),
    ],
    [
      "collections.defaultdict(list, {'k': [1]})",
      new DefaultDict(new PyGlobal('builtins', 'list'), [['k', [1]]]),
    ],
    ['collections.deque([1, 2], maxlen=3)', Deque.fromItems([1, 2], 3)],
    ['collections.deque([2, 3], maxlen=2)', Deque.fromItems([1, 2, 3], 2)],
    [
      "collections.Counter({'a': 2, 'b': 1})",
      new Counter([
        ['a', 2],
        ['b', 1],
      ]),
    ],
    [
      "uuid.UUID('12345678-1234-5678-1234-567812345678')",
      new UUID('12345678-1234-5678-1234-567812345678'),
    ],
    ['slice(None, 5, None)', new Slice(null, 5)],
    ['range(1, 10, 2)', new Range(1, 10, 2)],
    [
      'functools.partial(max, 1, key=abs)',
      new Partial(new PyGlobal('builtins', 'max'), [1], { key: new PyGlobal('builtins', 'abs') }),
    ],
  ];
  test('each, at every protocol', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const [expr, v] of made) {
      for (const p of PROTOCOLS) {
        const d = await pythonSame(expr, dumps(v, { protocol: p }), p);
        if (d) failures.push(`${expr} @${p}: ${d}`);
      }
      if (pyRepr(v) !== (await pythonRepr(expr)) && !(v instanceof Date)) {
        failures.push(`${expr}: repr ${pyRepr(v)}`);
      }
    }
    report(failures);
  });
});

describe('conversions to the nearest JS types', () => {
  test('datetime: toDate(), isoformat() and utcOffset agree with Python', async (t) => {
    if (!needPython(t)) return;
    const exprs = [
      'datetime.datetime(2020, 1, 2, 3, 4, 5, 6000)',
      'datetime.datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=datetime.timezone.utc)',
      "datetime.datetime(2020, 1, 2, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(hours=-7, minutes=-30), 'X'))",
      "datetime.datetime(2020, 11, 1, 1, 30, tzinfo=zoneinfo.ZoneInfo('America/New_York'))",
      "datetime.datetime(2020, 11, 1, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo('America/New_York'))",
      "datetime.datetime(2020, 3, 8, 2, 30, tzinfo=zoneinfo.ZoneInfo('America/New_York'))",
      "datetime.datetime(2020, 3, 8, 2, 30, fold=1, tzinfo=zoneinfo.ZoneInfo('America/New_York'))",
      "datetime.datetime(2021, 7, 14, 12, tzinfo=zoneinfo.ZoneInfo('Australia/Lord_Howe'))",
    ];
    for (const expr of exprs) {
      const v = loads(await pythonPickle(expr, 4)) as PyDateTime;
      const r = await py.eval(
        `${HELPERS}import datetime as d\nv = h.value(${lit(expr)})\n` +
          `result = (v.isoformat(), (v if v.tzinfo else v.replace(tzinfo=d.timezone.utc)).timestamp())`,
      );
      const [iso, ts] = (r.tagged as { v: Array<{ v: string }> }).v.map((x) => x.v);
      assert.equal(v.isoformat(), iso, expr);
      assert.equal(v.toDate().getTime(), Math.floor(Number(ts) * 1000), expr);
    }
  });

  test('a naive datetime can be read as local time', () => {
    const d = new PyDateTime(2020, 6, 1, 12).toDate({ naive: 'local' });
    assert.deepEqual([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()], [2020, 5, 1, 12]);
  });

  test('timedelta, Decimal, Fraction, Range, UUID convert as Python computes', async (t) => {
    if (!needPython(t)) return;
    const r = await py.eval(
      `${HELPERS}import datetime, decimal, fractions, uuid\n` +
        `td = datetime.timedelta(days=-3, seconds=7, microseconds=11)\n` +
        `result = (repr(td.total_seconds()), str(td), repr(float(decimal.Decimal('1.10'))), ` +
        `repr(float(fractions.Fraction(1, 3))), list(range(10, -5, -3)), ` +
        `str(uuid.UUID(int=2**128 - 2)), str(fractions.Fraction(-6, 4)))`,
    );
    const [total, str, dec, frac, rng, u, fstr] = (r.tagged as { v: Array<{ v: unknown }> }).v;
    const td = new PyTimeDelta(-3, 7, 11);
    assert.equal(String(td.totalSeconds()), total!.v);
    assert.equal(td.toString(), str!.v);
    assert.equal(String(new Decimal('1.10').toNumber()), dec!.v);
    assert.equal(new Fraction(1, 3).toNumber(), Number(frac!.v));
    assert.deepEqual(
      [...new Range(10, -5, -3)],
      (rng!.v as Array<{ v: string }>).map((x) => Number(x.v)),
    );
    assert.equal(new Range(10, -5, -3).length, 5);
    assert.equal(new UUID(2n ** 128n - 2n).toString(), u!.v);
    assert.equal(new Fraction(-6, 4).toString(), fstr!.v);
  });

  test('invalid values are refused as Python refuses them', () => {
    assert.throws(() => new PyDate(2021, 2, 29), RangeError);
    assert.throws(() => new PyTime(24), RangeError);
    assert.throws(() => new PyTimeDelta(1_000_000_000), RangeError);
    assert.throws(() => new PyTimezone(new PyTimeDelta(1)), RangeError);
    assert.throws(() => new Decimal('1.2.3'), RangeError);
    assert.throws(() => new Fraction(1, 0), RangeError);
    assert.throws(() => new UUID('not a uuid'), RangeError);
    assert.throws(() => PyDateTime.fromDate(new Date(NaN)), RangeError);
  });
});

describe('namedtuples and enums: inert by default, named when registered', () => {
  test('a namedtuple instance: a PyObject with its values, or a NamedTuple once its fields are named', async (t) => {
    if (!needPython(t)) return;
    const registry = new Registry();
    registry.defineNamedTuple('objects_helpers', 'P', ['x', 'y']);
    for (const p of PROTOCOLS) {
      const data = await pythonPickle('P(1, [2])', p);
      const inert = loads(data) as PyObject;
      assert.ok(inert instanceof PyObject, `@${p}`);
      assert.equal(inert.className, p < 2 ? 'copyreg._reconstructor' : 'objects_helpers.P');
      const named = loads(data, { registry }) as NamedTuple;
      assert.ok(named instanceof NamedTuple, `@${p}: ${pyRepr(named)}`);
      assert.equal(named.get('x'), 1);
      assert.deepEqual(named.toObject(), { x: 1, y: [2] });
      assert.equal(pyRepr(named), 'P(x=1, y=[2])');
      for (const v of [inert, named]) {
        const again = dumps(v, { protocol: p });
        assert.equal(await pythonSame('P(1, [2])', again, p), undefined, `@${p}`);
        assert.equal(Buffer.compare(again, data), 0, `@${p}: bytes`);
      }
    }
  });

  test('an enum member: a PyObject holding its value, or an EnumMember once the class is defined', async (t) => {
    if (!needPython(t)) return;
    const registry = new Registry();
    registry.defineEnum('objects_helpers', 'Color', { RED: 1, GREEN: 'g' });
    for (const p of PROTOCOLS) {
      for (const [expr, name, value] of [
        ['Color.RED', 'RED', 1],
        ['Color.GREEN', 'GREEN', 'g'],
      ] as const) {
        const data = await pythonPickle(expr, p);
        const inert = loads(data) as PyObject;
        assert.deepEqual([inert.className, inert.args], ['objects_helpers.Color', tuple(value)]);
        const member = loads(data, { registry }) as EnumMember;
        assert.ok(member instanceof EnumMember);
        assert.deepEqual([member.name, member.value], [name, value]);
        assert.equal(pyRepr(member), await pythonRepr(expr));
        for (const v of [inert, member]) {
          assert.equal(
            await pythonSame(expr, dumps(v, { protocol: p }), p),
            undefined,
            `${expr} @${p}`,
          );
        }
      }
    }
  });
});
