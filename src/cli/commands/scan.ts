/**
 * `pickle scan FILE...`: what each file would import and call if Python loaded it, and a
 * verdict. Exit status: the worst verdict over the files — 0 safe, 1 suspicious, 2 dangerous,
 * 3 malformed (or unreadable) — where dangerous outranks malformed.
 */
import { scanBytes, type FileScanResult } from '../../scan/node.js';
import { formatScanReport } from '../../scan/report.js';
import { Policy } from '../../scan/policy.js';
import { verdictRank } from '../../scan/scanner.js';
import type { ScanOptions, Verdict } from '../../scan/types.js';
import { intOption, type Command } from '../command.js';
import { FileError, UsageError } from '../errors.js';
import { readInput } from '../input.js';
import { writeAll } from '../io.js';
import { openOutput } from '../output.js';
import { Progress } from '../progress.js';

const EXIT_STATUS: Readonly<Record<Verdict, number>> = {
  safe: 0,
  suspicious: 1,
  dangerous: 2,
  malformed: 3,
};

function list(value: string | boolean | undefined | string[]): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  return Array.isArray(value) ? value : [value];
}

export const scan: Command = {
  name: 'scan',
  summary: 'tell what a pickle would import and call in Python (exit 0 safe ... 2 dangerous)',
  args: 'FILE...',
  description: [
    'Scan each FILE (- for standard input) for what Python would import and call when loading',
    'it, without running anything: pickles (several in one file too), gzip/bz2/xz/zstd/zlib',
    'compressed files, PyTorch checkpoints (every .pkl in the zip), joblib files and .npy/.npz',
    'files. Prints a verdict per file: safe (only allowlisted data constructors), suspicious',
    '(names it does not know), dangerous (code execution or system access), malformed.',
    'Exit status: the worst verdict: 0 safe, 1 suspicious, 2 dangerous, 3 malformed or',
    'unreadable (dangerous outranks malformed; a usage error also exits 2).',
  ].join('\n'),
  options: {
    json: { type: 'boolean', help: 'print the findings as JSON (one document for all files)' },
    all: { type: 'boolean', short: 'a', help: 'list safe findings too (every import and call)' },
    allow: {
      type: 'string',
      multiple: true,
      help: 'MODULE:NAME  also treat this global as safe (MODULE:* for a module); repeatable',
    },
    deny: {
      type: 'string',
      multiple: true,
      help: 'MODULE:NAME  also treat this global as dangerous; repeatable',
    },
    'max-lines': {
      type: 'string',
      help: 'N  findings listed per file in the report (default 50)',
    },
    quiet: { type: 'boolean', short: 'q', help: 'print only the verdict line of each file' },
  },
  positionals: { min: 1, max: Infinity },

  async run({ values, positionals, io }) {
    const maxLines = intOption(values, 'max-lines') ?? 50;
    const options: ScanOptions = {
      allow: list(values.allow as string | string[] | undefined),
      deny: list(values.deny as string | string[] | undefined),
    };
    try {
      new Policy(options); // checks the --allow/--deny names before any file is read
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const out = await openOutput('-', io, false);
    const progress = Progress.for(io, io.stdoutIsTTY);
    let worst: Verdict = 'safe';
    const documents: Array<
      { file: string } & (FileScanResult | { verdict: 'malformed'; error: string })
    > = [];
    try {
      for (const path of positionals) {
        let report: FileScanResult;
        let name = path === '-' ? '<stdin>' : path;
        try {
          const input = await readInput(path, io, progress);
          name = input.name;
          progress.status('scanning', input.data.length);
          report = await scanBytes(input.data, options);
          progress.finish();
          if (input.compression !== undefined)
            report = { ...report, compression: input.compression };
        } catch (e) {
          if (!(e instanceof FileError)) throw e;
          // A file that cannot be read cannot be vouched for.
          worst = verdictRank('malformed') > verdictRank(worst) ? 'malformed' : worst;
          io.stderr.write(`pickle scan: ${e.message}\n`);
          documents.push({ file: name, verdict: 'malformed', error: e.message });
          continue;
        }
        if (verdictRank(report.verdict) > verdictRank(worst)) worst = report.verdict;
        if (values.json === true) {
          documents.push({ file: name, ...report });
        } else {
          const text = formatScanReport(name, report, { all: values.all === true, maxLines });
          await writeAll(out, [values.quiet === true ? text.split('\n')[0]! + '\n' : text]);
        }
      }
      if (values.json === true) {
        await writeAll(out, [
          JSON.stringify({ verdict: worst, files: documents }, jsonReplacer, 2) + '\n',
        ]);
      }
    } finally {
      await out.close(true);
    }
    return EXIT_STATUS[worst];
  },
};

/** JSON for findings: bigints (none expected, but nested names may hold them) as strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
