/**
 * JSON to values. A parser of its own keeps each number's text (so `3` is an int and `3.0` a
 * float, as Python's `json` reads them, and big ints stay exact) and never recurses on nesting
 * depth. A tagged JSON document (`{"$tagged": 1, "value": ...}`) comes back as the exact values
 * it was written from; any other JSON is read as plain JSON.
 */
import { ByteArray, PickleBuffer } from '../core/python/bytes.js';
import { Complex } from '../core/python/complex.js';
import { isArrayIndexKey } from '../core/python/dict.js';
import { FrozenSet } from '../core/python/frozenset.js';
import { PyGlobal, PyObject, type PyObjectKind } from '../core/python/object.js';
import { Tuple } from '../core/python/tuple.js';
import { fromBase64 } from './base64.js';
import { TAGGED_JSON_VERSION } from './json-write.js';
import { PersistentId } from './persistent.js';

/** Malformed JSON, or tagged JSON that does not describe a value. */
export class JsonParseError extends Error {
  override name = 'JsonParseError';
}

/** A JSON number, kept as its text. */
class JsonNumber {
  constructor(readonly text: string) {}
}

/** A JSON object, kept as its members in order (duplicates included). */
class JsonObject {
  readonly members: Array<[string, JsonNode]> = [];
  get(key: string): JsonNode | undefined {
    for (let i = this.members.length - 1; i >= 0; i--) {
      if (this.members[i]![0] === key) return this.members[i]![1];
    }
    return undefined;
  }
}

type JsonNode = null | boolean | string | JsonNumber | JsonNode[] | JsonObject;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// eslint-disable-next-line no-control-regex -- JSON strings may not hold raw control characters
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SPACE = /[ \t\n\r]*/y;

/** Parses JSON text into a tree, with an explicit stack. */
export function parseJsonTree(text: string): JsonNode {
  const { node, end } = parseJsonAt(text, 0);
  if (end < text.length) {
    throw new JsonParseError(`Extra data: ${where(text, end)}`);
  }
  return node;
}

function where(text: string, at: number): string {
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return `line ${line} column ${at - before.lastIndexOf('\n')} (char ${at})`;
}

/** Parses one JSON value at `start` (leading space allowed); `end` is past trailing space. */
function parseJsonAt(text: string, start: number): { node: JsonNode; end: number } {
  let pos = start;
  const fail = (what: string, at = pos): never => {
    throw new JsonParseError(`${what}: ${where(text, at)}`);
  };
  const skip = () => {
    SPACE.lastIndex = pos;
    SPACE.test(text);
    pos = SPACE.lastIndex;
  };
  const readString = (): string => {
    STRING.lastIndex = pos;
    const m = STRING.exec(text);
    if (!m) return fail('Invalid string');
    pos = STRING.lastIndex;
    return JSON.parse(m[0]) as string;
  };

  // Each open container: an array, or an object with the key being read.
  const stack: Array<{ node: JsonNode[] } | { node: JsonObject; key: string }> = [];
  let root: JsonNode | undefined;
  for (;;) {
    skip();
    // A value.
    let value: JsonNode;
    const c = text[pos];
    if (c === '{' || c === '[') {
      pos++;
      skip();
      if (c === '[') {
        const node: JsonNode[] = [];
        if (text[pos] === ']') {
          pos++;
          value = node;
        } else {
          stack.push({ node });
          continue;
        }
      } else {
        const node = new JsonObject();
        if (text[pos] === '}') {
          pos++;
          value = node;
        } else {
          if (text[pos] !== '"') fail('Expecting property name enclosed in double quotes');
          const key = readString();
          skip();
          if (text[pos] !== ':') fail("Expecting ':' delimiter");
          pos++;
          stack.push({ node, key });
          continue;
        }
      }
    } else if (c === '"') value = readString();
    else if (text.startsWith('true', pos)) {
      value = true;
      pos += 4;
    } else if (text.startsWith('false', pos)) {
      value = false;
      pos += 5;
    } else if (text.startsWith('null', pos)) {
      value = null;
      pos += 4;
    } else {
      NUMBER.lastIndex = pos;
      const m = NUMBER.exec(text);
      if (!m) return fail('Expecting value');
      value = new JsonNumber(m[0]);
      pos = NUMBER.lastIndex;
    }
    // Place it, then close every container that ends here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        root = value;
        break;
      }
      if ('key' in top) top.node.members.push([top.key, value]);
      else top.node.push(value);
      skip();
      const d = text[pos];
      if (d === ',') {
        pos++;
        if ('key' in top) {
          skip();
          if (text[pos] !== '"') fail('Expecting property name enclosed in double quotes');
          top.key = readString();
          skip();
          if (text[pos] !== ':') fail("Expecting ':' delimiter");
          pos++;
        }
        break;
      }
      if (d !== ('key' in top ? '}' : ']')) fail("Expecting ',' delimiter");
      pos++;
      stack.pop();
      value = top.node;
    }
    if (root !== undefined) break;
  }
  skip();
  return { node: root, end: pos };
}

