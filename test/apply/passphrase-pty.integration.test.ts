/**
 * A passphrase-protected key on a terminal (issue 19): the CLI, run on a
 * pseudo-terminal (util-linux script(1)), asks for the passphrase without
 * echo, and with it plans a simulated node; the passphrase appears nowhere
 * in what the terminal showed. Off a terminal the same key is refused
 * (test/cli/operator-day.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { quoteArgv } from '../../src/shell/quote.js';
import { CLI, CLI_NODE } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';

let c: SimCluster;
useSimCluster({ count: 1 }, (started) => (c = started));

const HAVE_SCRIPT = spawnSync('script', ['--version']).status === 0;

/** Runs argv on a pseudo-terminal; answers `answer` once `prompt` is shown. */
function onPty(argv: string[], env: Record<string, string>, prompt: string, answer: string): Promise<{ status: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', quoteArgv(argv), '/dev/null'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'dumb', ...env } });
    let screen = '';
    let answered = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      if (!answered && screen.includes(prompt)) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, screen });
    });
  });
}

describe.skipIf(!HAVE_SCRIPT)('passphrase on a terminal', () => {
  it('asks without echo, then reaches the node with the key', async () => {
    const dir = await tempDir();
    const key = join(dir, 'id_locked');
    await copyFile(c.identityFile, key);
    expect(spawnSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'tr0ub4dor-pty', '-f', key]).status).toBe(0);
    const env = { ...c.env, ESDC_OVERLAY_IDENTITY: key };
    const r = await onPty([CLI_NODE, CLI, 'plan', '--summary'], env, `Enter passphrase for key ${key}: `, 'tr0ub4dor-pty');
    expect(r.screen).toContain(`Enter passphrase for key ${key}: `);
    expect(r.screen).toContain(`${c.nodes[0]!.name}: write `);
    expect(r.screen).not.toContain('tr0ub4dor');
    expect(r.status, r.screen).toBe(0);
  });
});
