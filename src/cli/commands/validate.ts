/** `esdc-overlay validate`: check the state file; exit 0 when it loads, 1 listing every problem. */
import type { Command } from 'commander';
import { redactIssue } from '../../redact.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';

export function registerValidate(program: Command, io: CliIo): void {
  withCommonOptions(program.command('validate'))
    .description('check the state: shape, and consistency (known nodes and rules, unique ports, MACs and IPs)')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadState('require');
      const m = snap.model;
      ctx.output(
        () => `${ctx.store().location}: valid (${m.nodes.length} nodes in ${m.pdcs.length} PDCs, ${m.rules.length} rules, ${m.vnics.length} VM NICs)`,
        () => ({ valid: true, nodes: m.nodes.length, pdcs: m.pdcs, rules: m.rules.length, vnics: m.vnics.length, warnings: snap.modelWarnings.map(redactIssue) }),
      );
    });
}
