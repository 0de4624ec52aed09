/**
 * `esdc-overlay nodes discover <node|address>...`: read each node's sysinfo
 * and VM NICs over SSH and record them in the state, showing what changed.
 */
import type { Command } from 'commander';
import { withCommonOptions } from '../common.js';
import { registerNodesRemove } from './nodes-remove.js';
import { nextSteps } from '../next-steps.js';
import { CliContext, type CliIo } from '../context.js';
import { withRemoteOptions } from '../remote.js';
import { discoverNodes } from '../../operations/discover.js';
import { changesText, discoveredJson, type DiscoverOptions } from '../discover-run.js';

export function registerNodes(program: Command, io: CliIo): void {
  const nodes = withCommonOptions(program.command('nodes')).description('compute nodes: discovery, removal');
  registerNodesRemove(nodes, io);
  withRemoteOptions(withCommonOptions(nodes.command('discover')))
    .description('read sysinfo and vmadm from nodes over SSH and record hostname, UUID, PDC, IPs, MTUs and overlay VM NICs')
    .argument('<targets...>', 'node names already in the state, or addresses [user@]host[:port]')
    .option('--dry-run', 'show what would change without writing the state')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts (a changed key is still refused)')
    .option('--replace', 'accept a node that reports a hostname of the state with another UUID (a reinstalled or replaced node)')
    .option('--head <target>', 'this target (one of those given) is the head node: record its PDC (sysinfo "Datacenter Name") as defaults.head_pdc')
    .action((targets: string[], opts: DiscoverOptions, cmd: Command) => discoverCommand(io, cmd, targets, opts));

  withRemoteOptions(withCommonOptions(nodes.command('add')))
    .description('add a node in one step: discover it, give it an adminoverlay address and the IPsec keys of its pairs, then say the plan and apply to run')
    .argument('<host>', 'the node\'s hostname (as its sysinfo reports it)')
    .argument('[address]', 'where to reach it: [user@]host[:port] (default: the hostname)')
    .option('--accept-new-host-keys', 'trust and record its host key if not yet in known_hosts (a changed key is still refused)')
    .option('--dry-run', 'show what would change without writing the state')
    .action((host: string, address: string | undefined, opts: DiscoverOptions, cmd: Command) =>
      discoverCommand(io, cmd, [address ?? host], opts, { host }),
    );
}

/** `nodes discover` and `nodes add`: src/operations/discover.ts reads and saves; this says what changed. */
async function discoverCommand(io: CliIo, cmd: Command, targets: string[], opts: DiscoverOptions, add?: { host: string }): Promise<void> {
  const ctx = CliContext.fromCommand(io, cmd);
  const { found, changes } = await discoverNodes(ctx, targets, opts, add);
  ctx.output(
    () =>
      changesText(changes) +
      (opts.dryRun ? '\n(dry run: the state was not written)' : '') +
      (add !== undefined && !opts.dryRun ? `\n${nextSteps(ctx.opts, true, [add.host]).join('\n')}` : ''),
    () => ({ dry_run: opts.dryRun === true, nodes: discoveredJson(found, changes) }),
  );
}
