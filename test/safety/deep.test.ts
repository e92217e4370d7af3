/**
 * Nothing recurses on nesting depth: values nested 1,000,000 deep load, dump, print (`pyRepr`,
 * `show`), convert to tagged JSON and back, compare (`difference`), disassemble (`dis`) and scan
 * without a stack overflow, and CPython (whose unpickler is iterative too) loads what we write.
 * The `maxDepth` limit turns depth into an `UnpicklingError` when asked to.
 *
 * A list 1,000,000 deep goes through every step; so do lists, dicts, both kinds of tuples and
 * objects interleaved in one chain 100,000 deep (`M`: ten times what a recursive walk survives,
 * Node's stack holding about 10,000 frames, at a tenth of the time); tuples, dicts and objects
 * 1,000,000 deep load and print. CPython checks the pickles we write at 100,000 deep (it loads a
 * million too, but through the oracle's JSON line that takes seconds a pickle).
 *
 * The pickles are built by hand, byte by byte (CPython's pickler recurses: it cannot write them),
 * and the values are checked by walking them in a loop. Each step reports its time as a test
 * diagnostic, and the file prints them all at the end.
 */
import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import {
  DefaultDict,
  Deque,
  dumps,
  isDictObject,
  loads,
  NamedTuple,
  OrderedDict,
  Partial,
  PyGlobal,
  pyRepr,
  PyObject,
  reprSymbol,
  Slice,
  Tuple,
  tuple,
  UnpicklingError,
} from '../helpers/pickle.js';
import { difference } from '../helpers/equal.js';
import { hasPython, needPython, py } from '../helpers/python.js';
import { fromTagged, type Tagged } from '../helpers/tagged.js';
import {
  dis,
  fromJson,
  genops,
  optimize,
  PersistentId,
  show,
  toJson,
} from '../../src/tools/index.js';
import { scan } from '../../src/scan/index.js';

/** The depth of the chains of one kind. */
const N = 1_000_000;
/** The depth of the mixed chain, of the values built in JavaScript, and of what CPython loads. */
const M = 100_000;

// ---------------------------------------------------------------------------------------------
// Timing

const times: Array<[string, number]> = [];

function record(t: TestContext, label: string, start: number): void {
  const ms = performance.now() - start;
  times.push([label, ms]);
  t.diagnostic(`${label}: ${ms.toFixed(0)} ms`);
}

/** Runs `step`; reports its time on `t` and in the summary printed at the end. */
function timed<T>(t: TestContext, label: string, step: () => T): T {
  const start = performance.now();
  const result = step();
  record(t, label, start);
  return result;
}

after(() => {
  const lines = times.map(([label, ms]) => `${ms.toFixed(0).padStart(7)} ms  ${label}`);
  console.log(`test/safety/deep.test.ts, time per step:\n${lines.join('\n')}`);
});

// ---------------------------------------------------------------------------------------------
// Pickles built by hand

const STOP = 0x2e;
const MARK = 0x28;
const EMPTY_LIST = 0x5d;
const APPEND = 0x61;
const LIST = 0x6c;
const TUPLE = 0x74;
const EMPTY_TUPLE = 0x29;
const TUPLE1 = 0x85;
const EMPTY_DICT = 0x7d;
const SETITEM = 0x73;
const BUILD = 0x62;
const PROTO2 = [0x80, 2];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
/** BINUNICODE 'a'. */
const KEY_A = [0x58, 1, 0, 0, 0, ...ascii('a')];
/** GLOBAL `__main__.Node`, BINPUT 0; then BINGET 0. */
const GLOBAL_NODE = [0x63, ...ascii('__main__\nNode\n'), 0x71, 0];
const GET_NODE = [0x68, 0];
/** No arguments, NEWOBJ. */
const NEWOBJ = [EMPTY_TUPLE, 0x81];
/** BINUNICODE 'next', BINPUT 1; then BINGET 1. */
const KEY_NEXT = [0x58, 4, 0, 0, 0, ...ascii('next'), 0x71, 1];
const GET_NEXT = [0x68, 1];

/** Each run of bytes repeated its number of times, one run after the other, then STOP. */
function build(runs: ReadonlyArray<readonly [bytes: readonly number[], times: number]>) {
  let length = 1;
  for (const [bytes, n] of runs) length += bytes.length * n;
  const out = new Uint8Array(length);
  let at = 0;
  for (const [bytes, n] of runs) {
    if (bytes.length === 1) out.fill(bytes[0]!, at, at + n);
    else for (let i = 0; i < n; i++) out.set(bytes, at + i * bytes.length);
    at += bytes.length * n;
  }
  out[at] = STOP;
  return out;
}

