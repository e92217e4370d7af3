/**
 * Committed fixtures (test/fixtures/, written by make_fixtures.py): pickles written by Python 2.7
 * (pickle and cPickle, protocols 0-2) and hand-made pickles for opcodes CPython 3 never writes.
 * Each loads in pickle-ts, with the same `encoding` ('ASCII', 'latin1', 'bytes'), to what
 * python3's `pickle.loads` gave (expected.json), or fails where Python failed. Runs without
 * python3; with it, a last test checks that expected.json is still what python3 gives.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { genops } from '../src/tools/genops.js';
import { assertSameValue } from './helpers/equal.js';
import {
  ExtensionRegistry,
  OPCODE_BY_CODE,
  PyObject,
  Tuple,
  UnpicklingError,
  isArrayIndexKey,
  loads,
  tuple,
  type PyObjectKind,
  type UnpicklerOptions,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, type Mode, type Tagged } from './helpers/tagged.js';

/** Tagged JSON plus the form test/python/fixture_expect.py gives inert instances. */
interface ObjectTagged {
  t: 'object';
  id: number;
  kind: PyObjectKind;
  cls: FixtureTagged;
  args: FixtureTagged;
  kwargs?: FixtureTagged;
  state?: FixtureTagged;
  listItems: FixtureTagged[];
  dictItems: Array<[FixtureTagged, FixtureTagged]>;
}
type FixtureTagged = Tagged | ObjectTagged;

type Result = { value: FixtureTagged } | { error: string };
const ENCODINGS = ['ASCII', 'latin1', 'bytes'] as const;
type Encoding = (typeof ENCODINGS)[number];

interface Fixture {
  name: string;
  file: string;
  sha256: string;
  opcodes: string[];
  persistent?: boolean;
  extensions?: Array<[string, string, number]>;
  results: Record<Encoding, Result>;
}
interface Py2Fixture extends Fixture {
  pickler: 'pickle' | 'cPickle';
  protocol: number;
}
interface HandmadeFixture extends Fixture {
  description: string;
}
interface ExpectedFile {
  python2: string;
  encodings: string[];
  py2: Py2Fixture[];
  handmade: HandmadeFixture[];
}

