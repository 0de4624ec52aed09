/** `esdc-overlay list`: the overlay rules, their ports and nodes. Works on an inconsistent state (warns). */
import type { Command } from 'commander';
import { canonicalRuleString } from '../../syntax/rule-string.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { table } from '../table.js';

export function registerList(program: Command, io: CliIo): void {
  withCommonOptions(program.command('list'))
    .description('list overlay rules with their port, MTU and nodes')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const rules = snap.model.rules;
      ctx.output(
        () =>
          rules.length === 0
            ? 'no overlay rules'
            : table(
                ['NAME', 'PORT', 'MTU', 'LISTEN_IP', 'NODES'],
                rules.map((r) => [
                  r.name,
                  String(r.port),
                  String(r.mtu),
                  r.listenIp,
                  r.nodeSelector === 'all' ? 'all' : r.nodeSelector.join(','),
                ]),
              ),
        () => ({
          rules: rules.map((r) => ({
            name: r.name,
            port: r.port,
            mtu: r.mtu,
            listen_ip: r.listenIp,
            files_config: r.filesConfig,
            nodes: r.nodeSelector,
            rule: canonicalRuleString(r),
            adminoverlay: r.adminOverlay,
          })),
        }),
      );
    });
}
