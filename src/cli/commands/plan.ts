/** `esdc-overlay plan [nodes...]`: what apply would change on each node, read live over SSH; changes nothing. */
import type { Command } from 'commander';
import { EXIT, OutcomeReported } from '../../errors.js';
import { IPSEC_PROFILE_HELP } from '../../ipsec/profile.js';
import { planIsEmpty } from '../../plan/plan.js';
import { planJson, renderPlan, renderPlanSummary } from '../../plan/render-plan.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { planNodes } from '../../operations/nodes.js';
import { withRemoteOptions, type RemoteOptions } from '../remote.js';

export function registerPlan(program: Command, io: CliIo): void {
  withRemoteOptions(withCommonOptions(program.command('plan')))
    .description('show, per node, what apply would change (files with a short diff, /usbkey/config lines, overlays, refreshes)')
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .option('--exit-code', 'exit 2 when the plan is not empty')
    .option('--summary', 'one line per node: files added, changed, removed; /usbkey/config lines; overlays; refreshes')
    .addHelpText('after', IPSEC_PROFILE_HELP)
    .action(async (nodes: string[], opts: RemoteOptions & { exitCode?: boolean; summary?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { exitCode, summary, ...remote } = opts;
      const fleet = await planNodes(ctx, { nodes, remote, refuseSplitPairs: true });
      ctx.output(() => (summary ? renderPlanSummary(fleet.plan) : renderPlan(fleet.plan)), () => snakeJson(planJson(fleet.plan)));
      if (exitCode && !planIsEmpty(fleet.plan)) {
        throw new OutcomeReported('the plan is not empty', { code: 'PlanNotEmpty', exitStatus: EXIT.drift });
      }
    });
}
