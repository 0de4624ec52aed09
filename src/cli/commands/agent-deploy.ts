/**
 * `agent deploy [nodes...]` (the one-file bundle, agent.json and the SMF
 * manifest onto each node, then svccfg import and svcadm enable) and
 * `agent status --all` (every node's agent, over SSH).
 */
import type { Command } from 'commander';
import { bundlePath, readBundle } from '../../agent/bundle-file.js';
import { renderDeployPlan } from '../../agent/deploy.js';
import { executeAgentDeploy, planAgentDeploy, type DeployOutcome } from '../../agent/deploy-run.js';
import { agentSummary, readRemoteAgent, type RemoteAgent } from '../../agent/remote-status.js';
import { failureOf, NodesFailedError } from '../../apply/fleet.js';
import { settleLimit } from '../../apply/pool.js';
import { EXIT, EsdcError, OutcomeReported } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { remoteFrom, selectNodes, withRemoteOptions, type RemoteOptions } from '../remote.js';
import { table } from '../table.js';
import { modelWarnings } from '../warnings.js';

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
      const snap = await ctx.store().load('require');
      ctx.warn(modelWarnings(snap));
      const only = selectNodes(snap.model, nodes);
      const bundleText = await readBundle(bundlePath(opts.bundle));
      const remote = await remoteFrom(opts, io.env, {}, snap.model, ctx.log);
      const progress = (node: string, line: string): void => ctx.progress(`${node}: ${line}`);
      const fleet = await planAgentDeploy(snap.model, only, remote.open, {
        bundleText,
        ...(opts.node !== undefined ? { nodePath: opts.node } : {}),
        concurrency: remote.concurrency,
        timeoutMs: remote.timeoutMs,
        onProgress: progress,
      });
      try {
        const plans = fleet.nodes.map((n) => n.plan);
        const changed = plans.filter((p) => p.changed);
        if (!ctx.json) io.stdout.write(`${renderDeployPlan(plans)}\n`);
        if (changed.length === 0) {
          ctx.output(() => 'The agent is up to date on every node.', () => snakeJson({ ok: true, plan: plans, outcomes: [] }));
          return;
        }
        await ctx.confirm(`Deploy the agent to ${changed.length} node(s)?`);
        const result = await executeAgentDeploy(fleet, { concurrency: remote.concurrency, timeoutMs: remote.timeoutMs, onProgress: progress });
        ctx.output(() => `\n${renderOutcomes(result.outcomes)}`, () => snakeJson({ ok: result.ok, plan: plans, outcomes: result.outcomes }));
        if (!result.ok) {
          if (ctx.json) throw new OutcomeReported('agent deploy failed', { code: 'DeployFailed', exitStatus: EXIT.failure });
          throw new EsdcError(`agent deploy failed on ${result.outcomes.filter((o) => o.status === 'failed').map((o) => o.node).join(', ')} (see above)`, { code: 'DeployFailed' });
        }
      } finally {
        await fleet.close();
      }
    });
}

/** Reads the agent of every selected node; a node that cannot be reached is reported, not fatal to the others. */
export async function remoteAgents(ctx: CliContext, nodes: readonly string[], opts: RemoteOptions): Promise<RemoteAgent[]> {
  const snap = await ctx.store().load('require');
  ctx.warn(modelWarnings(snap));
  const only = selectNodes(snap.model, nodes);
  const selected = snap.model.nodes.filter((n) => !only || only.has(n.name));
  const remote = await remoteFrom(opts, ctx.io.env, {}, snap.model, ctx.log);
  const opened: Transport[] = [];
  try {
    const results = await settleLimit(selected, remote.concurrency, async (n) => {
      const t = await remote.open(n);
      opened.push(t);
      return readRemoteAgent(t, remote.timeoutMs);
    });
    const failures = results.flatMap((r, i) => (r.ok ? [] : [failureOf(selected[i]!.name, r.error)]));
    if (failures.length > 0) throw new NodesFailedError('could not read the agent', failures);
    return results.map((r) => (r as { ok: true; value: RemoteAgent }).value);
  } finally {
    await Promise.all(opened.map((t) => t.close().catch(() => undefined)));
  }
}

export function renderRemoteAgents(agents: readonly RemoteAgent[]): string {
  const rows = agents.map((a) => [a.node, a.version ?? '-', a.nodeVersion ?? '-', a.installed ? (a.service ?? 'not imported') : 'not deployed', a.last_result ?? '-', a.last_run ?? '-', a.bundle_version === null ? '-' : String(a.bundle_version)]);
  const lines = [table(['NODE', 'AGENT', 'NODE.JS', 'SERVICE', 'LAST RESULT', 'LAST RUN', 'BUNDLE'], rows)];
  for (const a of agents) for (const p of a.problems) lines.push(`${a.node}: ${p}`);
  return lines.join('\n');
}

export { agentSummary };
