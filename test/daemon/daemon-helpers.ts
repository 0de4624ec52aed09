/** The daemon in this process against a simulated cluster, and waits on what its nodes show. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { InventoryDaemon } from '../../src/daemon/daemon.js';
import { FileStore } from '../../src/store/file-store.js';
import type { Lease, Store } from '../../src/store/store.js';
import { remoteFrom } from '../../src/cli/remote.js';
import type { SimCluster, SimNode } from '../harness/sim-cluster.js';

export async function startDaemon(c: SimCluster, opts: { debounceMs?: number; log?: pino.Logger; store?: Store; lease?: Lease } = {}): Promise<InventoryDaemon> {
  const remote = await remoteFrom({ connectTimeout: 10 }, { ...process.env, ...c.env });
  const daemon = new InventoryDaemon({
    store: opts.store ?? new FileStore(c.statePath, { lockTimeoutMs: 1000 }),
    open: remote.open,
    log: opts.log ?? pino({ level: process.env.DAEMON_TEST_LOG ?? 'silent' }),
    statusPath: join(c.dir, 'daemon-status.json'),
    timeoutMs: 30_000,
    debounceMs: opts.debounceMs ?? 250,
    backoff: { minMs: 200, maxMs: 2000 },
    ...(opts.lease ? { lease: opts.lease } : {}),
  });
  await daemon.start();
  return daemon;
}

/** Resolves once `check` holds, polling; rejects with `what` after `ms`. */
export async function waitFor(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A node's ARP table for `rule` as varpd would read it, or undefined. */
export async function table(n: SimNode, rule: string): Promise<Record<string, { arp: string; ip: string; port: number }> | undefined> {
  try {
    return JSON.parse(await readFile(n.path(`/opt/custom/networking/${rule}_overlay.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

export async function allConnected(daemon: InventoryDaemon, count: number): Promise<boolean> {
  const nodes = Object.values(daemon.status.nodes);
  return nodes.length === count && nodes.every((n) => n.state === 'connected');
}

/** Processes whose command line holds `needle` (the simulated `vmadm events` of a cluster). */
export async function processesWith(...needles: string[]): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (needles.every((n) => cmd.includes(n))) out.push(Number(e));
  }
  return out;
}

/** sshd of a simulated node and every process below it (its sessions, their commands). */
export async function sshdTree(n: SimNode): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const parent = new Map<number, number>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    if (stat) parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const roots = await processesWith(join(n.dir, 'sshd_config'));
  const out = [...roots];
  for (let i = 0; i < out.length; i++) for (const [child, pp] of parent) if (pp === out[i] && !out.includes(child)) out.push(child);
  return out;
}
