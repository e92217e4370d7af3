/**
 * Your own classes: real classes defined in test/python/sample_classes.py, mirrored and
 * registered in TS. A Python instance loads as an instance of the registered JS class and
 * dumps back to a Python instance equal to the original, for plain classes, __slots__,
 * __getstate__/__setstate__, __reduce__ of 2 to 6 items, __getnewargs__(_ex__), list and dict
 * subclasses and nested classes. And no constructor runs on load unless its class is registered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  PyGlobal,
  PyObject,
  Registry,
  STATE,
  UnpicklingError,
  allowlist,
  dumps,
  loads,
  tuple,
  type ReduceValue,
  type Tuple,
} from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const HELPERS = 'import objects_helpers as h\n';
const lit = (s: string) => JSON.stringify(s);
const S = 'sample_classes';

// --- JS mirrors of the Python classes ---------------------------------------------------------
class Plain {
  constructor(
    public x: unknown,
    public y: unknown,
  ) {}
}
class Slots {
  s: unknown;
  t: unknown;
}
class WithSetState {
  v: unknown;
  __getstate__(): unknown {
    return tuple('state', this.v);
  }
  __setstate__(state: unknown): void {
    this.v = (state as Tuple)[1];
  }
}
class Reduce2 {
  constructor(
    public a: unknown,
    public b: unknown,
  ) {}
}
class Reduce3 {
  extra: unknown = null;
  constructor(public a: unknown) {}
}
class Reduce4 {
  items: unknown[] = [];
  tag: unknown = null;
  constructor(public name: unknown) {}
  extend(xs: readonly unknown[]): void {
    this.items.push(...xs);
  }
}
class Reduce5 {
  entries = new Map<unknown, unknown>();
  __setitem__(k: unknown, v: unknown): void {
    this.entries.set(k, v);
  }
}
class Reduce6 {
  v: unknown = null;
}
class WithNewArgs {
  size: unknown;
}
class WithNewArgsEx {
  a: unknown;
  b: unknown;
}
class MyList extends Array<unknown> {
  label: unknown;
}
class MyDict extends Map<unknown, unknown> {
  label: unknown;
}
class Inner {
  v: unknown;
}

function registry(): Registry {
  const r = new Registry();
  r.register(S, 'Plain', Plain);
  r.register(S, 'Slots', Slots);
  r.register(S, 'WithSetState', WithSetState);
  r.register(S, 'Reduce2', Reduce2);
  r.register(S, 'Reduce3', Reduce3);
  r.register(S, 'Reduce4', Reduce4);
  r.register(S, 'Reduce5', Reduce5);
  r.register(S, 'Reduce6', Reduce6);
  r.register(S, 'WithNewArgs', WithNewArgs);
  r.register(S, 'WithNewArgsEx', WithNewArgsEx);
  r.register(S, 'MyList', MyList);
  r.register(S, 'MyDict', MyDict);
  r.register(S, 'Outer.Inner', Inner);
  return r;
}

/** Python expression, the JS class it loads as, its fields as JS sees them, the protocols. */
const CASES: Array<
  [string, abstract new (...a: never[]) => unknown, Record<string, unknown>, number[]]
> = [
  ["s.Plain(1, 'a')", Plain, { x: 1, y: 'a' }, PROTOCOLS],
  ['s.Slots(1, [2])', Slots, { s: 1, t: [2] }, [2, 3, 4, 5]],
  ['s.WithSetState(7)', WithSetState, { v: 7 }, PROTOCOLS],
  ["s.Reduce2(1, 'two')", Reduce2, { a: 1, b: 'two' }, PROTOCOLS],
  ["s.Reduce3([1], 'x')", Reduce3, { extra: 'x', a: [1] }, PROTOCOLS],
  ["s.Reduce4('n', [1, 2], 't')", Reduce4, { items: [1, 2], tag: 't', name: 'n' }, PROTOCOLS],
  [
    "s.Reduce5({'k': 1, 2: 'v'})",
    Reduce5,
    {
      entries: new Map<unknown, unknown>([
        ['k', 1],
        [2, 'v'],
      ]),
    },
    PROTOCOLS,
  ],
  ["s.Reduce6('six')", Reduce6, { v: 'six' }, PROTOCOLS],
  ['s.WithNewArgs(3)', WithNewArgs, { size: 3 }, [2, 3, 4, 5]],
  ["s.WithNewArgsEx(1, b='b')", WithNewArgsEx, { a: 1, b: 'b' }, [2, 3, 4, 5]],
  ["s.MyList([1, 2], label='L')", MyList, { label: 'L' }, PROTOCOLS],
  ["s.MyDict({'a': 1}, label='D')", MyDict, { label: 'D' }, PROTOCOLS],
  ['s.Outer.Inner(5)', Inner, { v: 5 }, PROTOCOLS],
];

