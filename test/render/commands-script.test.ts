/**
 * commands.sh does what its header says (issue 16, defects 5, 6, 8): the steps
 * in apply's order (refreshes first, then overlays), each create-overlay
 * guarded so a node that has the link is left alone, varpd's asynchronous
 * restart waited for, and in.iked told to re-read the keys.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadStateText } from '../../src/model/load.js';
import { desiredNodes } from '../../src/plan/desired-state.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { commandsScript } from '../../src/render/render-tree.js';
import { EXAMPLE } from '../support/paths.js';

const { model } = loadStateText(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
const scripts = new Map([...desiredNodes(new RenderContext(model))].map((d) => [d.node, { d, lines: commandsScript(d).split('\n') }]));
const cn01 = scripts.get('cn01.prg.example.com')!;

describe('commands.sh', () => {
  it('guards every create-overlay with dladm show-overlay -f of the same link (plain show-overlay exits 1 for an overlay whose varpd instance is gone)', () => {
    const creates = cn01.lines.filter((l) => l.includes('dladm create-overlay'));
    expect(creates.map((l) => l.split(' ').pop())).toEqual(cn01.d.overlays.map((o) => o.link));
    for (const line of creates) {
      const link = line.split(' ').pop()!;
      expect(line.startsWith(`dladm show-overlay -f ${link} >/dev/null 2>&1 || dladm create-overlay `), line).toBe(true);
    }
  });

  it('refreshes the services before it creates overlays, as apply does, and stops at the first failure', () => {
    const lastRefresh = Math.max(...['020-ipsec-restore.sh', '010-ipf-restore.sh', 'svcadm restart', 'net-virtual refresh'].map((c) => cn01.lines.findIndex((l) => l.includes(c))));
    const firstCreate = cn01.lines.findIndex((l) => l.includes('dladm create-overlay'));
    expect(lastRefresh).toBeGreaterThan(0);
    expect(firstCreate).toBeGreaterThan(lastRefresh);
    expect(cn01.lines[1]).toBe('set -e');
  });

  it('waits for varpd to be online after its restart (svcadm restart has no -s)', () => {
    const i = cn01.lines.indexOf('svcadm restart network/varpd');
    expect(cn01.lines[i + 1]).toBe('await_online svc:/network/varpd:default');
    const fn = cn01.lines.find((l) => l.startsWith('await_online() {'));
    expect(fn).toContain('svcs -H -o state,nstate "$f"');
    expect(fn).toContain('"online -"');
  });

  it('has in.iked re-read the keys after the IPsec refresh, when it runs (else it reads them as it starts)', async () => {
    const i = cn01.lines.indexOf('/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh refresh');
    expect(i).toBeGreaterThan(0);
    const line = cn01.lines[i + 1]!;
    expect(line).toBe("if svcs -H -o state,nstate svc:/network/ipsec/ike:default | grep -q '^online '; then ikeadm read preshared; fi");
    // The line under sh, with svcs and ikeadm stand-ins: ikeadm runs only while ike is online.
    const dir = await mkdtemp(join(tmpdir(), 'esdc-ike-'));
    try {
      await writeFile(join(dir, 'svcs'), '#!/bin/sh\ncat "$(dirname "$0")/state"\n', { mode: 0o755 });
      await writeFile(join(dir, 'ikeadm'), '#!/bin/sh\necho "$*" >> "$(dirname "$0")/ikeadm.log"\n', { mode: 0o755 });
      const run = (state: string) =>
        writeFile(join(dir, 'state'), state).then(() => promisify(execFile)('sh', ['-ec', line], { env: { PATH: `${dir}:${process.env.PATH}` } }));
      await run('offline        online\n');
      expect(existsSync(join(dir, 'ikeadm.log'))).toBe(false);
      await run('online         -\n');
      expect(await readFile(join(dir, 'ikeadm.log'), 'utf8')).toBe('read preshared\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