/** A protocol 4+ pickle: PROTO, then `body` (ending in STOP) cut into FRAMEs of 64 KiB. */
function framed(protocol: 4 | 5, body: Uint8Array): Uint8Array {
  const size = 0x10000;
  const out = new Uint8Array(2 + Math.ceil(body.length / size) * 9 + body.length);
  const view = new DataView(out.buffer);
  out.set([0x80, protocol]);
  let at = 2;
  for (let start = 0; start < body.length; start += size) {
    const chunk = body.subarray(start, start + size);
    out[at] = 0x95; // FRAME, with an 8-byte little-endian length
    view.setBigUint64(at + 1, BigInt(chunk.length), true);
    out.set(chunk, at + 9);
    at += 9 + chunk.length;
  }
  return out;
}

/** `n` lists deep, protocol 0: `(l` for each list (MARK, LIST), then APPEND. */
const listP0Append = (n: number) =>
  build([
    [[MARK, LIST], n],
    [[APPEND], n - 1],
  ]);
/** `n` lists deep, protocol 0: `n` MARKs, then LIST for each (each takes the list above it). */
const listP0Marks = (n: number) =>
  build([
    [[MARK], n],
    [[LIST], n],
  ]);
/** `n` lists deep, protocol 2: EMPTY_LIST for each, then APPEND. */
const listP2 = (n: number) =>
  build([
    [PROTO2, 1],
    [[EMPTY_LIST], n],
    [[APPEND], n - 1],
  ]);
/** `n` lists deep, protocol 5, in frames. */
const listP5 = (n: number) =>
  framed(
    5,
    build([
      [[EMPTY_LIST], n],
      [[APPEND], n - 1],
    ]),
  );
/** `n` tuples deep, protocol 0: `n` MARKs, then TUPLE for each. */
const tupleP0 = (n: number) =>
  build([
    [[MARK], n],
    [[TUPLE], n],
  ]);
/** `n` tuples deep, protocol 2: EMPTY_TUPLE, then TUPLE1. */
const tupleP2 = (n: number) =>
  build([
    [PROTO2, 1],
    [[EMPTY_TUPLE], 1],
    [[TUPLE1], n - 1],
  ]);
/** `n` dicts deep, `{'a': {'a': ... {}}}`, protocol 2: EMPTY_DICT and the key, then SETITEM. */
const dictP2 = (n: number) =>
  build([
    [PROTO2, 1],
    [[EMPTY_DICT, ...KEY_A], n - 1],
    [[EMPTY_DICT], 1],
    [[SETITEM], n - 1],
  ]);
/**
 * `n` instances of the unknown class `__main__.Node` deep, protocol 2: each one's state is
 * `{'next': <the next one>}`; the innermost has no state.
 */
const nodesP2 = (n: number) =>
  build([
    [PROTO2, 1],
    [[...GLOBAL_NODE, ...NEWOBJ, EMPTY_DICT, ...KEY_NEXT], 1],
    [[...GET_NODE, ...NEWOBJ, EMPTY_DICT, ...GET_NEXT], n - 2],
    [[...GET_NODE, ...NEWOBJ], 1],
    [[SETITEM, BUILD], n - 1],
  ]);

/** The links of the mixed chain, outermost first; they come round every five levels. */
const MIX = ['list', 'dict', 'tuple', 'object', 'tuple1'] as const;
type MixKind = (typeof MIX)[number];
const mixKind = (level: number): MixKind => MIX[level % MIX.length]!;

/**
 * `n` links deep, protocol 2: `[{'a': ((<Node with state {'next': [...]}>,),)}]`: a list, a dict,
 * a tuple made by MARK ... TUPLE, an unknown class's instance whose state holds the next link, a
 * tuple made by TUPLE1, and round again. The innermost link is empty.
 */