const isInt = (n: JsonNumber) => !/[.eE]/.test(n.text);

/** A dict as pickle-ts models it: a plain object when every key allows, else a `Map`. */
function dictFor(keys: readonly unknown[]): Record<string, unknown> | Map<unknown, unknown> {
  const plain = keys.every(
    (k) => typeof k === 'string' && k !== '__proto__' && !isArrayIndexKey(k),
  );
  return plain ? {} : new Map();
}

function setItem(dict: Record<string, unknown> | Map<unknown, unknown>, k: unknown, v: unknown) {
  if (dict instanceof Map) dict.set(k, v);
  else dict[k as string] = v;
}

/** Where a node is, as `value[2].$tuple[0]`: a linked path, made into text only for errors. */
class Where {
  constructor(
    readonly parent: Where | null,
    readonly segment: string,
  ) {}
  toString(): string {
    const parts = [this.segment];
    for (let w = this.parent; w !== null; w = w.parent) parts.push(w.segment);
    return parts.reverse().join('');
  }
}
const sub = (w: Where, segment: string) => new Where(w, segment);

type Step = [JsonNode, (v: unknown) => void, Where];

/**
 * Runs `steps` in document order (depth first, left to right) with an explicit stack: each
 * value is `put` when it is created, before its children, so a `$ref` always finds its `$id`.
 */
class Walk {
  private readonly todo: Step[] = [];

  /** Queues the children of the node being visited, to be visited next, in order. */
  children(steps: Step[]): void {
    for (let i = steps.length - 1; i >= 0; i--) this.todo.push(steps[i]!);
  }

  /**
   * Fills `list` from the JSON array `items`: scalars at once (they have no identity, so order
   * does not matter), containers queued in order.
   */
  fill(
    items: readonly JsonNode[],
    list: unknown[],
    where: Where,
    scalar: (node: JsonNode, i: number) => unknown,
  ): void {
    for (let i = items.length - 1; i >= 0; i--) {
      const x = items[i]!;
      if (x === null || typeof x !== 'object' || x instanceof JsonNumber) list[i] = scalar(x, i);
      else this.todo.push([x, (v) => (list[i] = v), sub(where, `[${i}]`)]);
    }
  }

  run(root: JsonNode, visit: (node: JsonNode, put: (v: unknown) => void, where: Where) => void) {
    let result: unknown;
    this.todo.push([root, (v) => (result = v), new Where(null, 'value')]);
    while (this.todo.length > 0) {
      const [node, put, where] = this.todo.pop()!;
      visit(node, put, where);
    }
    return result;
  }
}

/** Plain JSON to values: integer literals are ints (`bigint`), other numbers floats. */
function fromPlain(root: JsonNode): unknown {
  const walk = new Walk();
  const scalar = (node: JsonNode) =>
    node instanceof JsonNumber ? (isInt(node) ? BigInt(node.text) : Number(node.text)) : node;
  return walk.run(root, (node, put, where) => {
    if (node instanceof JsonNumber) put(scalar(node));
    else if (Array.isArray(node)) {
      const list = new Array<unknown>(node.length);
      put(list);
      walk.fill(node, list, where, scalar);
    } else if (node instanceof JsonObject) {
      const dict = dictFor(node.members.map(([k]) => k));
      put(dict);
      walk.children(node.members.map(([k, x]) => [x, (v) => setItem(dict, k, v), where]));
    } else put(node);
  });
}

const OBJECT_KINDS: readonly string[] = ['reduce', 'newobj', 'newobj_ex', 'inst', 'obj'];

