/**
 * Faults during apply on simulated nodes behind real sshd (test/harness),
 * beyond test/apply/faults.integration.test.ts: sshd killed in the middle
 * of staging and of committing, a full disk, a node that stops answering,
 * and two applies at once. After each, every node holds, for every file of
 * the run, either the old bytes or the new ones (never a mix inside a file,
 * never a stray staged file after a failed stage), and a plain re-run
 * finishes the job and `verify` agrees.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/agent/bundle.js';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/operations/fleet.js';
import { NODE_LOCK_PATH } from '../../src/apply/node-lock.js';
import { remoteFrom } from '../../src/cli/remote.js';
import { GENERATORS } from '../../src/plan/desired-state.js';
import { FileStore } from '../../src/store/file-store.js';
import { stagedTarget, type Transport } from '../../src/transport/transport.js';
import type { SimCluster, SimNode } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';
import { CLI } from '../support/paths.js';

let c: SimCluster;
const cleanups: Array<() => Promise<void> | void> = [];

useSimCluster({ count: 3, each: true }, (started) => (c = started));
// Registered after the cluster's hooks, so it runs before the cluster stops.
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

// Each case runs two or three full applies against three nodes; CI machines are slow and shared.
const SLOW = 240_000;

/** Every file under a node's root except the simulator's own records: path → bytes. */
type Snapshot = Map<string, string>;
async function snapshot(n: SimNode): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = `/${relative(n.root, p)}`;
      if (rel === '/var/sim') continue;
      // A node lost in the middle keeps apply's node lock until the re-run takes it over (finish() checks it is gone).
      if (rel === NODE_LOCK_PATH) continue;
      if (e.isDirectory()) await walk(p);
      else out.set(rel, await readFile(p, 'utf8'));
    }
  };
  await walk(n.root);
  return out;
}
async function snapshots(): Promise<Snapshot[]> {
  return Promise.all(c.nodes.map(snapshot));
}
const staged = (s: Snapshot): string[] => [...s.keys()].filter((p) => stagedTarget(p) !== undefined);
const targets = (s: Snapshot): Map<string, string> => new Map([...s].filter(([p]) => stagedTarget(p) === undefined));

const MANIFEST = '/opt/custom/esdc-overlay/managed.json';
const BUNDLE = '/opt/custom/esdc-overlay/bundle.json';

/** The agent's bundle carries the run's version (a time) and a checksum over it: compare without them. */
function norm(path: string, text: string | undefined): string | undefined {
  if (text === undefined || !path.startsWith(BUNDLE)) return text;
  const { version: _v, sha256: _s, ...rest } = parseBundle(text, BUNDLE, { policy: false });
  return JSON.stringify(rest);
}

/**
 * Each target file is the old bytes or the new bytes; each staged file holds its target's new bytes.
 * The manifest is the exception by design: it is committed first listing the refreshes still owed
 * (`pending_refresh`), and rewritten once they ran; the owed list is what lets a re-run finish.
 */
function oldOrNew(mid: Snapshot, before: Snapshot, after: Snapshot): void {
  for (const p of new Set([...targets(mid).keys(), ...targets(before).keys(), ...targets(after).keys()])) {
    if (p === MANIFEST && mid.get(p) !== after.get(p) && mid.get(p) !== before.get(p)) {
      const owed = JSON.parse(mid.get(p)!) as { files: object; pending_refresh: string[] };
      expect(owed.pending_refresh.length, 'a manifest between old and new owes refreshes').toBeGreaterThan(0);
      expect(owed.files).toEqual((JSON.parse(after.get(p)!) as { files: object }).files);
      continue;
    }
    expect([norm(p, before.get(p)), norm(p, after.get(p))], p).toContainEqual(norm(p, mid.get(p)));
  }
  for (const p of staged(mid)) {
    const target = stagedTarget(p)!;
    if (target === MANIFEST) continue;
    expect(norm(target, mid.get(p)), p).toBe(norm(target, after.get(target)));
  }
}

/** Runs the CLI's apply to completion and checks the nodes then agree with the state. */
async function finish(): Promise<Snapshot[]> {
  const r = await cli(['apply', '--yes'], c.env);
  expect(r.stderr).not.toMatch(/failed/);
  expect(r.status).toBe(0);
  const v = await cli(['verify'], c.env);
  expect(v.status).toBe(0);
  const after = await snapshots();
  for (const s of after) expect(staged(s)).toEqual([]);
  for (const n of c.nodes) expect(existsSync(n.path(NODE_LOCK_PATH)), `${n.name}: node lock left`).toBe(false);
  return after;
}

async function libPlan(timeoutMs = 20_000) {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  return planFleet(snap.model, undefined, remote.open, { concurrency: 16, timeoutMs, generators: GENERATORS });
}