function mixP2(n: number): Uint8Array {
  const opens: Record<MixKind, readonly number[]> = {
    list: [EMPTY_LIST],
    dict: [EMPTY_DICT, ...KEY_A],
    tuple: [MARK],
    object: [...GET_NODE, ...NEWOBJ, EMPTY_DICT, ...GET_NEXT],
    tuple1: [],
  };
  const empties: Record<MixKind, readonly number[]> = {
    list: [EMPTY_LIST],
    dict: [EMPTY_DICT],
    tuple: [MARK, TUPLE],
    object: [...GET_NODE, ...NEWOBJ],
    tuple1: [EMPTY_TUPLE],
  };
  const closes = { list: APPEND, dict: SETITEM, tuple: TUPLE, object: BUILD, tuple1: TUPLE1 };
  // The first instance puts the class and the key in the memo.
  const bytes: number[] = [...PROTO2, ...GLOBAL_NODE, 0x30, ...KEY_NEXT, 0x30]; // POP both
  for (let level = 0; level < n - 1; level++) bytes.push(...opens[mixKind(level)]);
  bytes.push(...empties[mixKind(n - 1)]);
  for (let level = n - 2; level >= 0; level--) {
    const kind = mixKind(level);
    if (kind === 'object') bytes.push(SETITEM);
    bytes.push(closes[kind]);
  }
  bytes.push(STOP);
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------------------------
// Iterative checks of the shapes

type Step = (link: unknown, level: number) => unknown;

/**
 * Walks a chain of containers from the outermost: `step` returns the next link, or `undefined`
 * at the innermost (empty) one, and throws on a malformed link. Returns the number of links.
 */
function chainLength(value: unknown, step: Step): number {
  let links = 0;
  for (let v: unknown = value; v !== undefined; links++) v = step(v, links);
  return links;
}

/** Asserts that `value` is a chain of `n` links that `step` accepts. */
function assertChain(value: unknown, step: Step, n = N): void {
  assert.equal(chainLength(value, step), n);
}

const fail = (level: number, what: string): never =>
  assert.fail(`at level ${level}: expected ${what}`);

const listStep: Step = (v, level) => {
  if (!Array.isArray(v) || v instanceof Tuple) return fail(level, 'a list');
  if (v.length > 1) return fail(level, 'a list of one item');
  return v.length === 0 ? undefined : v[0];
};

const tupleStep: Step = (v, level) => {
  if (!(v instanceof Tuple)) return fail(level, 'a tuple');
  if (v.length > 1) return fail(level, 'a tuple of one item');
  return v.length === 0 ? undefined : v[0];
};

/** A dict (plain object) with only the key `key`, or none. */
const dictStepFor =
  (key: string): Step =>
  (v, level) => {
    if (typeof v !== 'object' || v === null || !isDictObject(v)) return fail(level, 'a dict');
    const keys = Object.keys(v);
    if (keys.length === 0) return undefined;
    if (keys.length > 1 || keys[0] !== key) return fail(level, `a dict of the one key '${key}'`);
    return (v as Record<string, unknown>)[key];
  };
const dictStep = dictStepFor('a');
const stateStep = dictStepFor('next');

/** A `__main__.Node` made by NEWOBJ, with no state, or a state `{'next': ...}`. */
const nodeStep: Step = (v, level) => {
  if (!(v instanceof PyObject)) return fail(level, 'a PyObject');
  if (v.className !== '__main__.Node' || v.kind !== 'newobj' || v.args.length !== 0) {
    return fail(level, 'a __main__.Node made by NEWOBJ with no arguments');
  }
  return v.state === undefined ? undefined : (stateStep(v.state, level) ?? fail(level, 'a next'));
};

const mixStepWith =
  (objectStep: Step): Step =>
  (v, level) => {
    const kind = mixKind(level);
    if (kind === 'list') return listStep(v, level);
    if (kind === 'dict') return dictStep(v, level);
    if (kind === 'object') return objectStep(v, level);
    return tupleStep(v, level);
  };
const mixStep = mixStepWith(nodeStep);

/** The text of a chain printed: each link's opening, the innermost, each link's closing. */
function chainText(
  n: number,
  open: (level: number) => string,
  innermost: string,
  close: (level: number) => string,
): string {
  const parts: string[] = [];
  for (let level = 0; level < n - 1; level++) parts.push(open(level));
  parts.push(innermost);
  for (let level = n - 2; level >= 0; level--) parts.push(close(level));
  return parts.join('');
}

/** Asserts the length, start and end of the text of a chain with the same link throughout. */
function assertPrinted(printed: string, open: string, innermost: string, close: string, n = N) {
  assert.equal(printed.slice(0, open.length * 3), open.repeat(3));
  assert.equal(printed.slice(-close.length * 3), close.repeat(3));
  assert.equal(printed.length, (n - 1) * (open.length + close.length) + innermost.length);
  const middle = (n - 1) * open.length;
  assert.equal(printed.slice(middle, middle + innermost.length), innermost);
}

/**
 * Python code that loads `data` and counts the links of the chain it holds, in a loop: lists and
 * tuples of one item, dicts of the one key 'a', `__main__.Node`s whose state is {'next': ...},
 * down to an empty one. The result is the count, or where the chain breaks.
 */
const PY_CHAIN_LENGTH = `
import __main__

class Node:
    pass

Node.__module__ = '__main__'
__main__.Node = Node

def items(v):
    t = type(v)
    if t is list or t is tuple:
        return list(v)
    if t is dict:
        return list(v.values()) if list(v) == ['a'] else (None if v else [])
    if t is Node:
        state = v.__dict__
        return [state['next']] if list(state) == ['next'] else (None if state else [])
    return None

v = pickle.loads(data)
links = 0
result = None
while result is None:
    inside = items(v)
    if inside is None or len(inside) > 1:
        result = 'not a chain at link %d: %s' % (links, type(v).__name__)
    else:
        links += 1
        if inside:
            v = inside[0]
        else:
            result = links
del v
`;

/** CPython's count of the links of the chain in `data` (see `PY_CHAIN_LENGTH`). */
async function pythonChainLength(data: Uint8Array): Promise<unknown> {
  const r = await py.eval(PY_CHAIN_LENGTH, data);
  if (r.error) return `${r.error.type}: ${r.error.message}`;
  return fromTagged(r.tagged as Tagged);
}

/** What CPython read wrong in each pickle we gave it (`undefined`: nothing); see the last test. */
const inPython: Array<Promise<string | undefined>> = [];

/**
 * Has CPython count the links of the chain in `data`, while the tests go on (it runs in its own
 * process); the last test waits for the counts. Without python3, nothing: the test that writes
 * a pickle reads it back with our own `loads` in any case.
 */
function checkInPython(label: string, data: Uint8Array, n: number): void {
  if (!hasPython()) return;
  const start = performance.now();
  inPython.push(
    pythonChainLength(data).then(
      (links) => {
        times.push([`${label} (python, alongside)`, performance.now() - start]);
        return links === n ? undefined : `${label}: CPython counted ${JSON.stringify(links)}`;
      },
      (e: unknown) => `${label}: ${String(e)}`,
    ),
  );
}

/** `loads` options with a depth limit. */
const maxDepth = (limit: number) => ({ limits: { maxDepth: limit } });

// ---------------------------------------------------------------------------------------------

describe('a list nested 1,000,000 deep', () => {
  let list: unknown;
  let copy: unknown;
  let p2: Uint8Array | undefined = listP2(N);
  after(() => {
    list = copy = p2 = undefined;
  });

  test('loads at protocol 0: (l ... a, MARK LIST for each list, then APPEND', (t) => {
    const data = listP0Append(N);
    copy = timed(t, 'list: loads, protocol 0 (MARK LIST ... APPEND)', () => loads(data));
    assertChain(copy, listStep);
  });

  test('loads at protocol 0: a million MARKs, then LIST for each', (t) => {
    const data = listP0Marks(N);
    assertChain(
      timed(t, 'list: loads, protocol 0 (MARKs, LISTs)', () => loads(data)),
      listStep,
    );
  });

  test('loads at protocol 2: EMPTY_LIST ... APPEND', (t) => {
    list = timed(t, 'list: loads, protocol 2', () => loads(p2!));
    assertChain(list, listStep);
  });

  test('loads at protocol 5, in frames', (t) => {
    const data = listP5(N);
    assertChain(
      timed(t, 'list: loads, protocol 5 (FRAMEs)', () => loads(data)),
      listStep,
    );
  });

  test('dumps, and loads back the same (each protocol: the mix below)', (t) => {
    const data = timed(t, 'list: dumps, protocol 2', () => dumps(list, { protocol: 2 }));
    assertChain(
      timed(t, 'list: loads our protocol 2', () => loads(data)),
      listStep,
    );
  });

  test('pyRepr prints it', (t) => {
    assertPrinted(
      timed(t, 'list: pyRepr', () => pyRepr(list)),
      '[',
      '[]',
      ']',
    );
  });

  test('show prints it, and cuts it at a depth (as reprlib does: see the CPython tests)', (t) => {
    assertPrinted(
      timed(t, 'list: show', () => show(list)),
      '[',
      '[]',
      ']',
    );
    assert.equal(show(list, { depth: 3 }), '[[[[...]]]]');
  });

  test('tagged JSON: toJson and fromJson round-trip it', (t) => {
    const json = timed(t, 'list: toJson (tagged)', () => toJson(list, { tagged: true }));
    assert.equal(json, `{"$tagged":1,"value":${'['.repeat(N)}${']'.repeat(N)}}`);
    assertChain(
      timed(t, 'list: fromJson', () => fromJson(json)),
      listStep,
    );
  });

  test('difference compares it all the way down', (t) => {
    let innermost = copy as unknown[];
    while (innermost.length > 0) innermost = innermost[0] as unknown[];
    innermost.push(null);
    const found = timed(t, 'list: difference', () => difference(list, copy));
    assert.equal(found, `value${'[0]'.repeat(N - 1)}: length 0 !== 1`);
  });

  test('dis disassembles its pickle', (t) => {
    const listing = timed(t, 'list: dis (protocol 2)', () => dis(p2!));
    const lines = listing.trimEnd().split('\n');
    assert.equal(lines.length, 1 + N + (N - 1) + 2); // PROTO, the lists, APPENDs, STOP, summary
    assert.equal(lines[1], '    2: ]    EMPTY_LIST');
    assert.equal(lines.at(-3), `${N + N}: a    APPEND`);
    assert.equal(lines.at(-1), 'highest protocol among opcodes = 2');
  });

  test('scan scans its pickle', (t) => {
    const result = timed(t, 'list: scan (protocol 2)', () => scan(p2!));
    assert.equal(result.verdict, 'safe');
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.errors, []);
  });
});

