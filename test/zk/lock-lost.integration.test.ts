/**
 * Issue 15: the ZooKeeper lock vanishes with a lost session while apply keeps
 * staging; a second apply then runs beside it. The executor now checks that
 * the lock is still ours (our ephemeral node exists and belongs to our
 * session) before staging and before committing. The ZooKeeper is real; the
 * nodes are a fake Transport whose staging waits until the test lets it go.
 */
import { posix } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { executeWork } from '../../src/apply/execute.js';
import type { NodeWork } from '../../src/plan/plan.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { stagedPath, type ExecResult, type FileContent, type Transport } from '../../src/transport/transport.js';
import { stagingWork } from '../support/node-work.js';
import { cb, useZkAdminAndProxy } from '../support/zk-fixture.js';
import { freshRoot } from '../support/zk-tree.js';

const hosts = inject('zkHosts');
const AUTH = 'esdc:install-pw';
const ARP = '/opt/custom/networking/customers_overlay.json';
const RULE = '/opt/custom/etc/overlay-rules';
const zk = useZkAdminAndProxy(hosts, AUTH);

/** A node in memory: staging the first file signals `staging` and waits for `release`. */
class GatedNode implements Transport {
  readonly node = 'cn-01';
  readonly target = 'fake';
  readonly runId = '0123456789ab';
  readonly files = new Map<string, string>();
  readonly calls: string[] = [];
  staging!: Promise<void>;
  private started!: () => void;
  private gate: Promise<void>;
  release!: () => void;
  constructor() {
    this.staging = new Promise((r) => (this.started = r));
    this.gate = new Promise((r) => (this.release = r));
  }
  async readFile(path: string): Promise<FileContent | undefined> {
    const d = this.files.get(path);
    return d === undefined ? undefined : { data: Buffer.from(d), mode: 0o644, mtimeMs: Date.now() };
  }
  async stat(path: string): Promise<{ mode: number; size: number; isFile: boolean } | undefined> {
    const d = this.files.get(path);
    return d === undefined ? undefined : { mode: 0o644, size: Buffer.byteLength(d), isFile: true };
  }
  async stage(path: string, content: string | Buffer): Promise<void> {
    this.calls.push(`stage ${path}`);
    // The node lock is staged too (then linked into place); only the rule's files wait at the gate.
    if (!path.endsWith('node.lock')) {
      this.started();
      await this.gate;
    }
    this.files.set(stagedPath(path, this.runId), content.toString());
  }
  async commit(path: string): Promise<void> {
    this.calls.push(`commit ${path}`);
    this.files.set(path, this.files.get(stagedPath(path, this.runId))!);
    this.files.delete(stagedPath(path, this.runId));
  }
  async link(existing: string, path: string): Promise<boolean> {
    if (this.files.has(path)) return false;
    this.files.set(path, this.files.get(existing)!);
    return true;
  }
  async rename(from: string, to: string): Promise<boolean> {
    const d = this.files.get(from);
    if (d === undefined) return false;
    this.files.set(to, d);
    this.files.delete(from);
    return true;
  }
  async list(dir: string): Promise<string[] | undefined> {
    const names = [...this.files.keys()].filter((k) => posix.dirname(k) === dir).map((k) => posix.basename(k));
    return names.length > 0 ? names : undefined;
  }
  async remove(path: string): Promise<void> {
    this.calls.push(`remove ${path}`);
    this.files.delete(path);
  }
  async exec(argv: readonly string[]): Promise<ExecResult> {
    this.calls.push(`exec ${argv.join(' ')}`);
    return { code: 0, stdout: '', stderr: '' } as ExecResult;
  }
  async close(): Promise<void> {}
}

/** A rule and its ARP table: committing one without the other is the harm. A new one each run (the executor releases what it staged). */
const work = (): NodeWork =>
  stagingWork('cn-01', [
    { path: ARP, content: '{"52:54:00:00:00:01":{"arp":"10.10.0.1","ip":"10.100.0.11","port":4790}}\n', mode: 0o644 },
    { path: RULE, content: 'customers=-e vxlan ...\n', mode: 0o644 },
  ]);

