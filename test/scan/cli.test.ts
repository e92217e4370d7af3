/**
 * `pickle scan FILE...` as users run it (src/cli/main.ts in a subprocess): the report, the JSON,
 * and the exit status of the worst verdict (0 safe, 1 suspicious, 2 dangerous, 3 malformed or
 * unreadable).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/fixtures/scan');
const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pickle(args: readonly string[], input?: Uint8Array) {
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/main.ts'), ...args],
    {
      cwd: dir,
      input,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '' },
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const benign = (name: string) => join(fixtures, 'benign', name);
const malicious = (name: string) => join(fixtures, 'malicious', name);

test('exit status is the worst verdict over the files; the report names each file', () => {
  const suspicious = join(dir, 'unknown.pkl');
  writeFileSync(
    suspicious,
    new Uint8Array([0x63, ...new TextEncoder().encode('shop\nOrder\n'), 0x2e]),
  );
  const malformed = join(dir, 'broken.pkl');
  writeFileSync(malformed, new Uint8Array([0x80, 0x04, 0x4e]));

  const safe = pickle(['scan', benign('sklearn_pipeline_p5.pkl'), benign('torch_state_dict.pt')]);
  assert.equal(safe.status, 0, safe.stderr);
  assert.match(safe.stdout, /sklearn_pipeline_p5\.pkl: safe \(pickle, 1 pickle\)/);
  assert.match(safe.stdout, /torch_state_dict\.pt: safe \(torch-zip, 1 pickle\)/);

  assert.equal(pickle(['scan', benign('numpy_int_array_p4.pkl'), suspicious]).status, 1);
  const bad = pickle(['scan', suspicious, malicious('inst_os_system.pkl'), malformed]);
  assert.equal(bad.status, 2, 'dangerous outranks malformed');
  assert.match(bad.stdout, /inst_os_system\.pkl: dangerous/);
  assert.match(bad.stdout, /byte 15 {2}dangerous {2}import os\.system \[INST\]/);
  assert.match(
    bad.stdout,
    /broken\.pkl: malformed \(pickle, 0 pickles\)\n {2}malformed: at byte 3: pickle exhausted/,
  );
  assert.equal(pickle(['scan', suspicious, malformed]).status, 3);
  const missing = pickle(['scan', join(dir, 'nope.pkl')]);
  assert.equal(missing.status, 3, 'an unreadable file cannot be vouched for');
  assert.match(missing.stderr, /cannot open/);
});

test('--json: one document with the worst verdict and every finding; -q prints only verdicts; stdin works', () => {
  const r = pickle([
    'scan',
    '--json',
    malicious('nested_pickle_loads.pkl'),
    benign('stdlib_datetime.pkl.gz'),
  ]);
  assert.equal(r.status, 2);
  const doc = JSON.parse(r.stdout) as {
    verdict: string;
    files: Array<{
      file: string;
      verdict: string;
      compression?: string;
      findings: Array<{ nested?: number[] }>;
    }>;
  };
  assert.equal(doc.verdict, 'dangerous');
  assert.equal(doc.files.length, 2);
  assert.equal(doc.files[1]!.verdict, 'safe');
  assert.equal(doc.files[1]!.compression, 'gzip');
  assert.ok(doc.files[0]!.findings.some((f) => f.nested !== undefined));

  const quiet = pickle(['scan', '-q', malicious('torch_legacy.pt')]);
  assert.equal(
    quiet.stdout,
    `${malicious('torch_legacy.pt')}: dangerous (torch-legacy, 5 pickles)\n`,
  );

  const stdin = pickle(['scan', '-'], new Uint8Array([0x80, 0x02, 0x4e, 0x2e]));
  assert.equal(stdin.status, 0);
  assert.match(stdin.stdout, /<stdin>: safe/);
});

test('--allow and --deny change the verdict; --all lists safe findings', () => {
  const file = join(dir, 'order.pkl');
  writeFileSync(file, new Uint8Array([0x63, ...new TextEncoder().encode('shop\nOrder\n'), 0x2e]));
  assert.equal(pickle(['scan', '--allow', 'shop:Order', file]).status, 0);
  assert.equal(pickle(['scan', '--deny', 'shop:*', file]).status, 2);
  const all = pickle(['scan', '--all', benign('stdlib_collections_p4.pkl')]);
  assert.match(all.stdout, /safe {7}import collections\.OrderedDict \[STACK_GLOBAL\]/);
  const usage = pickle(['scan', '--allow', 'nocolon', file]);
  assert.notEqual(usage.status, 0);
});
