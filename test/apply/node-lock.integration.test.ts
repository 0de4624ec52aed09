/**
 * apply and the node's agent exclude each other through the node lock
 * (src/apply/node-lock.ts), on simulated nodes behind real sshd. Before it,
 * an agent run in the middle of an apply's stage replaced the staged files
 * with its own (same names), committed them, and apply's commit then failed
 * on that node: the rule went live on one end of a pair only.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/operations/fleet.js';
import { NODE_LOCK_PATH } from '../../src/apply/node-lock.js';
import { remoteFrom } from '../../src/cli/remote.js';
import { IPF_ADMIN_PATH } from '../../src/firewall/generator.js';
import type { StateDoc } from '../../src/model/state.js';
import { GENERATORS } from '../../src/plan/desired-state.js';
import { FileStore } from '../../src/store/file-store.js';
import { stagedTarget } from '../../src/transport/transport.js';
import { writeSimRoots, type SimCluster, type SimNode } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

async function libPlan(c: SimCluster) {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  return planFleet(snap.model, undefined, remote.open, { concurrency: 16, timeoutMs: 20_000, generators: GENERATORS });
}

async function addAdminSource(c: SimCluster, source: string): Promise<void> {
  const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
  doc.firewall!.administrator_sources!.push(source);
  await writeFile(c.statePath, stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
}

async function stagedIn(c: SimCluster): Promise<string[]> {
  const out: string[] = [];
  for (const n of c.nodes) {
    for (const d of ['/opt/custom/etc/ipf.d', '/opt/custom/esdc-overlay', '/usbkey']) {
      for (const f of await readdir(n.path(d)).catch(() => [] as string[])) if (stagedTarget(join(d, f)) !== undefined) out.push(`${n.name}:${d}/${f}`);
    }
  }
  return out;
}

describe('the node lock between apply and the agent', () => {
  let c: SimCluster;
  useSimCluster({ count: 2, each: true }, (started) => (c = started));

  it('an agent run during apply\'s stage is skipped, naming apply; apply then commits on every node', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const n = c.nodes[0]!;
    const agentConfig = join(c.dir, 'agent.json');
    await writeFile(agentConfig, JSON.stringify({ status: join(c.dir, 'agent-status.json') }));
    // The agent runs on the node itself: its root comes from the harness's seam, like the cluster's.
    await mkdir(join(c.dir, 'agent'), { recursive: true });
    const local = { ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(join(c.dir, 'agent'), { local: n.root }) };
    // Drift the agent would repair (to the old bundle's rules), on a file this apply changes too.
    await writeFile(n.path(IPF_ADMIN_PATH), '# edited by hand\n');
    await addAdminSource(c, '192.0.2.128/26');

    let agentRun: { result: string; error: string | null } | undefined;
    const fleet = await libPlan(c);
    let result;
    try {
      result = await executeWork(fleet.transports, fleet.nodes.map((x) => x.work), {
        concurrency: 16,
        timeoutMs: 20_000,
        hooks: {
          afterStage: async () => {
            expect(existsSync(n.path(NODE_LOCK_PATH))).toBe(true);
            const r = await cli(['agent', '--once', '--json', '--config', agentConfig], local);
            agentRun = JSON.parse(r.stdout) as { result: string; error: string | null };
          },
        },
      });
    } finally {
      await fleet.close();
    }
    expect(agentRun?.result).toBe('skipped');
    expect(agentRun?.error).toMatch(new RegExp(`^${n.name}: ${NODE_LOCK_PATH} is held by apply \\(run [0-9a-f]{12}, pid ${process.pid} on `));
    expect(result.outcomes.map((o) => [o.node, o.status, o.error])).toEqual(c.nodes.map((x) => [x.name, 'applied', undefined]));
    expect(await readFile(n.path(IPF_ADMIN_PATH), 'utf8')).toContain('192.0.2.128/26');
    for (const x of c.nodes) expect(existsSync(x.path(NODE_LOCK_PATH)), x.name).toBe(false);
    expect(await stagedIn(c)).toEqual([]);
    expect((await cli(['verify'], c.env)).status).toBe(0);
    // The lock is gone: the agent's next run does its work (here: nothing, the node is in sync).
    const again = await cli(['agent', '--once', '--json', '--config', agentConfig], local);
    expect((JSON.parse(again.stdout) as { result: string }).result).toBe('in-sync');
  }, 180_000);

  it('the agent holding the lock: apply waits, then refuses that node naming the agent, and stages nothing anywhere', async () => {
    const n = c.nodes[1]!;
    const held = { holder: 'agent', run: 'a1b2c3d4e5f6', host: 'cn02', pid: 4242, since: new Date().toISOString() };
    await mkdir(n.path('/opt/custom/esdc-overlay'), { recursive: true });
    await writeFile(n.path(NODE_LOCK_PATH), `${JSON.stringify(held)}\n`);
    const fleet = await libPlan(c);
    let result;
    const started = performance.now();
    try {
      result = await executeWork(fleet.transports, fleet.nodes.map((x) => x.work), { concurrency: 16, timeoutMs: 20_000, nodeLock: { waitMs: 1500 } });
    } finally {
      await fleet.close();
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(1500);
    expect(result.ok).toBe(false);
    expect(result.phase).toBe('stage');
    const o = result.outcomes.find((x) => x.node === n.name)!;
    expect(o.status).toBe('stage-failed');
    expect(o.error).toBe(`${n.name}: ${NODE_LOCK_PATH} is held by agent (run a1b2c3d4e5f6, pid 4242 on cn02, since ${held.since}); nothing was changed on this node`);
    expect(result.outcomes.find((x) => x.node !== n.name)!.status).toBe('rolled-back');
    expect(await stagedIn(c)).toEqual([]);
    expect(existsSync(c.nodes[0]!.path(NODE_LOCK_PATH))).toBe(false);
    expect(await readFile(n.path(NODE_LOCK_PATH), 'utf8')).toBe(`${JSON.stringify(held)}\n`);
    for (const x of c.nodes) expect(existsSync(x.path(IPF_ADMIN_PATH)), x.name).toBe(false);
  }, 120_000);

  it('a lock older than 15 minutes by the node\'s clock (an agent that died, an empty file) is taken over', async () => {
    const [a, b] = c.nodes as [SimNode, SimNode];
    const old = new Date(Date.now() - 20 * 60_000);
    await mkdir(a.path('/opt/custom/esdc-overlay'), { recursive: true });
    await mkdir(b.path('/opt/custom/esdc-overlay'), { recursive: true });
    await writeFile(a.path(NODE_LOCK_PATH), `${JSON.stringify({ holder: 'agent', run: 'a1b2c3d4e5f6', host: 'cn01', pid: 4242, since: old.toISOString() })}\n`);
    await writeFile(b.path(NODE_LOCK_PATH), '');
    await utimes(a.path(NODE_LOCK_PATH), old, old);
    await utimes(b.path(NODE_LOCK_PATH), old, old);
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    for (const x of c.nodes) expect(existsSync(x.path(NODE_LOCK_PATH)), x.name).toBe(false);
    expect(await stagedIn(c)).toEqual([]);
  }, 120_000);
});
