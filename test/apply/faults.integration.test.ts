/**
 * Faults during apply, on simulated nodes behind real sshd: a node that is
 * down before apply, a node lost between reading and staging, a node lost
 * between staging and committing, and a host key that is wrong or unknown.
 */
import { existsSync } from 'node:fs';
import { stagedTarget } from '../../src/transport/transport.js';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/operations/fleet.js';
import { renderSummary } from '../../src/cli/commands/apply.js';
import { remoteFrom } from '../../src/cli/remote.js';
import type { NodeGenerator } from '../../src/desired/desired.js';
import { GENERATORS } from '../../src/plan/desired-state.js';
import { FileStore } from '../../src/store/file-store.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';
import { peersGenerator, secretGenerator } from '../fixtures/test-generators.js';

const GENS = [...GENERATORS, peersGenerator, secretGenerator];

let c: SimCluster;
useSimCluster({ count: 3, each: true }, (started) => (c = started));

async function libPlan(generators: readonly NodeGenerator[] = GENS) {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  return planFleet(snap.model, undefined, remote.open, { concurrency: 16, timeoutMs: 20_000, generators });
}

/** Every file under a node's root whose name says it was staged. */
async function stagedFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (stagedTarget(join(d, e.name)) !== undefined) out.push(join(d, e.name));
    }
  };
  await walk(root);
  return out;
}

async function untouched(): Promise<void> {
  for (const n of c.nodes) {
    expect(await readFile(n.path('/usbkey/config'), 'utf8')).not.toContain('overlay_rule_');
    expect(existsSync(n.path('/opt/custom/esdc-overlay/managed.json'))).toBe(false);
    expect(existsSync(n.path('/opt/custom/esdc-overlay/test/customers_peers.json'))).toBe(false);
    expect(await stagedFiles(n.root)).toEqual([]);
    expect((await n.calls()).map((x) => x.cmd)).not.toContain('net-virtual');
  }
}

describe('a node that is down before apply', () => {
  it('fails the apply before anything is written on any node, naming the node', async () => {
    await c.nodes[1]!.drop();
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('could not connect on 1 node(s); nothing was changed');
    expect(r.stderr).toContain(`${c.nodes[1]!.name}: cannot connect to root@[127.0.0.1]:${c.nodes[1]!.port}`);
    await untouched();
    for (const n of [c.nodes[0]!, c.nodes[2]!]) expect(await n.sftpWrites()).toEqual([]);
  });
});

describe('a node lost between reading and staging', () => {
  it('stages nowhere for good: what was staged is removed everywhere and nothing is committed', async () => {
    const fleet = await libPlan();
    try {
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), {
        concurrency: 16,
        timeoutMs: 20_000,
        hooks: { beforeStage: () => c.nodes[2]!.drop() },
      });
      expect(result.ok).toBe(false);
      expect(result.phase).toBe('stage');
      expect(result.outcomes.map((o) => o.status)).toEqual(['rolled-back', 'rolled-back', 'stage-failed']);
      expect(renderSummary(result)).toContain('Nothing was committed on any node; staged files were removed.');
    } finally {
      await fleet.close();
    }
    await untouched();
  });
});

describe('a node lost between staging and committing', () => {
  it('the others commit; the summary names the node and how to finish; a later apply finishes it', async () => {
    const lost = c.nodes[1]!;
    // The generators the CLI uses, so that its later run wants the same files.
    const fleet = await libPlan(GENERATORS);
    let summary = '';
    try {
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), {
        concurrency: 16,
        timeoutMs: 20_000,
        hooks: { afterStage: () => lost.drop() },
      });
      expect(result.ok).toBe(false);
      expect(result.phase).toBe('commit');
      expect(result.outcomes.map((o) => [o.node, o.status])).toEqual([
        [c.nodes[0]!.name, 'applied'],
        [lost.name, 'commit-failed'],
        [c.nodes[2]!.name, 'applied'],
      ]);
      const failed = result.outcomes[1]!;
      expect(failed.finish![0]).toMatch(/^mv -f \/opt\/custom\/esdc-overlay\/\.managed\.json\.esdc-new-[0-9a-f]{12} \/opt\/custom\/esdc-overlay\/managed\.json$/);
      expect(failed.finish).toContain('/lib/svc/method/net-virtual refresh');
      summary = renderSummary(result);
    } finally {
      await fleet.close();
    }
    expect(summary).toContain(`${lost.name}: commit failed:`);
    expect(summary).toContain(`finish it with: esdc-overlay apply --yes ${lost.name}`);
    // The lost node has its files staged, not committed; the others are done.
    expect(await readFile(lost.path('/usbkey/config'), 'utf8')).not.toContain('overlay_rule_');
    expect((await readdir(lost.path('/usbkey'))).filter((f) => /^\.config\.esdc-new-[0-9a-f]{12}$/.test(f))).toHaveLength(1);
    expect(await readFile(c.nodes[0]!.path('/usbkey/config'), 'utf8')).toContain('overlay_rule_customers=');

    // The node comes back; the command the summary gave finishes it.
    await lost.start();
    const r = await cli(['apply', '--yes', lost.name], c.env);
    expect(r.status).toBe(0);
    expect(await readFile(lost.path('/usbkey/config'), 'utf8')).toContain('overlay_rule_customers=');
    expect(await stagedFiles(lost.root)).toEqual([]);
    expect((await cli(['verify', lost.name], c.env)).status).toBe(0);
  });
});

