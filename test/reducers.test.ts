/**
 * The pickler's extension points (`reducers`, Python's dispatch_table, and `reducerOverride`)
 * and the unpickler's (`findClass`, `Registry`), checked against CPython: a JS class reduced to
 * a Python class's reduce value pickles to the bytes CPython writes for that class.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Complex,
  FrozenSet,
  PyGlobal,
  PyObject,
  PicklingError,
  Registry,
  Tuple,
  UnpicklingError,
  dumps,
  loads,
  tuple,
  type ReduceValue,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];

/** A JS class standing for sample_classes.Reduce2 / Reduce3 / Plain / SINGLETON. */
class Point {
  constructor(
    readonly a: unknown,
    readonly b: unknown,
  ) {}
}
class Labelled {
  constructor(
    readonly a: unknown,
    readonly extra: unknown,
  ) {}
}
class PlainJs {
  constructor(
    readonly x: unknown,
    readonly y: unknown,
  ) {}
}
class One {}
class Unregistered {}

const reduce2 = new PyGlobal('sample_classes', 'Reduce2');
const reduce3 = new PyGlobal('sample_classes', 'Reduce3');
const plain = new PyGlobal('sample_classes', 'Plain');
const newobj = new PyGlobal('copyreg', '__newobj__');

const reducers = new Map<abstract new (...args: never[]) => unknown, (v: never) => ReduceValue>([
  [Point, (p: Point) => [reduce2, tuple(p.a, p.b)]],
  [Labelled, (l: Labelled) => [reduce3, tuple(l.a), { extra: l.extra }]],
  [PlainJs, (p: PlainJs) => [newobj, tuple(plain), { x: p.x, y: p.y }]],
  [One, () => new PyGlobal('sample_classes', 'SINGLETON')],
]);

async function pythonBytes(expr: string, protocol: number): Promise<Uint8Array> {
  return py.bytes(
    `import sample_classes\nfrom sample_classes import *\nresult = pickle.dumps(${expr}, ${protocol})`,
  );
}

describe('reducers (dispatch table)', () => {
  const cases: Array<[string, unknown, string, number[]]> = [
    ['2-item reduce', new Point(1, 'two'), "Reduce2(1, 'two')", PROTOCOLS],
    ['3-item reduce with a state dict', new Labelled([1], 'x'), "Reduce3([1], 'x')", PROTOCOLS],
    [
      '__newobj__ with state (NEWOBJ from protocol 2)',
      new PlainJs(1, 2),
      'Plain(1, 2)',
      [2, 3, 4, 5],
    ],
    ['a global (Python __reduce__ returning a name)', new One(), 'SINGLETON', PROTOCOLS],
    [
      'in a container, shared',
      (() => {
        const p = new Point(3, 4);
        return [p, p];
      })(),
      '[Reduce2(3, 4)] * 2',
      PROTOCOLS,
    ],
  ];
  for (const [name, value, expr, protocols] of cases) {
    test(`${name}: byte-identical with CPython's pickle of ${expr}`, async (t) => {
      if (!needPython(t)) return;
      for (const p of protocols) {
        const want = await pythonBytes(expr, p);
        const got = dumps(value, { protocol: p, reducers });
        assert.equal(
          Buffer.from(got).toString('hex'),
          Buffer.from(want).toString('hex'),
          `protocol ${p}`,
        );
      }
    });
  }

  test('a class without a reducer names its path and says how to fix it', () => {
    assert.throws(
      () => dumps({ items: [new Unregistered()] }),
      (e: unknown) =>
        e instanceof PicklingError &&
        e.code === 'UNPICKLABLE' &&
        e.path === 'value.items[0]' &&
        /cannot pickle Unregistered instance: add a reducer/.test(e.message),
    );
  });

  test('a reducer that returns something else is a clear error', () => {
    const bad = new Map([[Point, () => 42 as unknown as ReduceValue]]);
    assert.throws(
      () => dumps(new Point(1, 2), { reducers: bad }),
      (e: unknown) =>
        e instanceof PicklingError &&
        /must return a PyGlobal or an array of 2 to 6 items/.test(e.message),
    );
  });
});

