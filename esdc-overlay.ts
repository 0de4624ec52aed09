#!/usr/bin/env node
/**
 * esdc-overlay: overlay networking automation for SmartOS / Danube Cloud.
 * Entry point only: argv in, exit status out (src/cli/program.ts).
 */
import { run } from './src/cli/program.js';

const status = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
process.exitCode = status;
