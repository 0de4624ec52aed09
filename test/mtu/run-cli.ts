/** Runs the CLI in-process with captured stdout/stderr. */
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/program.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const stdin = new PassThrough();
  const status = await run(argv, { stdout: out, stderr: err, stdin, env: { ESDC_OVERLAY_LOG_LEVEL: 'warn', ...env } });
  await new Promise((r) => setImmediate(r));
  return { status, stdout, stderr };
}
