/** Runs the real CLI entry (`run`) in-process with captured output. */
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/program.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await run(argv, { stdout, stderr, stdin, env: { ESDC_OVERLAY_LOG_LEVEL: 'silent', ...env } });
  return { status, stdout: out, stderr: err };
}
