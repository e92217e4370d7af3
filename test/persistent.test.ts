/**
 * Persistent IDs against CPython: PERSID (protocol 0, an ASCII text ID) and BINPERSID (1-5, any
 * pickled value). CPython's `Pickler.persistent_id` and `Unpickler.persistent_load` (see
 * RefPickler and RefUnpickler in test/python/sample_classes.py) against pickle-ts's
 * `persistentId` and `persistentLoad` hooks, both ways, byte for byte.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { genops } from '../src/tools/genops.js';
import { assertSameValue, difference } from './helpers/equal.js';
import {
  ErrorCode,
  PicklingError,
  Tuple,
  UnpicklingError,
  dumps,
  loads,
  tuple,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, type Tagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const IMPORT = 'import io, pickle, sample_classes as s\n';

/** Something kept outside the pickle, as sample_classes.Marker. */
class Marker {
  constructor(readonly n: number) {}
}

/** The JS counterpart of `s.ref_sample()`: markers (one reached twice) among plain values. */
function refSample(): unknown[] {
  const m = new Marker(1);
  return [m, 'x', { m: new Marker(2) }, m];
}

/** As RefPickler.persistent_id: "ref:N" at protocol 0, ("ref", N) from protocol 1. */
const refId = (protocol: number) => (v: unknown) =>
  v instanceof Marker ? (protocol === 0 ? `ref:${v.n}` : tuple<unknown>('ref', v.n)) : undefined;

/** As RefUnpickler.persistent_load. */
function refLoad(pid: unknown): Marker {
  if (typeof pid === 'string' && pid.startsWith('ref:')) return new Marker(Number(pid.slice(4)));
  if (pid instanceof Tuple && pid[0] === 'ref') return new Marker(pid[1] as number);
  throw new Error(`unknown persistent id ${String(pid)}`);
}

async function pyValue(code: string, data?: Uint8Array): Promise<Tagged> {
  const r = await py.eval(IMPORT + code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}\n${code}`);
  return r.tagged!;
}

const opNames = (b: Uint8Array): string[] => [...genops(b)].map((o) => o.opcode.name);

function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(
    Buffer.from(got).toString('hex'),
    Buffer.from(want).toString('hex'),
    `${what}: bytes differ from CPython's`,
  );
}

function assertMarkers(v: unknown, where: string): void {
  assert.ok(Array.isArray(v) && v.length === 4, where);
  const [a, x, d, b] = v as [Marker, string, { m: Marker }, Marker];
  assert.ok(a instanceof Marker && a.n === 1, where);
  assert.equal(x, 'x');
  assert.ok(d.m instanceof Marker && d.m.n === 2, where);
  assert.ok(b instanceof Marker && b.n === 1, where);
}

/**
 * Python code that pickles `value` at `protocol` with a Pickler whose persistent_id returns
 * `pid` when `when` holds for `obj`.
 */
function pyPickleWith(when: string, pid: string, value: string, protocol: number): string {
  return (
    'class P(pickle.Pickler):\n' +
    '    def persistent_id(self, obj):\n' +
    `        return (${pid}) if (${when}) else None\n` +
    `f = io.BytesIO()\nP(f, ${protocol}).dump(${value})\nresult = f.getvalue()`
  );
}

/** Python loads `data` with a persistent_load that gives ('loaded', pid): (value, pids). */
const PY_LOAD_TAGGING =
  'pids = []\n' +
  'class U(pickle.Unpickler):\n' +
  '    def persistent_load(self, pid):\n' +
  '        pids.append(pid)\n' +
  "        return ('loaded', pid)\n" +
  'result = (U(io.BytesIO(data)).load(), pids)';

