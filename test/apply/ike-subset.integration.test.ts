/**
 * Switching the IPsec profile through the built CLI on simulated nodes:
 * adopted with `danube`, switched to `strong`. An apply or plan naming only
 * some nodes would change IKE on one end of a cross-PDC pair and not the
 * other, so it is refused, naming the pair and the nodes to add, and nothing
 * changes; the full apply switches both ends in one run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { IKE_CONFIG_PATH } from '../../src/ipsec/generator.js';
import { parseIkeConfig } from '../../src/ipsec/ike-files.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli, runBuiltCli } from '../support/cli.js';

let c: SimCluster;
useSimCluster({ count: 3 }, (started) => (c = started));

async function setProfile(profile: string): Promise<void> {
  const doc = parse(await readFile(c.statePath, 'utf8')) as { defaults?: { ipsec?: Record<string, unknown> } };
  doc.defaults = { ...doc.defaults, ipsec: { profile } };
  await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
}

/** The IKE parameters `node` uses towards `peer`, from its ike/config on disk. */
async function ikeOf(node: string, peer: string): Promise<string | undefined> {
  const text = await readFile(c.node(node).path(IKE_CONFIG_PATH), 'utf8');
  return parseIkeConfig(text).get(c.state.nodes![peer]!.external_ip!)?.summary;
}

describe('changing the IPsec profile reaches both ends of every pair', () => {
  // Two nodes in prg, one in brn: pairs prg-1 <-> brn and prg-2 <-> brn.
  let prg1: string;
  let prg2: string;
  let brn: string;
  beforeAll(async () => {
    [prg1, prg2, brn] = c.nodes.map((n) => n.name) as [string, string, string];
    expect([c.state.nodes![prg1]!.pdc, c.state.nodes![prg2]!.pdc, c.state.nodes![brn]!.pdc]).toEqual(['prg', 'prg', 'brn']);
    await setProfile('danube');
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(await ikeOf(prg1, brn)).toContain('oakley_group 5');
  });

  it('apply to one node refuses, naming the pair and the node to add, and changes nothing', async () => {
    await setProfile('strong');
    const before = await readFile(c.node(prg1).path(IKE_CONFIG_PATH), 'utf8');
    const r = runBuiltCli(['apply', '--yes', prg1], c.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${prg1} <-> ${brn}`);
    expect(r.stderr).toContain(`add ${brn} to the run`);
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stderr).not.toContain(prg2);
    expect(await readFile(c.node(prg1).path(IKE_CONFIG_PATH), 'utf8')).toBe(before);
  });

  it('plan of the brn node alone refuses the same way, naming both prg nodes', () => {
    const r = runBuiltCli(['plan', brn], c.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`add ${prg1}, ${prg2} to the run`);
  });

  it('the full apply switches both ends; afterwards a one-node apply is no longer refused', async () => {
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    const strong = 'oakley_group 14 auth_alg sha512 encr_alg aes auth_method preshared p2_pfs 14';
    expect(await ikeOf(prg1, brn)).toBe(strong);
    expect(await ikeOf(brn, prg1)).toBe(strong);
    expect(await ikeOf(brn, prg2)).toBe(strong);
    const again = runBuiltCli(['apply', '--yes', prg1], c.env);
    expect(again.status, again.stderr).toBe(0);
  });
});
