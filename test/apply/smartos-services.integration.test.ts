/**
 * apply against simulated nodes whose services behave as SmartOS's do
 * (issue 16, defects 6 and 8): `svcadm restart` returns at once and varpd is
 * online only later, so apply must wait before the steps that need it; after
 * new IPsec keys, in.iked is told to re-read them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';
import type { SimCall, SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

const DELAY_MS = 1500;

describe('apply on nodes whose varpd comes back online only after a delay', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('waits for varpd after its restart before any later step, and has in.iked re-read the keys', async () => {
    for (const n of c.nodes) await writeFile(n.path('/var/sim/svc-delay-ms'), String(DELAY_MS));
    const apply = await cli(['apply', '--yes'], c.env);
    expect(apply.stderr).not.toMatch(/fail/i);
    expect(apply.status).toBe(0);
    for (const n of c.nodes) {
      const calls = await n.calls();
      const at = (pred: (x: SimCall) => boolean): number => calls.findIndex(pred);
      const restart = calls[at((x) => x.cmd === 'svcadm' && x.args.join(' ') === 'restart network/varpd')]!;
      expect(restart, n.name).toBeDefined();
      const later = calls.filter((x) => x.at > restart.at && x.cmd !== 'svcs');
      // net-virtual refresh and create-overlay come after varpd is back (the restart time plus the delay).
      expect(later.map((x) => x.cmd)).toContain('net-virtual');
      for (const x of later) expect(x.at - restart.at, `${n.name}: ${x.cmd} ${x.args.join(' ')}`).toBeGreaterThanOrEqual(DELAY_MS);
      const polls = calls.filter((x) => x.cmd === 'svcs' && x.args.join(' ') === '-H -o state,nstate svc:/network/varpd:default');
      expect(polls.length).toBeGreaterThan(1);
      expect(polls[0]!.at).toBeGreaterThanOrEqual(restart.at);
      // ikeadm read preshared right after the IPsec restore script, once svcs says ike is online.
      const ipsec = at((x) => x.cmd === '020-ipsec-restore.sh');
      expect(ipsec).toBeGreaterThanOrEqual(0);
      expect(calls[ipsec + 1]).toMatchObject({ cmd: 'svcs', args: ['-H', '-o', 'state,nstate', 'svc:/network/ipsec/ike:default'] });
      expect(calls[ipsec + 2]).toMatchObject({ cmd: 'ikeadm', args: ['read', 'preshared'] });
    }
  });
});

describe('a node without an adminoverlay address (issue 16, defect 10)', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('is named by validate, plan and verify, and apply --assign-adminoverlay gives it one', async () => {
    const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
    const gap = c.nodes[1]!;
    delete doc.adminoverlay!.nodes![gap.name];
    await writeFile(c.statePath, stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
    for (const command of ['validate', 'plan', 'verify']) {
      const r = await cli([command], c.env);
      expect(r.stderr, command).toContain(`adminoverlay.nodes: has no address for ${gap.name}`);
      expect(r.stderr, command).toContain('apply --assign-adminoverlay');
    }
    const apply = await cli(['apply', '--yes', '--assign-adminoverlay'], c.env);
    expect(apply.status).toBe(0);
    const stored = (parse(await readFile(c.statePath, 'utf8')) as StateDoc).adminoverlay!.nodes![gap.name]!;
    expect(apply.stdout).toContain(`adminoverlay: ${gap.name} gets ${stored.ip} (${stored.mac}); stored in the state on confirmation.`);
    expect((await gap.simJson<Record<string, { ip4addr: string }>>('vnics.json', {})).adminoverlay_0?.ip4addr).toBe(stored.ip);
    expect((await cli(['validate'], c.env)).stderr).not.toContain('has no address');
  });
});
