/**
 * The real CLI as installed: `node dist/esdc-overlay.js vdc ...` (or the bundle) in a child
 * process (`npm test` builds dist/ first). Checks exit statuses and output
 * as a shell script would see them.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI as ENTRY, CLI_NODE } from '../support/paths.js';

let dir: string;
let state: string;

function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CLI_NODE, [ENTRY, ...args], { timeout: 20_000, env: { PATH: process.env.PATH ?? '', ESDC_OVERLAY_STATE: state } }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'esdc-vdc-built-'));
  state = join(dir, 'state.yaml');
  copyFileSync(new URL('../../examples/two-sites.yaml', import.meta.url), state);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the built CLI: vdc check and vdc overlaps', () => {
  it('refuses an id outside a restricted range with exit 1, naming the vDC and the allowed ranges', async () => {
    const r = await cli('vdc', 'check', 'customer-a', '--vxlan', '1100');
    expect(r).toMatchObject({ status: 1, stdout: 'refused: VXLAN 1100 is not allowed in vDC customer-a (allowed VXLAN ids: 1000-1099,2000)\n' });
    // stderr: only the model's warnings, as plain text (not pino JSON) off a terminal.
    expect(r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warn: '))).toEqual([]);
  });
  it('exit 0 for an allowed id', async () => {
    const r = await cli('vdc', 'check', 'customer-a', '--vxlan', '2000', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ vdc: 'customer-a', allowed: true });
  });
  it('reports exactly the overlapping grants of the example', async () => {
    const r = await cli('vdc', 'overlaps', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ overlaps: [{ kind: 'vlan', vdcs: ['customer-a', 'main'], ids: '10-99', count: 90 }] });
  });
});
