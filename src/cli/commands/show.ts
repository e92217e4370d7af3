/** `pickle show FILE`: the value a pickle holds, as Python prints it, or as tagged JSON. */
import { jsonChunks } from '../../tools/json-write.js';
import { showChunks } from '../../tools/show.js';
import { choiceOption, intOption, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { readInput } from '../input.js';
import { streamSink, writeAll } from '../io.js';
import { loadPickles } from '../load.js';
import { Progress } from '../progress.js';

export const show: Command = {
  name: 'show',
  summary: "print the value a pickle holds, as Python's print(pickle.load(f)) would",
  args: 'FILE',
  description: [
    "Print the value in FILE (- for standard input) as Python's print(pickle.load(f)) prints it,",
    'for the types pickle-ts models; nothing in the pickle is imported or run. Objects of other',
    'classes print as <module.Class object: ...> with what the pickle gave them. A file holding',
    'several pickles prints one value per line. Compressed input is recognized by its magic bytes.',
  ].join('\n'),
  options: {
    json: { type: 'boolean', help: 'print lossless tagged JSON instead (see docs/cli.md)' },
    indent: {
      type: 'string',
      help: 'N  indent the JSON by N spaces per level (default: one line)',
    },
    depth: { type: 'string', help: 'N  show N levels of containers; deeper ones print as [...]' },
    'max-items': { type: 'string', help: 'N  show N items per container, then ...' },
    color: {
      type: 'string',
      help: 'WHEN  auto (default: on a terminal, unless NO_COLOR), always, never',
    },
    encoding: {
      type: 'string',
      help: 'ENC  decoding of Python 2 str: ASCII (default, as Python), latin1, bytes, ...',
    },
  },
  positionals: { min: 1, max: 1 },

  async run({ values, positionals, io }) {
    const json = values.json === true;
    const depth = intOption(values, 'depth');
    const maxItems = intOption(values, 'max-items');
    const indent = intOption(values, 'indent', { max: 16 });
    const color = choiceOption(values, 'color', ['auto', 'always', 'never']) ?? 'auto';
    if (json && (depth !== undefined || maxItems !== undefined)) {
      throw new UsageError(
        '--depth and --max-items cut the value, and --json is lossless: use one or the other',
      );
    }
    if (!json && indent !== undefined) throw new UsageError('--indent goes with --json');
    const useColor =
      color === 'always' ||
      (color === 'auto' && io.stdoutIsTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb');
    const encoding = typeof values.encoding === 'string' ? values.encoding : undefined;

    const progress = Progress.for(io, io.stdoutIsTTY);
    const input = await readInput(positionals[0]!, io, progress);
    const out = streamSink(io.stdout);
    try {
      progress.status('decoding', input.data.length);
      for (const [, value] of loadPickles(input.data, { lossless: json, encoding })) {
        progress.finish();
        const pieces = json
          ? jsonChunks(value, { tagged: true, exact: true, indent: indent ?? 0 })
          : showChunks(value, { exact: true, str: true, depth, maxItems, color: useColor });
        await writeAll(out, pieces);
        await out.write('\n');
      }
    } finally {
      progress.finish();
    }
  },
};
