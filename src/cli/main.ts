#!/usr/bin/env node
/**
 * The `pickle` command (package.json "bin"). `pickle --help` lists the subcommands; each lives
 * in src/cli/commands/.
 */
import { runCli } from './cli.js';
import { processIO } from './io.js';

process.exitCode = await runCli(process.argv.slice(2), processIO());
