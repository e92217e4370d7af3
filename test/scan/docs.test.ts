/** docs/scan.md says what the code does: its example, its counts, and the lists' consistency. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ALLOWED_GLOBALS, Policy, scan } from '../../src/scan/index.js';
import { SKLEARN_CLASSES } from '../../src/scan/allowlist-sklearn.js';

const doc = readFileSync(new URL('../../docs/scan.md', import.meta.url), 'utf8');
const fixtures = new URL('../fixtures/scan/', import.meta.url);

test('docs/scan.md: the INST example finding is what scan reports', () => {
  const r = scan(readFileSync(new URL('malicious/inst_os_system.pkl', fixtures)));
  const f = r.findings[0]!;
  const shown =
    /\{ offset: (\d+), opcode: '(\w+)', kind: '(\w+)', module: '(\w+)', name: '(\w+)',\s*\/\/\s*severity: '(\w+)', reason: '([^']+)'/.exec(
      doc,
    );
  assert.ok(shown, 'the example is in docs/scan.md');
  assert.deepEqual(shown.slice(1), [
    String(f.offset),
    f.opcode,
    f.kind,
    f.module,
    f.name,
    f.severity,
    f.reason,
  ]);
});

test('docs/scan.md: the corpus and allowlist counts are current', () => {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', fixtures), 'utf8')) as {
    malicious: object;
    benign: object;
    versions: Record<string, string>;
  };
  assert.match(doc, new RegExp(`${Object.keys(manifest.malicious).length} malicious files`));
  assert.match(doc, new RegExp(`and ${Object.keys(manifest.benign).length} benign files`));
  const classes = Object.values(SKLEARN_CLASSES).flat().length;
  assert.match(
    doc,
    new RegExp(
      `\\(${classes} classes from\\s+scikit-learn ${manifest.versions['scikit-learn']!.replace(/\./g, '\\.')}\\)`,
    ),
  );
});

test('every allowlisted name is judged safe (no denylist entry contradicts the allowlist), and exactly named', () => {
  const policy = new Policy();
  for (const [module, names] of Object.entries(ALLOWED_GLOBALS)) {
    for (const name of names) {
      assert.ok(!name.includes('*'), `${module}.${name} is an exact name`);
      assert.equal(policy.judge(module, name).severity, 'safe', `${module}.${name}`);
    }
  }
});
