/**
 * `verify` reads each node's overlays' fault state (`dladm show-overlay -f`):
 * an overlay whose varpd instance was lost, because its ARP table could not be
 * read when varpd restarted, stays DEGRADED even once the table is mended
 * (illumos destroys the instance and unlinks its stored copy;
 * docs/smartos-rules.md#overlay-devices-and-dladm). verify says so, with exit 2 and
 * how to recreate it, after apply too, since apply cannot mend it (apply
 * itself says so when it restarted varpd there, exit 2); once the link is
 * deleted and apply creates it again, both are clean.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

const run = promisify(execFile);

interface VerifyJson {
  in_sync: boolean;
  nodes: Array<{ node: string; status: string; overlays: { status: string; degraded: Array<{ link: string; status: string; details: string }> } }>;
}

describe('verify reports overlays that lost their varpd instance', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('degraded after a restart with a broken table; apply does not mend it; delete + apply does', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const n = c.node('cn02.sim.test');
    const table = n.path('/opt/custom/networking/customers_overlay.json');
    const good = await readFile(table, 'utf8');
    // Someone's hand edit leaves a trailing comma, and varpd restarts (a reboot of the service, an upgrade).
    await writeFile(table, good.replace(/\}\s*\}\s*$/, '},\n}\n'));
    await run(n.path('/usr/sbin/svcadm'), ['restart', 'network/varpd']);

    const v = await cli(['verify'], c.env);
    expect(v.status).toBe(2);
    expect(v.stdout).toMatch(/NODE\s+STATUS\s+FACTS\s+OVERLAYS\s+AGENT/);
    expect(v.stdout).toMatch(/cn02\.sim\.test\s+drift\s+ok\s+degraded: customers1000\s/);
    expect(v.stdout).toMatch(/cn01\.sim\.test\s+in-sync\s+ok\s+ok\s/);
    expect(v.stdout).toContain('cn02.sim.test: overlay customers1000 is DEGRADED (no varpd instance exists): its VMs reach no one over it.');
    expect(v.stdout).toContain('run `dladm delete-overlay customers1000` on the node, then esdc-overlay apply');

    // apply puts the table back and restarts varpd: the file is in sync, the overlay is not mended, and
    // apply says so (exit 2) rather than "done".
    const a = await cli(['apply', '--yes'], c.env);
    expect(a.status).toBe(2);
    expect(a.stdout).toContain("cn02.sim.test: overlay customers1000 is DEGRADED after varpd's restart (no varpd instance exists): its VMs reach no one over it.");
    expect(a.stdout).toContain('run `dladm delete-overlay customers1000` on the node, then esdc-overlay apply');
    expect(await readFile(table, 'utf8')).toBe(good);
    const j = await cli(['verify', '--json'], c.env);
    expect(j.status).toBe(2);
    const body = JSON.parse(j.stdout) as VerifyJson;
    expect(body.in_sync).toBe(false);
    const cn02 = body.nodes.find((x) => x.node === 'cn02.sim.test')!;
    expect(cn02.status).toBe('in-sync');
    expect(cn02.overlays).toEqual({ status: 'degraded', degraded: [{ link: 'customers1000', status: 'DEGRADED', details: 'no varpd instance exists' }], unwanted: [] });
    expect(body.nodes.find((x) => x.node === 'cn01.sim.test')!.overlays).toEqual({ status: 'ok', degraded: [], unwanted: [] });

    // The remedy verify prints: the VM stopped (its vNIC gone), the link deleted, apply creates it anew.
    const vmsPath = n.path('/var/sim/vms.json');
    const vms = JSON.parse(await readFile(vmsPath, 'utf8')) as Array<Record<string, unknown>>;
    await writeFile(vmsPath, JSON.stringify(vms.map((vm) => ({ ...vm, state: 'stopped' }))));
    await run(n.path('/usr/sbin/dladm'), ['delete-overlay', 'customers1000']);
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const after = await cli(['verify'], c.env);
    expect(after.stdout).toMatch(/cn02\.sim\.test\s+in-sync\s+ok\s+ok\s/);
    expect(after.status).toBe(0);
  });
});