async function pythonPickle(expr: string, p: number): Promise<Uint8Array> {
  return py.bytes(`${HELPERS}result = h.dumps(${lit(expr)}, ${p})`);
}

async function pythonSame(expr: string, data: Uint8Array, p: number): Promise<string | undefined> {
  const r = await py.eval(`${HELPERS}result = h.same(${lit(expr)}, data, ${p})`, data);
  if (r.error) return `${r.error.type}: ${r.error.message}`;
  const t = r.tagged as { t: string; v?: string };
  return t.t === 'None' ? undefined : (t.v ?? t.t);
}

function fields(v: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) if (!/^\d+$/.test(k)) out[k] = (v as Record<string, unknown>)[k];
  return out;
}

function report(failures: string[]): void {
  assert.equal(
    failures.length,
    0,
    `${failures.length} failures:\n  ${failures.slice(0, 30).join('\n  ')}`,
  );
}

describe('registered classes: Python instance -> JS instance -> Python instance', () => {
  test('each sample class at every protocol it pickles at', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const [expr, cls, expected, protocols] of CASES) {
      for (const p of protocols) {
        const data = await pythonPickle(expr, p);
        const r = registry();
        let v: unknown;
        try {
          v = loads(data, { registry: r });
        } catch (e) {
          failures.push(`${expr} @${p}: ${String(e)}`);
          continue;
        }
        if (!(v instanceof (cls as unknown as abstract new () => unknown))) {
          failures.push(`${expr} @${p}: loaded as ${(v as object)?.constructor?.name}`);
          continue;
        }
        try {
          assert.deepEqual(fields(v as object), expected);
        } catch {
          failures.push(
            `${expr} @${p}: fields ${JSON.stringify(fields(v as object), (_k, x) => (x instanceof Map ? [...x] : x))}`,
          );
        }
        for (const q of protocols) {
          const d = await pythonSame(expr, dumps(v, { protocol: q, registry: r }), q);
          if (d) failures.push(`${expr} loaded @${p}, dumped @${q}: Python loads ${d}`);
        }
      }
    }
    report(failures);
  });

  test('list and dict subclasses keep their items', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const l = loads(await pythonPickle("s.MyList([1, 2], label='L')", p), {
        registry: registry(),
      }) as MyList;
      assert.ok(Array.isArray(l) && l instanceof MyList);
      assert.deepEqual([...l], [1, 2]);
      const d = loads(await pythonPickle("s.MyDict({'a': 1}, label='D')", p), {
        registry: registry(),
      }) as MyDict;
      assert.ok(d instanceof Map && d instanceof MyDict);
      assert.deepEqual([...d], [['a', 1]]);
    }
  });

  test('instances made in JS pickle as Python instances (plain class pickling)', async (t) => {
    if (!needPython(t)) return;
    const r = registry();
    const made: Array<[string, unknown, number[]]> = [
      ["s.Plain(1, 'a')", new Plain(1, 'a'), PROTOCOLS],
      ["s.Reduce2(1, 'two')", new Reduce2(1, 'two'), PROTOCOLS],
      ['s.Outer.Inner(5)', Object.assign(new Inner(), { v: 5 }), PROTOCOLS],
      [
        "s.MyList([1, 2], label='L')",
        Object.assign(MyList.from([1, 2]) as MyList, { label: 'L' }),
        PROTOCOLS,
      ],
      [
        "s.MyDict({'a': 1}, label='D')",
        Object.assign(new MyDict([['a', 1]]), { label: 'D' }),
        PROTOCOLS,
      ],
      ['s.WithSetState(7)', Object.assign(new WithSetState(), { v: 7 }), PROTOCOLS],
    ];
    const failures: string[] = [];
    for (const [expr, v, protocols] of made) {
      for (const p of protocols) {
        const d = await pythonSame(expr, dumps(v, { protocol: p, registry: r }), p);
        if (d) failures.push(`${expr} @${p}: ${d}`);
      }
    }
    report(failures);
  });

  test('plain classes and nested classes are byte-identical with CPython both ways', async (t) => {
    if (!needPython(t)) return;
    const r = registry();
    for (const expr of ["s.Plain(1, 'a')", 's.Outer.Inner(5)', "s.MyList([1, 2], label='L')"]) {
      for (const p of PROTOCOLS) {
        const data = await pythonPickle(expr, p);
        const again = dumps(loads(data, { registry: r }), { protocol: p, registry: r });
        assert.equal(
          Buffer.from(again).toString('hex'),
          Buffer.from(data).toString('hex'),
          `${expr} @${p}`,
        );
      }
    }
  });

  test('custom reduce and restore functions, symmetric', async (t) => {
    if (!needPython(t)) return;
    const r = new Registry();
    const g: PyGlobal = r.register(S, 'Reduce2', Reduce2, {
      reduce: (v): ReduceValue => [g, tuple(v.a, v.b)],
    });
    r.register(S, 'WithSetState', WithSetState, {
      restore: (v, state) => {
        v.v = (state as Tuple)[1];
      },
      reduce: (v) => [
        new PyGlobal('copyreg', '__newobj__'),
        tuple(r.resolve(S, 'WithSetState')!),
        tuple('state', v.v),
      ],
    });
    for (const p of PROTOCOLS) {
      const data = await pythonPickle("s.Reduce2(1, 'two')", p);
      const v = loads(data, { registry: r }) as Reduce2;
      assert.deepEqual([v.a, v.b], [1, 'two']);
      assert.equal(
        Buffer.compare(dumps(v, { protocol: p, registry: r }), data),
        0,
        `Reduce2 @${p}: CPython's bytes`,
      );
      const w = loads(await pythonPickle('s.WithSetState(9)', p), { registry: r }) as WithSetState;
      assert.equal(w.v, 9);
      assert.equal(
        await pythonSame('s.WithSetState(9)', dumps(w, { protocol: p, registry: r }), p),
        undefined,
      );
    }
  });

  test('a state that cannot become fields is kept and written back', async (t) => {
    if (!needPython(t)) return;
    class Opaque {}
    const r = new Registry();
    r.register(S, 'WithSetState', Opaque);
    const v = loads(await pythonPickle('s.WithSetState(3)', 2), { registry: r }) as Opaque & {
      [STATE]?: unknown;
    };
    assert.deepEqual(v[STATE], tuple<unknown>('state', 3));
    assert.equal(
      await pythonSame('s.WithSetState(3)', dumps(v, { protocol: 2, registry: r }), 2),
      undefined,
    );
  });
});

