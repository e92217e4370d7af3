/**
 * What a subcommand is: its name, help, options (for node's `util.parseArgs`) and `run`. Each
 * subcommand lives in its own file under commands/ and is listed in commands/index.ts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  /** The help line: `'N  container levels to show'` (argument name, two spaces, text). */
  readonly help: string;
};

export interface CommandContext {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly io: CliIO;
}

export interface Command {
  readonly name: string;
  /** One line for `pickle --help`. */
  readonly summary: string;
  /** The arguments after the options, as usage shows them: `FILE`, `IN OUT`. */
  readonly args: string;
  /** What the command does, a few lines for `pickle NAME --help`. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many positional arguments the command takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  /** Runs the command; a number is its exit status (`pickle scan`'s verdict), else 0. */
  run(context: CommandContext): Promise<void | number>;
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' };

/** `usage: pickle NAME [options] ARGS`. */
export function usageLine(command: Command): string {
  return `usage: pickle ${command.name} [options] ${command.args}`;
}

/** The full `--help` text. */
export function helpText(command: Command): string {
  const rows = Object.entries({ ...command.options, help: HELP }).map(([name, spec]) => {
    const [arg, text] = spec.help.includes('  ') ? spec.help.split(/ {2,}/, 2) : ['', spec.help];
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${arg ? ` ${arg}` : ''}`;
    return [flag, text ?? ''] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const options = rows.map(([f, t]) => `  ${f.padEnd(width)}${t}`).join('\n');
  return `${usageLine(command)}\n\n${command.description}\n\noptions:\n${options}\n`;
}

export interface Parsed {
  readonly help: boolean;
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Parses a subcommand's arguments; a bad command line is a `UsageError`. */
export function parseCommandLine(command: Command, argv: readonly string[]): Parsed {
  const options: ParseArgsConfig['options'] = { help: HELP };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
    if (spec.multiple) options[name].multiple = true;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional.*$/s, '');
    throw new UsageError(message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  if (!help) {
    const n = parsed.positionals.length;
    const { min, max } = command.positionals;
    if (n < min)
      throw new UsageError(
        `expected ${command.args}, got ${n === 0 ? 'nothing' : parsed.positionals.join(' ')}`,
      );
    if (n > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
  }
  return { help, values, positionals: parsed.positionals };
}

/** A non-negative integer option, or `undefined` when absent. */
export function intOption(
  values: CommandContext['values'],
  name: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(
      `--${name} takes an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` >= ${min}`}, not '${String(raw)}'`,
    );
  }
  return Number(raw);
}

/** A string option restricted to some choices. */
export function choiceOption<T extends string>(
  values: CommandContext['values'],
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} takes one of ${choices.join(', ')}, not '${String(raw)}'`);
  }
  return raw as T;
}
