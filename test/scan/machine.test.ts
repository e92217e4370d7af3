/**
 * The scanner's machine on hand-made pickles: CPython's stack, MARK and memo rules, malformed
 * input, EXT codes, persistent IDs, getattr and other evaluated calls, the options, and the
 * limits that keep hostile input cheap. Where Python's behaviour is the question (does it accept
 * this, does it fail here), live CPython answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumps } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { formatScanReport, scan } from '../../src/scan/index.js';

const enc = new TextEncoder();
const OPS = {
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE: 0x74,
  REDUCE: 0x52,
  NONE: 0x4e,
  EMPTY_TUPLE: 0x29,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  BINPUT: 0x71,
  BINGET: 0x68,
  BINPERSID: 0x51,
  EXT1: 0x82,
  BININT1: 0x4b,
  PROTO: 0x80,
} as const;

/** Assembles a pickle from opcode names, strings (SHORT_BINUNICODE) and byte arrays. */
function asm(
  ...parts: Array<keyof typeof OPS | string | number[] | { global: [string, string] }>
): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (Array.isArray(p)) out.push(...p);
    else if (typeof p === 'object')
      out.push(0x63, ...enc.encode(`${p.global[0]}\n${p.global[1]}\n`));
    else if (p in OPS) out.push(OPS[p as keyof typeof OPS]);
    else {
      const b = enc.encode(p);
      out.push(0x8c, b.length, ...b);
    }
  }
  return new Uint8Array(out);
}

const g = (module: string, name: string) => ({ global: [module, name] as [string, string] });

test('MEMOIZE stores at len(memo), after PUTs too, as CPython does', async (t) => {
  // 'datetime' PUT 1; 'os' MEMOIZE (len(memo) = 1: key 1 again); 'system' PUT 2; GET 1, GET 2.
  const data = asm(
    'datetime',
    'BINPUT',
    [1],
    'POP',
    'os',
    'MEMOIZE',
    'POP',
    'system',
    'BINPUT',
    [2],
    'POP',
    'BINGET',
    [1],
    'BINGET',
    [2],
    'STACK_GLOBAL',
    'STOP',
  );
  const r = scan(data);
  assert.equal(r.verdict, 'dangerous');
  assert.equal(r.findings[0]?.module, 'os');
  assert.equal(r.findings[0]?.name, 'system');
  if (!needPython(t)) return;
  // CPython resolves the same name (its find_class is asked for os.system).
  const py_ = await py.eval(
    `import pickle, io\nclass U(pickle.Unpickler):\n    def find_class(self, m, n): return (m, n)\nresult = list(U(io.BytesIO(data)).load())`,
    data,
  );
  const tagged = py_.tagged as { v: Array<{ v: string }> };
  assert.deepEqual(
    tagged.v.map((x) => x.v),
    ['os', 'system'],
  );
});

test('POP with an empty stack above a MARK pops the MARK (CPython accepts it; so does the scanner)', async (t) => {
  const data = asm('MARK', 'POP', 'NONE', 'STOP');
  const r = scan(data);
  assert.equal(r.verdict, 'safe');
  assert.deepEqual(r.errors, []);
  if (!needPython(t)) return;
  assert.deepEqual((await py.load(data)).tagged, { t: 'None' });
});

test('malformed input: the verdict is malformed with the offset, where Python fails too', async (t) => {
  const cases: Array<[Uint8Array, string, number]> = [
    [asm('POP', 'STOP'), 'STACK_UNDERFLOW', 0],
    [asm('NONE', 'TUPLE', 'STOP'), 'NO_MARK', 1],
    [asm('BINGET', [3], 'STOP'), 'MEMO_MISSING', 0],
    [asm('NONE'), 'TRUNCATED', 1],
    [new Uint8Array([0xff]), 'UNKNOWN_OPCODE', 0],
    [asm('PROTO', [9], 'NONE', 'STOP'), 'UNSUPPORTED_PROTOCOL', 0],
    [asm([0x4b, 1], [0x4b, 2], 'STACK_GLOBAL', 'STOP'), 'BAD_OPERAND', 4],
  ];
  for (const [data, code, offset] of cases) {
    const r = scan(data);
    assert.equal(r.verdict, 'malformed', code);
    assert.equal(r.errors[0]?.code, code);
    assert.equal(r.errors[0]?.offset, offset, code);
    if (needPython(t))
      assert.ok((await py.load(data)).error, `Python rejects the ${code} case too`);
  }
  const empty = scan(new Uint8Array(0));
  assert.equal(empty.verdict, 'malformed');
  assert.match(empty.errors[0]!.message, /empty/);
});