async function lockNodes(root: string): Promise<string[]> {
  return cb<string[]>((d) => zk.admin.getChildren(`${root}/esdc_overlay/locks`, (e, c) => d(e, c))).catch(() => []);
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the executor under the store's lock, as `apply` does. */
function applyUnderLock(store: ZkStore, node: GatedNode): Promise<unknown> {
  return store.withLock((lock) => executeWork(new Map([[node.node, node]]), [work()], { concurrency: 1, timeoutMs: 5000, lock }));
}

describe('apply under a ZooKeeper lock that is lost while it stages', () => {
  it('aborts before committing when its session expired, and a second apply could take the lock meanwhile', async () => {
    const root = freshRoot();
    // Through the proxy, so the test can cut this session off; 4 s session timeout (the least the store asks for).
    const store = new ZkStore({ hosts: zk.proxy.hosts, root }, { auth: AUTH, timeoutMs: 2000 });
    const node = new GatedNode();
    const run = applyUnderLock(store, node);
    const outcome = run.then(
      () => 'committed',
      (err: { code?: string; message?: string }) => err,
    );
    await node.staging;
    expect(await lockNodes(root)).toHaveLength(1);

    // A partition (or a paused process): the client hears nothing, the server expires the session
    // and drops its ephemeral lock node.
    zk.proxy.freeze();
    await until('the server to expire the session', 15_000, async () => (await lockNodes(root)).length === 0);
    // Another apply now gets the lock at once.
    const second = new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000, lockTimeoutMs: 1000 });
    expect(await second.withLock(async () => 'second apply ran')).toBe('second apply ran');

    zk.proxy.thaw();
    node.release();
    const err = (await outcome) as { code?: string; message?: string };
    expect(err).not.toBe('committed');
    expect(err.code).toBe('LockLost');
    expect(err.message).toMatch(/^apply stopped before committing: the store lock may no longer be ours/);
    expect(err.message).toMatch(/nothing was committed/);
    // Nothing committed: no target exists, no rename was attempted.
    expect(node.calls.filter((c) => c.startsWith('commit'))).toEqual([]);
    expect(node.files.has(ARP)).toBe(false);
    expect(node.files.has(RULE)).toBe(false);
    // This run's staged files were taken back (their names are the run's own); only the node lock's history may remain.
    expect([...node.files.keys()].filter((k) => k.includes('.esdc-new-') && !k.includes('node.lock'))).toEqual([]);
  });

  it('aborts before committing when its lock node was removed (the lock is not ours any more)', async () => {
    const root = freshRoot();
    const store = new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 });
    const node = new GatedNode();
    const outcome = applyUnderLock(store, node).then(
      () => 'committed',
      (err: { code?: string; message?: string }) => err,
    );
    await node.staging;
    const [mine] = await lockNodes(root);
    await cb<void>((d) => zk.admin.remove(`${root}/esdc_overlay/locks/${mine!}`, -1, (e) => d(e)));
    node.release();
    const err = (await outcome) as { code?: string; message?: string };
    expect(err.code).toBe('LockLost');
    expect(err.message).toMatch(/our lock \S+ is gone/);
    expect(node.calls.filter((c) => c.startsWith('commit'))).toEqual([]);
  });

  it('commits as before while the lock is held', async () => {
    const root = freshRoot();
    const store = new ZkStore({ hosts, root }, { auth: AUTH, timeoutMs: 2000 });
    const node = new GatedNode();
    const run = applyUnderLock(store, node);
    await node.staging;
    node.release();
    expect(await run).toMatchObject({ ok: true, phase: 'commit' });
    expect(node.files.has(ARP) && node.files.has(RULE)).toBe(true);
  });
});
