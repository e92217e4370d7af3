/**
 * The differential sample: pickles pickle-ts wrote for generated values, sent to python3 in
 * batches (one oracle process). Python must load each one (through an unpickler that allows only
 * the globals pickle-ts writes for built-in values), to a value strictly equal to ours (types and
 * sharing), and, where CPython writes the same bytes, `pickle.dumps(pickle.loads(b), protocol)`
 * must be `b` again.
 */
import { py } from '../../helpers/python.js';
import type { Tagged } from '../../helpers/tagged.js';

export interface PythonCase {
  pickle: Uint8Array;
  protocol: number;
  /** The value as Python should see it. */
  expect: Tagged;
  /** Whether CPython's own pickle of the loaded value must be these bytes. */
  identical: boolean;
}

export interface PythonProblem {
  index: number;
  problem: string;
}

const CHECK = `
import io, json, pickle
from tagged import from_tagged, strict_equal

ALLOWED = {(m, n) for m in ('builtins', '__builtin__')
           for n in ('complex', 'bytearray', 'bytes', 'set', 'frozenset')}
ALLOWED.add(('_codecs', 'encode'))

class Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError('refused global %s.%s' % (module, name))
        return super().find_class(module, name)

problems = []
for i, case in enumerate(json.loads(data)):
    b = bytes.fromhex(case['pickle'])
    try:
        value = Restricted(io.BytesIO(b)).load()
    except Exception as e:
        problems.append([i, 'pickle.loads raised %s: %s' % (type(e).__name__, e)])
        continue
    d = strict_equal(value, from_tagged(case['expect']))
    if d:
        problems.append([i, 'Python loads another value: ' + d])
        continue
    if case['identical']:
        again = pickle.dumps(value, case['protocol'])
        if again != b:
            n = min(len(b), len(again))
            n = next((k for k in range(n) if b[k] != again[k]), n)
            problems.append([i, 'pickle.dumps(pickle.loads(ours)) differs at byte %d: ours %s, CPython %s'
                             % (n, b[max(0, n - 8):n + 16].hex(), again[max(0, n - 8):n + 16].hex())])
result = json.dumps(problems)
`;

/** Checks a batch in Python; returns the cases that failed. */
export async function checkInPython(cases: readonly PythonCase[]): Promise<PythonProblem[]> {
  const payload = JSON.stringify(
    cases.map((c) => ({
      pickle: Buffer.from(c.pickle).toString('hex'),
      protocol: c.protocol,
      expect: c.expect,
      identical: c.identical,
    })),
  );
  const r = await py.eval(CHECK, new TextEncoder().encode(payload));
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  const text = (r.tagged as { v: string }).v;
  return (JSON.parse(text) as Array<[number, string]>).map(([index, problem]) => ({
    index,
    problem,
  }));
}
