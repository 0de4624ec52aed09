/**
 * Runs the CLI two ways: in-process through `run()` (fast, for most tests)
 * and as the real built program under plain node (catches ESM/CJS import
 * traps that vitest's module rewriting hides; ECOSYSTEM.md §0).
 */
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/program.js';
import { CLI } from './paths.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await run(argv, { stdout, stderr, stdin, env: { ...env } });
  return { status, stdout: out, stderr: err };
}

export function runBuiltCli(argv: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...argv], {
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
