/**
 * `esdc-overlay store migrate --from A --to B`: copies the state between
 * stores (state files and zk:// cfgdb trees), then loads both and compares
 * the models, so a migration that lost anything says so
 * (src/operations/migrate.ts; this file asks and prints).
 */
import type { Command } from 'commander';
import type { Model } from '../../model/model.js';
import { migrateStore } from '../../operations/migrate.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';

function summary(m: Model): string {
  const keys = m.pdcKeys.length > 0 ? `${m.pairKeys.length} IPsec keys, ${m.pdcKeys.length} PDC pair keys` : `${m.pairKeys.length} IPsec keys`;
  return `${m.nodes.length} nodes, ${m.rules.length} rules, ${keys}, ${m.vnics.length} VM NICs`;
}

export function registerStore(program: Command, io: CliIo): void {
  const store = program.command('store').description('work with stores: state files and ZooKeeper (Danube cfgdb)');
  withConfirmOption(withCommonOptions(store.command('migrate')))
    .description('copy the state from one store to another and verify the copy (A and B: file paths or zk:// URLs)')
    .requiredOption('--from <store>', 'store to read (file path or zk://host:port/root)')
    .requiredOption('--to <store>', 'store to write; its current state is replaced (asks unless --yes)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  esdc-overlay store migrate --from zk://10.0.66.20:2181/esdc/settings --to /opt/erigones/var/esdc-overlay/state.yaml\n' +
        '  ESDC_OVERLAY_ZK_AUTH=esdc:secret esdc-overlay store migrate --from state.yaml --to zk://cfgdb:2181/esdc/settings --yes\n',
    )
    .action(async (opts: { from: string; to: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const from = ctx.openStore(opts.from);
      const to = ctx.openStore(opts.to);
      const { source, replaced } = await migrateStore(ctx, from, to, async (target, copied) => {
        if (!ctx.json) io.stderr.write(`${to.location} holds a state (${summary(target)}); it will be replaced by ${from.location} (${summary(copied)})\n`);
        await ctx.confirm(`Replace the state in ${to.location}?`);
      });
      ctx.output(
        () => `copied ${summary(source.model)} from ${from.location} to ${to.location}${replaced ? ' (replaced its state)' : ''}; verified: both load to the same model`,
        () => ({
          migrated: {
            from: from.location,
            to: to.location,
            replaced,
            verified: true,
            nodes: source.model.nodes.length,
            rules: source.model.rules.length,
            ipsec_keys: source.model.pairKeys.length,
            vnics: source.model.vnics.length,
            warnings: source.warnings.length,
          },
        }),
      );
    });
}
