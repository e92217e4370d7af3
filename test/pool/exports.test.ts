/**
 * Which functions a module's source exports (src/pool/exports.ts): the definitions V8 points at
 * are matched to export names, in plain ESM and in the shapes esbuild (tsx) writes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportAt, exportedFunctions } from '../../src/pool/exports.js';

/** The export name of the function whose parameter list starts where `marker` does. */
function nameAt(source: string, marker: string): string | undefined {
  const at = source.indexOf(marker);
  assert.ok(at >= 0, marker);
  return exportAt(exportedFunctions(source), at);
}

test('plain ESM: declarations, const arrows, export lists, default', () => {
  const src = [
    'export function a(x) { return x; }',
    'export const b = (y) => y, notFn = 1;',
    'function c(z) { return z; }',
    'const d = function (w) { return w; };',
    'function hidden(v) { return v; }',
    'export { c, c as cc, d as dee };',
    'export default function (u) { return u; }',
  ].join('\n');
  assert.equal(nameAt(src, '(x)'), 'a');
  assert.equal(nameAt(src, '(y)'), 'b');
  assert.equal(nameAt(src, '(z)'), 'c', 'its own name first, when it has several');
  assert.equal(nameAt(src, '(w)'), 'dee');
  assert.equal(nameAt(src, '(v)'), undefined, 'not exported');
  assert.equal(nameAt(src, '(u)'), 'default');
  // V8 places an async arrow at its start.
  const asyncSrc = 'export const f = async x => x;';
  assert.equal(nameAt(asyncSrc, 'async x'), 'f');
});

test("esbuild's keepNames output, as tsx runs TypeScript", () => {
  const src =
    'var __name=(t,v)=>t;function scaled(x){return x}__name(scaled,"scaled");' +
    'const which=__name(()=>1,"which");function inner(q){return q}' +
    'export{scaled as default,scaled,which};';
  assert.equal(nameAt(src, '(x)'), 'scaled');
  assert.equal(nameAt(src, '()=>1'), 'which');
  assert.equal(nameAt(src, '(q)'), undefined);
});

test('a function inside an exported one is not exported; bad source exports nothing', () => {
  const src = 'export function outer(a = (b) => b) { return (c) => c; }';
  assert.equal(nameAt(src, '(a'), 'outer');
  assert.equal(nameAt(src, '(b)'), undefined);
  assert.equal(nameAt(src, '(c)'), undefined);
  assert.deepEqual(exportedFunctions('this is not javascript'), []);
});
