/**
 * JSON both ways. Tagged JSON is lossless: every corpus pickle, loaded, written as tagged JSON,
 * read back and dumped, gives CPython's bytes again. Plain JSON is written exactly when Python
 * agrees the value is plain JSON, and `json.loads` of it equals the value; Python's own
 * `json.dumps` output reads back to the value. Nothing recurses on depth.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  dumps,
  loads,
  tuple,
  PyObject,
  PyGlobal,
  Complex,
  ByteArray,
  PickleBuffer,
  FrozenSet,
} from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import {
  fromJson,
  toJson,
  JsonConversionError,
  JsonParseError,
  PersistentId,
  keepPersistentIds,
  losslessDumpOptions,
  losslessLoadOptions,
} from '../../src/tools/index.js';
import { fromJsonDocuments } from '../../src/tools/json-read.js';
import { pyJsonCheckMany, pyJsonDumpsMany } from './oracle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test("tagged JSON round-trips the whole corpus to CPython's exact bytes, protocols 0-5", async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  let checked = 0;
  for (const c of corpus) {
    for (const [protocol, p] of c.pickles.entries()) {
      const text = toJson(loads(p, { exact: true }), { tagged: true, exact: true });
      const again = dumps(fromJson(text), { exact: true, protocol });
      assert.equal(hex(again), hex(p), `${c.name} at protocol ${protocol}: ${text.slice(0, 200)}`);
      checked++;
    }
  }
  assert.ok(checked > 900);
});

test('losslessLoadOptions: classes stay inert objects, and tagged JSON gives back the bytes', async (t) => {
  if (!needPython(t)) return;
  for (const protocol of [0, 2, 4, 5]) {
    const bytes = await py.bytes(`
import datetime, decimal, collections, fractions
result = pickle.dumps({'when': datetime.datetime(2024, 3, 10, 1, 30, tzinfo=datetime.timezone.utc),
    'price': decimal.Decimal('19.90'), 'od': collections.OrderedDict(b=2, a=[1]),
    'q': collections.deque([1, 2]), 'f': fractions.Fraction(3, 4), 'set': {1, 2}, 'b': b'x'}, ${protocol})`);
    const value = loads(bytes, losslessLoadOptions) as Record<string, unknown>;
    assert.ok(value.when instanceof PyObject && value.od instanceof PyObject);
    assert.ok(value.set instanceof Set && value.b instanceof Uint8Array);
    const text = toJson(value, { tagged: true, exact: true });
    assert.equal(hex(dumps(fromJson(text), { ...losslessDumpOptions, protocol })), hex(bytes));
  }
});

test('plain JSON: written exactly when Python agrees it is plain, and json.loads equals the value', async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const cases = corpus.map((c) => {
    const p = c.pickles[4]!;
    let text: string | null = null;
    try {
      text = toJson(loads(p, { exact: true }), { exact: true });
    } catch (e) {
      if (!(e instanceof JsonConversionError)) throw e;
    }
    return [p, text] as const;
  });
  const results = await pyJsonCheckMany(cases);
  const failures = results.map((r, i) => (r ? `${corpus[i]!.name}: ${r}` : '')).filter(Boolean);
  assert.equal(failures.length, 0, failures.slice(0, 5).join('\n'));
  const plain = cases.filter(([, text]) => text !== null).length;
  assert.ok(plain > 80 && plain < cases.length, `${plain} of ${cases.length} plain`);
});

test("Python's json.dumps output reads back to the same value (ints stay ints, floats floats)", async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const pickles = corpus.map((c) => c.pickles[4]!);
  const texts = await pyJsonDumpsMany(pickles);
  let read = 0;
  texts.forEach((text, i) => {
    if (text === null) return;
    const again = dumps(fromJson(text), { exact: true, protocol: 4 });
    assert.equal(hex(again), hex(pickles[i]!), `${corpus[i]!.name}: ${text.slice(0, 100)}`);
    read++;
  });
  assert.ok(read > 80);
});

test('plain JSON refuses what it cannot hold, naming where it is', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ home: tuple(1, 2) }, /^value\['home'\]: plain JSON cannot hold a tuple/],
    [[1, [2, new Uint8Array(1)]], /^value\[1\]\[1\]: plain JSON cannot hold bytes/],
    [new Map([[1, 'a']]), /^value: plain JSON cannot hold a dict with non-string keys/],
    [{ x: NaN }, /^value\['x'\]: plain JSON has no nan/],
    [[Infinity], /plain JSON has no inf/],
    [[new Set([1])], /a set/],
    [new Complex(1, 2), /a complex/],
    [new PyObject(new PyGlobal('m', 'C'), tuple()), /an instance of m\.C/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => toJson(value, { exact: true }),
      (e: unknown) => {
        return e instanceof JsonConversionError && message.test(e.message);
      },
    );
  }
  const shared = [1];
  assert.throws(
    () => toJson({ a: shared, b: shared }),
    /value\['b'\]: this container is reached twice/,
  );
  const loop: unknown[] = [];
  loop.push(loop);
  assert.throws(() => toJson(loop), /value\[0\]: this container is reached twice/);
});

test('tagged JSON: the documented forms', () => {
  const value = [
    null,
    true,
    3n,
    2n ** 64n,
    2.5,
    -0,
    NaN,
    'é',
    new Uint8Array([0, 255]),
    ByteArray.copyOf(new Uint8Array([1])),
    tuple(1n),
    new Set([1n]),
    new FrozenSet([2n]),
    new Map<unknown, unknown>([[tuple(1n, 2n), 'pair']]),
    { $weird: 1n },
    new Complex(1, -Infinity),
    new PickleBuffer(new Uint8Array([9]), true),
    new PyGlobal('os', 'path.join'),
    new PersistentId('pid-1'),
  ];
  const text = toJson(value, { tagged: true, exact: true });
  assert.equal(
    text,
    '{"$tagged":1,"value":[null,true,3,{"$int":"18446744073709551616"},{"$float":2.5},' +
      '{"$float":"-0.0"},{"$float":"nan"},"é",{"$bytes":"AP8="},{"$bytearray":"AQ=="},' +
      '{"$tuple":[1]},{"$set":[1]},{"$frozenset":[2]},{"$dict":[[{"$tuple":[1,2]},"pair"]]},' +
      '{"$dict":[["$weird",1]]},{"$complex":[1.0,"-inf"]},{"$buffer":"CQ==","readonly":true},' +
      '{"$global":["os","path.join"]},{"$persistent":"pid-1"}]}',
  );
  const back = fromJson(text) as unknown[];
  assert.deepStrictEqual(toJson(back, { tagged: true, exact: true }), text);
  assert.ok(back[10] instanceof Array && back[13] instanceof Map);
  // Indented output is the same document.
  const pretty = toJson(value, { tagged: true, exact: true, indent: 2 });
  assert.match(pretty, /^\{\n {2}"\$tagged": 1,\n {2}"value": \[\n {4}null,/);
  assert.equal(toJson(fromJson(pretty), { tagged: true, exact: true }), text);
});

test('tagged JSON keeps sharing, cycles and objects of unknown classes', () => {
  // The example of docs/cli.md: the $id comes before its $refs.
  const list: unknown[] = [1n];
  list.push(list);
  assert.equal(
    toJson({ a: list, b: list }, { tagged: true }),
    '{"$tagged":1,"value":{"a":{"$id":1,"$list":[1,{"$ref":1}]},"b":{"$ref":1}}}',
  );
  const shared = [1n];
  const obj = new PyObject(new PyGlobal('shop', 'Order'), tuple(), 'newobj');
  const d: Record<string, unknown> = { order: obj, a: shared, b: shared };
  obj.state = { parent: d, n: 1n };
  obj.listItems = ['x'];
  obj.dictItems = [[1n, 'y']];
  const text = toJson(d, { tagged: true, exact: true });
  const back = fromJson(text) as typeof d;
  assert.equal(back.a, back.b);
  const o = back.order as PyObject;
  assert.ok(o instanceof PyObject && o.kind === 'newobj');
  assert.equal((o.state as Record<string, unknown>).parent, back);
  assert.deepEqual(o.listItems, ['x']);
  assert.deepEqual(o.dictItems, [[1n, 'y']]);
  // And it pickles as the original does.
  const opts = { exact: true, protocol: 4 };
  assert.equal(hex(dumps(back, opts)), hex(dumps(d, opts)));
});

test('persistent IDs survive load, tagged JSON and dump, as Python wrote them', async (t) => {
  if (!needPython(t)) return;
  for (const protocol of [0, 2, 4]) {
    const bytes = await py.bytes(`
import io
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return 'row:' + obj[1:] if isinstance(obj, str) and obj.startswith('@') else None
f = io.BytesIO()
P(f, ${protocol}).dump(['@1', {'k': '@2'}, 'plain'])
result = f.getvalue()`);
    const value = loads(bytes, keepPersistentIds) as unknown[];
    assert.ok(value[0] instanceof PersistentId && value[0].pid === 'row:1');
    const back = fromJson(toJson(value, { tagged: true }));
    assert.equal(hex(dumps(back, { protocol, ...keepPersistentIds })), hex(bytes));
  }
});

test('a million nested lists to tagged JSON and back, without recursion', () => {
  const nested = (n: number) => {
    let v: unknown[] = [];
    const root = v;
    for (let i = 1; i < n; i++) {
      const next: unknown[] = [];
      v.push(next);
      v = next;
    }
    return root;
  };
  const depthOf = (v: unknown) => {
    let depth = 1;
    for (let x = v as unknown[]; x.length === 1; x = x[0] as unknown[]) depth++;
    return depth;
  };
  const n = 1_000_000;
  const text = toJson(nested(n), { tagged: true });
  assert.equal(text, `{"$tagged":1,"value":${'['.repeat(n)}${']'.repeat(n)}}`);
  assert.equal(depthOf(fromJson(text)), n);
  // Plain JSON walks the same way (a smaller depth keeps the test quick).
  const plain = toJson(nested(100_000));
  assert.equal(plain, '['.repeat(100_000) + ']'.repeat(100_000));
  assert.equal(depthOf(fromJson(plain)), 100_000);
});

test('plain JSON in: numbers by their text, dict keys as Python reads them', () => {
  assert.deepStrictEqual(fromJson('{"a": [1, 1.0, 1e2, -0.0, 123456789012345678901234567890]}'), {
    a: [1n, 1, 100, -0, 123456789012345678901234567890n],
  });
  const m = fromJson('{"1": "index-like", "__proto__": 2, "a": 1, "a": 3}') as Map<
    unknown,
    unknown
  >;
  assert.ok(m instanceof Map);
  assert.deepStrictEqual(
    [...m],
    [
      ['1', 'index-like'],
      ['__proto__', 2n],
      ['a', 3n],
    ],
  );
  assert.deepStrictEqual(fromJsonDocuments('{"a":1}\n[2]\n"x"\n'), [{ a: 1n }, [2n], 'x']);
});

test('bad JSON and bad tagged JSON are JsonParseErrors with a position', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /Expecting value: line 1 column 1 \(char 0\)/],
    ['[1, 2', /Expecting ',' delimiter: line 1 column 6/],
    ['{"a" 1}', /Expecting ':' delimiter/],
    ['{1: 2}', /Expecting property name/],
    ['[1] x', /Extra data: line 1 column 5/],
    ['"\\x"', /Invalid string/],
    ['{"$tagged": 2, "value": 1}', /version 2 is not supported/],
    ['{"$tagged": 1, "value": {"$ref": 3}}', /\$ref 3 names no earlier \$id/],
    ['{"$tagged": 1, "value": {"$nope": 3}}', /unknown tag \$nope/],
    ['{"$tagged": 1, "value": [1.5]}', /a float must be written/],
    ['{"$tagged": 1, "value": {"$bytes": "!!"}}', /expected base64/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => fromJson(text),
      (e: unknown) => e instanceof JsonParseError && message.test(e.message),
      text,
    );
  }
});
