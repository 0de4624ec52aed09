/**
 * commands.sh does what its header says (issue 16, defects 5, 6, 8): the steps
 * in apply's order (refreshes first, then overlays), each create-overlay
 * guarded so a node that has the link is left alone, varpd's asynchronous
 * restart waited for, and in.iked told to re-read the keys.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadStateText } from '../../src/model/load.js';
import { desiredNodes } from '../../src/plan/desired-state.js';
import { RenderContext } from '../../src/plan/render-context.js';
import { commandsScript } from '../../src/render/render-tree.js';
import { EXAMPLE } from '../support/paths.js';

const { model } = loadStateText(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
const scripts = new Map([...desiredNodes(new RenderContext(model))].map((d) => [d.node, { d, lines: commandsScript(d).split('\n') }]));
const cn01 = scripts.get('cn01.prg.example.com')!;

describe('commands.sh', () => {
  it('guards every create-overlay with dladm show-overlay of the same link', () => {
    const creates = cn01.lines.filter((l) => l.includes('dladm create-overlay'));
    expect(creates.map((l) => l.split(' ').pop())).toEqual(cn01.d.overlays.map((o) => o.link));
    for (const line of creates) {
      const link = line.split(' ').pop()!;
      expect(line.startsWith(`dladm show-overlay ${link} >/dev/null 2>&1 || dladm create-overlay `), line).toBe(true);
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

  it('has in.iked re-read the keys after the IPsec refresh', () => {
    const i = cn01.lines.indexOf('/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh refresh');
    expect(i).toBeGreaterThan(0);
    expect(cn01.lines[i + 1]).toBe('ikeadm read preshared');
  });
});
