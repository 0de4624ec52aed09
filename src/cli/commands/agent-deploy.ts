/**
 * `agent deploy [nodes...]` (the one-file bundle, agent.json and the SMF
 * manifest onto each node, then svccfg import and svcadm enable) and
 * `agent status --all` (every node's agent, over SSH).
 */
import type { Command } from 'commander';
import { renderDeployPlan } from '../../agent/deploy.js';
import { agentSummary, type RemoteAgent } from '../../agent/remote-status.js';
import { EXIT, EsdcError, OutcomeReported } from '../../errors.js';
import { deployAgent, remoteAgents as readAgents, type DeployOutcome } from '../../operations/agent-deploy.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { withRemoteOptions, type RemoteOptions } from '../remote.js';
import { table } from '../table.js';

interface DeployOptions extends RemoteOptions {
  node?: string;
  bundle?: string;
}

function renderOutcomes(outcomes: readonly DeployOutcome[]): string {
  const lines = [table(['NODE', 'STATUS', 'WROTE', 'RAN'], outcomes.map((o) => [o.node, o.status, String(o.wrote), o.ran.join('; ') || '-']))];
  for (const o of outcomes) {
    if (o.status !== 'failed') continue;
    lines.push(`\n${o.node}: ${o.error ?? 'failed'}`);
    if (o.finish && o.finish.length > 0) lines.push(`  finish it with: esdc-overlay agent deploy --yes ${o.node}`, '  or by hand on the node:', ...o.finish.map((c) => `    ${c}`));
  }
  return lines.join('\n');
}

export function registerAgentDeploy(agent: Command, io: CliIo): void {
  withConfirmOption(withRemoteOptions(withCommonOptions(agent.command('deploy'))))
    .description('put the agent on nodes over SSH: the one-file bundle, agent.json and the SMF manifest under /opt/custom, then svccfg import and svcadm enable')
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .option('--node <path>', 'the Node.js binary on the nodes (default: the first of /opt/tools/bin/node, /opt/local/bin/node that is new enough)')
    .option('--bundle <file>', 'the bundle to deploy (default: this program when it is the bundle, else dist/esdc-overlay.mjs)')
    .action(async (nodes: string[], opts: DeployOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { node, bundle, ...remote } = opts;
      const out = await deployAgent(
        ctx,
        { nodes, remote, ...(node !== undefined ? { nodePath: node } : {}), ...(bundle !== undefined ? { bundle } : {}) },
        {
          preview: (plans) => {
            if (!ctx.json) io.stdout.write(`${renderDeployPlan(plans)}\n`);
          },
          confirm: (question) => ctx.confirm(question),
        },
      );
      if (out.plans.every((p) => !p.changed)) {
        ctx.output(() => 'The agent is up to date on every node.', () => snakeJson({ ok: true, plan: out.plans, outcomes: [] }));
        return;
      }
      ctx.output(() => `\n${renderOutcomes(out.outcomes)}`, () => snakeJson({ ok: out.ok, plan: out.plans, outcomes: out.outcomes }));
      if (!out.ok) {
        if (ctx.json) throw new OutcomeReported('agent deploy failed', { code: 'DeployFailed', exitStatus: EXIT.failure });
        throw new EsdcError(`agent deploy failed on ${out.outcomes.filter((o) => o.status === 'failed').map((o) => o.node).join(', ')} (see above)`, { code: 'DeployFailed' });
      }
    });
}

/** `agent status --all` reads every selected node's agent with the operation. */
export const remoteAgents = readAgents;

export function renderRemoteAgents(agents: readonly RemoteAgent[]): string {
  const rows = agents.map((a) => [a.node, a.version ?? '-', a.nodeVersion ?? '-', a.installed ? (a.service ?? 'not imported') : 'not deployed', a.last_result ?? '-', a.last_run ?? '-', a.bundle_version === null ? '-' : String(a.bundle_version)]);
  const lines = [table(['NODE', 'AGENT', 'NODE.JS', 'SERVICE', 'LAST RESULT', 'LAST RUN', 'BUNDLE'], rows)];
  for (const a of agents) for (const p of a.problems) lines.push(`${a.node}: ${p}`);
  return lines.join('\n');
}

export { agentSummary };
