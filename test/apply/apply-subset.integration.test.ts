/**
 * An unreachable node no longer blocks every other (issue 19): `apply
 * --exclude NODE` and `apply --skip-unreachable` apply the rest, then name
 * the nodes left and the command that finishes them; a run that would
 * leave an IPsec pair with different parameters is refused as a partial
 * apply always was (src/ipsec/ike-subset.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { userInfo } from 'node:os';
import { runBuiltCli } from '../support/cli.js';

let c: SimCluster;
useSimCluster({ count: 3, each: true }, (started) => (c = started));

describe('apply with nodes left out', () => {
  it('--exclude applies the others and prints the command that finishes the excluded one', () => {
    const [a, b] = c.nodes.map((n) => n.name) as [string, string, string];
    const r = runBuiltCli(['apply', '--yes', '--exclude', a], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`left out of this run: ${a}; finish them with: esdc-overlay apply ${a}`);
    expect(r.stdout).toMatch(new RegExp(`${b.replace(/\./g, '\\.')}\\s+applied`));
    expect(runBuiltCli(['apply', '--yes', '--exclude', 'cn1.sim.tst'], c.env).status).toBe(1);
    // Every node left out (one list, comma-separated): refused, nothing to apply to.
    const none = runBuiltCli(['apply', '--yes', '--exclude', c.nodes.map((n) => n.name).join(',')], c.env);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no node is left to apply to');
  });

  it('--skip-unreachable leaves out a node that is down; without it nothing is applied', async () => {
    const down = c.nodes[2]!;
    await down.drop();
    const without = runBuiltCli(['apply', '--yes', '--connect-timeout', '3'], c.env);
    expect(without.status).toBe(1);
    expect(without.stderr).toContain('nothing was changed');
    const r = runBuiltCli(['apply', '--yes', '--skip-unreachable', '--connect-timeout', '3'], c.env);
    // The node that is down is the only one of its PDC: its pairs have no IKE yet on either end, so nothing is split.
    expect(r.stderr).toContain(`skipping unreachable node ${down.name}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`left out of this run: ${down.name}; finish them with: esdc-overlay apply ${down.name}`);
  });

  it('refuses when leaving a node out would split an IPsec pair', async () => {
    const [, , brn] = c.nodes.map((n) => n.name) as [string, string, string];
    const setProfile = async (profile: string): Promise<void> => {
      const doc = parse(await readFile(c.statePath, 'utf8')) as { defaults?: Record<string, unknown> };
      doc.defaults = { ...doc.defaults, ipsec: { profile } };
      await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    };
    await setProfile('danube');
    expect(runBuiltCli(['apply', '--yes'], c.env).status).toBe(0);
    await setProfile('strong');
    const r = runBuiltCli(['apply', '--yes', '--exclude', brn], c.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`add ${brn} to the run`);
  });
});

describe('nodes add and nodes remove', () => {
  it('remove --force takes a node out; add brings it back with its address and keys, then apply converges', async () => {
    // cn02: its VM NICs are on rules of all nodes, so discovering it again brings them back as they were.
    const n = c.nodes[1]!;
    const removed = runBuiltCli(['nodes', 'remove', n.name, '--force', '--yes'], c.env);
    expect(removed.status, removed.stderr).toBe(0);
    const gone = parse(await readFile(c.statePath, 'utf8')) as { nodes: Record<string, unknown> };
    expect(Object.keys(gone.nodes)).not.toContain(n.name);
    const user = userInfo().username;
    const wrong = runBuiltCli(['nodes', 'add', 'cn99.sim.test', `${user}@127.0.0.1:${n.port}`], c.env);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`reports hostname ${n.name}, not cn99.sim.test`);
    const added = runBuiltCli(['nodes', 'add', n.name, `${user}@127.0.0.1:${n.port}`], c.env);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain(`${n.name}:\n  new node:`);
    expect(added.stdout).toMatch(/IPsec: a new key for each of its \d+ pair\(s\)/);
    expect(added.stdout).toContain('then run: esdc-overlay apply');
    const back = parse(await readFile(c.statePath, 'utf8')) as { nodes: Record<string, unknown>; ipsec?: { psk?: Array<{ nodes: string[] }> } };
    expect(Object.keys(back.nodes)).toContain(n.name);
    expect((back.ipsec?.psk ?? []).some((k) => k.nodes.includes(n.name))).toBe(true);
    const apply = runBuiltCli(['apply', '--yes'], c.env);
    expect(apply.status, apply.stderr).toBe(0);
  });
});