describe('tuples, dicts and objects nested 1,000,000 deep', () => {
  test('tuples: MARK ... TUPLE (protocol 0) and TUPLE1 (protocol 2) load; pyRepr prints', (t) => {
    const p0 = tupleP0(N);
    assertChain(
      timed(t, 'tuples: loads, protocol 0 (MARKs, TUPLEs)', () => loads(p0)),
      tupleStep,
    );
    const p2 = tupleP2(N);
    const value = timed(t, 'tuples: loads, protocol 2 (TUPLE1)', () => loads(p2));
    assertChain(value, tupleStep);
    assertPrinted(
      timed(t, 'tuples: pyRepr', () => pyRepr(value)),
      '(',
      '()',
      ',)',
    );
  });

  test("dicts {'a': {'a': ...}} load; pyRepr prints them", (t) => {
    const data = dictP2(N);
    const value = timed(t, 'dicts: loads', () => loads(data));
    assertChain(value, dictStep);
    assertPrinted(
      timed(t, 'dicts: pyRepr', () => pyRepr(value)),
      "{'a': ",
      '{}',
      '}',
    );
  });

  test('instances of an unknown class, each in the state of the one above, load; show prints them', (t) => {
    const data = nodesP2(N);
    const value = timed(t, 'objects: loads', () => loads(data));
    assertChain(value, nodeStep);
    assertPrinted(
      timed(t, 'objects: show', () => show(value)),
      "<__main__.Node object: state={'next': ",
      '<__main__.Node object>',
      '}>',
    );
    // Python's repr of an instance does not show its state either.
    assert.equal(pyRepr(value), '<__main__.Node object>');
  });
});

