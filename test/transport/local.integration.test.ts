/**
 * The local transport (what the agent uses on its own node) under a root
 * prefix, driving the same plan and executor as SSH against a simulated
 * node's root directory: no sshd involved.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/operations/fleet.js';
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
    expect(readdirSync(join(root, 'opt/custom/esdc-overlay/test')).filter((f) => f.includes('.esdc-new'))).toEqual([]);
    const again = await planFleet(model, undefined, open, opts);
    expect(again.plan.nodes.filter((n) => n.changed)).toEqual([]);
  });
});

describe('the local transport refuses what it must not read', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-local-read-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a FIFO: refused at once naming node and path (the agent would otherwise block for good)', async () => {
    const p = join(dir, 'fifo');
    execFileSync('mkfifo', [p]);
    const t = new LocalTransport('cn01');
    const started = performance.now();
    await expect(t.readFile(p, 5000)).rejects.toThrow(`cn01: ${p} is a FIFO; only regular files are read`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a 2 GiB sparse file: refused by size naming it; a file at the limit is read', async () => {
    const big = join(dir, 'big');
    execFileSync('truncate', ['-s', '2G', big]);
    const t = new LocalTransport('cn01');
    await expect(t.readFile(big, 5000)).rejects.toThrow(`cn01: ${big} is 2147483648 bytes, above the limit of 67108864 bytes`);
    const small = join(dir, 'small');
    execFileSync('truncate', ['-s', '100', small]);
    await expect(t.readFile(small, 5000, { maxBytes: 99 })).rejects.toThrow(/100 bytes, above the limit of 99 bytes/);
    expect((await t.readFile(small, 5000, { maxBytes: 100 }))!.data.length).toBe(100);
  });
});
