/**
 * Runs the CLI two ways: in-process through `run()` (fast, for most tests)
 * and as the real built program under plain node (catches ESM/CJS import
 * traps that vitest's module rewriting hides; docs/testing.md#esm-and-commonjs).
 */
import { spawnSync } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { run } from '../../src/cli/program.js';
import { CLI, CLI_NODE } from './paths.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it, synchronously. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const out = sink();
  const err = sink();
  const status = await run(argv, { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), env: { ...env } });
  return { status, stdout: out.text(), stderr: err.text() };
}

export function runBuiltCli(argv: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(CLI_NODE, [CLI, ...argv], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    timeout: 30_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `runCli` with logging silenced, for tests that assert an empty stderr. */
export function cli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli([...argv], { ESDC_OVERLAY_LOG_LEVEL: 'silent', ...env });
}
