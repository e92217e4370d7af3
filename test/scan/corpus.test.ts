/**
 * The scanner on its corpora (test/fixtures/scan, built by make.py): every malicious file is
 * dangerous, every benign real-world file (numpy, pandas, scikit-learn, joblib, torch,
 * datetime-heavy, Python 2) is safe; the rates are printed. Then Python's own unpickler is the
 * oracle for what is imported: every global CPython asks `find_class` for, loading each file
 * with stubs, is one the scanner reports.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { scanFile, type FileScanResult } from '../../src/scan/node.js';
import { needPython, PYTHON } from '../helpers/python.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'test/fixtures/scan');

interface Manifest {
  malicious: Record<string, { does: string; made: string }>;
  benign: Record<string, { what: string; made: string }>;
  versions: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;

const results = new Map<string, FileScanResult>();
async function scanned(corpus: 'malicious' | 'benign', name: string): Promise<FileScanResult> {
  const path = join(dir, corpus, name);
  let r = results.get(path);
  if (r === undefined) {
    r = await scanFile(path);
    results.set(path, r);
  }
  return r;
}

test('the manifest documents every corpus file, and every file it lists exists', () => {
  for (const corpus of ['malicious', 'benign'] as const) {
    const files = readdirSync(join(dir, corpus)).sort();
    assert.deepEqual(files, Object.keys(manifest[corpus]).sort(), corpus);
    for (const [name, entry] of Object.entries(manifest[corpus])) {
      const text = 'does' in entry ? entry.does : entry.what;
      assert.ok(text.length > 10, `${name} says what it is`);
    }
  }
  assert.ok(Object.keys(manifest.malicious).length >= 50);
  assert.ok(Object.keys(manifest.benign).length >= 50);
});

test('detection: 100% of the malicious corpus is dangerous; false positives: 0% of the benign corpus is dangerous or suspicious', async () => {
  const malicious = Object.keys(manifest.malicious);
  const benign = Object.keys(manifest.benign);
  const missed: string[] = [];
  const flagged: string[] = [];
  for (const name of malicious) {
    const r = await scanned('malicious', name);
    if (r.verdict !== 'dangerous') missed.push(`${name}: ${r.verdict}`);
  }
  for (const name of benign) {
    const r = await scanned('benign', name);
    if (r.verdict !== 'safe') {
      const why = r.findings
        .filter((f) => f.severity !== 'safe')
        .map((f) => `${f.module}.${f.name}`);
      flagged.push(
        `${name}: ${r.verdict} ${why.join(', ')} ${r.errors.map((e) => e.message).join('; ')}`,
      );
    }
  }
  const detection = (100 * (malicious.length - missed.length)) / malicious.length;
  const falsePositives = (100 * flagged.length) / benign.length;
  console.log(
    `scanner: detection ${detection.toFixed(1)}% (${malicious.length - missed.length}/${malicious.length} malicious files dangerous), ` +
      `false positives ${falsePositives.toFixed(1)}% (${flagged.length}/${benign.length} benign files dangerous or suspicious)`,
  );
  assert.deepEqual(missed, [], 'every malicious file is dangerous');
  assert.deepEqual(flagged, [], 'no benign file is dangerous or suspicious');
});

test('the containers are recognized: torch zip and legacy, joblib (plain, zlib, gzip), npy, npz, several pickles', async () => {
  const formats: Array<
    [corpus: 'malicious' | 'benign', name: string, format: string, pickles: number]
  > = [
    ['benign', 'torch_state_dict.pt', 'torch-zip', 1],
    ['benign', 'torch_legacy.pt', 'torch-legacy', 5],
    ['benign', 'joblib_pipeline.joblib', 'joblib', 1],
    ['benign', 'joblib_arrays.joblib', 'joblib', 2], // the object array is a pickle of its own
    ['benign', 'joblib_zlib.joblib.z', 'joblib', 1],
    ['benign', 'joblib_gzip.joblib.gz', 'joblib', 1],
    ['benign', 'numpy_object.npy', 'npy', 1],
    ['benign', 'numpy_plain.npy', 'npy', 0],
    ['benign', 'numpy_arrays.npz', 'npz', 1],
    ['benign', 'stdlib_two_pickles.pkl', 'pickle', 2],
    ['benign', 'stdlib_datetime.pkl.xz', 'pickle', 1],
    ['malicious', 'torch_zip_data_pkl.pt', 'torch-zip', 1],
    ['malicious', 'second_pickle_in_file.pkl', 'pickle', 2],
  ];
  for (const [corpus, name, format, pickles] of formats) {
    const r = await scanned(corpus, name);
    assert.equal(r.format, format, name);
    assert.equal(r.pickles, pickles, name);
  }
  assert.equal((await scanned('benign', 'joblib_zlib.joblib.z')).compression, 'zlib');
  assert.equal((await scanned('benign', 'stdlib_datetime.pkl.bz2')).compression, 'bz2');
});

test('each malicious payload is reported where and as what it is', async () => {
  const expect: Array<
    [name: string, module: string, qualname: string, opcode: string, offset?: number]
  > = [
    ['inst_os_system.pkl', 'os', 'system', 'INST', 15],
    ['put_memoize_mix.pkl', 'os', 'system', 'STACK_GLOBAL'],
    ['put_memoize_gap.pkl', 'subprocess', 'getoutput', 'STACK_GLOBAL'],
    ['stack_global_memo.pkl', 'os', 'system', 'STACK_GLOBAL'],
    ['pkgutil_resolve_name.pkl', 'pkgutil', 'resolve_name', 'STACK_GLOBAL'],
    ['import_getattr.pkl', 'builtins', '__import__', 'GLOBAL'],
    ['ufunc_reconstruct.pkl', 'os', 'system', 'REDUCE'],
    ['python2_commands.pkl', 'commands', 'getoutput', 'INST'],
    ['torch_zip_data_pkl.pt', 'posix', 'system', 'GLOBAL'],
  ];
  for (const [name, module, qualname, opcode, offset] of expect) {
    const r = await scanned('malicious', name);
    const f = r.findings.find(
      (x) =>
        x.module === module &&
        x.name === qualname &&
        x.opcode === opcode &&
        x.severity === 'dangerous',
    );
    assert.ok(f, `${name}: ${module}.${qualname} at ${opcode}; got ${JSON.stringify(r.findings)}`);
    if (offset !== undefined) assert.equal(f.offset, offset, name);
  }
  // The import of getattr is not what is judged: the call is, by what it reaches.
  const chain = await scanned('malicious', 'import_getattr.pkl');
  assert.ok(
    chain.findings.some(
      (f) =>
        f.kind === 'call' &&
        f.module === 'builtins' &&
        f.name === 'getattr' &&
        f.severity === 'dangerous',
    ),
  );
  // A nested pickle's own findings carry the offset of the loads call that holds them.
  const nested = await scanned('malicious', 'nested_pickle_loads.pkl');
  const inner = nested.findings.find((f) => f.nested !== undefined && f.name === 'system');
  assert.ok(inner, 'the nested os.system is reported');
  const loadsCall = nested.findings.find((f) => f.kind === 'call' && f.name === 'loads');
  assert.deepEqual(inner.nested, [loadsCall?.offset]);
  // Python runs os.system before it reaches the broken end: dangerous, and the error is kept.
  const truncated = await scanned('malicious', 'truncated_after_call.pkl');
  assert.equal(truncated.errors[0]?.code, 'TRUNCATED');
  // The joblib object array's own pickle, written after its wrapper, is scanned too.
  const joblibInner = await scanned('malicious', 'joblib_object_array_only.joblib');
  assert.ok(
    joblibInner.findings.some(
      (f) => f.pickle === 1 && f.module === 'posix' && f.severity === 'dangerous',
    ),
  );
});

test("every global CPython's unpickler looks up is one the scanner reports (Python is the oracle)", async (t) => {
  if (!needPython(t)) return;
  const paths: string[] = [];
  for (const corpus of ['malicious', 'benign'] as const) {
    for (const name of Object.keys(manifest[corpus])) paths.push(join(dir, corpus, name));
  }
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      'import sys, json; sys.path.insert(0, sys.argv[1]); import scan_oracle; print(json.dumps(scan_oracle.globals_python_looks_up(sys.argv[2:])))',
      join(root, 'test/python'),
      ...paths,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  assert.equal(r.status, 0, r.stderr);
  const oracle = JSON.parse(r.stdout) as Record<
    string,
    { seen: Array<[string, string]>; complete: boolean }
  >;
  let compared = 0;
  let exact = 0;
  for (const path of paths) {
    const { seen, complete } = oracle[path]!;
    const corpus = path.includes('/malicious/') ? 'malicious' : 'benign';
    const report = await scanned(corpus, path.split('/').pop()!);
    const imports = report.findings
      .filter(
        (f) =>
          f.kind === 'import' &&
          f.nested === undefined &&
          ['GLOBAL', 'STACK_GLOBAL', 'INST'].includes(f.opcode),
      )
      .map((f) => `${f.module}.${f.name}`);
    const reported = new Set(imports);
    for (const [module, name] of seen) {
      assert.ok(
        reported.has(`${module}.${name}`),
        `${path}: Python looks up ${module}.${name}, the scanner does not report it`,
      );
    }
    compared += seen.length;
    // Where Python walked every pickle, the two lists are the same, in the same order.
    if (complete && corpus === 'benign' && report.format !== 'joblib') {
      assert.deepEqual(
        imports,
        seen.map(([m, n]) => `${m}.${n}`),
        path,
      );
      exact++;
    }
  }
  assert.ok(compared > 500, `compared ${compared} lookups`);
  assert.ok(exact > 40, `${exact} files compared exactly`);
});