/** Tagged JSON to values (see docs/cli.md for the format). */
function fromTagged(root: JsonNode): unknown {
  const byId = new Map<number, unknown>();
  const walk = new Walk();
  const fail = (where: Where, what: string): never => {
    throw new JsonParseError(`tagged JSON at ${where}: ${what}`);
  };
  const float = (n: JsonNode | undefined, where: Where): number => {
    if (n instanceof JsonNumber) return Number(n.text);
    if (n === 'nan') return NaN;
    if (n === 'inf') return Infinity;
    if (n === '-inf') return -Infinity;
    if (n === '-0.0') return -0;
    return fail(where, 'a float must be a number or "nan", "inf", "-inf", "-0.0"');
  };
  const array = (n: JsonNode | undefined, where: Where): JsonNode[] =>
    Array.isArray(n) ? n : fail(where, 'expected an array');
  const bytes = (n: JsonNode | undefined, where: Where): Uint8Array =>
    (typeof n === 'string' ? fromBase64(n) : undefined) ?? fail(where, 'expected base64 text');
  const str = (n: JsonNode | undefined, where: Where): string =>
    typeof n === 'string' ? n : fail(where, 'expected a string');
  const pairsOf = (n: JsonNode | undefined, where: Where): Array<[JsonNode, JsonNode]> =>
    array(n, where).map((p, i) => {
      const pair = array(p, sub(where, `[${i}]`));
      if (pair.length !== 2) fail(sub(where, `[${i}]`), 'a pair must have two items');
      return [pair[0]!, pair[1]!];
    });
  /** Steps that build a dict's pairs in order: each key, then its value. */
  const pairSteps = (
    pairs: Array<[JsonNode, JsonNode]>,
    where: Where,
    set: (k: unknown, v: unknown) => void,
  ): Step[] => {
    const steps: Step[] = [];
    pairs.forEach(([k, x], i) => {
      let key: unknown;
      steps.push([k, (v) => (key = v), sub(where, `[${i}][0]`)]);
      steps.push([x, (v) => set(key, v), sub(where, `[${i}][1]`)]);
    });
    return steps;
  };

  const scalar = (node: JsonNode, where: () => Where) => {
    if (!(node instanceof JsonNumber)) return node;
    if (!isInt(node)) fail(where(), 'a float must be written {"$float": ...}');
    return BigInt(node.text);
  };
  return walk.run(root, (node, put, where) => {
    if (node instanceof JsonNumber) {
      put(scalar(node, () => where));
      return;
    }
    if (Array.isArray(node)) {
      const list = new Array<unknown>(node.length);
      put(list);
      walk.fill(node, list, where, (x, i) => scalar(x, () => sub(where, `[${i}]`)));
      return;
    }
    if (!(node instanceof JsonObject)) {
      put(node);
      return;
    }
    const tag = node.members.find(([k]) => k.startsWith('$') && k !== '$id')?.[0];
    if (tag === undefined) {
      // A dict with string keys.
      const dict = dictFor(node.members.map(([k]) => k));
      put(dict);
      walk.children(
        node.members.map(([k, x]) => [
          x,
          (v) => setItem(dict, k, v),
          sub(where, `[${JSON.stringify(k)}]`),
        ]),
      );
      return;
    }
    const body = node.get(tag);
    const at = sub(where, `.${tag}`);
    const idNode = node.get('$id');
    const register = <T>(v: T): T => {
      if (idNode instanceof JsonNumber) byId.set(Number(idNode.text), v);
      put(v);
      return v;
    };
    const items = (add: (v: unknown, i: number) => void): Step[] =>
      array(body, at).map((x, i) => [x, (v) => add(v, i), sub(at, `[${i}]`)]);
    switch (tag) {
      case '$ref': {
        const id = body instanceof JsonNumber ? Number(body.text) : NaN;
        if (!byId.has(id)) fail(where, `$ref ${id} names no earlier $id`);
        put(byId.get(id));
        return;
      }
      case '$int': {
        const text = str(body, at);
        put(BigInt(/^-?[0-9]+$/.test(text) ? text : fail(at, 'expected decimal digits')));
        return;
      }
      case '$float':
        put(float(body, at));
        return;
      case '$complex': {
        const parts = array(body, at);
        register(new Complex(float(parts[0], at), float(parts[1], at)));
        return;
      }
      case '$bytes':
        register(bytes(body, at));
        return;
      case '$bytearray':
        register(ByteArray.copyOf(bytes(body, at)));
        return;
      case '$buffer':
        register(new PickleBuffer(bytes(body, at), node.get('readonly') === true));
        return;
      case '$global': {
        const [module, name] = array(body, at);
        register(new PyGlobal(str(module, at), str(name, at)));
        return;
      }
      case '$list': {
        const list = register(new Array<unknown>(array(body, at).length));
        walk.children(items((v, i) => (list[i] = v)));
        return;
      }
      case '$tuple': {
        const t = register(new Tuple<unknown>());
        t.length = array(body, at).length;
        walk.children(items((v, i) => (t[i] = v)));
        return;
      }
      case '$set':
      case '$frozenset': {
        const set = register(tag === '$set' ? new Set<unknown>() : new FrozenSet<unknown>());
        walk.children(items((v) => set.add(v)));
        return;
      }
      case '$dict': {
        const pairs = pairsOf(body, at);
        const plain = pairs.every(
          ([k]) => typeof k === 'string' && k !== '__proto__' && !isArrayIndexKey(k),
        );
        const dict = register(plain ? {} : new Map<unknown, unknown>());
        walk.children(pairSteps(pairs, at, (k, v) => setItem(dict, k, v)));
        return;
      }
      case '$persistent': {
        const p = register(new PersistentId(null)) as { pid: unknown };
        walk.children([[body ?? null, (v) => (p.pid = v), at]]);
        return;
      }
      case '$object': {
        const kind = node.get('kind') ?? 'reduce';
        if (typeof kind !== 'string' || !OBJECT_KINDS.includes(kind)) {
          fail(where, `unknown object kind ${JSON.stringify(kind)}`);
        }
        const obj = register(new PyObject(null, new Tuple(), kind as PyObjectKind));
        const steps: Step[] = [[body ?? null, (v) => (obj.cls = v), at]];
        const field = (name: string, set: (v: unknown) => void) => {
          const n = node.get(name);
          if (n !== undefined) steps.push([n, set, sub(where, `.${name}`)]);
        };
        field('args', (v) => {
          obj.args = v instanceof Tuple ? v : fail(sub(where, `.args`), 'args must be a $tuple');
        });
        field('kwargs', (v) => (obj.kwargs = v));
        field('state', (v) => (obj.state = v));
        field('stateSetter', (v) => (obj.stateSetter = v));
        const list = node.get('listItems');
        if (list !== undefined) {
          for (const [i, x] of array(list, sub(where, `.listItems`)).entries()) {
            steps.push([x, (v) => (obj.listItems[i] = v), sub(where, `.listItems[${i}]`)]);
          }
        }
        const dictItems = node.get('dictItems');
        if (dictItems !== undefined) {
          const pairs = pairsOf(dictItems, sub(where, `.dictItems`));
          steps.push(
            ...pairSteps(pairs, sub(where, `.dictItems`), (k, v) => obj.dictItems.push([k, v])),
          );
        }
        walk.children(steps);
        return;
      }
      default:
        fail(where, `unknown tag ${tag}`);
    }
  });
}

