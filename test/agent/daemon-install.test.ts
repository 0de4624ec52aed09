/** `daemon install`: the head node daemon's SMF manifest only, running the bundle, the service disabled. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

describe('daemon install', () => {
  it('prints a manifest that runs the bundle and defines the service disabled', async () => {
    const r = await cli(['daemon', 'install']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('exec="/opt/tools/bin/node /opt/custom/esdc-overlay/esdc-overlay.mjs daemon &amp;"');
    expect(r.stdout).toContain('<create_default_instance enabled="false"/>');
    expect(r.stdout).toContain('no daemon command yet');
  });

  it('writes it with --out, leaves an identical one alone, replaces a different one only with --yes, refuses an unsafe --node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esdc-daemon-'));
    try {
      const out = join(dir, 'esdc-overlay-daemon.xml');
      expect((await cli(['daemon', 'install', '--out', out])).status).toBe(0);
      expect(await readFile(out, 'utf8')).toContain('name="site/esdc-overlay-daemon"');
      expect((await cli(['daemon', 'install', '--out', out])).stdout).toContain('up to date');
      const other = await cli(['daemon', 'install', '--out', out, '--node', '/opt/local/bin/node']);
      expect(other.status).not.toBe(0);
      expect((await cli(['daemon', 'install', '--out', out, '--node', '/opt/local/bin/node', '--yes'])).status).toBe(0);
      expect(await readFile(out, 'utf8')).toContain('exec="/opt/local/bin/node ');
      const bad = await cli(['daemon', 'install', '--node', '/opt/x y']);
      expect(bad.status).toBe(64);
      expect(bad.stderr).toContain('node path "/opt/x y" must be absolute');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
