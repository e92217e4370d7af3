/**
 * Unknown classes stay inert and write back as they came: for every pickle of the corpus in
 * test/python/objects_unknown.py (numpy arrays, exceptions, regexes, pathlib, ipaddress,
 * namespaces, subclasses of known types, the sample classes, ...), at every protocol,
 * `dumps(loads(b))` loads in Python to a value equal to `pickle.loads(b)`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PyObject, dumps, loads } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';

const U = 'import objects_unknown as u\n';

test('unknown classes: loads then dumps gives Python an equal value, at every protocol, both modes', async (t) => {
  if (!needPython(t)) return;
  const r = await py.eval(`${U}result = list(u.corpus())`);
  const names = (r.tagged as { v: Array<{ v: string }> }).v.map((x) => x.v);
  assert.ok(names.length >= 25, `${names.length} corpus entries`);
  const failures: string[] = [];
  let inert = 0;
  for (const name of names) {
    for (let p = 0; p <= 5; p++) {
      const b = await py.bytes(`${U}result = u.dumps(${JSON.stringify(name)}, ${p})`);
      for (const exact of [false, true]) {
        let again: Uint8Array;
        try {
          const v = loads(b, { exact });
          if (v instanceof PyObject) inert++;
          again = dumps(v, { protocol: p, exact });
        } catch (e) {
          failures.push(`${name} @${p}${exact ? ' exact' : ''}: ${String(e)}`);
          continue;
        }
        const same = await py.eval(
          `${U}result = u.same(${JSON.stringify(name)}, ${p}, data)`,
          again,
        );
        if (same.error || (same.tagged as { v: boolean }).v !== true) {
          failures.push(
            `${name} @${p}${exact ? ' exact' : ''}: ${same.error ? same.error.message : 'not equal'}`,
          );
        } else if (
          exact &&
          Buffer.compare(again, b) !== 0 &&
          !/numpy|array|ipaddress|IPv4/.test(name)
        ) {
          // Exact mode writes back CPython's own bytes, except where CPython shares objects
          // pickle-ts cannot see as shared (equal strings made at run time).
          failures.push(`${name} @${p}: exact-mode bytes differ from CPython's`);
        }
      }
    }
  }
  assert.ok(inert > 0, 'some values load as inert PyObjects');
  assert.equal(
    failures.length,
    0,
    `${failures.length} failures:\n  ${failures.slice(0, 30).join('\n  ')}`,
  );
});