describe(`a mix ${M.toLocaleString('en')} deep: lists, dicts, both kinds of tuples and objects, round and round`, () => {
  let data: Uint8Array | undefined = mixP2(M);
  let value: unknown;
  after(() => {
    data = value = undefined;
  });

  test('loads', (t) => {
    value = timed(t, 'mix: loads', () => loads(data!));
    assertChain(value, mixStep, M);
  });

  for (const protocol of [0, 1, 2, 3, 4, 5]) {
    test(`dumps at protocol ${protocol}: loads back the same, and CPython loads it`, (t) => {
      const ours = timed(t, `mix: dumps, protocol ${protocol}`, () => dumps(value, { protocol }));
      checkInPython(`mix: our protocol ${protocol}`, ours, M);
      const back = timed(t, `mix: loads our protocol ${protocol}`, () => loads(ours));
      // Protocols 0 and 1 write NEWOBJ as copyreg.__newobj__(Node) by REDUCE, which loads back
      // as the same NEWOBJ-made object, as in Python.
      assertChain(back, mixStep, M);
    });
  }

  test('optimize: the optimized pickle loads the same', (t) => {
    const optimized = timed(t, 'mix: optimize', () => optimize(data!));
    assert.ok(optimized.length <= data!.length);
    assertChain(loads(optimized), mixStep, M);
  });

  test('show prints it', (t) => {
    const printed = timed(t, 'mix: show', () => show(value));
    const open = {
      list: '[',
      dict: "{'a': ",
      tuple: '(',
      object: "<__main__.Node object: state={'next': ",
      tuple1: '(',
    };
    const empty = {
      list: '[]',
      dict: '{}',
      tuple: '()',
      object: '<__main__.Node object>',
      tuple1: '()',
    };
    const close = { list: ']', dict: '}', tuple: ',)', object: '}>', tuple1: ',)' };
    const text = chainText(
      M,
      (level) => open[mixKind(level)],
      empty[mixKind(M - 1)],
      (level) => close[mixKind(level)],
    );
    assert.ok(printed === text, `show: ${printed.slice(0, 80)} ... ${printed.slice(-80)}`);
  });

  test('pyRepr prints it (and stops at the first object, as Python would)', () => {
    assert.equal(pyRepr(value), "[{'a': (<__main__.Node object>,)}]");
  });

  test('tagged JSON: toJson writes it, fromJson reads it back', (t) => {
    const json = timed(t, 'mix: toJson (tagged)', () => toJson(value, { tagged: true }));
    const node = (id: string) => `{"$object":${id},"kind":"newobj","args":{"$tuple":[]}`;
    const first = node('{"$id":1,"$global":["__main__","Node"]}');
    const open = {
      list: '[',
      dict: '{"a":',
      tuple: '{"$tuple":[',
      object: `${node('{"$ref":1}')},"state":{"next":`,
      tuple1: '{"$tuple":[',
    };
    const close = { list: ']', dict: '}', tuple: ']}', object: '}}', tuple1: ']}' };
    const empty = {
      list: '[]',
      dict: '{}',
      tuple: '{"$tuple":[]}',
      object: `${node('{"$ref":1}')}}`,
      tuple1: '{"$tuple":[]}',
    };
    const body = chainText(
      M,
      (level) => (level === 3 ? `${first},"state":{"next":` : open[mixKind(level)]),
      empty[mixKind(M - 1)],
      (level) => close[mixKind(level)],
    );
    const expected = `{"$tagged":1,"value":${body}}`;
    assert.ok(json === expected, `toJson: ${json.slice(0, 200)} ... ${json.slice(-80)}`);
    assertChain(
      timed(t, 'mix: fromJson', () => fromJson(json)),
      mixStep,
      M,
    );
  });

  test('difference follows it down to where it differs from a chain one link longer', (t) => {
    const longer = loads(mixP2(M + 1));
    const step = { list: '[0]', dict: '.a', tuple: '[0]', object: '.state.next', tuple1: '[0]' };
    const path: string[] = ['value'];
    for (let level = 0; level < M - 1; level++) path.push(step[mixKind(level)]);
    // The innermost link here is the empty tuple; there, a tuple of the one list more.
    assert.equal(mixKind(M - 1), 'tuple1');
    const found = timed(t, 'mix: difference', () => difference(value, longer));
    assert.equal(found, `${path.join('')}: length 0 !== 1`);
  });

  test('dis disassembles its pickle', (t) => {
    // No indentation: each open MARK would indent a line, and a tuple's MARKs stay open.
    const listing = timed(t, 'mix: dis', () => dis(data!, { indentlevel: 0 }));
    const lines = listing.trimEnd().split('\n');
    const opcodes = Array.from(genops(data!, 0, { args: false })).length;
    assert.equal(lines.length, opcodes + 1); // and the summary
    assert.match(lines.at(-2)!, /^ *\d+: \. {4}STOP$/);
    assert.equal(lines.at(-1), 'highest protocol among opcodes = 2');
  });

  test('scan scans its pickle: the unknown class is all it finds', (t) => {
    const result = timed(t, 'mix: scan', () => scan(data!));
    assert.equal(result.verdict, 'suspicious');
    assert.deepEqual(result.errors, []);
    const found = new Set(result.findings.map((f) => `${f.opcode} ${f.module}.${f.name}`));
    assert.deepEqual([...found].sort(), [
      'BUILD __main__.Node',
      'GLOBAL __main__.Node',
      'NEWOBJ __main__.Node',
    ]);
  });
});

