/**
 * `esdc-overlay verify [nodes...]`: live state against desired, read-only.
 * Exit 0 in sync, 2 on drift. Changes that wait for a reboot (an existing
 * overlay with an old rule) are reported as pending, not as drift.
 *
 * Each node's sysinfo is compared with what the state records for it
 * (hostname, UUID, PDC, IPs, MTUs): a changed fact is drift too, since the
 * plan is made from the state's facts, but it is only reported, with the
 * `nodes discover` command that records it. A node whose sysinfo cannot be
 * read has facts "unknown", which, like its agent, does not change the exit.
 *
 * Each node's overlays' fault state (`dladm show-overlay -f`) is read too: an
 * overlay DEGRADED because varpd lost its instance carries nothing until it is
 * deleted and created again, which neither apply nor a varpd restart does
 * (docs/smartos-rules.md#overlay-devices-and-dladm), so it makes the exit 2 and
 * the output says how to recreate it.
 */
import type { Command } from 'commander';
import { EXIT, OutcomeReported } from '../../errors.js';
import type { NodePlan } from '../../plan/plan.js';
import { renderNodePlan } from '../../plan/render-plan.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { danubeRefreshNote } from '../next-steps.js';
import { planNodes } from '../../operations/nodes.js';
import { withRemoteOptions, type RemoteOptions } from '../remote.js';
import { table } from '../table.js';
import { mapLimit } from '../../apply/pool.js';
import { agentSummary, readRemoteAgent, unreadableAgent } from '../../agent/remote-status.js';
import { checkNodeFacts, type FactsCheck } from '../../discovery/discover.js';
import { describeFactChange } from '../../discovery/facts.js';
import { degradedLines, readOverlayHealth, type OverlayHealth } from '../../discovery/overlay-health.js';

export type VerifyStatus = 'in-sync' | 'pending-reboot' | 'drift';

export function verifyStatus(p: NodePlan): VerifyStatus {
  if (p.changed) return 'drift';
  return p.reboot.length > 0 ? 'pending-reboot' : 'in-sync';
}

/** The FACTS column: `ok`, `changed: external_ip a → b, ...` or `unknown`. */
export function factsCell(f: FactsCheck): string {
  if (f.status === 'changed') return `changed: ${f.changed.map(describeFactChange).join(', ')}`;
  return f.status;
}

/** The OVERLAYS column: `ok`, `degraded: a, b` or `unknown`. */
export function overlaysCell(h: OverlayHealth): string {
  if (h.status === 'degraded') return `degraded: ${h.degraded.map((o) => o.link).join(', ')}`;
  return h.status;
}

export function registerVerify(program: Command, io: CliIo): void {
  withRemoteOptions(withCommonOptions(program.command('verify')))
    .description("compare every node's files, sysinfo facts and overlays' fault state with the desired state without changing anything; exit 2 on drift")
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .action(async (nodes: string[], opts: RemoteOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      // Each node's agent (reported, not part of the exit status) and its sysinfo facts (drift when changed).
      const fleet = await planNodes(ctx, { nodes, remote: opts }, (f, remote, model) =>
        mapLimit(f.plan.nodes, remote.concurrency, async (p) => {
          const t = f.transports.get(p.node)!;
          const node = model.nodeByName.get(p.node)!;
          // Three reads over the one connection, at once: none waits for another's round trips.
          const [agent, facts, overlays] = await Promise.all([
            readRemoteAgent(t, remote.timeoutMs).catch((err: unknown) => unreadableAgent(p.node, err)),
            checkNodeFacts(t, node, remote.timeoutMs),
            readOverlayHealth(t, model, node, remote.timeoutMs),
          ]);
          return { agent, facts, overlays };
        }),
      );
      const inspected = fleet.inspected ?? [];
      const results = fleet.plan.nodes.map((p, i) => ({ node: p.node, status: verifyStatus(p), plan: p, agent: inspected[i]?.agent, facts: inspected[i]?.facts, overlays: inspected[i]?.overlays }));
      const drift = results.filter((r) => r.status === 'drift');
      const factsChanged = results.filter((r) => r.facts?.status === 'changed');
      const degraded = results.filter((r) => r.overlays?.status === 'degraded');
      ctx.output(
        () => verifyText(results),
        () => snakeJson({
          in_sync: drift.length === 0 && factsChanged.length === 0 && degraded.length === 0,
          nodes: results.map((r) => ({
            node: r.node,
            status: r.status,
            drift: r.status === 'drift' ? r.plan : undefined,
            pending: r.plan.reboot,
            agent: r.agent,
            facts: r.facts,
            overlays: r.overlays,
          })),
        }),
      );
      if (drift.length > 0 || factsChanged.length > 0 || degraded.length > 0) throw new OutcomeReported('drift', { code: 'Drift', exitStatus: EXIT.drift });
    });
}

