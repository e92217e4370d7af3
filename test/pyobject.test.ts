/**
 * Inert unknown classes: CPython pickles instances of the classes in test/python/sample_classes.py
 * (REDUCE with 2 to 5 items, NEWOBJ, NEWOBJ_EX, `__setstate__`, list and dict subclasses, a nested
 * class, classes and functions as values); pickle-ts loads them as `PyObject`/`PyGlobal` with
 * the parts `__reduce_ex__` gives, and writes them back so that Python loads an equal object,
 * byte for byte as CPython wrote them. Also `fixImports` for Python 2 names.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { genops } from '../src/tools/genops.js';
import { difference } from './helpers/equal.js';
import { Partial, PyGlobal, PyObject, Tuple, dumps, loads, tuple } from './helpers/pickle.js';
import { hasPython, needPython, py } from './helpers/python.js';
import { fromTagged, type Tagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const MODULE = 'sample_classes';
const IMPORT = 'import pickle, copyreg, sample_classes as s\n';
const lit = (s: string) => JSON.stringify(s);

/**
 * How a sample pickles. `reduce`: its own `__reduce__`, the same at every protocol. `newobj`: the
 * default `__reduce_ex__` (copyreg._reconstructor below protocol 2, NEWOBJ from 2). `newobj_ex`:
 * as `newobj`, but NEWOBJ_EX from 4 and a functools.partial at 2-3. `global`: a class or a
 * function, pickled by name.
 */
type Family = 'reduce' | 'newobj' | 'newobj_ex' | 'global';

interface Sample {
  name: string;
  family: Family;
  /**
   * How the loaded structure is checked: against `__reduce_ex__` (`reduce`), against the
   * global's module and qualname (`global`), or by a dedicated test (`manual`, for samples whose
   * parts hold instances, which have no tagged form).
   */
  structure: 'reduce' | 'global' | 'manual';
  /** The protocols CPython can pickle it at. */
  protocols: number[];
}

const sampleTable: Array<[string, Family, Sample['structure'], number[]?]> = [
  ['Reduce2', 'reduce', 'reduce'],
  ['Reduce3', 'reduce', 'reduce'],
  ['Reduce4', 'reduce', 'reduce'],
  ['Reduce4 one item', 'reduce', 'reduce'],
  ['Reduce5', 'reduce', 'reduce'],
  ['Reduce5Both', 'reduce', 'reduce'],
  ['Plain', 'newobj', 'reduce'],
  ['Plain nested', 'newobj', 'manual'],
  ['WithNewArgs', 'newobj', 'reduce'],
  ['WithNewArgsEx', 'newobj_ex', 'reduce'],
  ['WithSetState', 'newobj', 'reduce'],
  ['MyList', 'newobj', 'reduce'],
  ['MyDict', 'newobj', 'reduce'],
  ['Outer.Inner', 'newobj', 'reduce'],
  ['Slots', 'newobj', 'reduce', [2, 3, 4, 5]],
  ['class Plain', 'global', 'global'],
  ['class Outer.Inner', 'global', 'global'],
  ['function', 'global', 'global'],
  ['Singleton', 'global', 'manual'],
  ['shared', 'newobj', 'manual'],
  ['globals shared', 'newobj', 'manual'],
  ['recursive', 'newobj', 'manual'],
];
const SAMPLES: Sample[] = sampleTable.map(([name, family, structure, protocols]) => ({
  name,
  family,
  structure,
  protocols: protocols ?? PROTOCOLS,
}));
const sampleNamed = (name: string) => SAMPLES.find((x) => x.name === name)!;

/** Protocols whose pickles of a sample CPython writes from the same reduce value. */
function group(family: Family, p: number): number {
  if (family === 'reduce' || family === 'global') return 0;
  if (family === 'newobj_ex') return p < 2 ? 0 : p < 4 ? 1 : 2;
  return p < 2 ? 0 : 1;
}

