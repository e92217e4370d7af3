/**
 * The library as tests use it: the public API, with `loads`/`dumps`/`Unpickler`/`Pickler`
 * recording which opcodes each pickle they read or write contains. When the test runner sets
 * PICKLE_TS_OPCODE_COVERAGE_DIR, each test process writes its record there on exit and
 * scripts/test.mjs prints the union: every opcode decoded, every emittable opcode emitted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../../src/index.js';
import { genops } from '../../src/tools/genops.js';

export * from '../../src/index.js';

const decoded = new Set<string>();
const emitted = new Set<string>();
const dir = process.env.PICKLE_TS_OPCODE_COVERAGE_DIR;

function record(into: Set<string>, data: Uint8Array, start = 0, end = data.length): void {
  if (!dir) return;
  let pos = start;
  while (pos < end) {
    let last = pos;
    for (const op of genops(data, pos, { args: false })) {
      into.add(op.opcode.name);
      last = op.pos + 1;
    }
    pos = last;
  }
}

if (dir) {
  process.on('exit', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${process.pid}-${Math.random().toString(36).slice(2)}.json`),
      JSON.stringify({ decoded: [...decoded], emitted: [...emitted] }),
    );
  });
}

const asBytes = (data: lib.BytesLike): Uint8Array =>
  data instanceof Uint8Array
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

export function loads(data: lib.BytesLike, options?: lib.UnpicklerOptions): unknown {
  const u = new Unpickler(data, options);
  return u.load();
}

export function loadAll(
  data: lib.BytesLike,
  options?: lib.UnpicklerOptions,
): Generator<unknown, void, undefined> {
  return new Unpickler(data, options)[Symbol.iterator]();
}

export function dumps(value: unknown, options?: lib.PicklerOptions): Uint8Array {
  return new Pickler(options).dump(value);
}

export class Unpickler extends lib.Unpickler {
  private readonly bytes: Uint8Array;
  constructor(data: lib.BytesLike, options?: lib.UnpicklerOptions) {
    super(data, options);
    this.bytes = asBytes(data);
  }
  override load(): unknown {
    const start = this.position;
    const v = super.load();
    record(decoded, this.bytes, start, this.position);
    return v;
  }
}

export class Pickler extends lib.Pickler {
  override dump(value: unknown): Uint8Array {
    const out = super.dump(value);
    record(emitted, out);
    return out;
  }
}
