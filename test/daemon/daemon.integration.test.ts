/**
 * The daemon over real sshd (simulated nodes): a VM created, migrated and
 * deleted on one node reaches every peer's ARP table within the bound, and
 * the state's vnics follow.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import type { InventoryDaemon } from '../../src/daemon/daemon.js';
import { StoreError } from '../../src/errors.js';
import type { Lease } from '../../src/store/store.js';
import type { DaemonStatus } from '../../src/daemon/status.js';
import type { StateDoc } from '../../src/model/state.js';
import { writeSimRoots, type SimCluster } from '../harness/sim-cluster.js';
import { createVm, deleteVm, migrateVm } from '../harness/sim-vms.mjs';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli } from '../support/cli.js';
import { runCli } from '../support/cli-process.js';
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
    // Bytes sent reported (docs/arp-deltas.md#bytes): the first batch after the daemon connected checks every
    // table, and a table found different goes whole (table and bundle: kilobytes, not a patch's hundreds).
    const counters = daemon.status.counters;
    await waitFor('both peers\' writes reported', BOUND_MS, () => counters.tables_written >= 2);
    expect(counters.bytes_sent).toBeGreaterThan(2 * 1000);
    // varpd restarted once per node that got a new table.
    const restarts = (await cn02.calls()).filter((x) => x.cmd === 'svcadm' && x.args.join(' ') === 'restart network/varpd');
    expect(restarts.length).toBeGreaterThanOrEqual(1);

    // The agent on a peer, checking against its bundle, finds the daemon's table in sync: it reverts nothing.
    await writeFile(`${c.dir}/agent.json`, JSON.stringify({ status: `${c.dir}/agent-status.json` }));
    // The agent runs on cn02 itself: its root comes from the harness's seam, as the cluster's does.
    await mkdir(`${c.dir}/agent`, { recursive: true });
    const local = { ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(`${c.dir}/agent`, { local: cn02.root }) };
    // While the daemon writes a table on cn02 it holds the node lock and the agent skips its run; once it has
    // finished, the agent runs and has nothing to repair.
    let agentResult = 'skipped';
    await waitFor('an agent run on cn02 that is not skipped', BOUND_MS, async () => {
      const agent = await cli(['agent', '--once', '--json', '--config', `${c.dir}/agent.json`], local);
      agentResult = (JSON.parse(agent.stdout) as { result: string }).result;
      return agentResult !== 'skipped';
    });
    expect(agentResult).toBe('in-sync');

    migrateVm(c.dir, uuid, cn02.name);
    await waitFor('the MAC at cn02 in cn01 and cn03 tables, not in cn02 own', BOUND_MS, async () =>
      (await table(cn01, 'customers'))?.[MAC]?.ip === '10.200.1.2' && (await table(cn03, 'customers'))?.[MAC] !== undefined && (await table(cn02, 'customers'))?.[MAC] === undefined);
    expect((await stateVnics(c)).filter((v) => v.mac === MAC).map((v) => v.node)).toEqual([cn02.name]);

    // Mid-migration (the stopped source kept): the running copy owns the MAC, daemon status shows it.
    const MAC2 = '52:54:00:cc:00:02';
    const uuid2 = createVm(c.dir, cn01.name, { mac: MAC2, ip: '10.210.0.102', nicTag: 'customers/1000' });
    migrateVm(c.dir, uuid2, cn03.name, { keepSource: true });
    await waitFor('MAC2 at cn03 (running) in cn02 table, listed as migrating', BOUND_MS, async () =>
      (await table(cn02, 'customers'))?.[MAC2]?.ip === '203.0.113.3' && daemon!.status.migrating.some((m) => m.mac === MAC2));
    expect(daemon.status.migrating.find((m) => m.mac === MAC2)).toEqual({ mac: MAC2, vm: uuid2, nodes: [cn01.name, cn03.name], owner: cn03.name });
    deleteVm(c.dir, uuid2); // the copy on cn01 (found first)
    deleteVm(c.dir, uuid2); // the one on cn03

    deleteVm(c.dir, uuid);
    await waitFor('the MAC gone from every table', BOUND_MS, async () => {
      for (const n of c.nodes) if ((await table(n, 'customers'))?.[MAC] !== undefined || (await table(n, 'customers'))?.[MAC2] !== undefined) return false;
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

  it('a daemon whose lease is no longer its own saves nothing and writes no table (docs/daemon.md#one-daemon)', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    let held = true;
    const lease: Lease = {
      lost: new Promise<string>(() => undefined),
      assertHeld: async () => {
        if (!held) throw new StoreError('the lease is gone (test)', { code: 'LeaseLost' });
      },
      release: async () => undefined,
    };
    daemon = await startDaemon(c, { lease });
    await waitFor('all nodes connected', BOUND_MS, () => allConnected(daemon!, 3));
    await waitFor('the first batch', BOUND_MS, () => daemon!.status.counters.batches >= 1);
    const lost = new Promise<string>((r) => daemon!.events.once('lease-lost', r));
    const peerTable = await readFile(c.nodes[1]!.path('/opt/custom/networking/customers_overlay.json'), 'utf8');
    const stateBefore = await readFile(c.statePath, 'utf8');
    held = false;
    createVm(c.dir, c.nodes[0]!.name, { mac: '52:54:00:cc:00:09', ip: '10.210.0.109', nicTag: 'customers/1000' });
    expect(await Promise.race([lost, new Promise((r) => setTimeout(() => r('no lease-lost within the bound'), BOUND_MS))])).toBe('the lease is gone (test)');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await readFile(c.statePath, 'utf8')).toBe(stateBefore);
    expect(await readFile(c.nodes[1]!.path('/opt/custom/networking/customers_overlay.json'), 'utf8')).toBe(peerTable);
  });
});

describe('daemon: the built CLI as a service', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('daemon status shows the nodes; SIGHUP reloads the state (arp_tables: danube stops table writes); SIGTERM stops it cleanly', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const statusFile = `${c.dir}/daemon-status.json`;
    const env = { ...c.env, ESDC_OVERLAY_DAEMON_STATUS: statusFile };
    // As the service runs it (templates/daemon): JSON lines, which this test reads.
    const run = runCli(['daemon', '--log-level', 'info', '--log-format', 'json'], env);
    try {
      const status = async (): Promise<DaemonStatus | undefined> => {
        const r = await cli(['daemon', 'status', '--json'], env);
        return r.status === 0 ? (JSON.parse(r.stdout) as DaemonStatus & { state: string | null }) : undefined;
      };
      await waitFor('both nodes connected per daemon status', BOUND_MS, async () => {
        const s = await status();
        return s?.state === 'running' && Object.values(s.nodes ?? {}).filter((n) => n.state === 'connected').length === 2;
      });
      const text = await cli(['daemon', 'status'], env);
      expect(text.stdout).toMatch(new RegExp(`${c.nodes[0]!.name}: connected since`));
      expect(text.stdout).toContain('esdc-overlay (the daemon writes them)');

      // Danube takes over the tables: after SIGHUP the daemon records VMs but writes no table.
      const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
      doc.defaults = { ...doc.defaults, arp_tables: 'danube' };
      await writeFile(c.statePath, stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
      process.kill(run.pid, 'SIGHUP');
      await waitFor('arp_tables danube after SIGHUP', BOUND_MS, async () => (await status())?.arp_tables === 'danube');
      const before = await readFile(c.nodes[1]!.path('/opt/custom/networking/customers_overlay.json'), 'utf8');
      createVm(c.dir, c.nodes[0]!.name, { mac: '52:54:00:dd:00:01', ip: '10.210.0.200', nicTag: 'customers/1000' });
      await waitFor('the VM recorded in the state', BOUND_MS, async () => (await stateVnics(c)).some((v) => v.mac === '52:54:00:dd:00:01'));
      await new Promise((r) => setTimeout(r, 1000));
      expect(await readFile(c.nodes[1]!.path('/opt/custom/networking/customers_overlay.json'), 'utf8')).toBe(before);
    } finally {
      process.kill(run.pid, 'SIGTERM');
    }
    const end = await run.done;
    expect(end.code).toBe(0);
    expect(end.stderr).toMatch(/"msg":"batch"/);
    expect(end.stderr).toMatch(/"msg":"daemon stopped"/);
    const last = JSON.parse(await readFile(statusFile, 'utf8')) as DaemonStatus;
    expect(last.state).toBe('stopped');
  }, 120_000);
});
