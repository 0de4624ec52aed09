/**
 * A commit whose answer is lost (the connection drops after the server got
 * the multi): the store finds out on a fresh session whether it was applied,
 * instead of guessing. The loss is simulated at the session boundary; the
 * server and the transaction are real.
 */
import type { Client } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { ZkSession } from '../../src/store/zk-session.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { close, dumpTree, freshRoot, rawClient, readTsv, writeTree } from '../support/zk-tree.js';

const hosts = inject('zkHosts');
let raw: Client;
beforeAll(async () => {
  raw = await rawClient(hosts);
});
afterAll(() => close(raw));

const lost = (): StoreError => new StoreError('lost the connection to ZooKeeper (simulated)', { code: 'StoreUnavailable' });

async function withCommit(replacement: (original: ZkSession['commit'], self: ZkSession, ops: Parameters<ZkSession['commit']>[0]) => Promise<void>, fn: () => Promise<void>): Promise<void> {
  const original = ZkSession.prototype.commit;
  ZkSession.prototype.commit = function (this: ZkSession, ops) {
    return replacement(original, this, ops);
  };
  try {
    await fn();
  } finally {
    ZkSession.prototype.commit = original;
  }
}

describe('a commit whose answer is lost', () => {
  it('counts as done when the sequencer shows it was applied', async () => {
    const root = freshRoot();
    await writeTree(raw, root, new Map([...readTsv('two-sites.danube.tsv'), ...readTsv('two-sites.ours.tsv')]));
    const store = new ZkStore({ hosts, root }, { insecure: true, timeoutMs: 3000 });
    const snap = await store.load();
    const doc = structuredClone(snap.doc);
    doc.overlay_rules!.lab!.mtu = 1300;
    await withCommit(async (original, self, ops) => {
      await original.call(self, ops);
      throw lost();
    }, async () => {
      await store.save(doc, snap);
    });
    expect((await store.load()).model.ruleByName.get('lab')!.mtu).toBe(1300);
  });

  it('fails with the all-or-nothing message when it was not applied, and nothing changed', async () => {
    const root = freshRoot();
    await writeTree(raw, root, new Map([...readTsv('two-sites.danube.tsv'), ...readTsv('two-sites.ours.tsv')]));
    const before = await dumpTree(raw, root);
    const store = new ZkStore({ hosts, root }, { insecure: true, timeoutMs: 3000 });
    const snap = await store.load();
    const doc = structuredClone(snap.doc);
    doc.overlay_rules!.lab!.mtu = 1300;
    let err: unknown;
    await withCommit(async () => {
      throw lost();
    }, async () => {
      err = await store.save(doc, snap).catch((e: unknown) => e);
    });
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/one transaction, so it was applied completely or not at all; run "esdc-overlay list --store zk:\/\/.*" when ZooKeeper is back/);
    expect(await dumpTree(raw, root)).toEqual(before);
  });
});
