/**
 * A reader that goes away (`esdc-overlay ... | head`) ends the command
 * quietly: no stack trace of an unhandled EPIPE on stderr, and the exit status
 * says the command itself did not fail.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, CLI_NODE, EXAMPLE } from '../support/paths.js';

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(CLI_NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Close our end before the command writes: every write it makes meets EPIPE.
    p.stdout.destroy();
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('stdout closed by its reader', () => {
  it.each([[['--state', EXAMPLE, 'render', '--help']], [['--state', EXAMPLE, 'list']], [['--state', EXAMPLE, 'mtu']]])('%j ends quietly', async (args) => {
    const r = await runWithClosedStdout(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
    expect(r.code).toBe(0);
  });
});
