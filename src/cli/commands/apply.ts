/**
 * `esdc-overlay apply [nodes...]`: show the plan, ask, then stage on every
 * selected node and commit only when all staged (docs/operations.md#apply).
 */
import type { Command } from 'commander';
import { EXIT, EsdcError, OutcomeReported } from '../../errors.js';
import type { ExecuteResult } from '../../apply/execute.js';
import { IPSEC_PROFILE_HELP } from '../../ipsec/profile.js';
import { applyNodes } from '../../operations/apply.js';
import { planJson, renderPlan } from '../../plan/render-plan.js';
import { outcomeCounts } from '../../plan/counts.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { withRemoteOptions, type RemoteOptions } from '../remote.js';
import { degradedLines } from '../../discovery/overlay-health.js';
import { table } from '../table.js';
import { commandPrefix } from '../next-steps.js';
import { quoteArgv } from '../../shell/quote.js';

export function renderSummary(result: ExecuteResult): string {
  const rows = result.outcomes.map((o) => [
    o.node,
    o.status,
    String(o.wrote),
    String(o.removed),
    o.refreshed.join(',') || '-',
    o.created.join(',') || '-',
    `${Math.round(o.ms)} ms`,
  ]);
  const lines = [table(['NODE', 'STATUS', 'WROTE', 'REMOVED', 'REFRESHED', 'OVERLAYS', 'TIME'], rows)];
  for (const o of result.outcomes) {
    if (o.status === 'stage-failed') lines.push(`\n${o.node}: staging failed: ${o.error}`);
    if (o.status === 'commit-failed') {
      lines.push(
        `\n${o.node}: commit failed: ${o.error}`,
        `  finish it with: esdc-overlay apply --yes ${o.node}`,
        '  or by hand on the node:',
        ...(o.finish ?? []).map((c) => `    ${c}`),
      );
    }
  }
  if (result.phase === 'stage' && !result.ok) lines.push('\nNothing was committed on any node; staged files were removed.');
  return lines.join('\n');
}

export function registerApply(program: Command, io: CliIo): void {
  withConfirmOption(withRemoteOptions(withCommonOptions(program.command('apply'))))
    .description('apply the desired state to nodes over SSH: plan, confirm, stage everywhere, then commit and refresh')
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .option('--exclude <nodes>', 'leave these nodes out of the run (comma-separated; repeatable); refused when that splits an IPsec pair', (v: string, prev: string[] = []) => [...prev, v])
    .option('--skip-unreachable', 'leave out nodes that cannot be connected to (never one whose host key is unknown or changed); refused when that splits an IPsec pair')
    .option('--assign-adminoverlay', 'give each node without an adminoverlay address the next free one and a MAC (stored on confirmation), as adminoverlay-update does')
    .addHelpText('after', IPSEC_PROFILE_HELP)
    .action(async (nodes: string[], opts: RemoteOptions & { assignAdminoverlay?: boolean; exclude?: string[]; skipUnreachable?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { exclude, skipUnreachable, assignAdminoverlay, ...remote } = opts;
      const out = await applyNodes(
        ctx,
        {
          nodes,
          remote,
          ...(exclude !== undefined ? { exclude } : {}),
          ...(skipUnreachable !== undefined ? { skipUnreachable } : {}),
          ...(assignAdminoverlay !== undefined ? { assignAdminoverlay } : {}),
        },
        {
          preview: (p) => {
            if (ctx.json) return;
            io.stdout.write(`${renderPlan(p.plan)}\n`);
            if (p.keys) {
              const unit = p.keys.unit === 'PDC pair' ? 'PDC pair(s)' : 'pair(s)';
              io.stdout.write(`IPsec: ${p.keys.added.length} ${unit} get a new key, stored in the state on confirmation.\n`);
            }
            if (p.assigned.length > 0) {
              io.stdout.write(`adminoverlay: ${p.assigned.map((m) => `${m.node} gets ${m.ip} (${m.mac})`).join(', ')}; stored in the state on confirmation.\n`);
            }
          },
          confirm: (question) => ctx.confirm(question),
          skipped: (f) => io.stderr.write(`skipping unreachable node ${f.node}: ${f.message}\n`),
        },
      );
      const { result, left, degraded } = out;
      ctx.output(
        () => (out.empty ? '' : `\n${renderSummary(result)}`) + degraded.flatMap((d) => d.overlays.flatMap((o) => ['', ...degradedLines(d.node, o, " after varpd's restart")])).map((l) => `\n${l}`).join(''),
        () =>
          snakeJson({
            ok: result.ok,
            phase: result.phase,
            plan: planJson(out.plan),
            outcomes: result.outcomes.map((o) => ({ ...o, counts: outcomeCounts(o) })),
            degraded,
          }),
      );
      if (left.length > 0 && !ctx.json) {
        io.stdout.write(`\nleft out of this run: ${left.join(', ')}; finish them with: ${quoteArgv([...commandPrefix(ctx.opts), 'apply', ...left])}\n`);
      }
      if (!result.ok) {
        if (ctx.json) throw new OutcomeReported('apply failed', { code: 'ApplyFailed', exitStatus: EXIT.failure });
        const failed = result.outcomes.filter((o) => o.status === 'stage-failed' || o.status === 'commit-failed').map((o) => o.node);
        throw new EsdcError(`apply failed on ${failed.join(', ')} (see the summary above)`, { code: 'ApplyFailed' });
      }
      // The files are applied, but a VM network is down until someone recreates its overlay: not "done".
      if (degraded.length > 0) throw new OutcomeReported('degraded overlays', { code: 'Degraded', exitStatus: EXIT.drift });
    });
}
