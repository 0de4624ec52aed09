/**
 * `esdc-overlay init`: a first, minimal valid state (`version: 1`, and the
 * head node's PDC when given), so that `nodes discover` and the rule
 * commands have a store to work on. A store that already holds a state is
 * left alone.
 */
import type { Command } from 'commander';
import { ConflictError, ValidationError } from '../../errors.js';
import { matches, PDC_NAME } from '../../syntax/patterns.js';
import type { StateDoc } from '../../model/state.js';
import { isEmptyDoc } from '../../store/store.js';
import { intOption, withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { commandPrefix } from '../next-steps.js';
import { quoteArgv } from '../../shell/quote.js';

export function registerInit(program: Command, io: CliIo): void {
  withCommonOptions(program.command('init'))
    .description('write a minimal valid state to start from (refused when the store already holds one)')
    .option('--underlay-mtu <mtu>', 'MTU of the admin and external networks (defaults.underlay_mtu; default 1500)', intOption('--underlay-mtu'))
    .option('--head-pdc <pdc>', "the head node's PDC (defaults.head_pdc; nodes discover --head records it from sysinfo)")
    .addHelpText('after', '\nExamples:\n  esdc-overlay --state state.yaml init\n  esdc-overlay --state state.yaml init --head-pdc prg\n')
    .action(async (opts: { underlayMtu?: number; headPdc?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const doc: StateDoc = { version: 1 };
      const defaults: NonNullable<StateDoc['defaults']> = {};
      if (opts.underlayMtu !== undefined) defaults.underlay_mtu = opts.underlayMtu;
      if (opts.headPdc !== undefined) {
        if (!matches(PDC_NAME, opts.headPdc)) throw new ValidationError([{ path: '--head-pdc', value: opts.headPdc, message: 'is not a PDC name' }], 'init');
        defaults.head_pdc = opts.headPdc;
      }
      if (Object.keys(defaults).length > 0) doc.defaults = defaults;
      const store = ctx.store();
      await store.withLock(async () => {
        const base = await store.loadOrEmpty('warn');
        if (!isEmptyDoc(base.doc)) {
          throw new ConflictError(`${store.location} already holds a state; init writes only a new one`, { code: 'StateExists' });
        }
        await store.save(doc, base);
      });
      const prefix = commandPrefix(ctx.opts);
      const next = `${quoteArgv([...prefix, 'nodes', 'discover', '--accept-new-host-keys', '--head'])} <head> <head> <other nodes, or root@address>...`;
      ctx.output(
        () =>
          [
            `wrote a new state to ${store.location}`,
            `next: add nodes with: ${next}`,
            `      then create rules (${quoteArgv([...prefix, 'create'])} <rule>) and apply (${quoteArgv([...prefix, 'apply'])})`,
          ].join('\n'),
        () => ({ initialised: store.location, state: doc, next }),
      );
    });
}
