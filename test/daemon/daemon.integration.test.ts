/**
 * The daemon over real sshd (simulated nodes): a VM created, migrated and
 * deleted on one node reaches every peer's ARP table within the bound, and
 * the state's vnics follow.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import type { InventoryDaemon } from '../../src/daemon/daemon.js';
import type { StateDoc } from '../../src/model/state.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { createVm, deleteVm, migrateVm } from '../harness/sim-vms.mjs';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli } from '../support/cli.js';
import { allConnected, processesWith, startDaemon, table, waitFor } from './daemon-helpers.js';

/** From an event to every peer's table: the goal is 2 s; the bound allows for a machine shared with other work. */
const BOUND_MS = 15_000;
const MAC = '52:54:00:cc:00:01';

async function stateVnics(c: SimCluster): Promise<NonNullable<StateDoc['vnics']>> {
  return (parse(await readFile(c.statePath, 'utf8')) as StateDoc).vnics ?? [];
}

describe('daemon: VMs come, move and go', () => {
  let c: SimCluster;
  let daemon: InventoryDaemon | undefined;
  useSimCluster({ count: 3 }, (started) => (c = started));
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });

  it('create, migrate, delete: every peer table and the state follow within the bound', async () => {
    const apply = await cli(['apply', '--yes'], c.env);
    expect(apply.status).toBe(0);
    daemon = await startDaemon(c);
    await waitFor('all nodes connected', BOUND_MS, () => allConnected(daemon!, 3));
    const [cn01, cn02, cn03] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const v1 = (await readFile(cn02.path(BUNDLE_PATH), 'utf8').then(parseBundle)).version;

    const uuid = createVm(c.dir, cn01.name, { mac: MAC, ip: '10.210.0.100', nicTag: 'customers/1000', vlan: 10 });
    await waitFor('the new MAC in every peer table, at cn01', BOUND_MS, async () =>
      (await table(cn02, 'customers'))?.[MAC]?.ip === '10.200.1.1' && (await table(cn03, 'customers'))?.[MAC] !== undefined);
    expect((await table(cn02, 'customers'))![MAC]).toEqual({ arp: '10.210.0.100', ip: '10.200.1.1', port: 4790 });
    // A node's own VMs are not in its table.
    expect((await table(cn01, 'customers'))![MAC]).toBeUndefined();
    expect((await stateVnics(c)).filter((v) => v.mac === MAC)).toEqual([{ node: cn01.name, mac: MAC, ip: '10.210.0.100', nic_tag: 'customers/1000', vlan_id: 10, vm: uuid }]);
    // The bundle moved with the table: the agent checks against the new one.
    const b2 = parseBundle(await readFile(cn02.path(BUNDLE_PATH), 'utf8'));
    expect(b2.version).toBeGreaterThan(v1);
    expect(b2.files.find((f) => f.path.endsWith('customers_overlay.json'))!.content).toBe(await readFile(cn02.path('/opt/custom/networking/customers_overlay.json'), 'utf8'));
    // varpd restarted once per node that got a new table.
    const restarts = (await cn02.calls()).filter((x) => x.cmd === 'svcadm' && x.args.join(' ') === 'restart network/varpd');
    expect(restarts.length).toBeGreaterThanOrEqual(1);

    migrateVm(c.dir, uuid, cn02.name);
    await waitFor('the MAC at cn02 in cn01 and cn03 tables, not in cn02 own', BOUND_MS, async () =>
      (await table(cn01, 'customers'))?.[MAC]?.ip === '10.200.1.2' && (await table(cn03, 'customers'))?.[MAC] !== undefined && (await table(cn02, 'customers'))?.[MAC] === undefined);
    expect((await stateVnics(c)).filter((v) => v.mac === MAC).map((v) => v.node)).toEqual([cn02.name]);

    deleteVm(c.dir, uuid);
    await waitFor('the MAC gone from every table', BOUND_MS, async () => {
      for (const n of c.nodes) if ((await table(n, 'customers'))?.[MAC] !== undefined) return false;
      return true;
    });
    expect((await stateVnics(c)).filter((v) => v.mac === MAC)).toEqual([]);
    // The VMs the cluster started with are still there.
    expect((await stateVnics(c)).length).toBe(c.state.vnics!.length);

    // Stopping cancels every stream: no simulated vmadm events is left behind on any node.
    expect((await processesWith(c.dir, 'vmadm', 'events')).length).toBe(3);
    await daemon.stop();
    daemon = undefined;
    await waitFor('the nodes\' vmadm events processes gone', 5000, async () => (await processesWith(c.dir, 'vmadm', 'events')).length === 0);
  }, 120_000);
});
