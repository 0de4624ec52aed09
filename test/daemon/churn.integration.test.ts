/**
 * Churn: 200 random creates, deletes and migrations across 10 simulated
 * nodes while the daemon runs. Then the state's vnics are exactly the union
 * of every node's `vmadm lookup`, and every ARP table equals a fresh render
 * of that state.
 */
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { InventoryDaemon } from '../../src/daemon/daemon.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import type { StateDoc } from '../../src/model/state.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { rulesOfNode } from '../../src/rules/usbkey-lines.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { createVm, deleteVm, migrateVm, readVms } from '../harness/sim-vms.mjs';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli } from '../support/cli.js';
import { validModel } from '../support/state-fixtures.js';
import { allConnected, startDaemon, waitFor } from './daemon-helpers.js';

const OPS = 200;

describe('daemon churn', () => {
  let c: SimCluster;
  let daemon: InventoryDaemon | undefined;
  useSimCluster({ count: 10 }, (started) => (c = started));
  afterAll(async () => daemon?.stop());

  /** Every node's VMs, as its `vmadm lookup -j` prints them, filtered to what the state can hold. */
  function lookupUnion(doc: StateDoc): string[] {
    const rules = doc.overlay_rules ?? {};
    const out: string[] = [];
    for (const n of c.nodes) {
      for (const vm of readVms(n.root)) {
        for (const nic of vm.nics) {
          const rule = rules[nic.nic_tag.split('/')[0]!];
          if (!rule || (rule.nodes !== 'all' && !rule.nodes!.includes(n.name))) continue;
          out.push(`${nic.mac}@${n.name} ${nic.ip} ${nic.nic_tag} ${vm.uuid}`);
        }
      }
    }
    return out.sort();
  }

  async function converged(): Promise<{ ok: boolean; why: string }> {
    const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
    const state = (doc.vnics ?? []).map((v) => `${v.mac}@${v.node} ${v.ip} ${v.nic_tag} ${v.vm}`).sort();
    const want = lookupUnion(doc);
    if (JSON.stringify(state) !== JSON.stringify(want)) return { ok: false, why: `vnics differ: ${state.length} in the state, ${want.length} on the nodes` };
    const model = validModel(doc);
    const ctx = new RenderContext(model);
    for (const node of model.nodes) {
      const sim = c.node(node.name);
      for (const rule of rulesOfNode(model, node)) {
        const f = arpTableFile(ctx, rule, node);
        const have = await readFile(sim.path(f.path), 'utf8').catch(() => '');
        if (have !== fileText(f)) return { ok: false, why: `${node.name} ${f.path} differs from a fresh render` };
      }
    }
    return { ok: true, why: '' };
  }

  it(`${OPS} random operations across 10 nodes: vnics = union of lookups, every table = fresh render`, async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    daemon = await startDaemon(c);
    await waitFor('all 10 connected', 30_000, () => allConnected(daemon!, 10));
    const names = c.nodes.map((n) => n.name);
    const lab = (c.state.overlay_rules!.lab!.nodes as string[]) ?? [];
    const ops = fc.sample(fc.record({ kind: fc.constantFrom('create', 'create', 'delete', 'migrate'), node: fc.nat(9), pick: fc.nat(1000), lab: fc.boolean(), pause: fc.nat(20) }), { numRuns: OPS, seed: 18 });
    let seq = 0;
    const counts = { create: 0, delete: 0, migrate: 0 };
    for (const op of ops) {
      const vms = c.nodes.flatMap((n) => readVms(n.root).map((vm) => ({ node: n.name, vm })));
      if (op.kind === 'create' || vms.length === 0) {
        seq++;
        const onLab = op.lab && lab.includes(names[op.node]!);
        const hex = (seq + 0x100).toString(16).padStart(4, '0');
        createVm(c.dir, names[op.node]!, {
          mac: `52:54:01:00:${hex.slice(0, 2)}:${hex.slice(2)}`,
          ip: onLab ? `10.220.${Math.floor(seq / 250)}.${(seq % 250) + 2}` : `10.211.${Math.floor(seq / 250)}.${(seq % 250) + 2}`,
          nicTag: onLab ? 'lab/2000' : 'customers/1000',
        });
        counts.create++;
      } else {
        const { node, vm } = vms[op.pick % vms.length]!;
        if (op.kind === 'delete') {
          deleteVm(c.dir, vm.uuid);
          counts.delete++;
        } else {
          const onLab = vm.nics.some((n) => n.nic_tag.startsWith('lab/'));
          const targets = (onLab ? lab : names).filter((n) => n !== node);
          if (targets.length === 0) continue;
          migrateVm(c.dir, vm.uuid, targets[op.pick % targets.length]!);
          counts.migrate++;
        }
      }
      if (op.pause > 15) await new Promise((r) => setTimeout(r, op.pause * 10));
    }
    expect(counts.create + counts.delete + counts.migrate).toBeGreaterThan(OPS * 0.9);
    let last = { ok: false, why: '' };
    await waitFor('converged after the churn', 90_000, async () => (last = await converged()).ok).catch((err: Error) => {
      throw new Error(`${err.message}: ${last.why}`);
    });
    expect(daemon.status.conflicts).toEqual([]);
    expect(Object.values(daemon.status.nodes).every((n) => n.counters.malformed === 0)).toBe(true);
  }, 300_000);
});
