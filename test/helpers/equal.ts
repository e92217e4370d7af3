/**
 * Deep equality as the differential tests need it: same JS types (Tuple is not Array, bigint is
 * not number, -0 is not 0), NaN equal to NaN, and the same sharing: objects pair one-to-one.
 */
import assert from 'node:assert/strict';
import { Complex, PickleBuffer, PyGlobal, PyObject } from '../../src/index.js';

/** The first difference between `actual` and `expected`, or `undefined` if they are the same. */
export function difference(actual: unknown, expected: unknown, path = 'value'): string | undefined {
  const a2e = new Map<object, object>();
  const e2a = new Map<object, object>();
  const todo: Array<[unknown, unknown, string]> = [[actual, expected, path]];
  while (todo.length > 0) {
    const [a, e, p] = todo.pop()!;
    if (typeof a !== typeof e) return `${p}: ${typeof a} ${show(a)} is not ${typeof e} ${show(e)}`;
    if (typeof a === 'number') {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))))
        return `${p}: ${show(a)} !== ${show(e)}`;
      continue;
    }
    if (typeof a !== 'object' || a === null || e === null) {
      if (a !== e) return `${p}: ${show(a)} !== ${show(e)}`;
      continue;
    }
    const eo = e as object;
    if (a2e.has(a) || e2a.has(eo)) {
      if (a2e.get(a) !== eo || e2a.get(eo) !== a) return `${p}: sharing differs`;
      continue;
    }
    a2e.set(a, eo);
    e2a.set(eo, a);
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(eo)) {
      return `${p}: ${a.constructor?.name ?? 'null-prototype'} is not ${eo.constructor?.name ?? 'null-prototype'}`;
    }
    if (a instanceof Uint8Array) {
      const b = eo as Uint8Array;
      if (a.length !== b.length || !a.every((x, i) => x === b[i]))
        return `${p}: bytes differ (${a.length} vs ${b.length})`;
    } else if (Array.isArray(a)) {
      const b = eo as unknown[];
      if (a.length !== b.length) return `${p}: length ${a.length} !== ${b.length}`;
      for (let i = a.length - 1; i >= 0; i--) todo.push([a[i], b[i], `${p}[${i}]`]);
    } else if (a instanceof Map) {
      const b = eo as Map<unknown, unknown>;
      if (a.size !== b.size) return `${p}: size ${a.size} !== ${b.size}`;
      const ae = [...a];
      const be = [...b];
      for (let i = ae.length - 1; i >= 0; i--) {
        todo.push(
          [ae[i]![0], be[i]![0], `${p}.<key ${i}>`],
          [ae[i]![1], be[i]![1], `${p}[${show(ae[i]![0])}]`],
        );
      }
    } else if (a instanceof Set) {
      const b = eo as Set<unknown>;
      if (a.size !== b.size) return `${p}: size ${a.size} !== ${b.size}`;
      const ae = [...a];
      const be = [...b];
      for (let i = ae.length - 1; i >= 0; i--) todo.push([ae[i], be[i], `${p}{${i}}`]);
    } else if (a instanceof Complex) {
      const b = eo as Complex;
      todo.push([a.re, b.re, `${p}.re`], [a.im, b.im, `${p}.im`]);
    } else if (a instanceof PyGlobal) {
      const b = eo as PyGlobal;
      if (a.module !== b.module || a.name !== b.name)
        return `${p}: ${a.fullName} !== ${b.fullName}`;
    } else if (a instanceof PickleBuffer) {
      const b = eo as PickleBuffer;
      if (a.readonly !== b.readonly) return `${p}: readonly ${a.readonly} !== ${b.readonly}`;
      todo.push([a.data, b.data, `${p}.data`]);
    } else if (a instanceof PyObject) {
      const b = eo as PyObject;
      if (a.kind !== b.kind) return `${p}: kind ${a.kind} !== ${b.kind}`;
      todo.push(
        [a.cls, b.cls, `${p}.cls`],
        [a.args, b.args, `${p}.args`],
        [a.kwargs, b.kwargs, `${p}.kwargs`],
        [a.state, b.state, `${p}.state`],
        [a.stateSetter, b.stateSetter, `${p}.stateSetter`],
        [a.listItems, b.listItems, `${p}.listItems`],
        [a.dictItems, b.dictItems, `${p}.dictItems`],
      );
    }
    // Own fields: a plain object's items, and the extra fields of other classes (a Deque's
    // maxlen, a DefaultDict's factory, a datetime's parts, a registered class's attributes).
    if (!(
      a instanceof PyGlobal ||
      a instanceof PickleBuffer ||
      a instanceof PyObject ||
      a instanceof Complex
    )) {
      const b = eo as Record<string, unknown>;
      const own = (o: object) =>
        Object.keys(o).filter(
          (k) => !(Array.isArray(o) || ArrayBuffer.isView(o)) || !/^\d+$/.test(k),
        );
      const ak = own(a);
      const bk = own(eo);
      if (ak.join('\0') !== bk.join('\0'))
        return `${p}: keys [${ak.slice(0, 8)}] !== [${bk.slice(0, 8)}]`;
      for (let i = ak.length - 1; i >= 0; i--) {
        todo.push([(a as Record<string, unknown>)[ak[i]!], b[ak[i]!], `${p}.${ak[i]}`]);
      }
    }
  }
  return undefined;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return String(v);
}

/** Asserts that `actual` and `expected` are the same value (types and sharing included). */
export function assertSameValue(actual: unknown, expected: unknown, message = ''): void {
  const d = difference(actual, expected);
  if (d !== undefined) assert.fail(`${message ? message + ': ' : ''}${d}`);
}
