/** `pickle convert IN OUT`: pickle to JSON, JSON to pickle, or pickle to another protocol. */
import { DEFAULT_PROTOCOL, HIGHEST_PROTOCOL, dumps } from '../../index.js';
import { fromJsonDocuments } from '../../tools/json-read.js';
import { jsonChunks } from '../../tools/json-write.js';
import { losslessDumpOptions } from '../../tools/lossless.js';
import { choiceOption, intOption, type Command } from '../command.js';
import { DataError, UsageError } from '../errors.js';
import { readInput, withoutCompressionExtension } from '../input.js';
import { writeAll } from '../io.js';
import { loadPickles } from '../load.js';
import { openOutput } from '../output.js';
import { Progress } from '../progress.js';

type Format = 'pickle' | 'json';

const PICKLE_EXTENSIONS = /\.(pkl|pickle|pck|pcl|p|pk|pkl\d|dat)$/i;

function formatOfPath(path: string): Format | undefined {
  const base = withoutCompressionExtension(path);
  if (/\.(json|jsonl)$/i.test(base)) return 'json';
  if (PICKLE_EXTENSIONS.test(base)) return 'pickle';
  return undefined;
}

/**
 * Whether the input is JSON text rather than a pickle: JSON documents start with `{`, `[` or
 * `"` (after white space), none of which is an opcode, so no pickle starts with them.
 */
function looksLikeJson(data: Uint8Array): boolean {
  for (const b of data) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b || b === 0x22;
  }
  return false;
}

export const convert: Command = {
  name: 'convert',
  summary: 'convert between pickle and JSON (or between pickle protocols)',
  args: 'IN OUT',
  description: [
    'Convert IN to OUT (either may be - for standard input/output). The direction follows the',
    'file names (.json, or .pkl/.pickle; .gz .bz2 .xz .zst compress), else the content of IN:',
    'a pickle becomes JSON, JSON becomes a pickle. Pickle to pickle rewrites it at --protocol.',
    '',
    'JSON output is plain JSON when the value allows it (None, bool, int, float, str, list and',
    'dicts with str keys, nothing shared): anything else (a tuple, bytes, a set, NaN, an object',
    'of some class) is an error naming where it is, unless --tagged asks for tagged JSON, the',
    'lossless form (docs/cli.md). JSON input is read as tagged JSON when it is a tagged',
    'document, else as plain JSON: integer literals are ints, other numbers floats.',
  ].join('\n'),
  options: {
    tagged: { type: 'boolean', short: 't', help: 'write lossless tagged JSON' },
    to: { type: 'string', help: 'FORMAT  json or pickle, whatever the file names say' },
    protocol: {
      type: 'string',
      short: 'P',
      help: `N  pickle protocol to write, 0 to ${HIGHEST_PROTOCOL} (default ${DEFAULT_PROTOCOL}, as Python)`,
    },
    indent: { type: 'string', help: 'N  indent JSON by N spaces per level (default: one line)' },
    encoding: {
      type: 'string',
      help: 'ENC  decoding of Python 2 str: ASCII (default, as Python), latin1, bytes, ...',
    },
  },
  positionals: { min: 2, max: 2 },

  async run({ values: options, positionals, io }) {
    const [inPath, outPath] = positionals as [string, string];
    const protocol = intOption(options, 'protocol', { max: HIGHEST_PROTOCOL });
    const indent = intOption(options, 'indent', { max: 16 });
    const tagged = options.tagged === true;
    const encoding = typeof options.encoding === 'string' ? options.encoding : undefined;
    let to = choiceOption(options, 'to', ['json', 'pickle'] as const) ?? formatOfPath(outPath);

    const progress = Progress.for(io, outPath === '-' && io.stdoutIsTTY);
    const input = await readInput(inPath, io, progress);
    const from: Format = formatOfPath(inPath) ?? (looksLikeJson(input.data) ? 'json' : 'pickle');
    to ??= from === 'json' ? 'pickle' : 'json';
    if (to === 'json' && protocol !== undefined)
      throw new UsageError('--protocol applies to pickle output');
    if (to === 'pickle' && (tagged || indent !== undefined)) {
      throw new UsageError('--tagged and --indent apply to JSON output');
    }
    if (from === 'json' && to === 'json')
      throw new UsageError('both IN and OUT are JSON: nothing to convert');

    let values: unknown[];
    progress.status('decoding', input.data.length);
    try {
      if (from === 'json') {
        const text = new TextDecoder('utf-8', { fatal: false }).decode(input.data);
        values = fromJsonDocuments(text);
      } else {
        values = [...loadPickles(input.data, { lossless: true, encoding })].map(([, v]) => v);
      }
    } finally {
      progress.finish();
    }

    if (values.length === 0) throw new DataError(`${input.name}: no JSON value in the input`);
    const out = await openOutput(outPath, io, to === 'pickle');
    let ok = false;
    try {
      if (to === 'json') {
        if (values.length > 1 && indent !== undefined) {
          throw new UsageError(
            'IN holds several pickles: JSON output is one line per pickle, without --indent',
          );
        }
        for (const value of values) {
          await writeAll(out, jsonChunks(value, { tagged, exact: true, indent: indent ?? 0 }));
          await out.write('\n');
        }
      } else {
        for (const value of values) {
          await out.write(
            dumps(value, { ...losslessDumpOptions, protocol: protocol ?? DEFAULT_PROTOCOL }),
          );
        }
      }
      ok = true;
    } finally {
      await out.close(ok);
    }
  },
};
