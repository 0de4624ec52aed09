/**
 * Issue 15, ZooKeeper ACLs, against a real ZooKeeper through the built CLI.
 * Without credentials every znode is world:anyone, PSKs included: a write is
 * refused unless --zk-insecure says so. With credentials every znode written
 * is creator-only, also one that already existed with an open ACL (setData
 * keeps a znode's ACL, so a rotation used to leave the new keys readable by
 * anyone). A load names key znodes anyone can read.
 */
import type { Client } from 'node-zookeeper-client';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZkStore } from '../../src/store/zk-store.js';
import { assertBuilt, runCli } from '../support/cli-process.js';
import { close, dumpTree, freshRoot, rawClient, readTsv, writeTree } from '../support/zk-tree.js';

const hosts = inject('zkHosts');
const AUTH = 'esdc:install-pw';
const NO_AUTH = { ESDC_OVERLAY_ZK_AUTH: '' };
const WITH_AUTH = { ESDC_OVERLAY_ZK_AUTH: AUTH };
const KEY = 'ipsec/psk/cn-01.prg.example.com-cn-03.brn.example.com';
let raw: Client;
/** A client authenticated as the same digest user, as Danube's query_cfgdb is. */
let danube: Client;

beforeAll(async () => {
  assertBuilt();
  raw = await rawClient(hosts);
  danube = await rawClient(hosts);
  danube.addAuthInfo('digest', Buffer.from(AUTH));
});
afterAll(() => {
  close(raw);
  close(danube);
});

