/** `esdc-overlay update <rule> [nodes|all] [raw rule]`: change a rule's node list or parameters. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { updateRule } from '../../rules/edit.js';
import { canonicalRuleString } from '../../syntax/rule-string.js';
import { transact } from '../../operations/transact.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { pick, ruleRequest, withRuleArguments } from './create.js';
import { commandPrefix, nextApply, nextSteps } from '../next-steps.js';
import { quoteArgv } from '../../shell/quote.js';

export function registerUpdate(program: Command, io: CliIo): void {
  const update = withCommonOptions(program.command('update')).description(
    "change a rule's nodes or parameters (a port, MTU or listen IP change takes effect on SmartOS at the next reboot)",
  );
  withRuleArguments(update, {
    rule: ['[rule]', 'rule name'],
    nodes: '"all" or a comma-separated list of hostnames (default: keep)',
    raw: 'dladm parameters replacing the current ones',
    port: 'new UDP port',
    mtu: 'new overlay MTU',
    listenIp: 'new listen IP',
    filesConfig: 'new ARP table path',
  })
    .action(async (name: string | undefined, nodes: string | undefined, raw: string | undefined, opts: Record<string, unknown>, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if (name === undefined) {
        // Danube's `update` without a rule re-applied every rule on every node (erigones/esdc-ce
        // bin/esdc-overlay:1114-1126): here the state is already what the nodes should have, so
        // there is nothing to change, only the apply to run.
        if (nodes !== undefined || raw !== undefined || Object.keys(pick(opts)).length > 0) {
          throw new UsageError('update without a rule name takes no nodes or parameters: name the rule to change');
        }
        await ctx.loadState('require');
        ctx.output(
          () => nextSteps(ctx.opts, false, 'all').join('\n'),
          () => ({ updated: null, next: quoteArgv([...commandPrefix(ctx.opts), 'apply']) }),
        );
        return;
      }
      const { result, snapshot, warnings } = await transact(ctx.store(), (snap) =>
        updateRule(snap.doc, snap.model, ruleRequest(name, nodes, raw, opts)),
      );
      const rule = snapshot.model.ruleByName.get(result.name)!;
      ctx.warn(warnings);
      if (result.changes.length > 0) ctx.log.info({ rule: rule.name, changes: result.changes }, 'rule updated');
      ctx.output(
        () =>
          [
            ...(result.changes.length === 0 ? [`rule ${rule.name} unchanged`] : [`updated rule ${rule.name}:`, ...result.changes.map((c) => `  ${c}`)]),
            ...nextSteps(ctx.opts, result.changes.length > 0, rule.nodeSelector === 'all' ? 'all' : rule.nodes),
          ].join('\n'),
        () => ({ updated: { name: rule.name, changes: result.changes, rule: canonicalRuleString(rule), nodes: rule.nodeSelector }, next: nextApply(ctx.opts) }),
      );
    });
}
