/**
 * Values to JSON, never recursing on nesting depth: plain JSON where a value is only None,
 * bools, ints, finite floats, strings, lists and string-keyed dicts (anything else, or a shared
 * or cyclic container, is an error that names where it is), and tagged JSON, a lossless form
 * of every value pickle-ts models (docs/cli.md describes it).
 */
import { ByteArray, PickleBuffer } from '../core/python/bytes.js';
import { Complex } from '../core/python/complex.js';
import { isDictObject } from '../core/python/dict.js';
import { FrozenSet } from '../core/python/frozenset.js';
import { PyGlobal, PyObject } from '../core/python/object.js';
import { reprStr } from '../core/python/repr.js';
import { Tuple } from '../core/python/tuple.js';
import { pyFloatRepr } from '../core/text.js';
import { toBase64 } from './base64.js';
import { PersistentId } from './persistent.js';

/** The version written in (and expected from) a tagged JSON document's `$tagged` key. */
export const TAGGED_JSON_VERSION = 1;

/** A value that JSON (plain or tagged) cannot represent. */
export class JsonConversionError extends Error {
  override name = 'JsonConversionError';
  /** Where in the value, as Python would index it: `value['home'][0]`. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.path = path;
  }
}

export interface ToJsonOptions {
  /** Tagged JSON (lossless) instead of plain JSON. Defaults to false. */
  tagged?: boolean;
  /** Spaces per nesting level; 0 writes one line. Defaults to 0. */
  indent?: number;
  /**
   * Values loaded with `{ exact: true }`: every `number` is a float and ints are `bigint`s.
   * Defaults to false (integral numbers are ints, as the pickler's default).
   */
  exact?: boolean;
}

interface Path {
  readonly parent: Path | null;
  readonly segment: string;
}

function pathText(p: Path | null): string {
  const parts: string[] = [];
  for (let q = p; q !== null; q = q.parent) parts.push(q.segment);
  return 'value' + parts.reverse().join('');
}

type Task =
  string | { readonly value: unknown; readonly path: Path | null; readonly depth: number };

const quote = (s: string) => JSON.stringify(s);

function typeLabel(v: unknown): string {
  if (v instanceof Tuple) return 'a tuple';
  if (v instanceof FrozenSet) return 'a frozenset';
  if (v instanceof Set) return 'a set';
  if (v instanceof ByteArray) return 'a bytearray';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Complex) return 'a complex';
  if (v instanceof PyGlobal) return `the global ${v.fullName}`;
  if (v instanceof PyObject) return `an instance of ${v.className ?? 'an unknown class'}`;
  if (v instanceof PickleBuffer) return 'a PickleBuffer';
  if (v instanceof PersistentId) return 'a persistent ID';
  if (v instanceof Map) return 'a dict with non-string keys';
  if (typeof v === 'object' && v !== null) return `a ${v.constructor?.name ?? 'object'}`;
  return `a ${typeof v}`;
}

/** Whether `v` is a dict whose keys are all strings (a plain object, or a `Map`). */
function stringKeyed(v: object): v is Record<string, unknown> | Map<string, unknown> {
  if (v instanceof Map) {
    for (const k of v.keys()) if (typeof k !== 'string') return false;
    return true;
  }
  return !(v instanceof Uint8Array) && !Array.isArray(v) && isDictObject(v);
}

function entriesOf(v: Record<string, unknown> | Map<string, unknown>): Array<[string, unknown]> {
  return v instanceof Map ? [...v] : Object.keys(v).map((k) => [k, v[k]]);
}

/** A float as tagged JSON writes it: a JSON number, or a string for what JSON lacks. */
function taggedFloat(x: number): string {
  if (Number.isNaN(x)) return '"nan"';
  if (x === Infinity) return '"inf"';
  if (x === -Infinity) return '"-inf"';
  if (Object.is(x, -0)) return '"-0.0"';
  return pyFloatRepr(x);
}

const isSafe = (v: bigint) => v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER;

/** Counts how often each object is reached (stopping at the second time), without recursion. */
function countReferences(root: unknown): Map<object, number> {
  const seen = new Map<object, number>();
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v !== 'object' || v === null) continue;
    const n = seen.get(v);
    seen.set(v, (n ?? 0) + 1);
    if (n !== undefined) continue;
    if (Array.isArray(v) || v instanceof Set) for (const x of v) todo.push(x);
    else if (v instanceof Map) for (const [k, x] of v) todo.push(k, x);
    else if (v instanceof PyObject) {
      todo.push(v.cls, v.args, v.kwargs, v.state, v.stateSetter, ...v.listItems);
      for (const [k, x] of v.dictItems) todo.push(k, x);
    } else if (v instanceof PersistentId) todo.push(v.pid);
    else if (!(v instanceof Uint8Array) && isDictObject(v)) {
      for (const k of Object.keys(v)) todo.push(v[k]);
    }
  }
  return seen;
}

