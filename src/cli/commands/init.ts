/**
 * `esdc-overlay init`: a first, minimal valid state (`version: 1`, and the
 * head node's PDC when given), so that `nodes discover` and the rule
 * commands have a store to work on. A store that already holds a state is
 * left alone. With `--discover`, the nodes named are read first (as `nodes
 * discover` reads them) and the state is written once, holding them; a node
 * that cannot be read writes nothing (src/operations/discover.ts).
 */
import type { Command } from 'commander';
import { UsageError, ValidationError } from '../../errors.js';
import { matches, PDC_NAME } from '../../syntax/patterns.js';
import type { StateDoc } from '../../model/state.js';
import { intOption, withCommonOptions } from '../common.js';
import { underlayMtuOption } from '../underlay-mtu-option.js';
import { CliContext, type CliIo } from '../context.js';
import { commandPrefix } from '../next-steps.js';
import { quoteArgv } from '../../shell/quote.js';
import { initState } from '../../operations/discover.js';
import { changesText, discoveredJson, type DiscoverOptions } from '../discover-run.js';

export function registerInit(program: Command, io: CliIo): void {
  withCommonOptions(program.command('init'))
    .description('write a minimal valid state to start from (refused when the store already holds one)')
    .addOption(underlayMtuOption('MTU of the admin and external networks (defaults.underlay_mtu; default 1500)'))
    .option('--head-pdc <pdc>', "the head node's PDC (defaults.head_pdc; nodes discover --head records it from sysinfo)")
    .option('--discover <targets>', 'read these nodes over SSH first and write them into the new state: comma-separated addresses [user@]host[:port], as nodes discover takes them')
    .option('--head <target>', 'with --discover: this target is the head node: record its PDC as defaults.head_pdc')
    .option('--accept-new-host-keys', 'with --discover: trust and record host keys not yet in known_hosts (a changed key is still refused)')
    .option('--identity <file>', 'with --discover: SSH private key (default $ESDC_OVERLAY_IDENTITY or ~/.ssh/id_ed25519)')
    .option('--known-hosts <file>', 'with --discover: known_hosts file (default $ESDC_OVERLAY_KNOWN_HOSTS or ~/.ssh/known_hosts)')
    .option('--connect-timeout <seconds>', 'with --discover: limit for connecting to a node (default 10)', intOption('--connect-timeout'))
    .addHelpText('after', '\nExamples:\n  esdc-overlay --state state.yaml init\n  esdc-overlay --state state.yaml init --head-pdc prg\n  esdc-overlay --state state.yaml init --discover root@10.0.0.5,root@10.0.0.6 --head root@10.0.0.5 --accept-new-host-keys\n')
    .action(async (opts: DiscoverOptions & { underlayMtu?: number; headPdc?: string; discover?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const doc: StateDoc = { version: 1 };
      const defaults: NonNullable<StateDoc['defaults']> = {};
      if (opts.underlayMtu !== undefined) defaults.underlay_mtu = opts.underlayMtu;
      if (opts.headPdc !== undefined) {
        if (!matches(PDC_NAME, opts.headPdc)) throw new ValidationError([{ path: '--head-pdc', value: opts.headPdc, message: 'is not a PDC name' }], 'init');
        defaults.head_pdc = opts.headPdc;
      }
      if (Object.keys(defaults).length > 0) doc.defaults = defaults;
      if (opts.discover === undefined && opts.head !== undefined) throw new UsageError('--head needs --discover');
      let discover: { targets: string[]; opts: DiscoverOptions } | undefined;
      if (opts.discover !== undefined) {
        const targets = opts.discover.split(',').map((t) => t.trim()).filter((t) => t !== '');
        if (targets.length === 0) throw new UsageError('--discover needs at least one address [user@]host[:port]');
        discover = { targets, opts };
      }
      const { found, changes, written, location } = await initState(ctx, doc, discover);
      const prefix = commandPrefix(ctx.opts);
      const next = `${quoteArgv([...prefix, 'nodes', 'discover', '--accept-new-host-keys', '--head'])} <head> <head> <other nodes, or root@address>...`;
      ctx.output(
        () =>
          [
            `wrote a new state to ${location}${found.length > 0 ? ` with ${found.length} node(s)` : ''}`,
            ...(found.length > 0
              ? [changesText(changes), `next: ${quoteArgv([...prefix, 'adminoverlay-init'])} <subnet> for the admin overlay, if wanted,`]
              : [`next: add nodes with: ${next}`]),
            `      then create rules (${quoteArgv([...prefix, 'create'])} <rule>) and apply (${quoteArgv([...prefix, 'apply'])})`,
          ].join('\n'),
        () => ({ initialised: location, state: written, nodes: discoveredJson(found, changes), next: found.length > 0 ? quoteArgv([...prefix, 'adminoverlay-init']) + ' <subnet>' : next }),
      );
    });
}
