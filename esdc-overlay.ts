#!/usr/bin/env node
/**
 * esdc-overlay: overlay networking automation for SmartOS / Danube Cloud.
 * Entry point only: argv in, exit status out (src/cli/program.ts).
 */
import { corkEachTick } from './src/io/cork-each-tick.js';
import { delayTierUp, runsLong } from './src/cli/tier-up.js';

// A command is short: its hot code is optimized later than V8's default, or not at all; the daemon keeps the default (src/cli/tier-up.ts).
if (!runsLong(process.argv.slice(2))) delayTierUp();

// Log lines of one tick in one write(2): a debug-level apply logs a line per remote operation (issue 20).
corkEachTick(process.stderr);

// A reader that went away (`esdc-overlay list | head`) is not the command's failure: stop writing and
// end with the status the command has so far, instead of an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Answered before the program loads (commander, the command index, the error printer): the same line
  // commander prints for it (test/cli/entry-point.test.ts); commander alone took ~13 ms to load (issue 20).
  const { versionLine } = await import('./src/version.js');
  process.stdout.write(`${versionLine()}\n`);
} else {
  const { run } = await import('./src/cli/program.js');
  process.exitCode = await run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
}
