/**
 * The subcommands of `pickle`, in the order `pickle --help` lists them. To add one (say
 * `scan`), write commands/scan.ts exporting a `Command` and list it here.
 */
import type { Command } from '../command.js';
import { convert } from './convert.js';
import { dis } from './dis.js';
import { optimize } from './optimize.js';
import { scan } from './scan.js';
import { show } from './show.js';

export const COMMANDS: readonly Command[] = [show, dis, convert, optimize, scan];
