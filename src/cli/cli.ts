/**
 * The `pickle` command: finds the subcommand, parses its options, runs it, and turns what went
 * wrong into a message on standard error and an exit status (see errors.ts).
 */
import { readFileSync } from 'node:fs';
import { PickleError } from '../core/errors.js';
import { JsonParseError } from '../tools/json-read.js';
import { JsonConversionError } from '../tools/json-write.js';
import { helpText, parseCommandLine, usageLine, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { DataError, ExitCode, FileError, UsageError } from './errors.js';
import { OutputClosed, type CliIO } from './io.js';

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `pickle --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  const commands = COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n');
  return [
    'usage: pickle <command> [options] ...',
    '',
    'Inspect and convert Python pickles without Python: nothing in a pickle is imported or run.',
    '',
    'commands:',
    commands,
    '',
    "Run 'pickle <command> --help' for its options. A FILE may be - for standard input.",
    'Exit status: 0 success, 1 a bad pickle or bad JSON (the message names the byte offset and',
    'opcode), 2 a usage error or a file that cannot be read or written.',
    '',
  ].join('\n');
}

function write(stream: CliIO['stderr'], text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

/** Runs the command line `argv` (without `node` and the script); resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    await write(io.stderr, mainHelp());
    return ExitCode.USAGE;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    const target = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    await write(io.stdout, target ? helpText(target) : mainHelp());
    return ExitCode.OK;
  }
  if (name === '--version' || name === '-V') {
    await write(io.stdout, `pickle-ts ${version()}\n`);
    return ExitCode.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const known = COMMANDS.map((c) => c.name).join(', ');
    await write(
      io.stderr,
      `pickle: ${name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`} (commands: ${known})\nRun 'pickle --help' for usage.\n`,
    );
    return ExitCode.USAGE;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, argv: readonly string[], io: CliIO): Promise<number> {
  const fail = async (code: ExitCode, message: string) => {
    await write(io.stderr, `pickle ${command.name}: ${message}\n`);
    return code;
  };
  try {
    const parsed = parseCommandLine(command, argv);
    if (parsed.help) {
      await write(io.stdout, helpText(command));
      return ExitCode.OK;
    }
    const status = await command.run({
      values: parsed.values,
      positionals: parsed.positionals,
      io,
    });
    return status ?? ExitCode.OK;
  } catch (e) {
    if (e instanceof OutputClosed) return ExitCode.OK;
    if (e instanceof UsageError) {
      return fail(
        ExitCode.USAGE,
        `${e.message}\n${usageLine(command)}\nRun 'pickle ${command.name} --help' for its options.`,
      );
    }
    if (e instanceof FileError) return fail(ExitCode.USAGE, e.message);
    if (e instanceof PickleError) return fail(ExitCode.DATA, `${e.name}: ${e.message}`);
    if (e instanceof JsonParseError || e instanceof JsonConversionError || e instanceof DataError) {
      return fail(ExitCode.DATA, e.message);
    }
    const err = e as Error;
    return fail(ExitCode.DATA, `internal error: ${err.stack ?? String(err)}`);
  }
}
