/** `esdc-overlay delete <rule>`: remove a rule, after showing what goes and asking. */
import type { Command } from 'commander';
import { deleteRule } from '../../rules/edit.js';
import { transact } from '../../operations/transact.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { nextApply, nextSteps } from '../next-steps.js';

export function registerDelete(program: Command, io: CliIo): void {
  withConfirmOption(withCommonOptions(program.command('delete')))
    .description('delete an overlay rule (its /usbkey/config line and ARP table go from every node at the next apply)')
    .argument('<rule>', 'rule name')
    .option('--force', 'also drop the VM NICs recorded on the rule')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { result, warnings } = await transact(ctx.store(), (snap) => deleteRule(snap.doc, snap.model, name, opts.force === true), {
        preview: ({ result: r }) => {
          if (ctx.json) return;
          io.stderr.write(
            `delete rule ${r.name}: removes overlay_rule_${r.name} and its ARP table from ${r.nodes.length} node(s)` +
              `${r.nodes.length > 0 ? ` (${r.nodes.join(', ')})` : ''}` +
              `${r.vnics > 0 ? `, and drops ${r.vnics} VM NIC record(s)` : ''}\n`,
          );
        },
        confirm: ({ result: r }) => ctx.confirm(`Delete rule ${r.name}?`),
      });
      ctx.log.info({ rule: result.name }, 'rule deleted');
      ctx.warn(warnings);
      ctx.output(
        () => [`deleted rule ${result.name}`, ...nextSteps(ctx.opts, true, result.nodes)].join('\n'),
        () => ({ deleted: { name: result.name, nodes: result.nodes, vnics: result.vnics }, next: nextApply(ctx.opts) }),
      );
    });
}