describe('host keys', () => {
  it('a wrong host key is refused before anything is sent, to any node', async () => {
    const [a, b] = c.nodes;
    const text = await readFile(c.knownHostsFile, 'utf8');
    const bKey = text.split('\n').find((l) => l.startsWith(`[127.0.0.1]:${b!.port} `))!.split(' ').slice(1).join(' ');
    await writeFile(c.knownHostsFile, text.replace(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${a!.port} .*$`, 'm'), `[127.0.0.1]:${a!.port} ${bKey}`));
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`HOST KEY MISMATCH for [127.0.0.1]:${a!.port}`);
    // Not even authentication reached the node with the wrong key.
    expect(await readFile(join(a!.dir, 'sshd.log'), 'utf8')).not.toMatch(/Accepted publickey|Failed publickey|Postponed publickey/);
    await untouched();
    for (const n of c.nodes) expect(await n.calls()).toEqual([]);
  });

  it('an unknown host key is refused; nodes discover --accept-new-host-keys records it, and plan then runs', async () => {
    const [a] = c.nodes;
    const text = await readFile(c.knownHostsFile, 'utf8');
    await writeFile(c.knownHostsFile, text.split('\n').filter((l) => !l.startsWith(`[127.0.0.1]:${a!.port} `)).join('\n'));
    const refused = await cli(['plan', '--json'], c.env);
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('HostKeyUnknown');
    expect(refused.stderr).toContain('nodes discover <node> --accept-new-host-keys');
    const recorded = await cli(['nodes', 'discover', a!.name, '--accept-new-host-keys'], c.env);
    expect(recorded.status).toBe(0);
    expect(await readFile(c.knownHostsFile, 'utf8')).toContain(`[127.0.0.1]:${a!.port} ssh-ed25519 `);
    expect((await cli(['plan'], c.env)).status).toBe(0);
  });
});

describe('IPsec keys on apply', () => {
  it('a pair without a key gets one, stored on confirmation, and the next apply finds nothing to do', async () => {
    const text = await readFile(c.statePath, 'utf8');
    const { parse, stringify } = await import('yaml');
    const doc = parse(text);
    const pairs = doc.ipsec.psk.length;
    delete doc.ipsec;
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    const declined = await cli(['apply'], c.env);
    expect(declined.status).toBe(1);
    expect(declined.stdout).toContain(`IPsec: ${pairs} pair(s) get a new key, stored in the state on confirmation.`);
    expect(parse(await readFile(c.statePath, 'utf8')).ipsec).toBeUndefined();
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status).toBe(0);
    const stored = parse(await readFile(c.statePath, 'utf8'));
    expect(stored.ipsec.psk).toHaveLength(pairs);
    for (const k of stored.ipsec.psk) expect(r.stdout + r.stderr).not.toContain(k.key.slice(0, 16));
    const again = await cli(['plan', '--exit-code'], c.env);
    expect(again.stdout).toContain('No changes');
    expect(again.status).toBe(0);
  });
});

describe('/usbkey/config edited by someone else while apply runs', () => {
  it('is not overwritten: the stage fails on that node and nothing is committed anywhere', async () => {
    const n = c.nodes[0]!;
    const fleet = await libPlan(GENERATORS);
    try {
      const result = await executeWork(fleet.transports, fleet.nodes.map((x) => x.work), {
        concurrency: 16,
        timeoutMs: 20_000,
        hooks: { beforeStage: () => writeFile(n.path('/usbkey/config'), 'swap=on\n', { flag: 'a' }) },
      });
      expect(result.phase).toBe('stage');
      expect(result.outcomes[0]).toMatchObject({ status: 'stage-failed', error: expect.stringContaining('/usbkey/config changed on the node since it was read') });
    } finally {
      await fleet.close();
    }
    expect(await readFile(n.path('/usbkey/config'), 'utf8')).toMatch(/swap=on\n$/);
    await untouched();
  });
});

describe('a PDC rename', () => {
  it('is flagged disruptive in the plan of the renamed node', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const { parse, stringify } = await import('yaml');
    const doc = parse(await readFile(c.statePath, 'utf8'));
    doc.nodes['cn03.sim.test'].pdc = 'ams';
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    const r = await cli(['plan'], c.env);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('DISRUPTIVE: PDC brn → ams');
    expect(r.stdout.match(/DISRUPTIVE: PDC/g)).toHaveLength(1);
  });
});
