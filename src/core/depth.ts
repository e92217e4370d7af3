/**
 * The nesting depth of a loaded value, for the `maxDepth` limit, found without recursion: a
 * million nested lists are walked with an explicit stack.
 */
import { isDictObject } from './python/dict.js';
import { Partial } from './python/builtins.js';
import { PyObject } from './python/object.js';

/** The values directly inside `v`, or undefined if `v` is not a container. */
function childrenOf(v: object): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof Map) {
    const out: unknown[] = [];
    for (const [k, x] of v) out.push(k, x);
    return out;
  }
  if (v instanceof Set) return [...v];
  if (v instanceof PyObject) {
    const out: unknown[] = [...v.args, v.kwargs, v.state, ...v.listItems];
    for (const [k, x] of v.dictItems) out.push(k, x);
    return out;
  }
  if (v instanceof Partial) return [v.func, ...v.args, v.keywords];
  if (isDictObject(v)) return Object.values(v);
  return undefined;
}

/**
 * Whether `root` nests more than `max` containers deep (`[]` is 1 deep, `[[]]` 2). A shared
 * value counts at its deepest place; a cycle is followed once. Returns the depth at which the
 * walk passed `max`, or undefined if it never did.
 */
export function nestingDepthOver(root: unknown, max: number): number | undefined {
  /** Depth of each container whose walk has finished. */
  const done = new Map<object, number>();
  /** Containers on the current path (a child among them closes a cycle). */
  const onPath = new Set<object>();
  interface Frame {
    node: object;
    children: unknown[];
    next: number;
    /** The deepest child depth seen so far. */
    deepest: number;
  }
  const path: Frame[] = [];
  const enter = (v: unknown): number | undefined => {
    if (typeof v !== 'object' || v === null) return 0;
    const known = done.get(v);
    if (known !== undefined) return known;
    if (onPath.has(v)) return 0;
    const children = childrenOf(v);
    if (children === undefined) return 0;
    path.push({ node: v, children, next: 0, deepest: 0 });
    onPath.add(v);
    return undefined;
  };
  const finish = (depth: number): number | undefined => {
    // `depth` containers hang below the current path of `path.length` containers.
    return path.length + depth > max ? path.length + depth : undefined;
  };
  if (enter(root) !== undefined) return undefined;
  while (path.length > 0) {
    const frame = path[path.length - 1]!;
    if (path.length > max) return path.length;
    if (frame.next < frame.children.length) {
      const d = enter(frame.children[frame.next++]);
      if (d !== undefined) {
        if (d > frame.deepest) frame.deepest = d;
        const over = finish(d);
        if (over !== undefined) return over;
      }
      continue;
    }
    path.pop();
    onPath.delete(frame.node);
    const depth = frame.deepest + 1;
    done.set(frame.node, depth);
    const parent = path[path.length - 1];
    if (parent !== undefined && depth > parent.deepest) parent.deepest = depth;
    if (path.length + depth > max) return path.length + depth;
  }
  return undefined;
}