describe(`a value ${M.toLocaleString('en')} deep built in JavaScript`, () => {
  const KINDS = 4;
  /** A list, a tuple, a dict `{'k': ...}`, a Map `{level: ...}`, a list, ...; `[]` innermost. */
  function jsChain(n: number): unknown {
    let v: unknown = [];
    for (let level = n - 2; level >= 0; level--) {
      const k = level % KINDS;
      v = k === 0 ? [v] : k === 1 ? tuple(v) : k === 2 ? { k: v } : new Map([[level, v]]);
    }
    return v;
  }
  const mapStep: Step = (v, level) => {
    if (!(v instanceof Map) || v.size !== 1 || !v.has(level)) {
      return fail(level, `a Map {${level}: ...}`);
    }
    return v.get(level);
  };
  const kStep = dictStepFor('k');
  const jsStep: Step = (v, level) =>
    level === M - 1
      ? listStep(v, level)
      : [listStep, tupleStep, kStep, mapStep][level % KINDS]!(v, level);

  let value: unknown = jsChain(M);
  after(() => (value = undefined));

  for (const protocol of [0, 1, 2, 3, 4, 5]) {
    test(`dumps at protocol ${protocol} and loads back the same`, (t) => {
      const data = timed(t, `js value: dumps, protocol ${protocol}`, () =>
        dumps(value, { protocol }),
      );
      const back = timed(t, `js value: loads, protocol ${protocol}`, () => loads(data));
      assertChain(back, jsStep, M);
    });
  }

  test('pyRepr and show print it as Python would, 1,000 deep (Python recurses)', async (t) => {
    const shallow = jsChain(1000);
    const printed = pyRepr(shallow);
    assert.equal(show(shallow), printed);
    if (!needPython(t)) return;
    const r = await py.eval('result = repr(pickle.loads(data))', dumps(shallow, { protocol: 2 }));
    assert.equal(printed, fromTagged(r.tagged as Tagged));
  });
});