/**
 * Yields the JSON text of `value` piece by piece. Throws `JsonConversionError` for what the
 * chosen form cannot hold.
 *
 * @example
 * ```ts
 * [...jsonChunks({ a: [1, 2.5] }, { tagged: true })].join('');
 * // '{"$tagged":1,"value":{"a":[1,{"$float":2.5}]}}'
 * ```
 */
export function* jsonChunks(
  value: unknown,
  options: ToJsonOptions = {},
): Generator<string, void, undefined> {
  const tagged = options.tagged ?? false;
  const exact = options.exact ?? false;
  const indent = options.indent ?? 0;
  const counts = tagged ? countReferences(value) : undefined;
  const ids = new Map<object, number>();
  const inPlain = new Set<object>(); // plain JSON: every container seen, to refuse sharing
  const tasks: Task[] = [];
  let out = '';

  const nl = (depth: number) => (indent > 0 ? '\n' + ' '.repeat(indent * depth) : '');
  const colon = indent > 0 ? ': ' : ':';
  const fail = (path: Path | null, reason: string): never => {
    throw new JsonConversionError(pathText(path), reason);
  };
  const child = (parent: Path | null, segment: string): Path => ({ parent, segment });

  /** Pushes `open item, item close` for items (each a task list), in reverse. */
  const pushSeq = (open: string, close: string, items: Task[][], depth: number) => {
    if (items.length === 0) {
      tasks.push(open + close);
      return;
    }
    tasks.push(nl(depth) + close);
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i]!;
      for (let k = item.length - 1; k >= 0; k--) tasks.push(item[k]!);
      tasks.push((i > 0 ? ',' : '') + nl(depth + 1));
    }
    tasks.push(open);
  };
  const valueTask = (v: unknown, path: Path | null, depth: number): Task => ({
    value: v,
    path,
    depth,
  });
  const list = (xs: Iterable<unknown>, path: Path | null, depth: number): Task[][] => {
    const items: Task[][] = [];
    let i = 0;
    for (const x of xs) items.push([valueTask(x, child(path, `[${i++}]`), depth + 1)]);
    return items;
  };
  const pairs = (entries: Iterable<[unknown, unknown]>, path: Path | null, depth: number) => {
    const items: Task[][] = [];
    for (const [k, x] of entries) {
      const p = child(path, typeof k === 'string' ? `[${reprStr(k)}]` : '[<key>]');
      const inner = depth + 2;
      items.push([
        '[' + nl(inner),
        valueTask(k, p, inner),
        ',' + nl(inner),
        valueTask(x, p, inner),
        nl(depth + 1) + ']',
      ]);
    }
    return items;
  };
  /** `{"$tag": <tasks>, "key": value, ..., "$id": n}` as one task list. */
  const tagObject = (
    v: object,
    tag: string,
    body: Task[],
    extra: Array<[string, Task[]]>,
    depth: number,
  ) => {
    const fields: Task[][] = [];
    // The id goes first, so that it precedes every {"$ref": n} in the text too.
    if (counts!.get(v)! > 1) {
      const id = ids.size + 1;
      ids.set(v, id);
      fields.push([`"$id"${colon}${id}`]);
    }
    fields.push([quote(tag) + colon, ...body]);
    for (const [k, t] of extra) fields.push([quote(k) + colon, ...t]);
    pushSeq('{', '}', fields, depth);
  };
  const seqBody = (items: Task[][], depth: number): Task[] => {
    const saved = tasks.length;
    pushSeq('[', ']', items, depth);
    return tasks.splice(saved).reverse();
  };

  /** The members of a JSON object: `"key": value`. */
  const objectItems = (entries: Array<[string, unknown]>, path: Path | null, depth: number) =>
    entries.map(([k, x]): Task[] => [
      quote(k) + colon,
      valueTask(x, child(path, `[${reprStr(k)}]`), depth + 1),
    ]);

  if (tagged) {
    out = `{${nl(1)}"$tagged"${colon}${TAGGED_JSON_VERSION},${nl(1)}"value"${colon}`;
    tasks.push(nl(0) + '}', valueTask(value, null, 1));
  } else {
    tasks.push(valueTask(value, null, 0));
  }

  while (tasks.length > 0) {
    if (out.length > 0xffff) {
      yield out;
      out = '';
    }
    const task = tasks.pop()!;
    if (typeof task === 'string') {
      out += task;
      continue;
    }
    const { value: v, path, depth } = task;
    if (v === null) out += 'null';
    else if (v === true || v === false) out += String(v);
    else if (typeof v === 'string') out += quote(v);
    else if (
      typeof v === 'bigint' ||
      (typeof v === 'number' && !exact && Number.isSafeInteger(v) && !Object.is(v, -0))
    ) {
      const big = BigInt(v);
      out += !tagged || isSafe(big) ? String(big) : `{"$int"${colon}"${big}"}`;
    } else if (typeof v === 'number') {
      if (tagged) out += `{"$float"${colon}${taggedFloat(v)}}`;
      else if (Number.isFinite(v)) out += pyFloatRepr(v);
      else fail(path, `plain JSON has no ${pyFloatRepr(v)}`);
    } else if (typeof v !== 'object' || v === undefined) {
      fail(path, `cannot convert ${typeLabel(v)} to JSON`);
    } else if (tagged && ids.has(v)) {
      out += `{"$ref"${colon}${ids.get(v)!}}`;
    } else if (!tagged) {
      if (inPlain.has(v)) {
        fail(
          path,
          'this container is reached twice (shared or cyclic), which plain JSON cannot hold',
        );
      }
      if (Array.isArray(v) && !(v instanceof Tuple)) {
        inPlain.add(v);
        pushSeq('[', ']', list(v, path, depth), depth);
      } else if (stringKeyed(v)) {
        inPlain.add(v);
        pushSeq('{', '}', objectItems(entriesOf(v), path, depth), depth);
      } else {
        fail(path, `plain JSON cannot hold ${typeLabel(v)}; use tagged JSON for a lossless form`);
      }
    } else {
      writeTagged(v, path, depth);
    }
  }
  yield out;

  function writeTagged(v: object, path: Path | null, depth: number): void {
    const d = depth;
    if (v instanceof Tuple) tagObject(v, '$tuple', seqBody(list(v, path, d + 1), d + 1), [], d);
    else if (Array.isArray(v)) {
      if (counts!.get(v)! > 1) tagObject(v, '$list', seqBody(list(v, path, d + 1), d + 1), [], d);
      else pushSeq('[', ']', list(v, path, d), d);
    } else if (v instanceof FrozenSet) {
      tagObject(v, '$frozenset', seqBody(list(v, path, d + 1), d + 1), [], d);
    } else if (v instanceof Set) tagObject(v, '$set', seqBody(list(v, path, d + 1), d + 1), [], d);
    else if (v instanceof ByteArray) tagObject(v, '$bytearray', [quote(toBase64(v))], [], d);
    else if (v instanceof Uint8Array) tagObject(v, '$bytes', [quote(toBase64(v))], [], d);
    else if (v instanceof Complex) {
      tagObject(v, '$complex', [`[${taggedFloat(v.re)},${taggedFloat(v.im)}]`], [], d);
    } else if (v instanceof PickleBuffer) {
      tagObject(v, '$buffer', [quote(toBase64(v.data))], [['readonly', [String(v.readonly)]]], d);
    } else if (v instanceof PyGlobal) {
      tagObject(v, '$global', [`[${quote(v.module)},${quote(v.name)}]`], [], d);
    } else if (v instanceof PersistentId) {
      tagObject(v, '$persistent', [valueTask(v.pid, child(path, '.pid'), d + 1)], [], d);
    } else if (v instanceof PyObject) {
      const field = (name: string, x: unknown): [string, Task[]] => [
        name,
        [valueTask(x, child(path, `.${name}`), d + 1)],
      ];
      const extra: Array<[string, Task[]]> = [['kind', [quote(v.kind)]], field('args', v.args)];
      if (v.kwargs !== undefined) extra.push(field('kwargs', v.kwargs));
      if (v.state !== undefined) extra.push(field('state', v.state));
      if (v.stateSetter !== undefined) extra.push(field('stateSetter', v.stateSetter));
      if (v.listItems.length > 0) {
        extra.push([
          'listItems',
          seqBody(list(v.listItems, child(path, '.listItems'), d + 1), d + 1),
        ]);
      }
      if (v.dictItems.length > 0) {
        extra.push([
          'dictItems',
          seqBody(pairs(v.dictItems, child(path, '.dictItems'), d + 1), d + 1),
        ]);
      }
      tagObject(v, '$object', [valueTask(v.cls, child(path, '.cls'), d + 1)], extra, d);
    } else if (stringKeyed(v)) {
      const entries = entriesOf(v);
      if (counts!.get(v)! > 1 || entries.some(([k]) => k.startsWith('$'))) {
        tagObject(v, '$dict', seqBody(pairs(entries, path, d + 1), d + 1), [], d);
      } else {
        pushSeq('{', '}', objectItems(entries, path, d), d);
      }
    } else if (v instanceof Map) {
      tagObject(v, '$dict', seqBody(pairs(v, path, d + 1), d + 1), [], d);
    } else {
      fail(path, `tagged JSON has no form for ${typeLabel(v)}`);
    }
  }
}

/**
 * The JSON text of `value`: plain JSON by default, tagged JSON with `{ tagged: true }`.
 *
 * @example
 * ```ts
 * toJson({ Ozzy: 3, tags: ['a'] });   // '{"Ozzy":3,"tags":["a"]}'
 * toJson(tuple(1, 2));                // throws: plain JSON cannot hold a tuple
 * toJson(tuple(1, 2), { tagged: true }); // '{"$tagged":1,"value":{"$tuple":[1,2]}}'
 * ```
 */
export function toJson(value: unknown, options: ToJsonOptions = {}): string {
  let text = '';
  for (const piece of jsonChunks(value, options)) text += piece;
  return text;
}
