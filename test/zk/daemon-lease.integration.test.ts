/**
 * One daemon per installation in ZooKeeper (docs/daemon.md#one-daemon): the
 * lease is an ephemeral sequential node under `<root>/esdc_overlay/locks/daemon`
 * on a session the daemon keeps. A second daemon waits, told who leads; it
 * leads when the first releases, or when the first's session expires (a
 * partition, a paused head node); the first then learns it has lost the lease.
 * The ZooKeeper is real.
 */
import { describe, expect, inject, it } from 'vitest';
import { ZkStore } from '../../src/store/zk-store.js';
import type { Lease } from '../../src/store/store.js';
import { cb, useZkAdminAndProxy } from '../support/zk-fixture.js';
import { freshRoot } from '../support/zk-tree.js';

const hosts = inject('zkHosts');
const AUTH = 'esdc:install-pw';
const zk = useZkAdminAndProxy(hosts, AUTH);
const leaseNodes = (root: string): Promise<string[]> =>
  cb<string[]>((d) => zk.admin.getChildren(`${root}/esdc_overlay/locks/daemon`, (e, c) => d(e, c))).catch(() => []);
const settledWithin = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

function lead(store: ZkStore, waits: string[] = [], signal = new AbortController().signal): Promise<Lease | undefined> {
  return store.lead('daemon', { signal, onWait: (h) => waits.push(h) });
}

describe('the daemon lease in ZooKeeper', () => {
  it('is held by one daemon at a time; the second is told who leads and leads once the first releases', async () => {
    const root = freshRoot();
    const first = (await lead(new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 })))!;
    await expect(first.assertHeld()).resolves.toBeUndefined();
    const waits: string[] = [];
    const second = lead(new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 }), waits);
    expect(await settledWithin(second, 500)).toBe('pending');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(new RegExp(`^process ${process.pid} on \\S+ since `));
    expect(await leaseNodes(root)).toHaveLength(2);
    await first.release();
    const l = await settledWithin(second, 5000);
    expect(l).not.toBe('pending');
    await expect((l as Lease).assertHeld()).resolves.toBeUndefined();
    await (l as Lease).release();
    expect(await leaseNodes(root)).toEqual([]);
    // The lease nodes are not the state: a load still reads an empty store, and the write lock is unaffected.
    const store = new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000, lockTimeoutMs: 1000 });
    expect(await store.withLock(async () => 'locked')).toBe('locked');
  });

  it('passes to the waiting daemon when the leader\'s session expires, and the leader learns it lost it', async () => {
    const root = freshRoot();
    // Through the proxy, so the test can cut the leader off. An 8 s timeout: each of the leader's calls may
    // wait that long, so a check bounded by the call timeout alone would learn of the loss too late.
    const first = (await lead(new ZkStore({ hosts: zk.proxy.hosts, root }, { auth: AUTH, timeoutMs: 8000 })))!;
    const second = lead(new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 }));
    expect(await settledWithin(second, 300)).toBe('pending');
    let lostAt = Infinity;
    let ledAt = Infinity;
    void first.lost.then(() => (lostAt = Date.now()));
    void second.then(() => (ledAt = Date.now()));
    zk.proxy.freeze();
    const l = await settledWithin(second, 20_000);
    expect(l).not.toBe('pending');
    // The old leader knows by its checks (every third of the session timeout, each given a third), before
    // the server expires its session and lets the waiter lead: never two leaders that both think so.
    expect(await settledWithin(first.lost, 5000)).toMatch(/ZooKeeper/);
    expect(lostAt).toBeLessThan(ledAt);
    await expect(first.assertHeld()).rejects.toMatchObject({ code: expect.stringMatching(/^(LeaseLost|StoreUnavailable)$/) });
    zk.proxy.thaw();
    await first.release();
    await (l as Lease).release();
  });

  it('stops a waiter that is told to stop and removes its node', async () => {
    const root = freshRoot();
    const first = (await lead(new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 })))!;
    const a = new AbortController();
    const waiting = lead(new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 }), [], a.signal);
    await new Promise((r) => setTimeout(r, 300));
    a.abort();
    expect(await settledWithin(waiting, 3000)).toBeUndefined();
    expect(await leaseNodes(root)).toHaveLength(1);
    await first.release();
  });
});
