/**
 * `esdc-overlay store migrate --from A --to B`: copies the state between
 * stores (state files and zk:// cfgdb trees), then loads both and compares
 * the models, so a migration that lost anything says so.
 */
import type { Command } from 'commander';
import { StoreError } from '../../errors.js';
import type { Model } from '../../model/model.js';
import { modelDifferences } from '../../store/compare.js';
import { isEmptyDoc } from '../../store/store.js';
import { redact } from '../../store/zk-url.js';
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
      if (from.location === to.location) throw new StoreError(`--from and --to are the same store (${redact(from.location)})`, { code: 'SameStore' });
      // A cfgdb tree may name nodes not yet discovered: copy it as it is, with the problems as warnings.
      const source = await from.load('warn');
      ctx.warn(source.warnings);
      let replaced = false;
      // Validation and encoding of a large state take seconds of CPU: done before the lock, whose
      // ZooKeeper session would otherwise go without pings and expire (bench/RESULTS.md, 2,000 nodes).
      await to.prepare?.(source.doc, 'warn');
      await to.withLock(async () => {
        const target = await to.loadOrEmpty('warn');
        if (!isEmptyDoc(target.doc)) {
          replaced = true;
          if (!ctx.json) io.stderr.write(`${to.location} holds a state (${summary(target.model)}); it will be replaced by ${from.location} (${summary(source.model)})\n`);
          await ctx.confirm(`Replace the state in ${to.location}?`);
        }
        await to.save(source.doc, target, 'warn');
      });
      // The write is done; if the store drops now, say so, or an operator would take it for a failed copy.
      const copy = await to.load('warn').catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err;
        throw new StoreError(`wrote the state to ${redact(to.location)} but could not read it back to verify it: ${err.message}`, {
          code: err.code,
          cause: err,
        });
      });
      const differences = modelDifferences(source.model, copy.model);
      if (differences.length > 0) {
        throw new StoreError(`the copy in ${to.location} differs from ${from.location} in: ${differences.join(', ')}`, { code: 'MigrationMismatch' });
      }
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