async function pyValue(code: string, data?: Uint8Array): Promise<Tagged> {
  const r = await py.eval(IMPORT + code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}\n${code}`);
  return r.tagged!;
}

/** Whether Python loads `data` to a value equal to the named sample. */
async function pyLoadsEqual(name: string, data: Uint8Array): Promise<string | undefined> {
  const r = await py.eval(IMPORT + `result = s.loads_equal(${lit(name)}, data)`, data);
  if (r.error) return `Python raised ${r.error.type}: ${r.error.message}`;
  const t = r.tagged as { t: string; v: unknown };
  return t.t === 'bool' && t.v === true ? undefined : 'Python loads a different value';
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function sameBytes(got: Uint8Array, want: Uint8Array): string | undefined {
  if (Buffer.compare(got, want) === 0) return undefined;
  let at = 0;
  while (at < got.length && got[at] === want[at]) at++;
  return `bytes differ at ${at}: want ${hex(want.subarray(at, at + 24))} got ${hex(got.subarray(at, at + 24))}`;
}

function opNames(b: Uint8Array): string[] {
  return [...genops(b)].map((o) => o.opcode.name);
}

function globalArgs(b: Uint8Array): string[] {
  return [...genops(b)].filter((o) => o.opcode.name === 'GLOBAL').map((o) => String(o.arg));
}

function report(failures: string[], total: number, what: string): void {
  assert.equal(
    failures.length,
    0,
    `${failures.length} failures in ${total} ${what}:\n  ${failures.join('\n  ')}`,
  );
}

const g = (name: string) => new PyGlobal(MODULE, name);

function pyObject(
  cls: unknown,
  args: Tuple,
  kind: PyObject['kind'],
  parts: { kwargs?: unknown; state?: unknown; listItems?: unknown[]; dictItems?: unknown[] } = {},
): PyObject {
  const o = new PyObject(cls, args, kind, parts.kwargs);
  o.state = parts.state;
  o.listItems = parts.listItems ?? [];
  o.dictItems = (parts.dictItems ?? []) as Array<[unknown, unknown]>;
  return o;
}

/**
 * The PyObject pickle-ts must give for a reduce value `(func, args, state, listitems,
 * dictitems)` as `s.reduce_info` describes it, following `save_reduce`: `copyreg.__newobj__`
 * from protocol 2 is NEWOBJ, `copyreg.__newobj_ex__` from protocol 4 is NEWOBJ_EX, a `None`
 * state writes no BUILD.
 */
function expectedFromReduce(info: Tagged, p: number): PyObject {
  const [func, args, state, listItems, dictItems] = fromTagged(info) as Tuple;
  const parts = {
    state: state === null ? undefined : state,
    listItems: (listItems ?? []) as unknown[],
    dictItems: (dictItems ?? []) as unknown[],
  };
  const f = func as PyGlobal;
  const a = args as Tuple;
  if (p >= 2 && f.module === 'copyreg' && f.name === '__newobj__') {
    return pyObject(a[0], tuple(...a.slice(1)), 'newobj', parts);
  }
  if (p >= 4 && f.module === 'copyreg' && f.name === '__newobj_ex__') {
    return pyObject(a[0], a[1] as Tuple, 'newobj_ex', { ...parts, kwargs: a[2] });
  }
  return pyObject(f, a, 'reduce', parts);
}

/**
 * Below protocol 4: `functools.partial(cls.__new__, cls, *args, **kwargs)()`, then BUILD. The
 * partial loads as a `Partial` (functools.partial is a built-in binding, held as data).
 */
function expectedFromPartial(info: Tagged): PyObject {
  const [partialReduce, state] = fromTagged(info) as Tuple;
  const [, , partialState] = partialReduce as Tuple;
  const [func, args, keywords, dict] = partialState as Tuple;
  const partial = new Partial(
    func,
    [...(args as Tuple)],
    keywords as Record<string, unknown> | null,
    dict,
  );
  return pyObject(partial, tuple(), 'reduce', { state });
}

describe('inert unknown classes (PyObject, PyGlobal) against CPython', () => {
  /** CPython's pickles of each sample at protocols 0-5. */
  const pickles = new Map<string, Uint8Array[]>();

  before(async () => {
    if (!hasPython()) return;
    for (const { name, protocols } of SAMPLES) {
      const t = await pyValue(
        `result = [s.dumps(${lit(name)}, p) if p in ${JSON.stringify(protocols)} else None` +
          ' for p in range(6)]',
      );
      pickles.set(name, fromTagged(t) as Uint8Array[]);
    }
  });

  test('CPython pickles of the samples load in CPython to equal values (sanity)', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const { name, protocols } of SAMPLES) {
      for (const p of protocols) {
        const d = await pyLoadsEqual(name, pickles.get(name)![p]!);
        if (d) failures.push(`${name} @${p}: ${d}`);
      }
    }
    report(failures, SAMPLES.length, 'samples');
  });

  test('CPython -> pickle-ts: each instance loads as the PyObject its __reduce_ex__ describes', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    let total = 0;
    for (const { name, family, structure, protocols } of SAMPLES) {
      if (structure !== 'reduce') continue;
      for (const p of protocols) {
        total++;
        const partial = family === 'newobj_ex' && p >= 2 && p < 4;
        const info = await pyValue(
          partial
            ? `result = s.partial_info(${lit(name)}, ${p})`
            : `result = s.reduce_info(${lit(name)}, ${p})`,
        );
        const expected = partial ? expectedFromPartial(info) : expectedFromReduce(info, p);
        try {
          const d = difference(loads(pickles.get(name)![p]!), expected);
          if (d) failures.push(`${name} @${p}: ${d}`);
        } catch (e) {
          failures.push(`${name} @${p}: threw ${String(e)}`);
        }
      }
    }
    report(failures, total, 'loads');
  });

  test('CPython -> pickle-ts: classes and functions load as PyGlobal with module and qualname', async (t) => {
    if (!needPython(t)) return;
    for (const { name, structure } of SAMPLES) {
      if (structure !== 'global') continue;
      const expected = fromTagged(await pyValue(`result = s.sample(${lit(name)})`)) as PyGlobal;
      assert.equal(expected.module, MODULE);
      for (const p of PROTOCOLS) {
        const v = loads(pickles.get(name)![p]!);
        assert.ok(v instanceof PyGlobal, `${name} @${p}: not a PyGlobal`);
        assert.equal(v.module, expected.module, `${name} @${p}`);
        assert.equal(v.name, expected.name, `${name} @${p}`);
        assert.equal(v.fullName, `${expected.module}.${expected.name}`);
        assert.equal(v.call, undefined, `${name} @${p}: an unknown global must stay inert`);
        assert.equal(v.construct, undefined);
      }
    }
  });

  test('round trip: loads then dumps at the same protocol reproduces CPython bytes, and Python loads it equal', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const { name, protocols } of SAMPLES) {
      for (const p of protocols) {
        const original = pickles.get(name)![p]!;
        try {
          for (const exact of [false, true]) {
            const again = dumps(loads(original, { exact }), { protocol: p, exact });
            const d = sameBytes(again, original);
            if (d) failures.push(`${name} @${p}${exact ? ' exact' : ''}: ${d}`);
            const e = await pyLoadsEqual(name, again);
            if (e) failures.push(`${name} @${p}${exact ? ' exact' : ''}: ${e}`);
          }
        } catch (e) {
          failures.push(`${name} @${p}: threw ${String(e)}`);
        }
      }
    }
    report(failures, SAMPLES.length, 'samples');
  });

  test('cross-protocol: loaded at any protocol, dumped at any other, Python loads it equal (CPython bytes where the reduce value is the same)', async (t) => {
    if (!needPython(t)) return;
    const failures: string[] = [];
    for (const { name, family, protocols } of SAMPLES) {
      const all = pickles.get(name)!;
      for (const p of protocols) {
        const value = loads(all[p]!);
        // Below protocol 2 CPython cannot pickle some samples, but pickle-ts writes REDUCE.
        for (const q of PROTOCOLS) {
          if (q === p) continue;
          try {
            const out = dumps(value, { protocol: q });
            const e = await pyLoadsEqual(name, out);
            if (e) failures.push(`${name} @${p} -> @${q}: ${e}`);
            if (protocols.includes(q) && group(family, p) === group(family, q)) {
              const d = sameBytes(out, all[q]!);
              if (d) failures.push(`${name} @${p} -> @${q}: ${d}`);
            }
          } catch (e) {
            failures.push(`${name} @${p} -> @${q}: threw ${String(e)}`);
          }
        }
      }
    }
    report(failures, SAMPLES.length, 'samples');
  });

  test('REDUCE with list and dict items: APPEND for one item, APPENDS/SETITEMS for more; order kept', (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const one = loads(pickles.get('Reduce4 one item')![p]!) as PyObject;
      assert.deepEqual(one.listItems, ['only']);
      assert.ok(opNames(pickles.get('Reduce4 one item')![p]!).includes('APPEND'));
      const both = loads(pickles.get('Reduce5Both')![p]!) as PyObject;
      assert.equal(both.kind, 'reduce');
      assert.equal(both.className, `${MODULE}.Reduce5Both`);
      assert.deepEqual(both.listItems, [1, 2, 3]);
      assert.deepEqual(both.dictItems, [
        ['e', 5],
        [6, 'six'],
      ]);
      assert.deepEqual(both.state, { note: 'both' });
      const ops = opNames(pickles.get('Reduce5Both')![p]!);
      const build = ops.lastIndexOf('BUILD');
      assert.ok(build > ops.lastIndexOf(p === 0 ? 'SETITEM' : 'SETITEMS'), `@${p}: ${ops}`);
    }
  });

  test('nested class: protocols 0-3 name it with getattr, 4-5 with STACK_GLOBAL; both load as Outer.Inner', (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      for (const name of ['Outer.Inner', 'class Outer.Inner']) {
        const b = pickles.get(name)![p]!;
        const ops = opNames(b);
        if (p < 4) {
          const getattr = p < 3 ? '__builtin__ getattr' : 'builtins getattr';
          assert.ok(globalArgs(b).includes(getattr), `${name} @${p}: ${globalArgs(b)}`);
          assert.ok(globalArgs(b).includes(`${MODULE} Outer`));
          assert.ok(!ops.includes('STACK_GLOBAL'));
        } else {
          assert.ok(ops.includes('STACK_GLOBAL') && !ops.includes('GLOBAL'), `@${p}: ${ops}`);
          assert.ok(!ops.includes('REDUCE'), `${name} @${p}: no getattr call`);
        }
        const v = loads(b);
        // Below protocol 2 an instance's class is an argument of copyreg._reconstructor.
        const cls = v instanceof PyObject ? (p < 2 ? v.args[0] : v.cls) : v;
        assert.ok(cls instanceof PyGlobal);
        assert.equal(cls.fullName, `${MODULE}.Outer.Inner`, `${name} @${p}`);
      }
    }
  });

  test('sharing: one instance reached three times is one PyObject; one class is one PyGlobal', (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const [a, r, c] = loads(pickles.get('shared')![p]!) as unknown[];
      assert.ok(a instanceof PyObject && r instanceof PyObject);
      assert.equal(a, c, `@${p}`);
      assert.equal(r.args[0], a);
      assert.equal(r.args[1], a);
      assert.equal(p < 2 ? (a.args[0] as PyGlobal).fullName : a.className, `${MODULE}.Plain`);
      const [cls1, fn, cls2, inst] = loads(pickles.get('globals shared')![p]!) as unknown[];
      assert.ok(cls1 instanceof PyGlobal && fn instanceof PyGlobal && inst instanceof PyObject);
      assert.equal(cls1, cls2, `@${p}`);
      // Below protocol 2 the instance's class is an argument of copyreg._reconstructor.
      assert.equal(p < 2 ? (inst.args[0] as unknown) : inst.cls, cls1, `@${p}`);
      assert.equal(fn.fullName, `${MODULE}.sample_function`);
    }
  });

  test('nested instances: PyObjects inside args, state and lists', (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const v = loads(pickles.get('Plain nested')![p]!) as PyObject;
      const state = v.state as { x: PyObject; y: PyObject[] };
      assert.ok(state.x instanceof PyObject, `@${p}`);
      assert.deepEqual(state.x.state, { x: 1, y: null });
      assert.ok(Array.isArray(state.y) && state.y[0] instanceof PyObject);
      const inner = state.y[0].state as { x: number; y: Uint8Array };
      assert.equal(inner.x, 2.5);
      assert.deepEqual([...inner.y], [...Buffer.from('bytes')]);
      assert.ok(inner.y.constructor === Uint8Array, 'bytes stay bytes');
    }
  });

  test('__slots__: the state is the pair (None, slot dict)', (t) => {
    if (!needPython(t)) return;
    for (const p of [2, 3, 4, 5]) {
      const v = loads(pickles.get('Slots')![p]!) as PyObject;
      assert.equal(v.kind, 'newobj');
      assert.equal(v.className, `${MODULE}.Slots`);
      assert.ok(v.state instanceof Tuple);
      assert.deepEqual([...v.state], [null, { s: 1, t: 'tee' }]);
    }
  });

  test('__reduce__ returning a string: the instance is a global, one object however often it appears', (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const [a, b] = loads(pickles.get('Singleton')![p]!) as PyGlobal[];
      assert.ok(a instanceof PyGlobal, `@${p}`);
      assert.equal(a.fullName, `${MODULE}.SINGLETON`);
      assert.equal(a, b);
    }
  });

  test('an object whose state holds itself loads as a PyObject that holds itself', (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const v = loads(pickles.get('recursive')![p]!) as PyObject;
      const state = v.state as { x: number; y: unknown[] };
      assert.equal(state.x, 1);
      assert.equal(state.y[0], v, `@${p}`);
    }
  });

  test('REDUCE with a 6th item (state_setter): the state survives a round trip', async (t) => {
    if (!needPython(t)) return;
    // CPython writes `set_state(obj, state)` as REDUCE then POP: the call must not be lost.
    const failures: string[] = [];
    for (const p of PROTOCOLS) {
      const original = await pyValue(`result = s.dumps('Reduce6', ${p})`);
      const data = fromTagged(original) as Uint8Array;
      const again = dumps(loads(data), { protocol: p });
      const e = await pyLoadsEqual('Reduce6', again);
      if (e) failures.push(`@${p}: ${e}`);
      const d = sameBytes(again, data);
      if (d) failures.push(`@${p}: ${d}`);
    }
    report(failures, PROTOCOLS.length, 'round trips');
  });

  test('NEWOBJ_EX PyObject dumped at protocols 0-3 uses copyreg.__newobj_ex__, and Python builds the object', async (t) => {
    if (!needPython(t)) return;
    for (const from of [4, 5]) {
      const v = loads(pickles.get('WithNewArgsEx')![from]!) as PyObject;
      assert.equal(v.kind, 'newobj_ex');
      assert.deepEqual(v.kwargs, { b: 'bee' });
      for (const p of [0, 1, 2, 3]) {
        const out = dumps(v, { protocol: p });
        const ops = opNames(out);
        assert.ok(!ops.includes('NEWOBJ_EX') && !ops.includes('NEWOBJ'), `@${p}: ${ops}`);
        const copyreg = p < 3 ? 'copy_reg __newobj_ex__' : 'copyreg __newobj_ex__';
        assert.ok(globalArgs(out).includes(copyreg), `@${p}: ${globalArgs(out)}`);
        assert.equal(await pyLoadsEqual('WithNewArgsEx', out), undefined, `@${from} -> @${p}`);
      }
    }
  });

  test('pickle-ts -> CPython: PyObjects built in JS load in Python as the real objects', async (t) => {
    if (!needPython(t)) return;
    const cases: Array<[sample: string, value: () => unknown, protocols: number[]]> = [
      ['Reduce2', () => pyObject(g('Reduce2'), tuple<unknown>(1, 'two'), 'reduce'), PROTOCOLS],
      [
        'Plain',
        () => pyObject(g('Plain'), tuple(), 'newobj', { state: { x: 10, y: 'wye' } }),
        PROTOCOLS,
      ],
      [
        'WithNewArgsEx',
        () =>
          pyObject(g('WithNewArgsEx'), tuple(1), 'newobj_ex', {
            kwargs: { b: 'bee' },
            state: { a: 1, b: 'bee' },
          }),
        PROTOCOLS,
      ],
      [
        'MyList',
        () =>
          pyObject(g('MyList'), tuple(), 'newobj', {
            listItems: [1, 'two', 3.5],
            state: { label: 'lbl' },
          }),
        PROTOCOLS,
      ],
      [
        'MyDict',
        () =>
          pyObject(g('MyDict'), tuple(), 'newobj', {
            dictItems: [
              ['k', 'v'],
              [9, null],
            ],
            state: { label: 'lbl' },
          }),
        PROTOCOLS,
      ],
      [
        'WithSetState',
        () =>
          pyObject(g('WithSetState'), tuple(), 'newobj', {
            state: tuple<unknown>('state', { deep: [1, 2] }),
          }),
        PROTOCOLS,
      ],
      [
        'Outer.Inner',
        () => pyObject(g('Outer.Inner'), tuple(), 'newobj', { state: { v: 'inner' } }),
        PROTOCOLS,
      ],
      ['function', () => g('sample_function'), PROTOCOLS],
      ['class Outer.Inner', () => g('Outer.Inner'), PROTOCOLS],
    ];
    const failures: string[] = [];
    for (const [sample, make, protocols] of cases) {
      for (const p of protocols) {
        const out = dumps(make(), { protocol: p });
        const e = await pyLoadsEqual(sample, out);
        if (e) failures.push(`${sample} @${p}: ${e}`);
        // Where CPython writes the same reduce value as protocol 5, the bytes are CPython's.
        const family = sampleNamed(sample).family;
        if (group(family, p) === group(family, 5)) {
          const d = sameBytes(out, pickles.get(sample)![p]!);
          if (d) failures.push(`${sample} @${p}: ${d}`);
        }
      }
    }
    report(failures, cases.length * PROTOCOLS.length, 'dumps');
  });

  test('INST and OBJ (Python 2 instances) load as kinds inst and obj and write back INST or OBJ', async (t) => {
    if (!needPython(t)) return;
    // What Python 2 wrote for an old-style instance: INST at protocol 0, OBJ from protocol 1,
    // then BUILD of its dict (keys as Python 2 str).
    const inst = Buffer.from(
      `(i${MODULE}\nPlain\np0\n(dp1\nS'x'\np2\nI1\nsS'y'\np3\nNsb.`,
      'latin1',
    );
    const obj = Buffer.from(
      `(c${MODULE}\nPlain\nq\x00oq\x01}q\x02(U\x01xq\x03K\x01U\x01yq\x04Nub.`,
      'latin1',
    );
    for (const [kind, py2] of [
      ['inst', inst],
      ['obj', obj],
    ] as const) {
      const v = loads(py2) as PyObject;
      assert.ok(v instanceof PyObject);
      assert.equal(v.kind, kind);
      assert.equal(v.className, `${MODULE}.Plain`);
      assert.equal(v.args.length, 0);
      assert.deepEqual(v.state, { x: 1, y: null });
      assert.deepEqual(fromTagged(await pyValue('result = pickle.loads(data).__dict__', py2)), {
        x: 1,
        y: null,
      });
      const again = Buffer.from(dumps(v, { protocol: 0 })).toString('latin1');
      assert.ok(again.startsWith(`(i${MODULE}\nPlain\n`), again);
      for (const p of PROTOCOLS) {
        const out = dumps(v, { protocol: p });
        assert.ok(opNames(out).includes(p === 0 ? 'INST' : 'OBJ'), `@${p}: ${opNames(out)}`);
        const r = await pyValue(
          'result = pickle.loads(data) == pickle.loads(bytes.fromhex(' +
            lit(hex(py2)) +
            ')) == s.Plain(1, None)',
          out,
        );
        assert.deepEqual(r, { t: 'bool', v: true }, `${kind} @${p}`);
      }
    }
  });

  describe('fixImports: Python 2 names at protocols 0-2', () => {
    /** Python 3 globals that protocols 0-2 write under a Python 2 name (some lossy). */
    const GLOBALS = [
      'set',
      'range',
      'functools.reduce',
      'copyreg._reconstructor',
      'collections.UserDict',
      'ConnectionError',
      'ValueError',
    ];
    interface Renamed {
      expr: string;
      /** What CPython writes at protocols 0-5, with and without fix_imports. */
      pickles: Uint8Array[];
      noFix: Uint8Array[];
      /** `module.name` CPython's find_class resolves each pickle's GLOBAL to (its renames). */
      loadedAs: string[];
    }
    const renamed: Renamed[] = [];

    before(async () => {
      if (!hasPython()) return;
      for (const expr of GLOBALS) {
        const r = fromTagged(
          await pyValue(
            'import functools, collections, pickletools, _compat_pickle as c\n' +
              `v = ${expr}\n` +
              'def loaded_as(data, proto):\n' +
              '    for op, arg, pos in pickletools.genops(data):\n' +
              "        if op.name == 'GLOBAL':\n" +
              "            m, n = arg.split(' ')\n" +
              '            if proto < 3:\n' +
              '                if (m, n) in c.NAME_MAPPING: m, n = c.NAME_MAPPING[(m, n)]\n' +
              '                elif m in c.IMPORT_MAPPING: m = c.IMPORT_MAPPING[m]\n' +
              "            return m + '.' + n\n" +
              "    return v.__module__ + '.' + v.__qualname__\n" +
              'ps = [pickle.dumps(v, p) for p in range(6)]\n' +
              'result = (ps, [pickle.dumps(v, p, fix_imports=False) for p in range(6)],' +
              ' [loaded_as(d, p) for p, d in enumerate(ps)])',
          ),
        ) as [Uint8Array[], Uint8Array[], string[]];
        renamed.push({ expr, pickles: r[0], noFix: r[1], loadedAs: r[2] });
      }
    });

    test('Python 2 names load as Python 3 names and are written back as CPython writes them', (t) => {
      if (!needPython(t)) return;
      for (const { expr, pickles: b, loadedAs, noFix } of renamed) {
        for (const p of PROTOCOLS) {
          if (p < 3) {
            assert.notDeepEqual(globalArgs(b[p]!), globalArgs(noFix[p]!), `${expr} is renamed`);
          }
          const v = loads(b[p]!);
          assert.ok(v instanceof PyGlobal, `${expr} @${p}`);
          assert.equal(v.fullName, loadedAs[p], `${expr} @${p}`);
          assert.equal(sameBytes(dumps(v, { protocol: p }), b[p]!), undefined, `${expr} @${p}`);
        }
      }
    });

    test('fixImports false: names stay as written, both ways, as fix_imports=False', (t) => {
      if (!needPython(t)) return;
      for (const { expr, pickles: b, noFix, loadedAs } of renamed) {
        for (const p of [0, 1, 2]) {
          const [py2Module, py2Name] = globalArgs(b[p]!)[0]!.split(' ');
          const v = loads(b[p]!, { fixImports: false });
          assert.ok(v instanceof PyGlobal);
          assert.equal(v.module, py2Module, `${expr} @${p}`);
          assert.equal(v.name, py2Name, `${expr} @${p}`);
          // The Python 3 name, written without renaming: CPython's fix_imports=False bytes.
          const py3 = loadedAs[3]!;
          const dot = py3.indexOf('.');
          const g3 = new PyGlobal(py3.slice(0, dot), py3.slice(dot + 1));
          const out = dumps(g3, { protocol: p, fixImports: false });
          assert.equal(sameBytes(out, noFix[p]!), undefined, `${expr} @${p}`);
        }
      }
    });

    test('protocol 3 does not rename: a Python 2 name stays, as Python fails to import it', async (t) => {
      if (!needPython(t)) return;
      const data = Buffer.from('\x80\x03c__builtin__\nset\nq\x00.', 'latin1');
      const v = loads(data);
      assert.ok(v instanceof PyGlobal);
      assert.equal(v.fullName, '__builtin__.set');
      const r = await py.load(data);
      assert.equal(r.error?.type, 'ModuleNotFoundError');
      const at2 = Buffer.from('\x80\x02c__builtin__\nset\nq\x00.', 'latin1');
      assert.equal((loads(at2) as PyGlobal).fullName, 'builtins.set');
      assert.equal((await py.load(at2)).error, undefined);
    });
  });
});