test('a dangerous call before the error keeps the verdict dangerous (Python ran it already)', () => {
  const data = asm(g('os', 'system'), 'ls', 'TUPLE1', 'REDUCE', 'TUPLE');
  const r = scan(data);
  assert.equal(r.verdict, 'dangerous');
  assert.equal(r.errors.length, 1);
});

test("EXT codes: suspicious through copyreg's empty default registry; judged by name when the loader's codes are given", () => {
  const data = asm('EXT1', [7], 'EMPTY_TUPLE', 'REDUCE', 'STOP');
  const unknown = scan(data);
  assert.equal(unknown.verdict, 'suspicious');
  assert.equal(unknown.findings[0]?.kind, 'extension');
  assert.equal(
    scan(data, { extensions: new Map([[7, ['os', 'system'] as const]]) }).verdict,
    'dangerous',
  );
  assert.equal(
    scan(data, { extensions: new Map([[7, ['datetime', 'date'] as const]]) }).verdict,
    'safe',
  );
});

test('persistent IDs are reported, and safe: plain pickle.load refuses them, torch.load resolves storages', () => {
  const r = scan(asm('storage', 'BINPERSID', 'STOP'));
  assert.equal(r.verdict, 'safe');
  assert.equal(r.findings[0]?.kind, 'persistent-id');
});

test('getattr: judged by what it reaches; a getattr passed around instead of called is dangerous', () => {
  const getattr = g('builtins', 'getattr');
  // getattr(datetime.datetime, 'fromisoformat'): an attribute the allowlist does not name.
  const method = scan(
    asm(getattr, g('datetime', 'datetime'), 'fromisoformat', 'TUPLE2', 'REDUCE', 'STOP'),
  );
  assert.equal(method.verdict, 'suspicious');
  // A nested class of the user's own module, allowed by the user: safe.
  const nestedClass = asm(getattr, g('shop', 'Order'), 'Line', 'TUPLE2', 'REDUCE', 'STOP');
  assert.equal(
    scan(nestedClass).verdict,
    'dangerous',
    'getattr on a global the scanner cannot vouch for',
  );
  assert.equal(scan(nestedClass, { allow: ['shop:*'] }).verdict, 'safe');
  // getattr(obj, name) with a computed name, or put in a tuple for something else to call.
  assert.equal(
    scan(asm(getattr, g('datetime', 'date'), 'NONE', 'TUPLE2', 'REDUCE', 'STOP')).verdict,
    'dangerous',
  );
  assert.equal(scan(asm(getattr, 'TUPLE1', 'STOP')).verdict, 'dangerous');
  // type(None) is how Python pickles NoneType: safe; three arguments build a class.
  assert.equal(
    scan(asm(g('builtins', 'type'), 'NONE', 'TUPLE1', 'REDUCE', 'STOP')).verdict,
    'safe',
  );
});

