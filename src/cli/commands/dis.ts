/** `pickle dis FILE...`: the disassembly `python -m pickletools` prints. */
import { disChunks, type DisMemo, type DisOptions } from '../../tools/dis.js';
import { intOption, type Command } from '../command.js';
import { readInput } from '../input.js';
import { writeAll } from '../io.js';
import { openOutput } from '../output.js';
import { Progress } from '../progress.js';

/** Every pickle in `data`, one after another, as pickletools' `dis` prints each. */
function* disAll(
  data: Uint8Array,
  options: DisOptions,
  sharedMemo: DisMemo | undefined,
): Generator<string, void, undefined> {
  let start = 0;
  do {
    start = yield* disChunks(data, { ...options, start, memo: sharedMemo ?? new Map() });
  } while (start < data.length);
}

export const dis: Command = {
  name: 'dis',
  summary: 'disassemble pickles, as python -m pickletools',
  args: 'FILE...',
  description: [
    'Disassemble each FILE (- for standard input) as `python -m pickletools` does: the same',
    'text, and the same checks of the stack, the marks and the memo, failing with the same',
    'messages at the same opcodes. A file holding several pickles is disassembled through to',
    'its end (pickletools stops after the first).',
  ].join('\n'),
  options: {
    annotate: {
      type: 'boolean',
      short: 'a',
      help: 'annotate each line with a short opcode description',
    },
    memo: { type: 'boolean', short: 'm', help: 'preserve the memo between pickles and files' },
    indentlevel: {
      type: 'string',
      short: 'l',
      help: 'N  the number of blanks by which to indent a new MARK level (default 4)',
    },
    output: { type: 'string', short: 'o', help: 'FILE  write the disassembly to FILE' },
    preamble: {
      type: 'string',
      short: 'p',
      help: 'TEXT  with several files, print this before each ({name} is the file name; default "==> {name} <==")',
    },
  },
  positionals: { min: 1, max: Infinity },

  async run({ values, positionals, io }) {
    const indentlevel = intOption(values, 'indentlevel', { min: -1000, max: 1000 }) ?? 4;
    const preamble = typeof values.preamble === 'string' ? values.preamble : '==> {name} <==';
    const outputPath = typeof values.output === 'string' ? values.output : '-';
    const out = await openOutput(outputPath, io, false);
    const progress = Progress.for(io, outputPath === '-' && io.stdoutIsTTY);
    const memo: DisMemo | undefined = values.memo === true ? new Map() : undefined;
    try {
      for (const path of positionals) {
        const input = await readInput(path, io, progress);
        progress.phase('disassembling', input.data.length);
        if (positionals.length > 1)
          await out.write(preamble.replaceAll('{name}', input.name) + '\n');
        const options: DisOptions = {
          annotate: values.annotate === true,
          indentlevel,
          onProgress: (offset) => progress.update(offset),
        };
        try {
          await writeAll(out, disAll(input.data, options, memo));
        } finally {
          progress.finish();
        }
      }
    } finally {
      // Like pickletools, keep what was disassembled before an error.
      await out.close(true);
    }
  },
};