describe(`CPython and chains ${M.toLocaleString('en')} deep`, () => {
  test('CPython loads the list as we dump it at protocols 0 to 5', (t) => {
    const list = loads(listP2(M));
    for (const protocol of [0, 1, 2, 3, 4, 5]) {
      const data = timed(t, `list ${M}: dumps, protocol ${protocol}`, () =>
        dumps(list, { protocol }),
      );
      checkInPython(`list ${M}: our protocol ${protocol}`, data, M);
      assertChain(loads(data), listStep, M);
    }
  });

  test('show cuts lists, tuples and dicts at a depth as reprlib does', async (t) => {
    const chains = [listP2(M), tupleP2(M), dictP2(M)];
    const depths = [0, 1, 2, 3, 4];
    const printed = chains.map((data) => {
      const value = loads(data);
      return depths.map((depth) => show(value, { depth }));
    });
    if (!needPython(t)) return;
    const expected = await Promise.all(
      chains.map(async (data) => {
        const r = await py.eval(
          `import reprlib
r = reprlib.Repr()
v = pickle.loads(data)
result = []
for depth in ${JSON.stringify(depths)}:
    r.maxlevel = depth
    result.append(r.repr(v))`,
          data,
        );
        return fromTagged(r.tagged as Tagged);
      }),
    );
    assert.deepEqual(printed, expected);
  });
});

describe('classes that print themselves ([reprSymbol])', () => {
  test(`a chain of them ${M.toLocaleString('en')} deep: pyRepr and show print it`, (t) => {
    const m = new PyGlobal('m', 'f');
    const P = new PyGlobal('__main__', 'P');
    const links: Array<[open: string, make: (inner: unknown) => unknown, close: string]> = [
      ["OrderedDict([('a', ", (x) => new OrderedDict([['a', x]]), ')])'],
      ['deque([', (x) => Deque.fromItems([x]), '])'],
      ["defaultdict(None, {'a': ", (x) => new DefaultDict(null, [['a', x]]), '})'],
      [
        'P(a=',
        (x) => {
          const p = new NamedTuple();
          p.push(x);
          p.cls = P;
          p.fields = ['a'];
          return p;
        },
        ')',
      ],
      ["functools.partial(<class 'm.f'>, ", (x) => new Partial(m, [x]), ')'],
      ['slice(None, ', (x) => new Slice(null, x, null), ', None)'],
      ['<persistent id ', (x) => new PersistentId(x), '>'],
    ];
    const link = (level: number) => links[level % links.length]!;
    let value: unknown = new OrderedDict();
    for (let level = M - 2; level >= 0; level--) value = link(level)[1](value);
    const text = chainText(
      M,
      (level) => link(level)[0],
      'OrderedDict()',
      (level) => link(level)[2],
    );
    const printed = timed(t, 'self-printing chain: pyRepr', () => pyRepr(value));
    assert.ok(printed === text, `pyRepr: ${printed.slice(0, 80)} ... ${printed.slice(-80)}`);
    const shown = timed(t, 'self-printing chain: show', () => show(value));
    assert.ok(shown === text, `show: ${shown.slice(0, 80)} ... ${shown.slice(-80)}`);
  });

  test("a class that changes its children's text gets the text", () => {
    class Upper {
      constructor(readonly inner: unknown) {}
      [reprSymbol](repr: (v: unknown) => string) {
        return `Upper(${repr(this.inner).toUpperCase()})`;
      }
    }
    class Twice {
      constructor(readonly inner: unknown) {}
      [reprSymbol](repr: (v: unknown) => string) {
        const text = repr(this.inner);
        return `Twice(${text.slice(1)}, ${text})`;
      }
    }
    const value = [new Upper(['a', new Twice(tuple('b'))])];
    assert.equal(pyRepr(value), "[Upper(['A', TWICE('B',), ('B',))])]");
    assert.equal(show(value), "[Upper(['A', TWICE('B',), ('B',))])]");
  });

  test('text that looks like the engine placeholders prints as it is', () => {
    class Odd {
      constructor(readonly inner: unknown) {}
      [reprSymbol](repr: (v: unknown) => string) {
        return `Odd(\ufdd0Ph0\ufdd1 ${repr(this.inner)} \ufdd0Ph1\ufdd1)`;
      }
    }
    const value = new Odd([new Odd('x')]);
    const expected =
      "Odd(\ufdd0Ph0\ufdd1 [Odd(\ufdd0Ph0\ufdd1 'x' \ufdd0Ph1\ufdd1)] \ufdd0Ph1\ufdd1)";
    assert.equal(pyRepr(value), expected);
    assert.equal(show(value), expected);
  });

  test('cycles through them print as Python prints them', async (t) => {
    const list = new PyGlobal('builtins', 'list');
    const print = new PyGlobal('builtins', 'print');
    const od = new OrderedDict<string, unknown>();
    od.set('a', od);
    const od2 = new OrderedDict<string, unknown>([['a', []]]);
    (od2.get('a') as unknown[]).push(od2);
    const d = new Deque<unknown>();
    d.push(d);
    const d2 = new Deque<unknown>();
    d2.push([d2]);
    const dd = new DefaultDict<number, unknown>(list);
    dd.set(0, dd);
    const dd2 = new DefaultDict<number, unknown>(list);
    dd2.set(0, [dd2]);
    const items: unknown[] = [new Partial(print)];
    const f = new Partial(print, [items]);
    items.push(f);
    // A namedtuple's repr has no guard: it prints again, up to the list's.
    const p = new NamedTuple<unknown[]>();
    p.push([]);
    p.cls = new PyGlobal('__main__', 'P');
    p.fields = ['a'];
    p[0]!.push(p);
    const printed = [od, od2, d, d2, dd, dd2, f, p].map((v) => pyRepr(v));
    if (!needPython(t)) return;
    const r = await py.eval(`
from collections import OrderedDict, deque, defaultdict, namedtuple
from functools import partial
od = OrderedDict(); od['a'] = od
od2 = OrderedDict(a=[]); od2['a'].append(od2)
d = deque(); d.append(d)
d2 = deque(); d2.append([d2])
dd = defaultdict(list); dd[0] = dd
dd2 = defaultdict(list); dd2[0] = [dd2]
items = [partial(print)]; f = partial(print, items); items.append(f)
P = namedtuple('P', 'a'); p = P([]); p.a.append(p)
result = [repr(v) for v in [od, od2, d, d2, dd, dd2, f, p]]`);
    assert.deepEqual(printed, fromTagged(r.tagged as Tagged));
  });

  test('a cycle with nothing guarded in it ends (where Python raises RecursionError)', () => {
    // Only JavaScript can make it: a namedtuple that holds itself.
    const p = new NamedTuple();
    p.cls = new PyGlobal('__main__', 'P');
    p.fields = ['a'];
    p.push(p);
    assert.equal(pyRepr(p), 'P(a=(...))');
    assert.equal(show(p), 'P(a=(...))');
  });
});