const DIR = new URL('./fixtures/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as ExpectedFile;
const read = (file: string) => new Uint8Array(readFileSync(new URL(file, DIR)));

/** The JS value pickle-ts should give: fromTagged, plus PyObject for "object" nodes. */
function expectedValue(root: FixtureTagged, mode: Mode): unknown {
  const objs = new Map<number, unknown>();
  const reg = <T>(id: number, v: T): T => {
    objs.set(id, v);
    return v;
  };
  const dec = (t: FixtureTagged): unknown => {
    switch (t.t) {
      case 'ref':
        if (!objs.has(t.id)) throw new Error(`tagged ref ${t.id} before its object`);
        return objs.get(t.id);
      case 'object': {
        const o = reg(t.id, new PyObject(null, new Tuple(), t.kind));
        o.cls = dec(t.cls);
        o.args = dec(t.args) as Tuple;
        if (t.kwargs !== undefined) o.kwargs = dec(t.kwargs);
        if (t.state !== undefined) o.state = dec(t.state);
        o.listItems = t.listItems.map(dec);
        o.dictItems = t.dictItems.map(([k, v]) => [dec(k), dec(v)]);
        return o;
      }
      case 'tuple': {
        const v = reg(t.id, new Tuple());
        t.v.forEach((x, i) => (v[i] = dec(x)));
        return v;
      }
      case 'list': {
        const v = reg(t.id, [] as unknown[]);
        for (const x of t.v) v.push(dec(x));
        return v;
      }
      case 'set':
      case 'frozenset': {
        // No instances inside sets in the fixtures: fromTagged builds them whole.
        return reg(t.id, fromTagged(t, mode));
      }
      case 'dict': {
        const plain = t.v.every(
          ([k]) => k.t === 'str' && k.v !== '__proto__' && !isArrayIndexKey(k.v),
        );
        if (plain) {
          const v = reg(t.id, {} as Record<string, unknown>);
          for (const [k, x] of t.v) v[(k as { v: string }).v] = dec(x);
          return v;
        }
        const v = reg(t.id, new Map<unknown, unknown>());
        for (const [k, x] of t.v) {
          const key = dec(k);
          v.set(key, dec(x));
        }
        return v;
      }
      default: {
        const v = fromTagged(t, mode);
        if ('id' in t) reg(t.id, v);
        return v;
      }
    }
  };
  return dec(root);
}

function options(f: Fixture, encoding: Encoding, exact: boolean): UnpicklerOptions {
  const o: UnpicklerOptions = { encoding, exact };
  if (f.persistent) o.persistentLoad = (pid) => tuple('pid', pid);
  if (f.extensions) {
    const ext = new ExtensionRegistry();
    for (const [module, name, code] of f.extensions) ext.add(module, name, code);
    o.extensions = ext;
  }
  return o;
}

/** Loads `f` under every encoding and both modes; returns the mismatches with Python. */
function mismatches(f: Fixture): string[] {
  const data = read(f.file);
  const out: string[] = [];
  for (const encoding of ENCODINGS) {
    const want = f.results[encoding];
    for (const exact of [false, true]) {
      const where = `encoding=${encoding}${exact ? ', exact' : ''}`;
      let got: unknown;
      try {
        got = loads(data, options(f, encoding, exact));
      } catch (e) {
        if ('error' in want) {
          if (!(e instanceof UnpicklingError))
            out.push(`${where}: Python raised ${want.error}; pickle-ts threw ${String(e)}`);
        } else {
          out.push(`${where}: Python loaded it; pickle-ts threw ${String(e)}`);
        }
        continue;
      }
      if ('error' in want) {
        out.push(`${where}: Python raised ${want.error}; pickle-ts loaded it`);
        continue;
      }
      try {
        assertSameValue(got, expectedValue(want.value, { exact }));
      } catch (e) {
        out.push(`${where}: ${(e as Error).message}`);
      }
    }
  }
  return out;
}

/**
 * The opcodes of a pickle, skipping each argument by the size the opcode table gives it (nothing
 * is decoded), up to STOP or the first opcode that is unknown or cut short: as make_fixtures.py
 * lists them with pickletools' table.
 */
function opcodeNames(data: Uint8Array): string[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const lengthField: Record<number, [number, (at: number) => number]> = {
    [-2]: [1, (at) => view.getUint8(at)],
    [-3]: [4, (at) => view.getInt32(at, true)],
    [-4]: [4, (at) => view.getUint32(at, true)],
    [-5]: [8, (at) => Number(view.getBigUint64(at, true))],
  };
  const names: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const op = OPCODE_BY_CODE[data[pos]!];
    if (op === undefined) break;
    pos++;
    if (op.arg !== null) {
      const n = op.arg.n;
      if (n >= 0) {
        pos += n;
      } else if (n === -1) {
        for (let lines = op.arg.name === 'stringnl_noescape_pair' ? 2 : 1; lines > 0; lines--) {
          const nl = data.indexOf(0x0a, pos);
          pos = nl < 0 ? data.length + 1 : nl + 1;
        }
      } else {
        const [size, read] = lengthField[n]!;
        if (pos + size > data.length) break;
        pos += size + read(pos);
      }
    }
    if (pos > data.length) break;
    names.push(op.name);
    if (op.name === 'STOP') break;
  }
  return names;
}

/** genops' opcode names, or `undefined` if it cannot read the whole pickle. */
function genopsNames(data: Uint8Array): string[] | undefined {
  try {
    return [...genops(data)].map((op) => op.opcode.name);
  } catch {
    return undefined;
  }
}

const all: Fixture[] = [...expected.py2, ...expected.handmade];