/** One node's verdict: its plan against the desired files, and the three reads beside it (absent when the node was not reached). */
interface VerifyResult {
  node: string;
  status: VerifyStatus;
  plan: NodePlan;
  agent: Awaited<ReturnType<typeof readRemoteAgent>> | undefined;
  facts: Awaited<ReturnType<typeof checkNodeFacts>> | undefined;
  overlays: Awaited<ReturnType<typeof readOverlayHealth>> | undefined;
}

/** verify's report for people: the table, each node's drift, facts and degraded overlays, then what to do. */
function verifyText(results: readonly VerifyResult[]): string {
  const drift = results.filter((r) => r.status === 'drift');
  const factsChanged = results.filter((r) => r.facts?.status === 'changed');
  const degraded = results.filter((r) => r.overlays?.status === 'degraded');
  const lines = [
    table(
      ['NODE', 'STATUS', 'FACTS', 'OVERLAYS', 'AGENT'],
      results.map((r) => [r.node, r.status, r.facts ? factsCell(r.facts) : '-', r.overlays ? overlaysCell(r.overlays) : '-', r.agent ? `agent ${agentSummary(r.agent)}` : '-']),
    ),
  ];
  for (const r of results) if (r.status !== 'in-sync') lines.push('', renderNodePlan(r.plan));
  for (const r of results) {
    const f = r.facts;
    if (f?.status === 'changed') {
      lines.push('', `${r.node}: sysinfo differs from the state (nothing was applied):`, ...f.changed.map((c) => `  ${c.field}: state ${c.state}, node ${c.node}`), `  to record: ${f.record}`);
    } else if (f?.status === 'unknown') {
      lines.push('', `${r.node}: facts unknown: ${f.reason}`);
    }
  }
  for (const r of degraded) {
    for (const o of r.overlays!.degraded) lines.push('', ...degradedLines(r.node, o));
  }
  for (const r of results) {
    const gone = r.overlays?.unwanted ?? [];
    if (gone.length > 0) lines.push('', `${r.node}: no longer wanted, DEGRADED until the node reboots: ${gone.map((o) => o.link).join(', ')}`);
  }
  const outcome: string[] = [];
  if (drift.length > 0) outcome.push(`Drift on ${drift.length} node(s): run esdc-overlay apply.`);
  if (degraded.length > 0) outcome.push(`Degraded overlays on ${degraded.length} node(s): apply does not mend them; recreate each (above).`);
  if (factsChanged.length > 0) outcome.push(`Node facts changed on ${factsChanged.length} node(s): record them with nodes discover (above), then plan.`);
  lines.push('', outcome.length === 0 ? 'In sync.' : outcome.join('\n'));
  // Danube's tool asked for this after every run (erigones/esdc-ce bin/esdc-overlay:1074-1075): the GUI reads a
  // node's NICs and overlays at a refresh, not when they change.
  if (drift.length === 0) lines.push(danubeRefreshNote(results.map((r) => r.node)).replace(' once apply has run', ' if it still shows the old ones'));
  return lines.join('\n');
}