/** Whether a parsed document is tagged JSON. */
function taggedValue(root: JsonNode): JsonNode | undefined {
  if (!(root instanceof JsonObject)) return undefined;
  const version = root.get('$tagged');
  if (version === undefined) return undefined;
  if (!(version instanceof JsonNumber) || Number(version.text) !== TAGGED_JSON_VERSION) {
    throw new JsonParseError(
      `tagged JSON version ${version instanceof JsonNumber ? version.text : '?'} is not supported (this reader knows version ${TAGGED_JSON_VERSION})`,
    );
  }
  return root.get('value') ?? null;
}

/**
 * The value of a JSON document: tagged JSON gives back exactly the values it was written from;
 * plain JSON gives `bigint` ints, `number` floats, arrays, and dicts (plain objects or `Map`s),
 * ready for `dumps(value, { exact: true })`.
 *
 * @example
 * ```ts
 * fromJson('{"a": [1, 2.0]}');  // { a: [1n, 2] }
 * dumps(fromJson(text), { exact: true });
 * ```
 */
export function fromJson(text: string): unknown {
  const root = parseJsonTree(text);
  const tagged = taggedValue(root);
  return tagged === undefined ? fromPlain(root) : fromTagged(tagged);
}

/**
 * The values of a stream of JSON documents (JSON Lines, or documents separated by white
 * space), each read as `fromJson` reads one.
 */
export function fromJsonDocuments(text: string): unknown[] {
  const values: unknown[] = [];
  let at = 0;
  while (at < text.length) {
    const { node, end } = parseJsonAt(text, at);
    const tagged = taggedValue(node);
    values.push(tagged === undefined ? fromPlain(node) : fromTagged(tagged));
    at = end; // past the white space after the document
  }
  return values;
}
