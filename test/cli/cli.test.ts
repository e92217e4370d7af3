/**
 * The `pickle` command as users run it: the built dist/src/cli/main.js in a subprocess, on
 * files Python wrote, on standard input, on compressed and on malformed files, with bad flags.
 * Python is the oracle: `print(pickle.load(f))`, `python3 -m pickletools`,
 * `pickletools.optimize`, `pickle.load` of what the command writes.
 */
/* eslint-disable no-control-regex -- the tests look for ANSI escapes */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { hasPython, needPython, PYTHON } from '../helpers/python.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(root, 'dist/src/cli/main.js');

/** Builds dist/ unless it is newer than every source file (npm test builds it first). */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => statSync(join(dir, f)).mtimeMs),
    );
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newest(join(root, 'src'))) return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  assert.ok(existsSync(MAIN), `build failed:\n${r.stdout}${r.stderr}`);
}

interface Run {
  status: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

let dir = '';

function pickle(args: readonly string[], input?: Uint8Array | string): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: dir,
    input,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 1 << 28,
  });
  return {
    status: r.status,
    stdout: r.stdout.toString('utf8'),
    stdoutBytes: r.stdout,
    stderr: r.stderr.toString('utf8'),
  };
}

function python(
  code: string,
  input?: Uint8Array,
): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(PYTHON, ['-c', code], { cwd: dir, input, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** `python3 -m pickletools ARGS`: its standard output. */
function pickletools(
  args: readonly string[],
  input?: Uint8Array,
): { status: number | null; stdout: string } {
  const r = spawnSync(PYTHON, ['-m', 'pickletools', ...args], {
    cwd: dir,
    input,
    maxBuffer: 1 << 28,
  });
  return { status: r.status, stdout: r.stdout.toString('utf8') };
}

const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

/** Files Python writes for the tests (the tutorial's dogs, a rich value at each protocol, ...). */
const MAKE_FILES = `
import gzip, pickle, pickletools
dogs_dict = {'Ozzy': 3, 'Filou': 8, 'Luna': 5, 'Skippy': 10, 'Barco': 12, 'Balou': 9, 'Laika': 16}
with open('dogs', 'wb') as outfile:
    pickle.dump(dogs_dict, outfile)
rich = {'name': 'Rex', 'ints': [0, -1, 2**70], 'floats': (1.0, -0.0, 1e300), 'bytes': b'\\x00\\xff',
        'set': {1, 2}, 'frozen': frozenset({'a'}), 'nested': [[1, [2, [3, [4]]]]],
        'complex': 1-2j, 'none': None, 'text': 'caf\\u00e9 \\U0001f600', (1, 2): 'tuple key'}
for p in range(6):
    with open('rich.p%d.pkl' % p, 'wb') as f:
        pickle.dump(rich, f, protocol=p)
with open('plain.pkl', 'wb') as f:
    pickle.dump({'a': [1, 2.5, None, True, 'x'], 'b': {'c': 10**30}}, f)
import bz2, lzma
with gzip.open('rich.p4.pkl.gz', 'wb') as f:
    pickle.dump(rich, f, protocol=4)
with bz2.open('rich.p4.bz2', 'wb') as f:
    pickle.dump(rich, f, protocol=4)
with lzma.open('rich.p4.xz', 'wb') as f:
    pickle.dump(rich, f, protocol=4)
with open('truncated.gz', 'wb') as f:
    f.write(gzip.compress(pickle.dumps(rich))[:-10])
with open('stream.pkl', 'wb') as f:
    p = pickle.Pickler(f, 2)
    shared = ['shared', 'list']
    p.dump([shared, 1])
    p.dump([shared, 2])
with open('tuple.pkl', 'wb') as f:
    pickle.dump({'home': [1, (51.5, -0.1)]}, f)
with open('tuple.pkl', 'wb') as f:
    pickle.dump({'home': [1, (51.5, -0.1)]}, f)
with open('two.pkl', 'wb') as f:
    pickle.dump('first', f)
    pickle.dump({'second': 2}, f)
with open('big.pkl', 'wb') as f:
    pickle.dump([{'id': i, 'name': 'item %d' % i, 'tags': ['a', 'b']} for i in range(120000)], f, protocol=4)
data = pickle.dumps(rich, protocol=2)
with open('truncated.pkl', 'wb') as f:
    f.write(data[:len(data) // 2])
with open('badop.pkl', 'wb') as f:
    f.write(b'\\x80\\x02K\\x01\\xff.')
with open('stackbad.pkl', 'wb') as f:
    f.write(b'K\\x01K\\x02.')
`;

before(() => {
  if (!hasPython()) return;
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'pickle-ts-cli-'));
  const r = python(MAKE_FILES);
  assert.equal(r.status, 0, r.stderr);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("pickle show dogs prints exactly what Python's print(pickle.load(f)) prints", (t) => {
  if (!needPython(t)) return;
  const expected = python(
    "import pickle; print(pickle.load(open('dogs', 'rb')))",
  ).stdout.toString();
  const r = pickle(['show', 'dogs']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, expected);
  assert.equal(
    r.stdout,
    "{'Ozzy': 3, 'Filou': 8, 'Luna': 5, 'Skippy': 10, 'Barco': 12, 'Balou': 9, 'Laika': 16}\n",
  );
  assert.equal(r.stderr, '');
  // The same from standard input.
  assert.equal(pickle(['show', '-'], read('dogs')).stdout, expected);
});

test('pickle show prints what Python prints, at every protocol; a file of several pickles prints each', (t) => {
  if (!needPython(t)) return;
  for (let p = 0; p < 6; p++) {
    const name = `rich.p${p}.pkl`;
    const expected = python(
      `import pickle; print(pickle.load(open('${name}', 'rb')))`,
    ).stdout.toString();
    const r = pickle(['show', name]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, expected, name);
  }
  const r = pickle(['show', 'two.pkl']);
  assert.equal(r.stdout, "first\n{'second': 2}\n");
});

test('pickle show --json is tagged JSON that converts back to the same pickle', (t) => {
  if (!needPython(t)) return;
  const r = pickle(['show', '--json', 'rich.p4.pkl']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { $tagged: number; value: unknown };
  assert.equal(doc.$tagged, 1);
  writeFileSync(join(dir, 'rich.tagged.json'), r.stdout);
  const back = pickle(['convert', 'rich.tagged.json', 'rich.back.pkl', '--protocol', '4']);
  assert.equal(back.status, 0, back.stderr);
  assert.deepEqual(read('rich.back.pkl'), read('rich.p4.pkl'));
  const indented = pickle(['show', '--json', '--indent', '2', 'dogs']);
  assert.match(indented.stdout, /^\{\n {2}"\$tagged": 1,\n {2}"value": \{\n {4}"Ozzy": 3,/);
});

test('pickle show --depth and --max-items cut the value', (t) => {
  if (!needPython(t)) return;
  const r = pickle(['show', '--depth', '1', '--max-items', '3', 'rich.p4.pkl']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "{'name': 'Rex', 'ints': [...], 'floats': (...), ...}\n");
});

test('pickle show colors only when asked or on a terminal', (t) => {
  if (!needPython(t)) return;
  assert.doesNotMatch(pickle(['show', 'dogs']).stdout, /\x1b\[/);
  const colored = pickle(['show', '--color', 'always', 'dogs']).stdout;
  assert.match(colored, /\x1b\[32m'Ozzy'\x1b\[0m: \x1b\[33m3\x1b\[0m/);
});

test('pickle dis prints what python3 -m pickletools prints, with its options', (t) => {
  if (!needPython(t)) return;
  const cases: string[][] = [
    ['dogs'],
    ['-a', 'dogs'],
    ['--annotate', 'rich.p0.pkl'],
    ['-l', '2', 'rich.p1.pkl'],
    ['rich.p5.pkl'],
    ['dogs', 'rich.p2.pkl'],
    ['--preamble=--- {name} ---', 'dogs', 'rich.p3.pkl'],
    ['-p', '{name}:', 'dogs', 'rich.p3.pkl'],
  ];
  for (const args of cases) {
    const r = pickle(['dis', ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, pickletools(args).stdout, args.join(' '));
  }
  // Standard input (which python3 -m pickletools cannot read from a pipe: it needs tell()).
  const r = pickle(['dis', '-'], read('rich.p4.pkl'));
  assert.equal(r.stdout, pickletools(['rich.p4.pkl']).stdout);
  // --memo carries the memo from one pickle to the next, as across pickletools' files.
  const memo = pickle(['dis', '--memo', 'stream.pkl']);
  assert.equal(memo.status, 0, memo.stderr);
  assert.match(memo.stdout, /BINGET {5}1\n/);
  assert.equal((memo.stdout.match(/highest protocol/g) ?? []).length, 2);
  const noMemo = pickle(['dis', 'stream.pkl']);
  assert.equal(noMemo.status, 1);
  assert.match(noMemo.stderr, /memo key 1 has never been stored into/);
  // -o writes to a file.
  assert.equal(pickle(['dis', '-o', 'dogs.txt', 'dogs']).stdout, '');
  assert.equal(readFileSync(join(dir, 'dogs.txt'), 'utf8'), pickletools(['dogs']).stdout);
});

test('a malformed pickle: exit status 1, the output up to the failure, and where it failed', (t) => {
  if (!needPython(t)) return;
  for (const name of ['truncated.pkl', 'badop.pkl', 'stackbad.pkl']) {
    const r = pickle(['dis', name]);
    assert.equal(r.status, 1, name);
    const py = pickletools([name]);
    assert.notEqual(py.status, 0);
    assert.equal(r.stdout, py.stdout, name);
    assert.match(r.stderr, /^pickle dis: UnpicklingError: at byte \d+/);
  }
  assert.match(
    pickle(['dis', 'badop.pkl']).stderr,
    /at byte 4: at position 4, opcode b'\\xff' unknown/,
  );
  assert.match(
    pickle(['dis', 'stackbad.pkl']).stderr,
    /at byte 4 \(STOP\): stack not empty after STOP: \[int\]/,
  );
  const show = pickle(['show', 'truncated.pkl']);
  assert.equal(show.status, 1);
  assert.match(show.stderr, /^pickle show: UnpicklingError: at byte \d+ \([A-Z_0-9]+\): /);
  assert.equal(pickle(['optimize', 'badop.pkl', 'out.pkl']).status, 1);
  assert.ok(!existsSync(join(dir, 'out.pkl')), 'no output is left behind');
});

test('pickle convert: pickle to plain JSON and back, protocols, tagged JSON, and refusals', (t) => {
  if (!needPython(t)) return;
  let r = pickle(['convert', 'plain.pkl', 'plain.json']);
  assert.equal(r.status, 0, r.stderr);
  const same = python(
    "import json, pickle; print(json.load(open('plain.json')) == pickle.load(open('plain.pkl', 'rb')))",
  );
  assert.equal(same.stdout.toString().trim(), 'True');
  r = pickle(['convert', 'plain.json', 'plain.p0.pkl', '--protocol', '0']);
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(read('plain.p0.pkl')[0], 0x80, 'protocol 0 has no PROTO opcode');
  const loaded = python(
    "import pickle; a = pickle.load(open('plain.p0.pkl', 'rb')); b = pickle.load(open('plain.pkl', 'rb')); print(a == b and type(a['a'][1]) is float)",
  );
  assert.equal(loaded.stdout.toString().trim(), 'True');

  // A tuple, bytes and sets have no plain JSON form: exit 1, where it is, and no output file.
  r = pickle(['convert', 'tuple.pkl', 'tuple.json']);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    "pickle convert: value['home'][1]: plain JSON cannot hold a tuple; use tagged JSON for a lossless form\n",
  );
  assert.ok(!existsSync(join(dir, 'tuple.json')));
  r = pickle(['convert', 'rich.p4.pkl', 'rich.json']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /value: plain JSON cannot hold a dict with non-string keys/);
  // --tagged is lossless: back to the very same bytes.
  assert.equal(pickle(['convert', '--tagged', 'rich.p2.pkl', 'rich.json']).status, 0);
  assert.equal(pickle(['convert', 'rich.json', 'rich.again.pkl', '--protocol', '2']).status, 0);
  assert.deepEqual(read('rich.again.pkl'), read('rich.p2.pkl'));
  // Pickle to pickle at another protocol; standard input and output, direction by content.
  r = pickle(['convert', '--to', 'pickle', '--protocol', '5', 'rich.p0.pkl', '-'], undefined);
  assert.equal(r.status, 0, r.stderr);
  const check = python(
    "import pickle, sys; d = sys.stdin.buffer.read(); print(d[1], pickle.loads(d) == pickle.load(open('rich.p0.pkl', 'rb')))",
    r.stdoutBytes,
  );
  assert.equal(check.stdout.toString().trim(), '5 True');
  r = pickle(['convert', '-', '-'], read('dogs'));
  assert.equal(
    r.stdout,
    '{"Ozzy":3,"Filou":8,"Luna":5,"Skippy":10,"Barco":12,"Balou":9,"Laika":16}\n',
  );
  r = pickle(['convert', '-', '-'], '{"a": [1, 2.0]}');
  const fromJson = python(
    'import pickle, sys; v = pickle.loads(sys.stdin.buffer.read()); print(v, type(v["a"][1]).__name__)',
    r.stdoutBytes,
  );
  assert.equal(fromJson.stdout.toString().trim(), "{'a': [1, 2.0]} float");
  // Bad JSON is a data error.
  r = pickle(['convert', '-', 'x.pkl'], '{"a": [1, }');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Expecting value: line 1 column 11/);
});

test('pickle optimize writes the bytes pickletools.optimize writes', (t) => {
  if (!needPython(t)) return;
  for (const name of ['dogs', 'rich.p0.pkl', 'rich.p2.pkl', 'rich.p5.pkl', 'big.pkl']) {
    const r = pickle(['optimize', name, 'opt.pkl']);
    assert.equal(r.status, 0, r.stderr);
    const expected = python(
      `import pickletools, sys; sys.stdout.buffer.write(pickletools.optimize(open('${name}', 'rb').read()))`,
    );
    assert.deepEqual(read('opt.pkl'), new Uint8Array(expected.stdout), name);
  }
  const r = pickle(['optimize', '-', '-'], read('dogs'));
  assert.ok(r.stdoutBytes.length < read('dogs').length);
});

test('compressed input by its magic bytes, compressed output by the file extension', (t) => {
  if (!needPython(t)) return;
  const plain = pickle(['show', 'rich.p4.pkl']).stdout;
  for (const name of ['rich.p4.pkl.gz', 'rich.p4.bz2', 'rich.p4.xz']) {
    const r = pickle(['show', name]);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, plain, name);
  }
  assert.equal(pickle(['dis', 'rich.p4.xz']).stdout, pickletools(['rich.p4.pkl']).stdout);
  assert.equal(pickle(['show', '-'], read('rich.p4.bz2')).stdout, plain);
  for (const ext of ['gz', 'bz2', 'xz']) {
    const r = pickle(['convert', 'rich.p0.pkl', `out.pkl.${ext}`, '--protocol', '3']);
    assert.equal(r.status, 0, r.stderr);
    const check = python(
      `import pickle, gzip, bz2, lzma; f = {'gz': gzip, 'bz2': bz2, 'xz': lzma}['${ext}'].open('out.pkl.${ext}'); print(pickle.load(f) == pickle.load(open('rich.p0.pkl', 'rb')))`,
    );
    assert.equal(check.stdout.toString().trim(), 'True', check.stderr);
  }
  // zstd (Python needs the zstandard package for it): round trip through the command.
  const zst = pickle(['optimize', 'rich.p4.pkl', 'out.pkl.zst']);
  if (zst.status === 0) assert.equal(pickle(['show', 'out.pkl.zst']).stdout, plain);
  else assert.match(zst.stderr, /cannot write 'out\.pkl\.zst': zstd/);
  // A damaged compressed file is bad data.
  const r = pickle(['show', 'truncated.gz']);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /truncated\.gz: gzip: compressed file ended before the end-of-stream marker/,
  );
});

test('usage errors: exit status 2 and the usage line; --help on every subcommand', (t) => {
  if (!needPython(t)) return;
  const bad: string[][] = [
    ['show', '--bogus', 'dogs'],
    ['show'],
    ['show', 'a', 'b'],
    ['show', '--depth', 'x', 'dogs'],
    ['show', '--json', '--depth', '2', 'dogs'],
    ['show', '--color', 'sometimes', 'dogs'],
    ['dis', '-l'],
    ['dis'],
    ['convert', 'dogs'],
    ['convert', '--protocol', '9', 'dogs', 'x.pkl'],
    ['convert', '--to', 'yaml', 'dogs', 'x'],
    ['optimize', 'dogs'],
  ];
  for (const args of bad) {
    const r = pickle(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(`^pickle ${args[0]}: .*\\nusage: pickle ${args[0]} \\[options\\]`, 's'),
    );
    assert.equal(r.stdout, '');
  }
  assert.equal(pickle([]).status, 2);
  assert.equal(pickle(['frobnicate']).status, 2);
  assert.match(pickle(['frobnicate']).stderr, /unknown command 'frobnicate'/);
  const missing = pickle(['show', 'no-such-file.pkl']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot open 'no-such-file.pkl': No such file or directory/);

  const main = pickle(['--help']);
  assert.equal(main.status, 0);
  for (const name of ['show', 'dis', 'convert', 'optimize']) {
    assert.match(main.stdout, new RegExp(`\\n  ${name} +\\S`));
    const help = pickle([name, '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, new RegExp(`^usage: pickle ${name} \\[options\\] `));
    assert.match(help.stdout, /-h, --help/);
    assert.equal(pickle([name, '-h']).stdout, help.stdout);
  }
  assert.match(pickle(['--version']).stdout, /^pickle-ts \d+\.\d+\.\d+/);
});

test('big inputs: nothing extra on pipes; a progress bar only on a terminal; a closed pipe ends quietly', (t) => {
  if (!needPython(t)) return;
  assert.ok(statSync(join(dir, 'big.pkl')).size > 4 * 1024 * 1024);
  const r = pickle(['convert', '--tagged', 'big.pkl', 'big.json']);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '', 'no progress bar when standard error is not a terminal');
  // On a terminal (script(1) gives the command one), the bar is drawn and then cleared.
  const script = spawnSync(
    'script',
    ['-qec', `${process.execPath} ${MAIN} optimize big.pkl big.opt.pkl`, '/dev/null'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  if (script.error === undefined) {
    assert.equal(script.status, 0, script.stdout);
    assert.match(script.stdout, /optimizing \[#*-*\] +\d+%/);
    assert.match(script.stdout, /\r\x1b\[K$/);
  }
  // `pickle dis big.pkl | head -n 2`: the command stops when head exits, without an error.
  const piped = spawnSync(
    'bash',
    ['-c', `set -o pipefail; ${process.execPath} ${MAIN} dis big.pkl | head -n 2`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  assert.match(piped.stdout, /^ {4}0: \\x80 PROTO {6}4\n {4}2: \\x95 FRAME {6}\d+\n$/);
  assert.equal(piped.stderr, '');
  assert.equal(piped.status, 0);
});
