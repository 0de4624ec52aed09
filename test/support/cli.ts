/** Runs the CLI in-process (src/cli/program.ts `run`) and captures what it prints. */
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/program.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const status = await run(argv, { stdout, stderr, stdin, env: { ...env } });
  return { status, stdout: out, stderr: err };
}
