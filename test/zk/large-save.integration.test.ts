/**
 * Saves larger than one ZooKeeper request (docs/zk-large-saves.md): written
 * as a new generation in several requests, switched to by one multi. A
 * ZooKeeper of its own with a low jute.maxbuffer (256 KiB) so that a state of
 * a few MiB is many requests; the tool is told the limit the way an operator
 * would (ESDC_OVERLAY_ZK_MAX_REQUEST_BYTES / maxTransactionBytes).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateDoc } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { comparableModel } from '../../src/store/compare.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { assertBuilt, runCli } from '../support/cli-process.js';
import { startZooKeeper, type ZkServer } from '../support/zk-server.js';
import { freshRoot, rawClient } from '../support/zk-tree.js';

const JUTE = 256 * 1024;
/** What the tool sends per request: below the server's limit. */
const REQUEST = 200_000;
let zk: ZkServer;
let tmp: string;

beforeAll(async () => {
  assertBuilt();
  zk = await startZooKeeper({ juteMaxBuffer: JUTE });
  tmp = await mkdtemp(join(tmpdir(), 'zk-large-'));
});
afterAll(async () => {
  await zk?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

const cb = <T>(f: (done: (err: unknown, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

const childrenOn = (raw: Client, path: string): Promise<string[]> =>
  cb<string[]>((d) => raw.getChildren(path, (e, c) => d(e, c))).catch(() => [] as string[]);

/**
 * A raw client for one question only: the in-process loads of a 3.5 MiB state
 * block this process for seconds, and a client left open meanwhile sends no
 * pings and loses its session on a loaded machine.
 */
async function withRaw<T>(fn: (raw: Client) => Promise<T>): Promise<T> {
  const raw = await rawClient(zk.hosts);
  try {
    return await fn(raw);
  } finally {
    raw.close();
  }
}

const children = (path: string): Promise<string[]> => withRaw((raw) => childrenOn(raw, path));

const pointer = (root: string): Promise<string | undefined> =>
  withRaw(async (raw) => {
    const data = await cb<Buffer>((d) => raw.getData(`${root}/esdc_overlay`, (e, b) => d(e, b)));
    return (JSON.parse(data.toString('utf8')) as { gen?: string }).gen;
  });

const dataOf = (path: string): Promise<string> =>
  withRaw(async (raw) => (await cb<Buffer>((d) => raw.getData(path, (e, b) => d(e, b)))).toString('utf8'));

/**
 * 300 nodes in one PDC, one rule, 30,000 VM NICs (about 3.5 MiB in cfgdb).
 * `variant` (8 hex digits) changes every NIC's VM UUID, so two variants differ in every
 * vnics znode and a mix of the two would not equal either.
 */
function bigState(variant: string, nodes = 300): StateDoc {
  const doc: StateDoc = { version: 1, nodes: {}, overlay_rules: { customers: { port: 4790, nodes: 'all', mtu: 1400 } }, vnics: [] };
  for (let i = 0; i < nodes; i++) {
    const name = `cn${String(i).padStart(3, '0')}.prg.example.com`;
    doc.nodes![name] = { uuid: `564d1a2b-0000-4000-8000-${String(i).padStart(12, '0')}`, pdc: 'prg', admin_ip: `10.100.${i >> 8}.${i & 255}` };
    for (let j = 0; j < 100; j++) {
      const n = i * 100 + j;
      const hex = (x: number): string => x.toString(16).padStart(2, '0');
      doc.vnics!.push({
        node: name,
        mac: `52:54:00:${hex(n >> 16)}:${hex((n >> 8) & 255)}:${hex(n & 255)}`,
        ip: `10.${10 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`,
        nic_tag: 'customers/1000',
        vm: `${variant}-0000-4000-8000-${String(n).padStart(12, '0')}`,
      });
    }
  }
  return doc;
}

const store = (root: string, maxTransactionBytes = REQUEST): ZkStore =>
  new ZkStore({ hosts: zk.hosts, root }, { insecure: true, timeoutMs: 30_000, maxTransactionBytes });

const modelOf = (doc: StateDoc): Record<string, unknown> => comparableModel(validateDoc(structuredClone(doc), 'test', 'require').model);

describe('a save larger than one ZooKeeper request', () => {
  it('is refused by this server when sent as one request (what the generations avoid)', async () => {
    const root = freshRoot();
    const s = store(root, 64 * 1024 * 1024);
    const base = await s.loadOrEmpty('warn');
    await expect(s.save(bigState('aaaaaaaa'), base, 'warn')).rejects.toThrow(/ZooKeeper/);
  }, 120_000);

  it('commits in several requests and reads back equal; Danube\'s znodes keep their paths; a small change stays in the generation', async () => {
    const root = freshRoot();
    const s = store(root);
    const doc = bigState('aaaaaaaa');
    expect(Buffer.byteLength(JSON.stringify(doc.vnics))).toBeGreaterThan(3 * 1024 * 1024);
    await s.save(doc, await s.loadOrEmpty('warn'), 'warn');
    const back = await store(root).load('require');
    expect(comparableModel(back.model)).toEqual(modelOf(doc));

    const gen = await pointer(root);
    expect(gen).toMatch(/^\d{17}-[0-9a-z]+$/);
    expect(await children(`${root}/esdc_overlay/gen`)).toEqual([gen]);
    expect((await children(`${root}/esdc_overlay/gen/${gen}/vnics`)).length).toBe(300);
    // Nothing of ours outside the generation; Danube's rule where Danube reads it.
    expect((await children(`${root}/esdc_overlay`)).sort()).toEqual(['gen']);
    expect(await dataOf(`${root}/overlay_rules/customers/port`)).toBe('4790');

    // A small change is one transaction inside the current generation.
    const changed = structuredClone(doc);
    changed.nodes!['cn000.prg.example.com']!.admin_ip = '10.100.9.9';
    await s.save(changed, back, 'warn');
    expect(await pointer(root)).toBe(gen);
    expect(comparableModel((await store(root).load('require')).model)).toEqual(modelOf(changed));
    expect((await children(`${root}/esdc_overlay`)).sort()).toEqual(['gen']);
  }, 180_000);

  it('a large save over a tree written in one transaction (our znodes directly under esdc_overlay) moves them into a generation', async () => {
    const root = freshRoot();
    const small = bigState('33333333', 3);
    await store(root).save(small, await store(root).loadOrEmpty('warn'), 'warn');
    expect((await children(`${root}/esdc_overlay`)).sort()).toEqual(['format', 'nodes', 'vnics']);
    const big = bigState('44444444');
    await store(root).save(big, await store(root).load('require'), 'warn');
    expect((await children(`${root}/esdc_overlay`)).sort()).toEqual(['gen']);
    expect(comparableModel((await store(root).load('require')).model)).toEqual(modelOf(big));
  }, 180_000);

  it('a writer killed (-9) mid-way leaves the old version readable, never a mix; the next save removes its garbage', async () => {
    const root = freshRoot();
    const v1 = bigState('11111111');
    const v2 = bigState('22222222');
    await store(root).save(v1, await store(root).loadOrEmpty('warn'), 'warn');
    const file = join(tmp, 'v2.yaml');
    await writeFile(file, stringify(v2), { mode: 0o600 });
    const old = await pointer(root);
    // 16 KiB requests: the new generation takes a few hundred of them, so the kill lands in the middle.
    const cmd = runCli(['store', 'migrate', '--from', file, '--to', `zk://${zk.hosts}${root}`, '--yes', '--zk-insecure'], {
      ESDC_OVERLAY_ZK_MAX_REQUEST_BYTES: '16384',
    });
    let pending: string | undefined;
    await withRaw(async (raw) => {
      for (let i = 0; i < 6000 && pending === undefined; i++) {
        const gens = await childrenOn(raw, `${root}/esdc_overlay/gen`);
        const fresh = gens.find((g) => g !== old);
        if (fresh !== undefined && (await childrenOn(raw, `${root}/esdc_overlay/gen/${fresh}/vnics`)).length >= 5) pending = fresh;
        else await new Promise((r) => setTimeout(r, 5));
      }
    });
    expect(pending).toBeDefined();
    // Frozen in the middle of writing: readers see the old version, whole.
    process.kill(cmd.pid, 'SIGSTOP');
    expect(comparableModel((await store(root).load('require')).model)).toEqual(modelOf(v1));
    process.kill(cmd.pid, 'SIGKILL');
    const result = await cmd.done;
    expect(result.code).not.toBe(0);

    const after = await pointer(root);
    const snap = await store(root).load('require');
    // Never a mix: exactly one of the two versions.
    expect(comparableModel(snap.model)).toEqual(modelOf(after === old ? v1 : v2));
    expect(after).toBe(old); // 300 vnics znodes at 16 KiB a request: the kill came before the switch
    expect((await children(`${root}/esdc_overlay/gen`)).sort()).toEqual([old, pending].sort());

    // The next save (a small one) removes the interrupted generation; the current one stays.
    const v3 = structuredClone(v1);
    v3.nodes!['cn001.prg.example.com']!.admin_ip = '10.100.9.10';
    await store(root).save(v3, snap, 'warn');
    expect(await children(`${root}/esdc_overlay/gen`)).toEqual([old]);
    expect(comparableModel((await store(root).load('require')).model)).toEqual(modelOf(v3));

    // And a large save replaces the generation, removing the old one once switched.
    await store(root).save(v2, await store(root).load('require'), 'warn');
    const now = await pointer(root);
    expect(now).not.toBe(old);
    expect(await children(`${root}/esdc_overlay/gen`)).toEqual([now]);
    expect(comparableModel((await store(root).load('require')).model)).toEqual(modelOf(v2));
  }, 240_000);
});
