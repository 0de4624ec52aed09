/**
 * The daemon with its state in ZooKeeper (Danube's cfgdb layout), and
 * ZooKeeper going down: the daemon keeps its view, records nothing, applies
 * nothing; when ZooKeeper is back it records and applies what happened.
 * A ZooKeeper of its own, since this test stops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { InventoryDaemon } from '../../src/daemon/daemon.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { createVm } from '../harness/sim-vms.mjs';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { allConnected, startDaemon, table, waitFor } from '../daemon/daemon-helpers.js';
import { assertBuilt, runCli } from '../support/cli-process.js';
import { startZooKeeper, type ZkServer } from '../support/zk-server.js';
import { freshRoot } from '../support/zk-tree.js';

let zk: ZkServer;
beforeAll(async () => {
  assertBuilt();
  zk = await startZooKeeper();
});
afterAll(async () => zk?.dispose());

describe('daemon on a ZooKeeper store', () => {
  let c: SimCluster;
  let daemon: InventoryDaemon | undefined;
  useSimCluster({ count: 2 }, (started) => (c = started));
  afterAll(async () => daemon?.stop());

  it('ZooKeeper down: nothing recorded, nothing applied; back: recorded and applied', async () => {
    const url = `zk://${zk.hosts}${freshRoot()}`;
    const env = { ...c.env, ESDC_OVERLAY_STATE: '', ESDC_OVERLAY_STORE: url };
    // Anonymous writes, said so (--zk-insecure): this test is about ZooKeeper going away, not credentials.
    expect((await runCli(['store', 'migrate', '--from', c.statePath, '--to', url, '--yes', '--zk-insecure'], env).done).code).toBe(0);
    expect((await runCli(['apply', '--yes', '--zk-insecure'], env).done).code).toBe(0);
    const store = openStore(url, { timeoutSeconds: 2, zkInsecure: true }, {});
    daemon = await startDaemon(c, { store });
    await waitFor('both connected', 20_000, () => allConnected(daemon!, 2));
    const [cn01, cn02] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const MAC = '52:54:00:ee:00:01';

    await zk.stop();
    createVm(c.dir, cn01.name, { mac: MAC, ip: '10.210.0.150', nicTag: 'customers/1000' });
    await waitFor('the store failure seen', 20_000, () => daemon!.status.store.ok === false);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await table(cn02, 'customers'))?.[MAC]).toBeUndefined();

    await zk.restart();
    await waitFor('recorded and applied once ZooKeeper is back', 60_000, async () => (await table(cn02, 'customers'))?.[MAC] !== undefined);
    const snap = await openStore(url, { timeoutSeconds: 5 }, {}).load('warn');
    expect((snap.doc.vnics ?? []).filter((v) => v.mac === MAC).map((v) => v.node)).toEqual([cn01.name]);
    expect(daemon.status.store.ok).toBe(true);
  }, 180_000);
});
