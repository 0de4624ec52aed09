/**
 * Point 2 of the issue: concurrent writers against one cfgdb, as real
 * separate processes of the built CLI. Different rules: both succeed. The
 * same rule: one wins, the other fails with a conflict message. A writer
 * that takes no lock (Danube's own bash tool) cannot interleave either: the
 * save's transaction fails on the version check and the change is re-run.
 */
import type { Client } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { ConflictError, StoreError } from '../../src/errors.js';
import { transact } from '../../src/operations/transact.js';
import { createRule } from '../../src/rules/edit.js';
import { ZkSession } from '../../src/store/zk-session.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { assertBuilt, runCli } from '../support/cli-process.js';
import { close, freshRoot, rawClient, readTsv, setRaw, writeTree } from '../support/zk-tree.js';

/** stderr without the model's warnings, which every command prints (the example's MTUs are above the safe value). */
const notWarnings = (s: string): string => s.split('\n').filter((l) => l !== '' && !l.startsWith('warn: ')).join('\n');

const hosts = inject('zkHosts');
let raw: Client;

async function seededRoot(): Promise<string> {
  const root = freshRoot();
  await writeTree(raw, root, new Map([...readTsv('two-sites.danube.tsv'), ...readTsv('two-sites.ours.tsv')]));
  return root;
}

beforeAll(async () => {
  assertBuilt();
  raw = await rawClient(hosts);
});
afterAll(() => close(raw));

describe('two processes writing at the same time', () => {
  it('updating different rules: both succeed and both changes are kept', async () => {
    const root = await seededRoot();
    const url = `zk://${hosts}${root}`;
    const a = runCli(['update', 'customers', '--mtu', '1380', '--store', url, '--zk-insecure']);
    const b = runCli(['update', 'lab', '--mtu', '1360', '--store', url, '--zk-insecure']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.code, notWarnings(ra.stderr)]).toEqual([0, '']);
    expect([rb.code, notWarnings(rb.stderr)]).toEqual([0, '']);
    const store = new ZkStore({ hosts, root }, { insecure: true });
    const snap = await store.load('require');
    expect(snap.model.ruleByName.get('customers')!.mtu).toBe(1380);
    expect(snap.model.ruleByName.get('lab')!.mtu).toBe(1360);
  });

  it('creating different rules: both get distinct ports', async () => {
    const root = await seededRoot();
    const url = `zk://${hosts}${root}`;
    const runs = await Promise.all(['alpha', 'beta', 'gamma'].map((r) => runCli(['create', r, '--store', url, '--json', '--zk-insecure']).done));
    for (const r of runs) expect([r.code, notWarnings(r.stderr)]).toEqual([0, '']);
    const ports = runs.map((r) => (JSON.parse(r.stdout) as { created: { port: number } }).created.port).sort();
    expect(ports).toEqual([4793, 4794, 4795]);
  });

  it('creating the same rule: one wins, the other fails with a conflict message and changes nothing', async () => {
    const root = await seededRoot();
    const url = `zk://${hosts}${root}`;
    const runs = await Promise.all([
      runCli(['create', 'web', '--port', '4900', '--store', url, '--zk-insecure']).done,
      runCli(['create', 'web', '--port', '4901', '--store', url, '--zk-insecure']).done,
    ]);
    const won = runs.filter((r) => r.code === 0);
    const lost = runs.filter((r) => r.code !== 0);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.code).toBe(1);
    expect(lost[0]!.stderr).toMatch(/rule web exists already; to change it run: esdc-overlay update web/);
    const snap = await new ZkStore({ hosts, root }, { insecure: true }).load('require');
    const port = snap.model.ruleByName.get('web')!.port;
    expect(won[0]!.stdout).toContain(`created rule web: port ${port}`);
  });
});

