/**
 * Containers read by the scanner when they are damaged or unusual: deflated zip members (with
 * and without an inflater), lying and truncated archives, bad .npy headers, joblib files cut
 * short. Each gives a verdict with an error, never an exception.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { scan } from '../../src/scan/index.js';
import { scanBytes } from '../../src/scan/node.js';
import { needPython, PYTHON } from '../helpers/python.js';

const fixture = (path: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/scan/${path}`, import.meta.url)));

function pythonBytes(code: string): Uint8Array {
  const r = spawnSync(PYTHON, ['-c', code], { maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, r.stderr.toString());
  return new Uint8Array(r.stdout);
}

test('deflated zip members: scanned with an inflater (scanBytes), reported as not scanned without', async (t) => {
  if (!needPython(t)) return;
  const zip = pythonBytes(
    [
      'import io, os, pickle, sys, zipfile',
      'class P:',
      "    def __reduce__(self): return (os.system, ('echo pwned',))",
      'b = io.BytesIO()',
      'with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:',
      '    z.writestr("archive/data.pkl", pickle.dumps(P(), protocol=2) * 1)',
      '    z.writestr("archive/version", "3")',
      'sys.stdout.buffer.write(b.getvalue())',
    ].join('\n'),
  );
  const without = scan(zip);
  assert.equal(without.verdict, 'malformed');
  assert.equal(without.errors[0]?.code, 'BAD_CONTAINER');
  assert.match(without.errors[0]!.message, /deflated and no inflateRaw/);
  const withInflate = await scanBytes(zip);
  assert.equal(withInflate.verdict, 'dangerous');
  assert.equal(withInflate.format, 'torch-zip');
  assert.equal(withInflate.findings[0]?.section, 'archive/data.pkl');
});

test('damaged containers give malformed with an offset, not an exception', async () => {
  const torch = fixture('benign/torch_state_dict.pt');
  const cut = scan(torch.subarray(0, torch.length - 30));
  assert.equal(cut.verdict, 'malformed');
  assert.match(cut.errors[0]!.message, /end of central directory not found/);

  const npy = fixture('benign/numpy_object.npy');
  const badVersion = npy.slice();
  badVersion[6] = 9;
  assert.equal(scan(badVersion).verdict, 'malformed');
  assert.equal(scan(npy.subarray(0, 8)).verdict, 'malformed');
  assert.equal(scan(npy.subarray(0, npy.length - 3)).errors[0]?.code, 'TRUNCATED');

  const joblibFile = fixture('benign/joblib_arrays.joblib');
  const shortJoblib = scan(joblibFile.subarray(0, 400));
  assert.equal(shortJoblib.verdict, 'malformed');

  // Stored members (torch.save's layout) need no inflater; a cut gzip stream is malformed.
  const zip = fixture('malicious/torch_zip_data_pkl.pt');
  assert.equal((await scanBytes(zip)).verdict, 'dangerous');
  const garbledGzip = fixture('benign/stdlib_datetime.pkl.gz').slice(0, 40);
  const gz = await scanBytes(garbledGzip);
  assert.equal(gz.verdict, 'malformed');
  assert.equal(gz.compression, 'gzip');
});
