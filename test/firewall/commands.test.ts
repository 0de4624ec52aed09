import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { captureIo, EXAMPLE } from '../ipsec/helpers.js';

describe('globally-*-firewall commands', { timeout: 30_000 }, () => {
  let dir: string;
  let state: string;
  const cli = async (...argv: string[]): Promise<{ status: number; out: string; err: string }> => {
    const io = captureIo();
    const status = await run([...argv, '--state', state], io);
    return { status, out: io.out(), err: io.err() };
  };
  const text = (): string => readFileSync(state, 'utf8');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-fw-'));
    state = join(dir, 'state.yaml');
    copyFileSync(EXAMPLE, state);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('enable refuses an empty source list with exit 1 (refused input, not a malformed command line) and changes nothing', async () => {
    await cli('globally-disable-firewall', '--yes');
    const before = text();
    const r = await cli('globally-enable-firewall', ' , ', '--yes');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/refusing to enable the firewall with no administrator source/);
    expect(text()).toBe(before);
  });

  it('enable shows the rules a node gets, asks, and without a terminal or --yes changes nothing', async () => {
    await cli('globally-disable-firewall', '--yes');
    const before = text();
    const r = await cli('globally-enable-firewall', '192.0.2.10');
    expect(r.status).toBe(1);
    expect(r.err).toContain('ipf.conf-090-administration on cn01.prg.example.com (and the same with their own address on 4 other node(s))');
    expect(r.err).toContain('pass in quick on external0 from 192.0.2.10 to 198.51.100.11 keep state');
    expect(r.err).toContain('block in quick on external0 all');
    expect(r.err).toContain('not confirmed');
    expect(text()).toBe(before);
  });

  it('enable --yes stores the sources; disable keeps them; --json reports the result', async () => {
    const on = await cli('globally-enable-firewall', '192.0.2.10,203.0.113.0/24', '--yes', '--json');
    expect(on.status).toBe(0);
    expect(JSON.parse(on.out)).toMatchObject({ firewall: { enabled: true, administrator_sources: ['192.0.2.10', '203.0.113.0/24'] }, changed: true });
    expect(JSON.parse(on.out).next).toMatch(/^esdc-overlay --state \S+ apply$/);
    const off = await cli('globally-disable-firewall', '--yes', '--json');
    expect(JSON.parse(off.out).firewall).toEqual({ enabled: false, administrator_sources: ['192.0.2.10', '203.0.113.0/24'] });
    expect(text()).toMatch(/enabled: false/);
    // Comments of the operator's file survive the edit.
    expect(text()).toContain('# Two physical datacenters');
  });

  it('update without sources changes nothing and shows the rules', async () => {
    const before = text();
    const r = await cli('globally-update-firewall');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/nothing changed/);
    expect(r.err).toContain('pass in quick on external0 from 192.0.2.0/26 to 198.51.100.11 keep state');
    expect(text()).toBe(before);
  });

  it('bad sources are named and change nothing', async () => {
    const before = text();
    const r = await cli('globally-update-firewall', '192.0.2.1,not-an-ip', '--yes');
    expect(r.status).toBe(1);
    expect(r.err).toContain('sources[1]: is not an IPv4 address');
    expect(r.err).toContain('"not-an-ip"');
    expect(text()).toBe(before);
  });
});