const cb = <T>(f: (done: (err: unknown, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

/** The ZooKeeper error code of reading `path` with `c` (undefined when the read works). */
const readCode = (c: Client, path: string): Promise<number | undefined> =>
  new Promise((resolve) => c.getData(path, (err) => resolve((err as { code?: number } | null)?.code)));

/** `scheme:id` of each ACL entry of `path` (read with the authenticated client: reading an ACL needs no READ). */
async function aclOf(path: string): Promise<string[]> {
  const acls = await cb<{ id: { scheme: string; id: string } }[]>((d) => danube.getACL(path, (e, a) => d(e, a)));
  return acls.map((a) => `${a.id.scheme}:${a.id.id}`);
}

/** A Danube tree written by an anonymous client: every znode world:anyone, as Danube's tool leaves them without ACLs. */
async function openTree(): Promise<string> {
  const root = freshRoot();
  await writeTree(raw, root, new Map([...readTsv('two-sites.danube.tsv'), ...readTsv('two-sites.ours.tsv')]));
  return root;
}

describe('writing to ZooKeeper without credentials', () => {
  it('is refused, naming the fix, and writes nothing', async () => {
    const root = await openTree();
    const url = `zk://${hosts}${root}`;
    const before = await dumpTree(raw, root);
    const r = await runCli(['create', 'delta', '--store', url], NO_AUTH).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to write to zk:\/\/\S+ without ZooKeeper credentials/);
    expect(r.stderr).toMatch(/ESDC_OVERLAY_ZK_AUTH=user:password or --zk-auth-file FILE/);
    expect(r.stderr).toMatch(/--zk-insecure/);
    expect(await dumpTree(raw, root)).toEqual(before);

    // Into an empty root, too (store migrate): nothing is created, not even the root.
    const empty = freshRoot();
    const m = await runCli(['store', 'migrate', '--from', url, '--to', `zk://${hosts}${empty}`, '--yes'], NO_AUTH).done;
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/without ZooKeeper credentials/);
    expect(await cb<unknown>((d) => raw.exists(empty, (e, s) => d(e, s)))).toBeNull();
  });

  it('works with --zk-insecure, which the help documents', async () => {
    const root = await openTree();
    const r = await runCli(['create', 'delta', '--store', `zk://${hosts}${root}`, '--zk-insecure'], NO_AUTH).done;
    expect(r.code).toBe(0);
    expect((await dumpTree(raw, root)).has('overlay_rules/delta/port')).toBe(true);
    expect(await aclOf(`${root}/overlay_rules/delta/port`)).toEqual(['world:anyone']);
    const help = await runCli(['--help']).done;
    expect(help.stdout).toMatch(/--zk-insecure\s+ZooKeeper: write without credentials/);
  });
});

describe('writing to ZooKeeper with credentials', () => {
  it('a rotation makes the key znodes it sets creator-only, and the warning goes away', async () => {
    const root = await openTree();
    const url = `zk://${hosts}${root}`;
    const keyPaths = [...readTsv('two-sites.danube.tsv').keys()].filter((k) => k.startsWith('ipsec/psk/')).map((k) => `${root}/${k}`);
    expect(await readCode(raw, `${root}/${KEY}`)).toBeUndefined(); // anyone can read it now

    // The load names every key znode anyone can read (a typed warning on stderr), never a key.
    const list = await runCli(['list', '--store', url], NO_AUTH).done;
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(/8 key znode\(s\) are readable by world:anyone/);
    for (const p of keyPaths) expect(list.stderr).toContain(p);
    const json = await runCli(['validate', '--store', url, '--json'], NO_AUTH).done;
    expect((JSON.parse(json.stdout) as { warnings: { path: string; message: string }[] }).warnings[0]!.path).toBe('ipsec.psk');

    const rotate = await runCli(['keys', 'rotate', '--all', '--yes', '--store', url], WITH_AUTH).done;
    expect(rotate.code).toBe(0);
    for (const p of keyPaths) {
      expect(await readCode(raw, p)).toBe(zookeeper.Exception.NO_AUTH); // not for anyone any more
      expect(await readCode(danube, p)).toBeUndefined(); // but for the user Danube authenticates as
      expect(await aclOf(p)).toEqual([expect.stringMatching(/^digest:esdc:/)]);
    }
    // Every znode the rotation wrote (the sequencer too) is creator-only.
    expect(await aclOf(`${root}/esdc_overlay`)).toEqual([expect.stringMatching(/^digest:esdc:/)]);

    const again = await runCli(['list', '--store', url], WITH_AUTH).done;
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/world:anyone/);
  });

  it('any change tightens open key znodes it keeps, and what it creates is creator-only', async () => {
    const root = await openTree();
    const r = await runCli(['create', 'delta', '--store', `zk://${hosts}${root}`], WITH_AUTH).done;
    expect(r.code).toBe(0);
    expect(await readCode(raw, `${root}/${KEY}`)).toBe(zookeeper.Exception.NO_AUTH);
    expect(await aclOf(`${root}/overlay_rules/delta/port`)).toEqual([expect.stringMatching(/^digest:esdc:/)]);
    // Danube's containers keep their ACL: Danube's tool creates its keys in them.
    expect(await aclOf(`${root}/ipsec/psk`)).toEqual(['world:anyone']);
  });

  it('a store written from scratch with credentials holds no world-readable znode', async () => {
    const source = await openTree();
    const root = freshRoot();
    const m = await runCli(['store', 'migrate', '--from', `zk://${hosts}${source}`, '--to', `zk://${hosts}${root}`, '--yes'], WITH_AUTH).done;
    expect(m.code).toBe(0);
    const store = new ZkStore({ hosts, root }, { auth: AUTH });
    const snap = await store.load();
    expect(snap.warnings).toEqual([]);
    const paths: string[] = [];
    const walk = async (p: string): Promise<void> => {
      paths.push(p);
      for (const c of await cb<string[]>((d) => danube.getChildren(p, (e, ch) => d(e, ch)))) await walk(`${p}/${c}`);
    };
    await walk(root);
    expect(paths.length).toBeGreaterThan(20);
    for (const p of paths) expect([p, await aclOf(p)]).toEqual([p, [expect.stringMatching(/^digest:esdc:/)]]);
  });
});