describe('the maxDepth limit', () => {
  // src/core/depth.ts counts containers: `[]` is 1 deep and `[[]]` 2, so n nested lists (or
  // tuples, or dicts) are n deep. An object counts one level and its state dict another.
  const limited = (data: Uint8Array) => () => loads(data, maxDepth(1000));
  const isLimit = (e: unknown) => e instanceof UnpicklingError && e.code === 'LIMIT_EXCEEDED';

  test('a list 1,000,000 deep fails to load with LIMIT_EXCEEDED', (t) => {
    const data = listP2(N);
    timed(t, 'maxDepth 1000: loads the 1,000,000-deep list', () =>
      assert.throws(limited(data), isLimit),
    );
  });

  test('1001 deep fails (lists, tuples, dicts); 1000 and 999 load', () => {
    for (const make of [listP2, listP0Append, tupleP0, tupleP2, dictP2]) {
      assert.throws(limited(make(1001)), isLimit, make.name);
      assert.doesNotThrow(limited(make(1000)), make.name);
      assert.doesNotThrow(limited(make(999)), make.name);
    }
    assertChain(loads(listP2(1000), maxDepth(1000)), listStep, 1000);
  });

  test('objects: 500 in each other are 999 deep and load; 501 are 1001 and fail', () => {
    assertChain(loads(nodesP2(500), maxDepth(1000)), nodeStep, 500);
    assert.throws(limited(nodesP2(501)), isLimit);
    assert.doesNotThrow(() => loads(nodesP2(501), maxDepth(1001)));
  });
});

test('CPython loads what we dumped (the list and the mix at protocols 0 to 5)', async (t) => {
  if (!needPython(t)) return;
  const start = performance.now();
  const failures = await Promise.all(inPython);
  record(t, 'waiting for python at the end', start);
  assert.equal(inPython.length, 12);
  assert.deepEqual(
    failures.filter((f) => f !== undefined),
    [],
  );
});
