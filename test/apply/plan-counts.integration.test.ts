/**
 * Plan's numbers and apply's report mean the same thing (issue 19,
 * src/plan/counts.ts): files written, files removed, overlays created,
 * services refreshed, in plan's text, plan --summary, apply's table and
 * both --json outputs, for the same run. The adminoverlay link plan lists
 * ("+ overlay adminoverlay2"), made by net-virtual refresh, is one apply
 * reports as created too.
 */
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runBuiltCli } from '../support/cli.js';

let c: SimCluster;
useSimCluster({ count: 2 }, (started) => (c = started));

interface Counts {
  files_written: number;
  files_removed: number;
  overlays_created: number;
  services_refreshed: number;
}

describe('plan counts and apply counts', () => {
  it('agree for the same run, in text and JSON', () => {
    const plan = runBuiltCli(['plan', '--json'], c.env);
    expect(plan.status, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout) as { nodes: Array<{ node: string; counts: Counts }> };
    const text = runBuiltCli(['plan'], c.env).stdout;
    const summary = runBuiltCli(['plan', '--summary'], c.env).stdout;
    const apply = runBuiltCli(['apply', '--yes', '--json'], c.env);
    expect(apply.status, apply.stderr).toBe(0);
    const applied = JSON.parse(apply.stdout) as {
      plan: { nodes: Array<{ node: string; counts: Counts }> };
      outcomes: Array<{ node: string; counts: Counts; created: string[]; wrote: number }>;
    };
    for (const o of applied.outcomes) {
      const p = applied.plan.nodes.find((n) => n.node === o.node)!;
      expect(o.counts, o.node).toEqual(p.counts);
      expect(planned.nodes.find((n) => n.node === o.node)!.counts, o.node).toEqual(p.counts);
      expect(o.created).toContain('adminoverlay2');
      expect(o.counts.files_written).toBe(o.wrote);
      const k = p.counts;
      expect(text).toContain(`${o.node}: ${k.files_written} file(s) to write, ${k.files_removed} to remove, ${k.overlays_created} overlay(s) to create, ${k.services_refreshed} service refresh(es)`);
      expect(summary).toMatch(new RegExp(`${o.node.replace(/\./g, '\\.')}: write ${k.files_written} \\(.*\\); remove ${k.files_removed}; overlays \\+${k.overlays_created}; refresh ${k.services_refreshed}:`));
    }
    expect(text).toContain('+ overlay adminoverlay2');
  });

  it("apply's table shows the numbers its plan gave", () => {
    // A new rule on every node: its lines, ARP table, firewall and IPsec ports change on each.
    expect(runBuiltCli(['create', 'extra', 'all', '--mtu', '1300'], c.env).status).toBe(0);
    const r = runBuiltCli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    for (const n of c.nodes) {
      const m = new RegExp(`${n.name.replace(/\./g, '\\.')}: (\\d+) file\\(s\\) to write, (\\d+) to remove, (\\d+) overlay\\(s\\) to create, (\\d+) service refresh`).exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const row = r.stdout.split('\n').find((l) => l.startsWith(`${n.name} `) && l.includes('applied'))!;
      const cols = row.trim().split(/\s+/);
      // NODE STATUS WROTE REMOVED REFRESHED OVERLAYS TIME
      expect(cols[2]).toBe(m![1]);
      expect(cols[3]).toBe(m![2]);
      expect(cols[4] === '-' ? 0 : cols[4]!.split(',').length).toBe(Number(m![4]));
      expect(cols[5] === '-' ? 0 : cols[5]!.split(',').length).toBe(Number(m![3]));
    }
  });
});
