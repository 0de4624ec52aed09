/** `esdc-overlay plan [nodes...]`: what apply would change on each node, read live over SSH; changes nothing. */
import type { Command } from 'commander';
import { EXIT, OutcomeReported } from '../../errors.js';
import { planFleet } from '../../apply/fleet.js';
import { planIsEmpty } from '../../plan/plan.js';
import { planJson, renderPlan } from '../../plan/render-plan.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { remoteFrom, selectNodes, withRemoteOptions, type RemoteOptions } from '../remote.js';

export function registerPlan(program: Command, io: CliIo): void {
  withRemoteOptions(withCommonOptions(program.command('plan')))
    .description('show, per node, what apply would change (files with a short diff, /usbkey/config lines, overlays, refreshes)')
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .option('--exit-code', 'exit 2 when the plan is not empty')
    .action(async (nodes: string[], opts: RemoteOptions & { exitCode?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.store().load('require');
      ctx.warn(snap.warnings);
      const only = selectNodes(snap.model, nodes);
      const remote = await remoteFrom(opts, io.env);
      const fleet = await planFleet(snap.model, only, remote.open, {
        concurrency: remote.concurrency,
        timeoutMs: remote.timeoutMs,
        onProgress: (node, line) => ctx.progress(`${node}: ${line}`),
      });
      await fleet.close();
      ctx.warn(fleet.warnings);
      ctx.output(() => renderPlan(fleet.plan), () => planJson(fleet.plan));
      if (opts.exitCode && !planIsEmpty(fleet.plan)) {
        throw new OutcomeReported('the plan is not empty', { code: 'PlanNotEmpty', exitStatus: EXIT.drift });
      }
    });
}