describe('fixtures: the committed files', () => {
  test('expected.json describes every fixture, with its hash and opcodes', () => {
    assert.deepEqual(expected.encodings, [...ENCODINGS]);
    assert.ok(expected.py2.length >= 200, `only ${expected.py2.length} Python 2 fixtures`);
    assert.ok(expected.handmade.length >= 50, `only ${expected.handmade.length} hand-made`);
    for (const f of all) {
      const data = read(f.file);
      assert.equal(createHash('sha256').update(data).digest('hex'), f.sha256, f.file);
      assert.deepEqual(opcodeNames(data), f.opcodes, `opcodes of ${f.file}`);
      const viaGenops = genopsNames(data);
      if (viaGenops !== undefined) assert.deepEqual(viaGenops, f.opcodes, `genops of ${f.file}`);
    }
  });

  test('Python 2 fixtures hold the Python 2 opcodes, at protocols 0, 1 and 2', () => {
    const seen = new Set(expected.py2.flatMap((f) => f.opcodes));
    for (const name of [
      'STRING',
      'BINSTRING',
      'SHORT_BINSTRING',
      'UNICODE',
      'BINUNICODE',
      'INT',
      'LONG',
      'LONG1',
      'LONG4',
      'FLOAT',
      'BINFLOAT',
      'INST',
      'OBJ',
      'NEWOBJ',
      'REDUCE',
      'BUILD',
      'GLOBAL',
      'PUT',
      'GET',
      'BINPUT',
      'BINGET',
      'TUPLE1',
      'TUPLE2',
      'TUPLE3',
      'NEWTRUE',
      'NEWFALSE',
      'SETITEMS',
      'APPENDS',
    ]) {
      assert.ok(seen.has(name), `no Python 2 fixture holds ${name}`);
    }
    assert.deepEqual([...new Set(expected.py2.map((f) => f.protocol))].sort(), [0, 1, 2]);
    assert.deepEqual([...new Set(expected.py2.map((f) => f.pickler))].sort(), [
      'cPickle',
      'pickle',
    ]);
  });

  test('hand-made fixtures hold the opcodes CPython 3 does not write', () => {
    const seen = new Set(expected.handmade.flatMap((f) => f.opcodes));
    for (const name of [
      'DUP',
      'POP',
      'POP_MARK',
      'BINBYTES8',
      'BINUNICODE8',
      'STRING',
      'LONG4',
      'GET',
      'PUT',
      'LONG_BINPUT',
      'LONG_BINGET',
      'LIST',
      'DICT',
      'TUPLE',
      'INST',
      'OBJ',
      'FRAME',
      'NEWOBJ_EX',
      'PERSID',
      'BINPERSID',
      'EXT1',
      'EXT2',
      'EXT4',
    ]) {
      assert.ok(seen.has(name), `no hand-made fixture holds ${name}`);
    }
  });
});

describe('fixtures: Python 2 pickles load as in Python 3', () => {
  for (const f of expected.py2) {
    test(`${f.name} (${f.pickler}, protocol ${f.protocol})`, () => {
      const bad = mismatches(f);
      assert.deepEqual(bad, [], `${f.file}:\n  ${bad.join('\n  ')}`);
    });
  }

  test('protocol 0-2 Python 2 str loads with latin1 and bytes (never an error)', () => {
    for (const f of expected.py2) {
      for (const e of ['latin1', 'bytes'] as const) {
        assert.ok('value' in f.results[e], `${f.file}: Python 3 fails with ${e}`);
      }
    }
  });
});

describe('fixtures: hand-made pickles load as in Python 3', () => {
  for (const f of expected.handmade) {
    test(`${f.name}: ${f.description}`, () => {
      const bad = mismatches(f);
      assert.deepEqual(bad, [], `${f.file}:\n  ${bad.join('\n  ')}`);
    });
  }
});

describe('fixtures: expected.json is current', () => {
  test('python3 still gives the committed expected values', async (t) => {
    if (!needPython(t)) return;
    const stale: string[] = [];
    for (const f of all) {
      const code = [
        'import json, fixture_expect',
        `ext = [tuple(e) for e in json.loads(${JSON.stringify(JSON.stringify(f.extensions ?? []))})]`,
        `result = json.dumps(fixture_expect.expected_results(data, ${f.persistent ? 'True' : 'False'}, ext))`,
      ].join('\n');
      const r = await py.eval(code, read(f.file));
      if (r.error) {
        stale.push(`${f.file}: python: ${r.error.type}: ${r.error.message}`);
        continue;
      }
      const live = JSON.parse((r.tagged as { v: string }).v) as unknown;
      try {
        assert.deepEqual(live, f.results);
      } catch {
        stale.push(f.file);
      }
    }
    assert.deepEqual(stale, [], 'run `npm run fixtures` to regenerate the fixtures');
  });
});
