/**
 * Point 3 of the issue: ZooKeeper stops in the middle of a command. The
 * command fails within its timeout with a clear message, and the store holds
 * either the whole change or none of it. A ZooKeeper of its own, since this
 * test freezes and kills it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'node-zookeeper-client';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadStateText } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { comparableModel } from '../../src/store/compare.js';
import { isEmptyDoc } from '../../src/store/store.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { assertBuilt, runCli } from '../support/cli-process.js';
import { startZooKeeper, type ZkServer } from '../support/zk-server.js';
import { dumpTree, freshRoot, rawClient, readTsv, writeTree } from '../support/zk-tree.js';

const TIMEOUT_S = 2;
let zk: ZkServer;
let tmp: string;

beforeAll(async () => {
  assertBuilt();
  zk = await startZooKeeper();
  tmp = await mkdtemp(join(tmpdir(), 'zk-loss-'));
});
afterAll(async () => {
  await zk?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

const cb = <T>(f: (done: (err: unknown, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

/** A state large enough that writing it takes a while: 200 nodes, one rule, 600 VM NICs. */
function bigState(): StateDoc {
  const doc: StateDoc = { version: 1, nodes: {}, overlay_rules: { customers: { port: 4790, nodes: 'all', mtu: 1400 } }, vnics: [] };
  for (let i = 0; i < 200; i++) {
    const name = `cn${String(i).padStart(3, '0')}.prg.example.com`;
    doc.nodes![name] = { uuid: `564d1a2b-0000-4000-8000-${String(i).padStart(12, '0')}`, pdc: 'prg', admin_ip: `10.100.${i >> 8}.${(i & 255) + 0}` };
    for (let j = 0; j < 3; j++) {
      const n = i * 3 + j;
      doc.vnics!.push({ node: name, mac: `52:54:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, ip: `10.10.${n >> 8}.${n & 255}`, nic_tag: 'customers/1000' });
    }
  }
  return doc;
}

describe('ZooKeeper stops answering in the middle of a command', () => {
  it('the command fails within its timeout and nothing is written', async () => {
    const root = freshRoot();
    const raw = await rawClient(zk.hosts);
    let holder: string | undefined;
    try {
      await writeTree(raw, root, new Map([...readTsv('two-sites.danube.tsv'), ...readTsv('two-sites.ours.tsv')]));
      // Hold the lock, so the command has connected and is in the middle of its work when the server freezes.
      await cb<string>((d) => raw.mkdirp(`${root}/esdc_overlay/locks`, (e, p) => d(e, p)));
      holder = await cb<string>((d) => raw.create(`${root}/esdc_overlay/locks/lock-`, Buffer.from('{}'), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (e, p) => d(e, p)));
      const before = await dumpTree(raw, root);
      const cmd = runCli(['create', 'delta', '--store', `zk://${zk.hosts}${root}`, '--store-timeout', String(TIMEOUT_S), '--zk-insecure']);
      for (let i = 0; i < 400; i++) {
        const locks = await cb<string[]>((d) => raw.getChildren(`${root}/esdc_overlay/locks`, (e, c) => d(e, c)));
        if (locks.length >= 2) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      process.kill(zk.pid, 'SIGSTOP');
      const frozenAt = Date.now();
      let result;
      try {
        result = await cmd.done;
      } finally {
        process.kill(zk.pid, 'SIGCONT');
      }
      const waited = Date.now() - frozenAt;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/esdc-overlay: ZooKeeper at 127\.0\.0\.1:\d+ (did not answer|stopped answering)/);
      // One heartbeat interval (timeout/2) plus the timeout, plus process exit.
      expect(waited).toBeLessThan(TIMEOUT_S * 1500 + 2000);
      expect(await dumpTree(raw, root)).toEqual(before);
    } finally {
      if (holder) await cb<void>((d) => raw.remove(holder!, (e) => d(e))).catch(() => undefined);
      raw.close();
    }
  });
});

/** Resolves once the command's lock node exists under root (polling every 5 ms). */
async function waitForLockNode(raw: Client, root: string, exited: Promise<unknown>): Promise<void> {
  let over = false;
  void exited.then(() => (over = true));
  for (let i = 0; i < 4000 && !over; i++) {
    const kids = await cb<string[]>((d) => raw.getChildren(`${root}/esdc_overlay/locks`, (e, c) => d(e, c))).catch(() => [] as string[]);
    if (kids.length > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the command never took its lock');
}

describe('ZooKeeper crashes while a large state is being written', () => {
  it('leaves all of it or none of it, whatever moment the crash hits', async () => {
    const doc = bigState();
    const file = join(tmp, 'big.yaml');
    await writeFile(file, stringify(doc), { mode: 0o600 });
    const expected = loadStateText(stringify(doc), file, 'require');
    const outcomes: string[] = [];
    // The delays count from the moment the command holds its lock (it has connected and is about to read and write).
    for (const delay of [0, 30, 100, 200, 400, 1500]) {
      const root = freshRoot();
      const raw = await rawClient(zk.hosts);
      const cmd = runCli(['store', 'migrate', '--from', file, '--to', `zk://${zk.hosts}${root}`, '--yes', '--store-timeout', String(TIMEOUT_S), '--zk-insecure']);
      try {
        await waitForLockNode(raw, root, cmd.done);
      } finally {
        raw.close();
      }
      await new Promise((r) => setTimeout(r, delay));
      await zk.kill();
      const killedAt = Date.now();
      const result = await cmd.done;
      const waited = Date.now() - killedAt;
      await zk.restart();

      // Not a bound under test: a restarted server on a loaded machine may take a while to accept a session.
      const snap = await new ZkStore({ hosts: zk.hosts, root }, { insecure: true, timeoutMs: 20_000 }).loadOrEmpty('warn');
      const all = !isEmptyDoc(snap.doc);
      if (all) expect(comparableModel(snap.model)).toEqual(comparableModel(expected.model));
      if (result.code === 0) {
        expect(all).toBe(true);
      } else {
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/esdc-overlay: .*ZooKeeper/);
        // A failure that left the whole copy behind must not read like one that wrote nothing.
        if (all) expect(result.stderr).toMatch(/applied completely or not at all|wrote the state to .* but could not read it back/);
        // Under the default (10 s) it would wait longer: the bound proves --store-timeout is honoured,
        // with room for a loaded 2-core machine (6.0 s was seen while the suite's workers ran).
        expect(waited).toBeLessThan(TIMEOUT_S * 3000 + 2000);
      }
      outcomes.push(`${delay} ms: exit ${result.code} after ${waited} ms, store ${all ? 'complete' : 'empty'}${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
    }
    console.log(outcomes.join('\n'));
    // At least one crash hit the command while it ran (else this test proved nothing).
    expect(outcomes.some((o) => o.includes('exit 1'))).toBe(true);
  });
});