/** The node's transport, with `fault` run once, just after the `after`-th call of `op` returned. */
function faulty(t: Transport, op: 'stage' | 'commit', after: number, fault: () => Promise<void>): Transport {
  let calls = 0;
  const wrapped = Object.create(t) as Transport;
  const orig = t[op].bind(t) as (...a: unknown[]) => Promise<void>;
  (wrapped as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
    await orig(...args);
    if (++calls === after) await fault();
  };
  return wrapped;
}

/** The process of a node's sshd listener (the harness keeps it private). */
function sshdPid(n: SimNode): number {
  const pid = (n as unknown as { child?: ChildProcess }).child?.pid;
  if (pid === undefined) throw new Error(`${n.name}: sshd not running`);
  return pid;
}

/** The sshd listener and every process below it (its connections and their commands). */
async function tree(pid: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    if (stat) parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, pp] of parent) if (pp === out[i]) out.push(child);
  return out;
}

/** Stops (SIGSTOP) a node's sshd and its sessions: it accepts TCP but never answers. Returns the undo. */
async function freeze(n: SimNode): Promise<() => void> {
  const pids = await tree(sshdPid(n));
  for (const p of pids) process.kill(p, 'SIGSTOP');
  let undone = false;
  const undo = (): void => {
    if (undone) return;
    undone = true;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        // gone
      }
    }
  };
  cleanups.push(undo);
  return undo;
}

describe('sshd killed while staging', () => {
  it('after the node staged some files: nothing is committed anywhere, staged files are gone, a re-run finishes', async () => {
    const before = await snapshots();
    const victim = c.nodes[1]!;
    const fleet = await libPlan();
    try {
      const ts = new Map(fleet.transports);
      ts.set(victim.name, faulty(ts.get(victim.name)!, 'stage', 2, () => victim.drop()));
      const result = await executeWork(ts, fleet.nodes.map((n) => n.work), { concurrency: 16, timeoutMs: 20_000 });
      expect(result.phase).toBe('stage');
      expect(result.outcomes.map((o) => o.status)).toEqual(['rolled-back', 'stage-failed', 'rolled-back']);
    } finally {
      await fleet.close();
    }
    const mid = await snapshots();
    // The reachable nodes are exactly as before; the dead one may keep what it staged (it could not be
    // told to remove it), but none of its targets changed.
    expect(mid[0]).toEqual(before[0]);
    expect(mid[2]).toEqual(before[2]);
    expect(targets(mid[1]!)).toEqual(targets(before[1]!));
    expect(staged(mid[1]!).length).toBeGreaterThan(0);
    for (const n of c.nodes) expect((await n.calls()).map((x) => x.cmd)).not.toContain('net-virtual');

    await victim.start();
    const after = await finish();
    for (let i = 0; i < 3; i++) oldOrNew(mid[i]!, before[i]!, after[i]!);
  }, SLOW);
});

describe('sshd killed while committing', () => {
  it('after its first rename: the other nodes are fully new, each file of the lost node old or new, a re-run finishes', async () => {
    const before = await snapshots();
    const victim = c.nodes[2]!;
    const fleet = await libPlan();
    try {
      const ts = new Map(fleet.transports);
      ts.set(victim.name, faulty(ts.get(victim.name)!, 'commit', 1, () => victim.drop()));
      const result = await executeWork(ts, fleet.nodes.map((n) => n.work), { concurrency: 16, timeoutMs: 20_000 });
      expect(result.phase).toBe('commit');
      expect(result.outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'commit-failed']);
      expect(result.outcomes[2]!.finish!.length).toBeGreaterThan(1);
    } finally {
      await fleet.close();
    }
    const mid = await snapshots();
    // Some of the lost node's files are new (the manifest went first), the rest still staged.
    expect(mid[2]!.get('/opt/custom/esdc-overlay/managed.json')).toBeDefined();
    expect(staged(mid[2]!).length).toBeGreaterThan(0);

    await victim.start();
    const after = await finish();
    for (let i = 0; i < 2; i++) for (const p of new Set([...mid[i]!.keys(), ...after[i]!.keys()])) expect(norm(p, mid[i]!.get(p)), p).toBe(norm(p, after[i]!.get(p)));
    oldOrNew(mid[2]!, before[2]!, after[2]!);
    // The refreshes the lost node was owed ran on the re-run, from its manifest.
    expect((await victim.calls()).map((x) => x.cmd)).toContain('net-virtual');
  }, SLOW);
});

