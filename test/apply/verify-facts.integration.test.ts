/**
 * `verify` compares each node's sysinfo with the facts the state records
 * (issue 18): a changed fact is drift (exit 2) naming the node, the field and
 * both values, and is only reported; a node whose sysinfo does not parse has
 * facts "unknown" and the rest of verify goes on.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

interface VerifyJson {
  in_sync: boolean;
  nodes: Array<{ node: string; status: string; facts: { status: string; changed?: Array<{ field: string; state: string; node: string }>; record?: string; reason?: string } }>;
}

async function editNodeJson(c: SimCluster, name: string, edit: (facts: Record<string, unknown>) => void): Promise<void> {
  const path = c.node(name).path('/var/sim/node.json');
  const facts = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(facts);
  await writeFile(path, `${JSON.stringify(facts, null, 2)}\n`);
}

describe('verify reports node facts that changed, and applies nothing', () => {
  let c: SimCluster;
  useSimCluster({ count: 3 }, (started) => (c = started));

  it('clean after apply: every node facts ok, exit 0', async () => {
    const apply = await cli(['apply', '--yes'], c.env);
    expect(apply.stderr).toBe('');
    expect(apply.status).toBe(0);
    const v = await cli(['verify'], c.env);
    expect(v.stdout).toMatch(/NODE\s+STATUS\s+FACTS\s+OVERLAYS\s+AGENT/);
    for (const n of c.nodes) expect(v.stdout).toMatch(new RegExp(`${n.name.replace(/\./g, '\\.')}\\s+in-sync\\s+ok\\s`));
    expect(v.stdout).toContain('In sync.');
    expect(v.status).toBe(0);
  });

  it("a node's changed external IP is drift: exit 2, naming node, field, old and new value; the state is untouched", async () => {
    const stateBefore = await readFile(c.statePath, 'utf8');
    await editNodeJson(c, 'cn02.sim.test', (f) => (f.external_ip = '198.51.100.99'));

    const v = await cli(['verify'], c.env);
    expect(v.status).toBe(2);
    expect(v.stdout).toMatch(/cn02\.sim\.test\s+in-sync\s+changed: external_ip 198\.51\.100\.2 → 198\.51\.100\.99/);
    expect(v.stdout).toMatch(/cn01\.sim\.test\s+in-sync\s+ok\s/);
    expect(v.stdout).toMatch(/cn03\.sim\.test\s+in-sync\s+ok\s/);
    expect(v.stdout).toContain('cn02.sim.test: sysinfo differs from the state (nothing was applied):\n  external_ip: state 198.51.100.2, node 198.51.100.99\n  to record: esdc-overlay nodes discover cn02.sim.test\n');
    expect(v.stdout).toContain('Node facts changed on 1 node(s)');
    expect(v.stdout).not.toContain('In sync.');

    const j = await cli(['verify', '--json'], c.env);
    expect(j.status).toBe(2);
    const body = JSON.parse(j.stdout) as VerifyJson;
    expect(body.in_sync).toBe(false);
    const byNode = Object.fromEntries(body.nodes.map((n) => [n.node, n]));
    expect(byNode['cn02.sim.test']!.facts).toEqual({
      status: 'changed',
      changed: [{ field: 'external_ip', state: '198.51.100.2', node: '198.51.100.99' }],
      record: 'esdc-overlay nodes discover cn02.sim.test',
    });
    expect(byNode['cn01.sim.test']!.facts).toEqual({ status: 'ok' });
    expect(byNode['cn03.sim.test']!.facts).toEqual({ status: 'ok' });
    // Reported only: nothing recorded.
    expect(await readFile(c.statePath, 'utf8')).toBe(stateBefore);
  });

  it('a new UUID asks for --replace', async () => {
    await editNodeJson(c, 'cn02.sim.test', (f) => (f.uuid = '564d0000-0000-4000-8000-0000000000ff'));
    const v = await cli(['verify', 'cn02.sim.test'], c.env);
    expect(v.status).toBe(2);
    expect(v.stdout).toContain('uuid 564d0000-0000-4000-8000-000000000002 → 564d0000-0000-4000-8000-0000000000ff');
    expect(v.stdout).toContain('to record: esdc-overlay nodes discover cn02.sim.test --replace');
    await editNodeJson(c, 'cn02.sim.test', (f) => {
      f.uuid = '564d0000-0000-4000-8000-000000000002';
      f.external_ip = '198.51.100.2';
    });
  });

  it('a node whose sysinfo does not parse has facts unknown, with the reason; the others are checked and the exit is theirs', async () => {
    await writeFile(c.node('cn03.sim.test').path('/var/sim/node.json'), 'garbage{{\n');
    const v = await cli(['verify'], c.env);
    expect(v.stdout).toMatch(/cn03\.sim\.test\s+in-sync\s+unknown\s/);
    expect(v.stdout).toMatch(/cn03\.sim\.test: facts unknown: cn03\.sim\.test: sysinfo.*UUID/);
    expect(v.stdout).toMatch(/cn01\.sim\.test\s+in-sync\s+ok\s/);
    expect(v.stdout).toContain('In sync.');
    expect(v.status).toBe(0);

    const j = await cli(['verify', '--json'], c.env);
    const body = JSON.parse(j.stdout) as VerifyJson;
    const cn03 = body.nodes.find((n) => n.node === 'cn03.sim.test')!;
    expect(cn03.facts.status).toBe('unknown');
    expect(cn03.facts.reason).toMatch(/UUID/);
    expect(body.nodes.find((n) => n.node === 'cn02.sim.test')!.facts).toEqual({ status: 'ok' });
    expect(j.status).toBe(0);
  });
});
