/** `esdc-overlay update <rule> [nodes|all] [raw rule]`: change a rule's node list or parameters. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { updateRule } from '../../rules/edit.js';
import { canonicalRuleString } from '../../syntax/rule-string.js';
import { mutate } from '../../store/store.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { ruleRequest, withRuleArguments } from './create.js';

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
      if (name === undefined) {
        throw new UsageError('name the rule to change; to roll out the state as it is, use plan and apply');
      }
      const ctx = CliContext.fromCommand(io, cmd);
      const { result, snapshot } = await mutate(ctx.store(), (snap) =>
        updateRule(snap.doc, snap.model, ruleRequest(name, nodes, raw, opts)),
      );
      const rule = snapshot.model.ruleByName.get(result.name)!;
      if (result.changes.length > 0) ctx.log.info({ rule: rule.name, changes: result.changes }, 'rule updated');
      ctx.output(
        () =>
          result.changes.length === 0
            ? `rule ${rule.name} unchanged`
            : [`updated rule ${rule.name}:`, ...result.changes.map((c) => `  ${c}`)].join('\n'),
        () => ({ updated: { name: rule.name, changes: result.changes, rule: canonicalRuleString(rule), nodes: rule.nodeSelector } }),
      );
    });
}