describe('a full disk on a node', () => {
  it('fails the stage on that node with the reason, commits nowhere, and a re-run with space finishes', async () => {
    const before = await snapshots();
    const n = c.nodes[0]!;
    // A 16 KiB tmpfs where the IPsec files go, inside the mount namespace of the node's sshd when
    // it has its own (then it goes away with sshd); else here, unmounted after the test.
    const dirOnNode = n.path('/opt/custom/etc/ipsec');
    await mkdir(dirOnNode, { recursive: true });
    const pid = sshdPid(n);
    const own = readlinkSync(`/proc/${pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt');
    const inNs = (argv: string[]) => (own ? ['nsenter', '-t', String(pid), '-m', ...argv] : argv);
    const sh = (argv: string[]) => {
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    };
    sh(inNs(['mount', '-t', 'tmpfs', '-o', 'size=16k,mode=755', 'esdc-test-full', dirOnNode]));
    const unmount = () => void spawnSync(inNs(['umount', '-l', dirOnNode])[0]!, inNs(['umount', '-l', dirOnNode]).slice(1));
    cleanups.push(unmount);
    // Fill it: dd stops at ENOSPC.
    spawnSync(inNs(['dd', 'if=/dev/zero', `of=${dirOnNode}/filler`, 'bs=4k'])[0]!, inNs(['dd', 'if=/dev/zero', `of=${dirOnNode}/filler`, 'bs=4k']).slice(1));

    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${n.name}: staging failed:`);
    expect(r.stdout).toContain('Nothing was committed on any node; staged files were removed.');
    unmount();
    const mid = await snapshots();
    for (let i = 0; i < 3; i++) expect(mid[i], c.nodes[i]!.name).toEqual(before[i]);

    await finish();
  }, SLOW);
});

describe('a node that stops answering', () => {
  it('while staging: the operation times out, nothing is committed, and after it wakes a re-run finishes', async () => {
    const before = await snapshots();
    const hung = c.nodes[1]!;
    let wake: (() => void) | undefined;
    // Long enough for a healthy node on a loaded two-core CI machine, short enough to wait for.
    const fleet = await libPlan(30_000);
    const t0 = performance.now();
    try {
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), {
        concurrency: 16,
        timeoutMs: 10_000,
        hooks: { beforeStage: async () => void (wake = await freeze(hung)) },
      });
      expect(result.phase).toBe('stage');
      expect(result.outcomes[1]).toMatchObject({ status: 'stage-failed', error: expect.stringContaining('timed out after 10000 ms') });
      expect(result.outcomes.filter((o) => o.status === 'rolled-back')).toHaveLength(2);
    } finally {
      await fleet.close();
    }
    // Bounded: the stage timeout, then the rollback's remove timeout, then close.
    expect(performance.now() - t0).toBeLessThan(60_000);
    const mid = await snapshots();
    expect(mid[0]).toEqual(before[0]);
    expect(mid[2]).toEqual(before[2]);
    wake!();
    const after = await finish();
    for (let i = 0; i < 3; i++) oldOrNew(mid[i]!, before[i]!, after[i]!);
  }, SLOW);

  it('before connecting: apply gives up on it after --connect-timeout and changes nothing anywhere', async () => {
    const before = await snapshots();
    const wake = await freeze(c.nodes[0]!);
    const t0 = performance.now();
    const r = await cli(['apply', '--yes', '--connect-timeout', '2'], c.env);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('could not connect on 1 node(s); nothing was changed');
    expect(r.stderr).toContain(c.nodes[0]!.name);
    expect(await snapshots()).toEqual(before);
    wake();
    await finish();
  }, SLOW);
});

describe('two applies at once', () => {
  it('never interleave: one applies, the other waits for it and then finds nothing to do (or refuses)', async () => {
    const run = () =>
      new Promise<{ status: number | null; out: string }>((res) => {
        const p = spawn(process.execPath, [CLI, 'apply', '--yes'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...c.env } });
        let out = '';
        p.stdout.on('data', (b: Buffer) => (out += b.toString()));
        p.stderr.on('data', (b: Buffer) => (out += b.toString()));
        p.on('close', (status) => res({ status, out }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const results = [a, b];
    const applied = results.filter((r) => r.status === 0 && /applied/.test(r.out));
    expect(applied, `${a.out}\n----\n${b.out}`).toHaveLength(1);
    const other = results.find((r) => r !== applied[0])!;
    // Waited and found the work done, or refused because the state is locked: never a second apply.
    expect(other.out).toMatch(/No changes|state is locked/);
    // Each node refreshed its services exactly once, and has no staged leftovers.
    for (const n of c.nodes) {
      const refreshes = (await n.calls()).filter((x) => x.cmd === 'net-virtual');
      expect(refreshes, n.name).toHaveLength(1);
      expect(staged(await snapshot(n))).toEqual([]);
    }
    expect((await cli(['verify'], c.env)).status).toBe(0);
  }, SLOW);
});
