/**
 * The daemon when things go wrong (test/README.md, fault cases): a node
 * dropped or hung while its VMs change, malformed event lines, the store
 * unavailable. The others keep converging; on return the resync catches up.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { InventoryDaemon } from '../../src/daemon/daemon.js';
import type { DaemonStatus } from '../../src/daemon/status.js';
import type { StateDoc } from '../../src/model/state.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { appendRawEvent, createVm, deleteVm } from '../harness/sim-vms.mjs';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli } from '../support/cli.js';
import { allConnected, sshdTree, startDaemon, table, waitFor } from './daemon-helpers.js';

const BOUND_MS = 15_000;

async function stateMacs(c: SimCluster): Promise<string[]> {
  return ((parse(await readFile(c.statePath, 'utf8')) as StateDoc).vnics ?? []).map((v) => `${v.mac}@${v.node}`).sort();
}

describe('daemon faults', () => {
  let c: SimCluster;
  let daemon: InventoryDaemon | undefined;
  useSimCluster({ count: 3, each: true }, (started) => (c = started));
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });

  async function ready(): Promise<InventoryDaemon> {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    daemon = await startDaemon(c);
    await waitFor('all nodes connected', BOUND_MS, () => allConnected(daemon!, 3));
    return daemon;
  }

  it('a node dropped (sshd killed) while its VMs change: the others converge; on return the resync catches up', async () => {
    const d = await ready();
    const [cn01, cn02, cn03] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    await cn03.drop();
    await waitFor('cn03 disconnected', BOUND_MS, () => d.status.nodes[cn03.name]?.state !== 'connected');
    // The status file follows (it is written after the change, asynchronously).
    let status: DaemonStatus | undefined;
    await waitFor('the status file shows cn03 not connected', 5000, async () => {
      status = JSON.parse(await readFile(join(c.dir, 'daemon-status.json'), 'utf8')) as DaemonStatus;
      return status.nodes[cn03.name]?.state !== 'connected';
    });
    expect(Date.parse(status!.nodes[cn03.name]!.since)).toBeGreaterThan(Date.now() - 60_000);

    // The others keep converging.
    createVm(c.dir, cn01.name, { mac: '52:54:00:cc:00:01', ip: '10.210.0.101', nicTag: 'customers/1000' });
    await waitFor('cn02 has the new cn01 VM', BOUND_MS, async () => (await table(cn02, 'customers'))?.['52:54:00:cc:00:01'] !== undefined);

    // Meanwhile on cn03: a VM comes, the one it had goes.
    createVm(c.dir, cn03.name, { mac: '52:54:00:cc:00:03', ip: '10.210.0.103', nicTag: 'customers/1000' });
    deleteVm(c.dir, '0b1e0000-0000-4000-8000-000000000003');
    await new Promise((r) => setTimeout(r, 500));
    expect((await table(cn01, 'customers'))?.['52:54:00:cc:00:03']).toBeUndefined();
    // cn03's old VM stays until cn03 is seen again: a node we cannot see is unknown, not empty.
    expect((await table(cn01, 'customers'))?.['52:54:00:aa:00:03']).toBeDefined();

    await cn03.start();
    await waitFor('converged after cn03 returns', 30_000, async () => {
      const t1 = await table(cn01, 'customers');
      const t3 = await table(cn03, 'customers');
      // cn03 is in the other PDC: peers reach it on its external address.
      return t1?.['52:54:00:cc:00:03']?.ip === '203.0.113.3' && t1['52:54:00:aa:00:03'] === undefined && t3?.['52:54:00:cc:00:01'] !== undefined;
    });
    expect(await stateMacs(c)).toContain(`52:54:00:cc:00:03@${cn03.name}`);
    expect(await stateMacs(c)).not.toContain(`52:54:00:aa:00:03@${cn03.name}`);
    expect(d.status.nodes[cn03.name]!.counters.connects).toBe(2);
  }, 120_000);

  it('a node that hangs (SIGSTOP): the others converge; it is marked disconnected; after SIGCONT it catches up', async () => {
    const d = await ready();
    const [cn01, cn02, cn03] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const tree = await sshdTree(cn03);
    expect(tree.length).toBeGreaterThan(1);
    for (const p of tree) process.kill(p, 'SIGSTOP');
    try {
      createVm(c.dir, cn01.name, { mac: '52:54:00:cc:00:11', ip: '10.210.0.111', nicTag: 'customers/1000' });
      await waitFor('cn02 has the new cn01 VM while cn03 hangs', BOUND_MS, async () => (await table(cn02, 'customers'))?.['52:54:00:cc:00:11'] !== undefined);
      // The write to cn03 still hangs (keepalives need ~15 s): the next batch must not wait for it.
      createVm(c.dir, cn01.name, { mac: '52:54:00:cc:00:12', ip: '10.210.0.112', nicTag: 'customers/1000' });
      const took = await waitFor('cn02 has the second VM while cn03 still hangs', 9000, async () => (await table(cn02, 'customers'))?.['52:54:00:cc:00:12'] !== undefined);
      expect(d.status.nodes[cn03.name]!.state, `second VM took ${took} ms`).toBe('connected');
      // SSH keepalives (5 s, 3 missed) find the hung node.
      await waitFor('cn03 marked disconnected', 40_000, () => d.status.nodes[cn03.name]?.state !== 'connected');
      createVm(c.dir, cn03.name, { mac: '52:54:00:cc:00:13', ip: '10.210.0.113', nicTag: 'customers/1000' });
    } finally {
      for (const p of tree) {
        try {
          process.kill(p, 'SIGCONT');
        } catch {
          // gone
        }
      }
    }
    await waitFor('converged after SIGCONT', 40_000, async () =>
      (await table(cn01, 'customers'))?.['52:54:00:cc:00:13'] !== undefined && (await table(cn03, 'customers'))?.['52:54:00:cc:00:11'] !== undefined);
  }, 150_000);

  it('malformed and unknown event lines are skipped and counted, never fatal; NICs on no rule are ignored and counted', async () => {
    const d = await ready();
    const [cn01, cn02] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    appendRawEvent(cn01.root, 'this is not json');
    appendRawEvent(cn01.root, JSON.stringify({ type: 'create', date: new Date().toISOString(), zonename: 'x' }));
    appendRawEvent(cn01.root, JSON.stringify({ type: 'rename', date: new Date().toISOString(), zonename: 'x' }));
    createVm(c.dir, cn01.name, { mac: '52:54:00:cc:00:21', ip: '10.210.0.121', nicTag: 'nosuchrule/5' });
    createVm(c.dir, cn01.name, { mac: '52:54:00:cc:00:22', ip: '10.210.0.122', nicTag: 'customers/1000' });
    await waitFor('the good VM after the bad lines', BOUND_MS, async () => (await table(cn02, 'customers'))?.['52:54:00:cc:00:22'] !== undefined);
    expect(d.status.nodes[cn01.name]!.counters.malformed).toBe(2);
    expect(d.status.nodes[cn01.name]!.counters.unknown).toBe(1);
    expect(d.status.nodes[cn01.name]!.state).toBe('connected');
    expect(d.status.counters.ignored_no_rule).toBe(1);
    expect(await stateMacs(c)).not.toContain(`52:54:00:cc:00:21@${cn01.name}`);
  }, 120_000);

  it('the store unavailable: nothing is applied that is not recorded; once it is back, it converges', async () => {
    const d = await ready();
    const [cn01, cn02] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    // A live process (this one) holds the state's lock: every save is refused.
    const lock = `${c.statePath}.lock`;
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }), { mode: 0o600 });
    try {
      createVm(c.dir, cn01.name, { mac: '52:54:00:cc:00:31', ip: '10.210.0.131', nicTag: 'customers/1000' });
      await waitFor('the store failure seen', BOUND_MS, () => d.status.store.ok === false);
      // The failed batch is reported as such: nothing merged, no table, the store's error.
      expect(d.status.last_batch).toMatchObject({ added: 0, tables_written: 0, event_to_commit_ms: null, error: d.status.store.last_error });
      expect(d.status.last_batch?.error).toMatch(/lock/);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await table(cn02, 'customers'))?.['52:54:00:cc:00:31']).toBeUndefined();
      expect(await stateMacs(c)).not.toContain(`52:54:00:cc:00:31@${cn01.name}`);
    } finally {
      await rm(lock, { force: true });
    }
    await waitFor('recorded and applied once the store is back', 40_000, async () => (await table(cn02, 'customers'))?.['52:54:00:cc:00:31'] !== undefined);
    expect(await stateMacs(c)).toContain(`52:54:00:cc:00:31@${cn01.name}`);
    expect(d.status.store.ok).toBe(true);
  }, 120_000);
});