describe('nothing runs on load unless you registered it', () => {
  let constructed = 0;
  class Tracked {
    x: unknown;
    constructor() {
      constructed++;
    }
    set y(_v: unknown) {
      constructed += 100;
    }
  }

  test('an unregistered class is never constructed: it stays a PyObject', async (t) => {
    if (!needPython(t)) return;
    constructed = 0;
    for (const expr of [
      "s.Plain(1, 'a')",
      "s.Reduce2(1, 'two')",
      's.WithNewArgs(3)',
      's.Slots(1, 2)',
    ]) {
      for (const p of expr.includes('Slots') || expr.includes('NewArgs')
        ? [2, 3, 4, 5]
        : PROTOCOLS) {
        const v = loads(await pythonPickle(expr, p));
        assert.ok(v instanceof PyObject, `${expr} @${p}`);
      }
    }
    assert.equal(constructed, 0);
  });

  test('a registered class is not constructed for NEWOBJ (as __new__ skips __init__), and BUILD sets no setters', async (t) => {
    if (!needPython(t)) return;
    const r = new Registry();
    r.register(S, 'Plain', Tracked);
    constructed = 0;
    for (const p of PROTOCOLS) {
      const v = loads(await pythonPickle("s.Plain(1, 'a')", p), { registry: r }) as Tracked & {
        y: unknown;
      };
      assert.ok(v instanceof Tracked);
      assert.deepEqual([v.x, Object.getOwnPropertyDescriptor(v, 'y')?.value], [1, 'a']);
    }
    assert.equal(constructed, 0, 'no constructor, no setter');
  });

  test('dangerous globals stay inert by default, and an allowlist refuses them', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes(
      "import os\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ('echo pwned',))\nresult = pickle.dumps(Evil(), 2)",
    );
    const v = loads(data) as PyObject;
    assert.ok(v instanceof PyObject);
    assert.equal(v.className, 'posix.system');
    assert.deepEqual(v.args, tuple('echo pwned'));
    assert.throws(
      () => loads(data, { findClass: allowlist(['datetime:*', 'collections:OrderedDict']) }),
      (e: unknown) =>
        e instanceof UnpicklingError &&
        e.code === 'GLOBAL_BLOCKED' &&
        /posix\.system is not in the allowlist/.test(e.message),
    );
    const ok = await pythonPickle('datetime.datetime(2020, 1, 2)', 2);
    assert.equal(
      String(loads(ok, { findClass: allowlist(['datetime:*', ['_codecs', 'encode']]) })),
      '2020-01-02 00:00:00',
    );
    assert.throws(() => allowlist(['datetime.datetime']), /module:qualname/);
  });
});
