/**
 * The daemon's convergence and memory (issue 18):
 *   npx tsx bench/daemon/convergence.ts [--count 20] [--ops 100] [--rss-count 50]
 * 1. `count` simulated nodes, `apply`, then the built daemon (node dist/esdc-overlay.js daemon) as its own
 *    process. `ops` times: a VM is created on a random node (test/harness/sim-vms.mjs, the same code as
 *    `npm run sim-vm -- create`), and the time is taken from the moment its event is in the node's event
 *    file to the moment its MAC is in the table of every peer (files polled every 10 ms). p50, p99, max.
 * 2. `rss-count` nodes, the daemon connected to all of them: its RSS (/proc/<pid>/status VmRSS, VmHWM).
 * `npm run build` first.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startSimCluster, type SimCluster } from '../../test/harness/sim-cluster.js';
import { createVm } from '../../test/harness/sim-vms.mjs';

const run = promisify(execFile);
const { values } = parseArgs({ options: { count: { type: 'string', default: '20' }, ops: { type: 'string', default: '100' }, 'rss-count': { type: 'string', default: '50' } } });
const cliPath = resolve(import.meta.dirname, '..', '..', 'dist', 'esdc-overlay.js');

function startDaemon(c: SimCluster): { pid: number; stop: () => Promise<void>; statusFile: string } {
  const statusFile = join(c.dir, 'daemon-status.json');
  const child = spawn(process.execPath, [cliPath, 'daemon', '--log-level', 'warn'], {
    env: { ...process.env, ...c.env, ESDC_OVERLAY_DAEMON_STATUS: statusFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { pid: child.pid!, statusFile, stop: async () => void (child.kill('SIGTERM'), await exited) };
}

async function allConnected(statusFile: string, count: number, ms: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const s = await readFile(statusFile, 'utf8').then((t) => JSON.parse(t) as { nodes: Record<string, { state: string }> }).catch(() => undefined);
    if (s && Object.values(s.nodes).filter((n) => n.state === 'connected').length === count) return;
    if (Date.now() - t0 > ms) throw new Error(`not all ${count} nodes connected within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function convergence(count: number, ops: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'esdc-bench-daemon-'));
  const c = await startSimCluster({ count, dir });
  const d = { stop: async () => undefined } as ReturnType<typeof startDaemon>;
  try {
    await run(process.execPath, [cliPath, 'apply', '--yes'], { env: { ...process.env, ...c.env }, maxBuffer: 64 << 20 });
    Object.assign(d, startDaemon(c));
    await allConnected(d.statusFile, count, 120_000);
    const times: number[] = [];
    const load0 = loadavg()[0]!;
    for (let i = 0; i < ops; i++) {
      const node = c.nodes[Math.floor(Math.random() * count)]!;
      const hex = (i + 0x200).toString(16).padStart(4, '0');
      const mac = `52:54:02:00:${hex.slice(0, 2)}:${hex.slice(2)}`;
      const peers = c.nodes.filter((n) => n !== node).map((n) => n.path('/opt/custom/networking/customers_overlay.json'));
      createVm(c.dir, node.name, { mac, ip: `10.212.${i >> 8}.${(i & 255) + 1}`, nicTag: 'customers/1000' });
      const t0 = performance.now();
      const pending = new Set(peers);
      while (pending.size > 0) {
        for (const p of [...pending]) if ((await readFile(p, 'utf8').catch(() => '')).includes(`"${mac}"`)) pending.delete(p);
        if (pending.size > 0) await new Promise((r) => setTimeout(r, 10));
        if (performance.now() - t0 > 60_000) throw new Error(`${mac} not everywhere after 60 s`);
      }
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `convergence on ${count} nodes, ${ops} creates: p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms, ` +
        `min ${times[0]!.toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms; load average ${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`,
    );
  } finally {
    await d.stop();
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function rss(count: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'esdc-bench-daemon-'));
  const c = await startSimCluster({ count, dir });
  let d: ReturnType<typeof startDaemon> | undefined;
  try {
    d = startDaemon(c);
    await allConnected(d.statusFile, count, 300_000);
    await new Promise((r) => setTimeout(r, 5000));
    const status = await readFile(`/proc/${d.pid}/status`, 'utf8');
    const field = (k: string): string => /^\S+:\s+(\d+ kB)/m.exec(status.split('\n').find((l) => l.startsWith(`${k}:`)) ?? '')?.[1] ?? '?';
    console.log(`daemon with ${count} nodes connected: VmRSS ${field('VmRSS')}, VmHWM (peak) ${field('VmHWM')}; load average ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    await d?.stop();
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await convergence(Number(values.count), Number(values.ops));
await rss(Number(values['rss-count']));
