/**
 * The local transport (what the agent uses on its own node) under a root
 * prefix, driving the same plan and executor as SSH against a simulated
 * node's root directory: no sshd involved.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/apply/fleet.js';
import { validateDoc } from '../../src/model/load.js';
import { GENERATORS } from '../../src/plan/desired-state.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { RootedTransport } from '../../src/transport/rooted-transport.js';
import { simFacts, simState, simVms, writeNodeRoot } from '../harness/sim-cluster.js';
import { peersGenerator, secretGenerator } from '../fixtures/test-generators.js';

describe('the local transport under a root prefix', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-local-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plans, applies and then finds nothing to do', async () => {
    const facts = [simFacts(0, 2), simFacts(1, 2)];
    const roots = facts.map((f) => join(dir, f.hostname));
    await Promise.all(facts.map((f, i) => writeNodeRoot(roots[i]!, f, simVms(i, [0]))));
    const doc = simState(facts, roots.map(() => ({ port: 22, user: 'root' })));
    const { model } = validateDoc(doc, 'sim');
    const open = async (n: { name: string }) => new RootedTransport(new LocalTransport(n.name), roots[facts.findIndex((f) => f.hostname === n.name)]!);
    const opts = { concurrency: 2, timeoutMs: 20_000, generators: [...GENERATORS, peersGenerator, secretGenerator] };
    const fleet = await planFleet(model, undefined, open, opts);
    expect(fleet.plan.nodes.every((n) => n.changed)).toBe(true);
    const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), opts);
    expect(result.ok).toBe(true);
    const root = roots[0]!;
    expect(await readFile(join(root, 'usbkey/config'), 'utf8')).toContain('overlay_rule_customers=');
    expect(statSync(join(root, 'opt/custom/esdc-overlay/test/keys.secret')).mode & 0o777).toBe(0o400);
    expect(existsSync(join(root, 'opt/custom/esdc-overlay/test/keys.secret.esdc-new'))).toBe(false);
    const again = await planFleet(model, undefined, open, opts);
    expect(again.plan.nodes.filter((n) => n.changed)).toEqual([]);
  });
});