describe('reducerOverride', () => {
  test('is asked about the same values, in the same order, as CPython asks', async (t) => {
    if (!needPython(t)) return;
    const seen: string[] = [];
    const value = [
      1,
      2.5,
      'str',
      10n ** 30n,
      true,
      null,
      tuple(1),
      { a: 1 },
      new Map([[1, 2]]),
      new Set([1]),
      new FrozenSet([2]),
      new Uint8Array(1),
      new Complex(1, 2),
      new PyObject(reduce2, tuple(1, 2)),
    ];
    dumps(value, {
      reducerOverride: (v) => {
        // Python's names for what pickle-ts models: a PyGlobal is a class, a PyObject an instance.
        seen.push(
          v instanceof PyGlobal
            ? 'type'
            : v instanceof PyObject
              ? (v.cls as PyGlobal).name
              : 'complex',
        );
        return undefined;
      },
    });
    const r = await py.eval(`
import io, sample_classes
seen = []
class P(pickle.Pickler):
    def reducer_override(self, obj):
        seen.append(type(obj).__name__)
        return NotImplemented
P(io.BytesIO(), 4).dump([1, 2.5, 'str', 10**30, True, None, (1,), {'a': 1}, {1: 2}, {1}, frozenset([2]),
                          b'\\0', 1+2j, sample_classes.Reduce2(1, 2)])
result = seen`);
    const python = (r.tagged as { v: Array<{ v: string }> }).v.map((x) => x.v);
    // None, bools, ints, floats, str, bytes, dict, set, frozenset, list and tuple are never asked.
    assert.deepEqual(seen, python);
    assert.deepEqual(seen, ['complex', 'type', 'Reduce2', 'type']);
  });

  test('overrides the reducer table and the built-in reduction of other objects', async (t) => {
    if (!needPython(t)) return;
    const override = (v: unknown): ReduceValue | undefined =>
      v instanceof Complex ? [reduce2, tuple(v.re, v.im)] : undefined;
    for (const p of PROTOCOLS) {
      const got = dumps(new Complex(1, 2), { protocol: p, reducerOverride: override, exact: true });
      const want = await pythonBytes('Reduce2(1.0, 2.0)', p);
      assert.equal(
        Buffer.from(got).toString('hex'),
        Buffer.from(want).toString('hex'),
        `protocol ${p}`,
      );
    }
  });
});

describe('findClass and Registry', () => {
  test('findClass sees Python 3 names, and its globals are used by REDUCE', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const data = await pythonBytes("[Reduce2(1, 'two'), Reduce2(3, 4)]", p);
      const asked: string[] = [];
      const v = loads(data, {
        findClass: (module, name) => {
          asked.push(`${module}.${name}`);
          if (module === 'sample_classes' && name === 'Reduce2') {
            return new PyGlobal(module, name, { call: (args) => new Point(args[0], args[1]) });
          }
          return undefined;
        },
      });
      assert.deepEqual(v, [new Point(1, 'two'), new Point(3, 4)], `protocol ${p}`);
      assert.deepEqual(asked, ['sample_classes.Reduce2'], 'one call per name');
    }
  });

  test('findClass can refuse a global: GLOBAL_BLOCKED, located at the opcode', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes('import os\nresult = pickle.dumps(os.system, 2)');
    assert.throws(
      () =>
        loads(data, {
          findClass: (module, name) => {
            throw new Error(`${module}.${name} is not allowed`);
          },
        }),
      (e: unknown) =>
        e instanceof UnpicklingError &&
        e.code === 'GLOBAL_BLOCKED' &&
        e.opcode === 'GLOBAL' &&
        /posix\.system/.test(e.message),
    );
    // Without a hook, the same global is inert: nothing is imported or run.
    const g = loads(data);
    assert.ok(g instanceof PyGlobal && g.module === 'posix' && g.name === 'system');
  });

  test('a Registry binding gives a global behaviour; other names stay inert', async (t) => {
    if (!needPython(t)) return;
    const registry = new Registry();
    registry.defineGlobal('sample_classes', 'Reduce2', {
      call: (args) => new Point(args[0], args[1]),
    });
    for (const p of PROTOCOLS) {
      const data = await pythonBytes("[Reduce2(1, 2), Reduce3('a', 'b'), {3, 4}]", p);
      const [pt, other, set] = loads(data, { registry }) as [unknown, PyObject, Set<unknown>];
      assert.deepEqual(pt, new Point(1, 2));
      assert.ok(other instanceof PyObject && other.className === 'sample_classes.Reduce3');
      assert.deepEqual(set, new Set([3, 4]), 'built-in bindings still apply');
    }
    assert.throws(() => new Registry().seal().defineGlobal('a', 'b', {}), /sealed/);
  });

  test('a binding that builds with NEWOBJ gets the class arguments', async (t) => {
    if (!needPython(t)) return;
    const registry = new Registry();
    registry.defineGlobal('sample_classes', 'Plain', {
      construct: (args) => ({ constructed: args }),
    });
    const data = await pythonBytes('Plain(1, 2)', 2);
    // Plain's state is applied by BUILD, which only inert objects and registered classes take.
    assert.throws(
      () => loads(data, { registry }),
      (e: unknown) =>
        e instanceof UnpicklingError && e.code === 'BAD_OPERAND' && e.opcode === 'BUILD',
    );
    const inert = loads(data) as PyObject;
    assert.equal(inert.kind, 'newobj');
    assert.deepEqual(inert.state, { x: 1, y: 2 });
    assert.ok(inert.args instanceof Tuple && inert.args.length === 0);
  });
});
