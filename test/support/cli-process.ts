/** The built CLI as a separate process (`node dist/esdc-overlay.js ...`), for tests that need real concurrency. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, CLI_NODE } from './paths.js';

export { CLI };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  ms: number;
}

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" and "npm run build:bundle" first (npm test does)`);
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): { done: Promise<CliResult>; pid: number } {
  const started = Date.now();
  const child = spawn(CLI_NODE, [CLI, ...args], {
    env: { ...process.env, ESDC_OVERLAY_STATE: '', ESDC_OVERLAY_STORE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d.toString()));
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started })),
  );
  return { done, pid: child.pid ?? -1 };
}