describe('persistent IDs against CPython', () => {
  test('CPython -> pickle-ts: PERSID at protocol 0, BINPERSID at 1-5; persistentLoad gets the IDs Python wrote', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const data = await py.bytes(IMPORT + `result = s.dumps_refs(s.ref_sample(), ${p})`);
      const ops = opNames(data);
      assert.equal(ops.filter((o) => o === (p === 0 ? 'PERSID' : 'BINPERSID')).length, 3);
      assert.ok(!ops.includes(p === 0 ? 'BINPERSID' : 'PERSID'), `@${p}: ${ops}`);
      const pids: unknown[] = [];
      const v = loads(data, {
        persistentLoad: (pid) => {
          pids.push(pid);
          return refLoad(pid);
        },
      });
      assertMarkers(v, `@${p}`);
      // The IDs CPython's own persistent_load receives for these bytes.
      const pyPids = fromTagged(await pyValue('result = s.loads_refs(data)[1]', data));
      assertSameValue(pids, pyPids, `@${p} persistent IDs`);
      assert.equal(typeof pids[0], p === 0 ? 'string' : 'object');
    }
  });

  test('pickle-ts -> CPython: persistentId writes what RefPickler writes, and RefUnpickler loads it', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const want = await py.bytes(IMPORT + `result = s.dumps_refs(s.ref_sample(), ${p})`);
      const got = dumps(refSample(), { protocol: p, persistentId: refId(p) });
      sameBytes(got, want, `@${p}`);
      const r = await pyValue(
        'v, pids = s.loads_refs(data)\n' +
          'result = (v == s.ref_sample() and v[0] is not v[3], pids)',
        got,
      );
      const [equal, pids] = fromTagged(r) as [boolean, unknown[]];
      assert.equal(equal, true, `@${p}: Python loads a different value`);
      const expected =
        p === 0
          ? ['ref:1', 'ref:2', 'ref:1']
          : [tuple<unknown>('ref', 1), tuple<unknown>('ref', 2), tuple<unknown>('ref', 1)];
      assertSameValue(pids, expected, `@${p}`);
    }
  });

  test('round trip: loads with persistentLoad, dumps with persistentId reproduces CPython bytes', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const data = await py.bytes(IMPORT + `result = s.dumps_refs(s.ref_sample(), ${p})`);
      const v = loads(data, { persistentLoad: refLoad });
      sameBytes(dumps(v, { protocol: p, persistentId: refId(p) }), data, `@${p}`);
    }
  });

  test('edge IDs: falsy IDs (0, "", false) still persist, a number at protocol 0 is written as text', async (t) => {
    if (!needPython(t)) return;
    const cases: Array<[pyPid: string, jsPid: unknown, protocols: number[]]> = [
      ['42', 42, PROTOCOLS],
      ['0', 0, PROTOCOLS],
      ["''", '', [1, 2, 3, 4, 5]],
      ['False', false, [1, 2, 3, 4, 5]],
      ["('a', 'b', 'c', 'd')", tuple('a', 'b', 'c', 'd'), [1, 2, 3, 4, 5]],
      ["{'deep': [1.5, None]}", { deep: [1.5, null] }, [1, 2, 3, 4, 5]],
    ];
    for (const [pyPid, jsPid, protocols] of cases) {
      for (const p of protocols) {
        const want = await py.bytes(
          IMPORT + pyPickleWith("type(obj) is str and obj == 'far'", pyPid, "['far', 'near']", p),
        );
        const got = dumps(['far', 'near'], {
          protocol: p,
          persistentId: (v) => (v === 'far' ? jsPid : undefined),
        });
        sameBytes(got, want, `pid ${pyPid} @${p}`);
        // Both loaders hand the hook the same ID.
        const pyLoaded = fromTagged(await pyValue(PY_LOAD_TAGGING, got));
        const pids: unknown[] = [];
        const v = loads(got, {
          persistentLoad: (pid) => {
            pids.push(pid);
            return tuple('loaded', pid);
          },
        });
        const d = difference(tuple(v, pids), pyLoaded);
        assert.equal(d, undefined, `pid ${pyPid} @${p}: ${d}`);
      }
    }
  });

  test('the ID itself is not passed to persistentId again (a value that is its own ID)', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const value = "['@a', 'b', '@a', ['@c']]";
      const want = await py.bytes(
        IMPORT + pyPickleWith("type(obj) is str and obj.startswith('@')", 'obj', value, p),
      );
      const calls: unknown[] = [];
      const got = dumps(['@a', 'b', '@a', ['@c']], {
        protocol: p,
        persistentId: (v) => {
          calls.push(v);
          return typeof v === 'string' && v.startsWith('@') ? v : undefined;
        },
      });
      sameBytes(got, want, `@${p}`);
      assert.equal(calls.filter((c) => c === '@a').length, 2, 'once per occurrence, not for IDs');
      const pyLoaded = fromTagged(await pyValue(PY_LOAD_TAGGING, got)) as Tuple;
      const v = loads(got, { persistentLoad: (pid) => tuple('loaded', pid) });
      assertSameValue(v, pyLoaded[0], `@${p}`);
    }
  });

  test('no persistentLoad: PERSID and BINPERSID raise UnpicklingError PERSISTENT_LOAD, as in CPython', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const data = await py.bytes(IMPORT + `result = s.dumps_refs(s.ref_sample(), ${p})`);
      const pyErr = await py.load(data);
      assert.equal(pyErr.error?.type, 'UnpicklingError', `@${p}`);
      assert.throws(
        () => loads(data),
        (e: unknown) =>
          e instanceof UnpicklingError &&
          e.code === ErrorCode.PERSISTENT_LOAD &&
          e.opcode === (p === 0 ? 'PERSID' : 'BINPERSID') &&
          typeof e.offset === 'number' &&
          data[e.offset] === (p === 0 ? 0x50 : 0x51),
        `@${p}`,
      );
    }
  });

  test('protocol 0: a persistent ID that is not ASCII is a PicklingError, as in CPython', async (t) => {
    if (!needPython(t)) return;
    const r = await py.eval(
      IMPORT + pyPickleWith("type(obj) is str and obj == 'far'", "'caf\\xe9'", "['far']", 0),
    );
    assert.equal(r.error?.type, 'PicklingError');
    assert.throws(
      () => dumps(['far'], { protocol: 0, persistentId: (v) => (v === 'far' ? 'café' : null) }),
      (e: unknown) =>
        e instanceof PicklingError &&
        e.code === ErrorCode.PROTOCOL &&
        /ASCII/.test(e.message) &&
        e.path === 'value[0]',
    );
    // From protocol 1 the same ID is an ordinary pickled str.
    for (const p of [1, 2, 3, 4, 5]) {
      const want = await py.bytes(
        IMPORT + pyPickleWith("type(obj) is str and obj == 'far'", "'caf\\xe9'", "['far']", p),
      );
      const got = dumps(['far'], {
        protocol: p,
        persistentId: (v) => (v === 'far' ? 'café' : null),
      });
      sameBytes(got, want, `@${p}`);
    }
  });

  test("protocol 0: an ID that is not a str is written as Python's str() of it", async (t) => {
    if (!needPython(t)) return;
    // CPython's save_pers writes str(pid) at protocol 0: what Python's persistent_load then gets.
    const cases: Array<[pyPid: string, jsPid: unknown]> = [
      ['42', 42],
      ['2**70', 2n ** 70n],
      ['1.5', 1.5],
      ['True', true],
      ['1e16', 1e16],
      ['-0.0', -0],
      ["('a', 'b')", tuple('a', 'b')],
    ];
    const failures: string[] = [];
    for (const [pyPid, jsPid] of cases) {
      const want = await py.bytes(
        IMPORT + pyPickleWith("type(obj) is str and obj == 'far'", pyPid, "['far']", 0),
      );
      try {
        const got = dumps(['far'], {
          protocol: 0,
          persistentId: (v) => (v === 'far' ? jsPid : null),
        });
        const [w, g] = [want, got].map((b) => JSON.stringify(Buffer.from(b).toString('latin1')));
        if (w !== g) failures.push(`pid ${pyPid}: CPython writes ${w}, pickle-ts ${g}`);
      } catch (e) {
        failures.push(`pid ${pyPid}: threw ${String(e)}`);
      }
    }
    assert.equal(failures.length, 0, failures.join('\n'));
  });

  test('protocol 0: a text ID loads as the string (loads of a hand-written PERSID pickle)', async (t) => {
    if (!needPython(t)) return;
    const data = Buffer.from('(lp0\nPfile:a.txt\naP123\na.', 'latin1');
    const pyLoaded = fromTagged(await pyValue(PY_LOAD_TAGGING, data));
    const pids: unknown[] = [];
    const v = loads(data, {
      persistentLoad: (pid) => {
        pids.push(pid);
        return tuple('loaded', pid);
      },
    });
    assertSameValue(tuple(v, pids), pyLoaded);
    assert.deepEqual(pids, ['file:a.txt', '123']);
    // A non-ASCII protocol 0 ID cannot be loaded either.
    const bad = Buffer.from('Pcaf\xe9\n.', 'latin1');
    const pyBad = await py.eval(IMPORT + PY_LOAD_TAGGING, bad);
    assert.equal(pyBad.error?.type, 'UnpicklingError');
    assert.match(pyBad.error.message, /ASCII/);
    assert.throws(
      () => loads(bad, { persistentLoad: (pid) => pid }),
      (e: unknown) =>
        e instanceof UnpicklingError && e.opcode === 'PERSID' && /ASCII/.test(e.message),
    );
  });
});