describe('a writer that takes no lock (Danube bash tool) between our load and save', () => {
  it('makes the save fail with a conflict instead of overwriting its change', async () => {
    const root = await seededRoot();
    const store = new ZkStore({ hosts, root }, { insecure: true });
    const snap = await store.load('require');
    await setRaw(raw, `${root}/overlay_rules/lab/nodelist`, 'all');
    const doc = structuredClone(snap.doc);
    doc.overlay_rules!.customers!.mtu = 1300;
    const err = await store.save(doc, snap).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('StateChanged');
    expect((err as Error).message).toMatch(/changed while this command ran/);
    const now = await store.load('require');
    expect(now.model.ruleByName.get('customers')!.mtu).toBe(1400);
    expect(now.model.ruleByName.get('lab')!.nodeSelector).toBe('all');
  });

  it('is caught even inside the transaction window: a version check on every Danube key read', async () => {
    const root = await seededRoot();
    const store = new ZkStore({ hosts, root }, { insecure: true });
    const snap = await store.load('require');
    // The foreign write lands after our save re-read the tree and planned its
    // writes, just before the multi is sent: only the transaction's checks can see it.
    const original = ZkSession.prototype.commit;
    ZkSession.prototype.commit = async function (this: ZkSession, ops) {
      await setRaw(raw, `${root}/firewall/globally_enabled`, 'false');
      return original.call(this, ops);
    };
    let err: unknown;
    try {
      const doc = structuredClone(snap.doc);
      doc.overlay_rules!.lab!.mtu = 1300;
      err = await store.save(doc, snap).catch((e: unknown) => e);
    } finally {
      ZkSession.prototype.commit = original;
    }
    expect(err).toBeInstanceOf(ConflictError);
    const now = await store.load('require');
    expect(now.model.ruleByName.get('lab')!.mtu).toBe(1400);
    expect(now.model.firewall.enabled).toBe(false);
  });

  it('transact re-runs the change on the new state and says so; both changes survive', async () => {
    const root = await seededRoot();
    const store = new ZkStore({ hosts, root }, { insecure: true });
    const conflicts: string[] = [];
    let calls = 0;
    const { snapshot } = await transact(
      store,
      async (snap) => {
        calls++;
        if (calls === 1) await setRaw(raw, `${root}/firewall/administrator_sources`, '203.0.113.0/24');
        return createRule(snap.doc, snap.model, { name: 'late' });
      },
      { onConflict: (e) => conflicts.push(e.message) },
    );
    expect(calls).toBe(2);
    expect(conflicts).toHaveLength(1);
    expect(snapshot.model.ruleByName.has('late')).toBe(true);
    expect(snapshot.model.firewall.administratorSources).toEqual(['203.0.113.0/24']);
  });
});

describe('the ZooKeeper lock', () => {
  it('makes a writer wait for the holder, and names the holder when it waits too long', async () => {
    const root = await seededRoot();
    const holderData = JSON.stringify({ pid: 4242, host: 'cn-01.prg.example.com', since: '2026-11-22T00:00:00.000Z' });
    await new Promise<void>((res, rej) => raw.mkdirp(`${root}/esdc_overlay/locks`, (e) => (e ? rej(e) : res())));
    const held = await new Promise<string>((res, rej) =>
      raw.create(`${root}/esdc_overlay/locks/lock-`, Buffer.from(holderData), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (e, p) => (e ? rej(e) : res(p))),
    );
    const store = new ZkStore({ hosts, root }, { insecure: true, lockTimeoutMs: 700 });
    const err = await store.withLock(async () => 'got it').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('StateLocked');
    expect((err as Error).message).toMatch(/locked by process 4242 on cn-01\.prg\.example\.com since 2026-11-22T00:00:00\.000Z/);

    const patient = new ZkStore({ hosts, root }, { insecure: true, lockTimeoutMs: 10_000 });
    const waiting = patient.withLock(async () => Date.now());
    await new Promise((r) => setTimeout(r, 300));
    const releasedAt = Date.now();
    await new Promise<void>((res, rej) => raw.remove(held, (e) => (e ? rej(e) : res())));
    expect(await waiting).toBeGreaterThanOrEqual(releasedAt);
  });
});
