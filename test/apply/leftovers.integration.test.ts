/**
 * Staged files of a run killed in the middle of staging (real SIGKILL of the
 * built CLI, test/support/die-mid-stage.mjs) on simulated nodes behind real
 * sshd: Danube's restore script, which concatenates `ipf.d/ipf.conf*` at
 * boot, never picks one up; the next plan lists them for removal, and apply
 * removes them and nothing else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPF_OVERLAYS_PATH } from '../../src/firewall/generator.js';
import { IKE_PRESHARED_PATH } from '../../src/ipsec/generator.js';
import { stagedTarget } from '../../src/transport/transport.js';
import type { SimCluster, SimNode } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';
import { assertBuilt, CLI } from '../support/cli-process.js';

const DIE = join(import.meta.dirname, '..', 'support', 'die-mid-stage.mjs');
const RESTORE = '/opt/custom/etc/rc-pre-network.d/010-ipf-restore.sh';

/** Every file under the node's root whose name is a staged name, as node paths. */
async function stagedOn(n: SimNode): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (stagedTarget(p) !== undefined) out.push(`/${relative(n.root, p)}`);
    }
  };
  await walk(n.root);
  return out.sort();
}

/** The built CLI's apply, killed with SIGKILL once `node` has staged every one of `paths`. */
async function applyKilledAfterStaging(c: SimCluster, node: string, paths: string[]): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ['--import', DIE, CLI, 'apply', '--yes', '--concurrency', '1'], {
    env: { ...process.env, ...c.env, DIE_NODE: node, DIE_AFTER_STAGED: paths.join(',') },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('close', (_code, signal) => resolve(signal)));
}

describe('staged leftovers of a killed run', () => {
  let c: SimCluster;
  useSimCluster({ count: 2, each: true }, (started) => (c = started));

  it('are never concatenated by the ipf restore glob; plan lists them; apply removes them and nothing else', async () => {
    assertBuilt();
    const n = c.nodes[0]!;
    // The operator's own ipf.d rules, and look-alikes that are not ours to remove.
    await mkdir(n.path('/opt/custom/etc/ipf.d'), { recursive: true });
    await writeFile(n.path('/opt/custom/etc/ipf.d/ipf.conf-010-local'), 'pass in quick on lo0 all\n');
    const keep = ['/opt/custom/etc/ipf.d/notes.esdc-newer', '/opt/custom/other/.x.esdc-new-0123456789ab', '/opt/custom/etc/ipsec/.ike.preshared.esdc-new-XYZ'];
    for (const p of keep) {
      await mkdir(n.path(join(p, '..')), { recursive: true });
      await writeFile(n.path(p), 'not ours\n');
    }

    expect(await applyKilledAfterStaging(c, n.name, [IPF_OVERLAYS_PATH, IKE_PRESHARED_PATH])).toBe('SIGKILL');
    const left = (await stagedOn(n)).filter((p) => !p.startsWith('/opt/custom/other/'));
    const targets = left.map((p) => stagedTarget(p));
    expect(targets).toContain(IPF_OVERLAYS_PATH);
    expect(targets).toContain(IKE_PRESHARED_PATH);
    expect(existsSync(n.path(IPF_OVERLAYS_PATH))).toBe(false);
    expect(existsSync(n.path(IKE_PRESHARED_PATH))).toBe(false);

    // The node reboots: Danube's restore script builds /etc/ipf/ipf.conf from ipf.d/ipf.conf* only.
    const boot = spawnSync(n.path(RESTORE), ['start'], { encoding: 'utf8' });
    expect(boot.status, boot.stderr).toBe(0);
    expect(await readFile(n.path('/etc/ipf/ipf.conf'), 'utf8')).toBe('pass in quick on lo0 all\n');

    // The next plan lists exactly the leftovers for removal, without content.
    const plan = await cli(['plan', '--json'], c.env);
    const nodePlan = (JSON.parse(plan.stdout) as { nodes: Array<{ node: string; files: Array<{ path: string; action: string; leftover?: boolean; diff: string[] }> }> }).nodes.find(
      (x) => x.node === n.name,
    )!;
    const listed = nodePlan.files.filter((f) => f.leftover);
    expect(listed.map((f) => f.path).sort()).toEqual(left);
    for (const f of listed) expect([f.action, f.diff]).toEqual(['remove', []]);
    const text = await cli(['plan'], c.env);
    expect(text.stdout).toContain(`- ${left.find((p) => stagedTarget(p) === IKE_PRESHARED_PATH)}  (staged by an interrupted run, never committed`);

    // apply removes them, and nothing that only looks like them.
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect((await stagedOn(n)).filter((p) => !p.startsWith('/opt/custom/other/'))).toEqual([]);
    for (const p of keep) expect(await readFile(n.path(p), 'utf8')).toBe('not ours\n');
    expect((await cli(['verify'], c.env)).status).toBe(0);
    // Booting now loads the operator's rules and ours, committed.
    expect(spawnSync(n.path(RESTORE), ['start']).status).toBe(0);
    const ipf = await readFile(n.path('/etc/ipf/ipf.conf'), 'utf8');
    expect(ipf.startsWith('pass in quick on lo0 all\n')).toBe(true);
    expect(ipf).toContain(await readFile(n.path(IPF_OVERLAYS_PATH), 'utf8'));
  }, 180_000);
});