test('Python 2 names are judged as Python 3 reads them, and dangerous ones under either name', () => {
  assert.equal(
    scan(asm(g('__builtin__', 'set'), 'EMPTY_LIST', 'TUPLE1', 'REDUCE', 'STOP')).verdict,
    'safe',
  );
  assert.equal(scan(asm(g('copy_reg', '_reconstructor'), 'STOP')).verdict, 'safe');
  assert.equal(scan(asm(g('__builtin__', 'eval'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('commands', 'getoutput'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('cPickle', 'loads'), 'STOP')).verdict, 'dangerous');
});

test('allow and deny options: deny adds dangerous names; allow never overrides a dangerous one', () => {
  const mine = asm(g('shop', 'Order'), 'EMPTY_TUPLE', 'REDUCE', 'STOP');
  assert.equal(scan(mine).verdict, 'suspicious');
  assert.equal(scan(mine, { allow: ['shop:Order'] }).verdict, 'safe');
  assert.equal(scan(mine, { allow: [['shop', 'Order']] }).verdict, 'safe');
  assert.equal(scan(mine, { deny: ['shop:*'] }).verdict, 'dangerous');
  assert.equal(scan(asm(g('os', 'system'), 'STOP'), { allow: ['os:*'] }).verdict, 'dangerous');
  assert.throws(() => scan(mine, { allow: ['shop.Order'] }), /module:qualname/);
});

test('not a blanket prefix: pandas and numpy data constructors are safe, their file loaders are not', () => {
  assert.equal(scan(asm(g('pandas', 'DataFrame'), 'STOP')).verdict, 'safe');
  assert.equal(scan(asm(g('pandas', 'read_pickle'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('pandas.io.pickle', 'read_pickle'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('numpy', 'load'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('numpy', 'ndarray.tofile'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('torch', 'load'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('sklearn.pipeline', 'Pipeline'), 'STOP')).verdict, 'safe');
  assert.equal(scan(asm(g('sklearn.datasets', 'fetch_openml'), 'STOP')).verdict, 'dangerous');
  assert.equal(scan(asm(g('sklearn.utils', 'some_function'), 'STOP')).verdict, 'suspicious');
});

test('nested pickle.loads: scanned recursively, depth-limited, each bytes object scanned once', () => {
  let inner = dumps([1, 2, 3]);
  for (let i = 0; i < 12; i++) {
    const b = Array.from(inner);
    const len = [b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24];
    inner = asm(g('pickle', 'loads'), [0x42, ...len, ...b], 'TUPLE1', 'REDUCE', 'STOP');
  }
  const deep = scan(inner);
  assert.equal(deep.verdict, 'dangerous');
  assert.ok(
    Math.max(...deep.findings.map((f) => f.nested?.length ?? 0)) === 8,
    'stops at the default depth of 8',
  );
  // One bytes object loaded 2,000 times through the memo: scanned once.
  const payload = Array.from(dumps({ k: 'v' }));
  const parts: Parameters<typeof asm> = [
    'EMPTY_LIST',
    [0x43, payload.length, ...payload],
    'BINPUT',
    [0],
    'POP',
  ];
  for (let i = 0; i < 2000; i++)
    parts.push(g('pickle', 'loads'), 'BINGET', [0], 'TUPLE1', 'REDUCE', 'APPEND');
  parts.push('STOP');
  const started = performance.now();
  const many = scan(asm(...parts));
  assert.equal(many.verdict, 'dangerous');
  assert.ok(performance.now() - started < 2000);
});

test('limits: findings are capped (safe ones counted), deep nesting and big inputs stay cheap', () => {
  const dates = dumps(
    Array.from({ length: 3000 }, () => new Date(0)),
    { protocol: 2 },
  );
  const capped = scan(dates, { maxFindings: 100 });
  assert.equal(capped.verdict, 'safe');
  assert.equal(capped.findings.length, 100);
  assert.ok(capped.omittedSafeFindings > 0);
  // A list nested 200,000 deep: the machine has no recursion.
  const depth = 200_000;
  const deep = new Uint8Array(depth * 2 + 1);
  deep.fill(0x5d, 0, depth); // EMPTY_LIST
  deep.fill(0x61, depth, 2 * depth - 1); // APPEND
  deep[2 * depth - 1] = 0x2e;
  assert.equal(scan(deep.subarray(0, 2 * depth)).verdict, 'safe');
  // A million ints: linear.
  const big = dumps(Array.from({ length: 1_000_000 }, (_, i) => i));
  const started = performance.now();
  assert.equal(scan(big).verdict, 'safe');
  const ms = performance.now() - started;
  console.log(
    `scanner: ${(big.length / 1e6).toFixed(1)} MB pickle of 1M ints in ${ms.toFixed(0)} ms`,
  );
  assert.ok(ms < 5000);
});

test('the text report names the verdict, the non-safe findings with offsets, and the globals', () => {
  const r = scan(asm(g('os', 'system'), 'ls', 'TUPLE1', 'REDUCE', 'STOP'));
  const text = formatScanReport('x.pkl', r);
  assert.match(text, /^x\.pkl: dangerous \(pickle, 1 pickle\)\n/);
  assert.match(text, /byte +0 {2}dangerous {2}import os\.system \[GLOBAL\]: runs commands/);
  assert.match(text, /globals: os\.system \[dangerous\]/);
});
