/**
 * `esdc-overlay verify [nodes...]`: live state against desired, read-only.
 * Exit 0 in sync, 2 on drift. Changes that wait for a reboot (an existing
 * overlay with an old rule) are reported as pending, not as drift.
 */
import type { Command } from 'commander';
import { EXIT, OutcomeReported } from '../../errors.js';
import type { NodePlan } from '../../plan/plan.js';
import { renderNodePlan } from '../../plan/render-plan.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { planSelectedNodes, withRemoteOptions, type RemoteOptions } from '../remote.js';
import { table } from '../table.js';
import { mapLimit } from '../../apply/pool.js';
import { agentSummary, readRemoteAgent, unreadableAgent } from '../../agent/remote-status.js';

export type VerifyStatus = 'in-sync' | 'pending-reboot' | 'drift';

export function verifyStatus(p: NodePlan): VerifyStatus {
  if (p.changed) return 'drift';
  return p.reboot.length > 0 ? 'pending-reboot' : 'in-sync';
}

export function registerVerify(program: Command, io: CliIo): void {
  withRemoteOptions(withCommonOptions(program.command('verify')))
    .description('compare every node with the desired state without changing anything; exit 2 on drift')
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .action(async (nodes: string[], opts: RemoteOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      // Each node's agent too (version, Node, SMF state): reported, not part of the exit status.
      const fleet = await planSelectedNodes(ctx, nodes, opts, (f, remote) =>
        mapLimit(f.plan.nodes, remote.concurrency, async (p) => readRemoteAgent(f.transports.get(p.node)!, remote.timeoutMs).catch((err: unknown) => unreadableAgent(p.node, err))),
      );
      const agents = fleet.inspected ?? [];
      const results = fleet.plan.nodes.map((p, i) => ({ node: p.node, status: verifyStatus(p), plan: p, agent: agents[i] }));
      const drift = results.filter((r) => r.status === 'drift');
      ctx.output(
        () => {
          const lines = [table(['NODE', 'STATUS', 'AGENT'], results.map((r) => [r.node, r.status, r.agent ? `agent ${agentSummary(r.agent)}` : '-']))];
          for (const r of results) if (r.status !== 'in-sync') lines.push('', renderNodePlan(r.plan));
          lines.push('', drift.length === 0 ? 'In sync.' : `Drift on ${drift.length} node(s): run esdc-overlay apply.`);
          return lines.join('\n');
        },
        () => ({ in_sync: drift.length === 0, nodes: results.map((r) => ({ node: r.node, status: r.status, drift: r.status === 'drift' ? r.plan : undefined, pending: r.plan.reboot, agent: r.agent })) }),
      );
      if (drift.length > 0) throw new OutcomeReported('drift', { code: 'Drift', exitStatus: EXIT.drift });
    });
}
