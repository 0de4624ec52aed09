/**
 * `esdc-overlay nodes discover <node|address>...`: read each node's sysinfo
 * and VM NICs over SSH and record them in the state, showing what changed.
 */
import type { Command } from 'commander';
import type { StateDoc } from '../../model/state.js';
import { transact } from '../../operations/transact.js';
import { withCommonOptions } from '../common.js';
import { registerNodesRemove } from './nodes-remove.js';
import { nextSteps } from '../next-steps.js';
import { EsdcError } from '../../errors.js';
import { buildModel } from '../../model/build-model.js';
import { updateAdminOverlay } from '../../adminoverlay/edit.js';
import { rotateKeys, storedMeshKeys } from '../../ipsec/keys.js';
import { meshPairs, pairId } from '../../ipsec/pairs.js';
import { CliContext, type CliIo } from '../context.js';
import { withRemoteOptions } from '../remote.js';
import { changesText, discoveredJson, discoverTargets, mergeFound, type DiscoverOptions } from '../discover-run.js';

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

/**
 * `nodes discover`, and `nodes add` (one node, then its adminoverlay address
 * and the keys of its pairs, in the same state change).
 */
async function discoverCommand(io: CliIo, cmd: Command, targets: string[], opts: DiscoverOptions, add?: { host: string }): Promise<void> {
    const ctx = CliContext.fromCommand(io, cmd);
    const store = ctx.store();
    const snap = await store.load('warn');
    const found = await discoverTargets(ctx, io, snap.model, targets, opts);
    if (add !== undefined && found[0]!.facts.hostname !== add.host) {
      throw new EsdcError(`${targets[0]} reports hostname ${found[0]!.facts.hostname}, not ${add.host}; nothing was changed`, { code: 'HostnameMismatch' });
    }
    let changes: Record<string, string[]>;
    const discovered = (doc: StateDoc): { doc: StateDoc; changes: Record<string, string[]> } => {
      const m = mergeFound(doc, found, targets, opts);
      return add === undefined ? m : withAddedNode(m, add.host);
    };
    if (opts.dryRun) changes = discovered(snap.doc).changes;
    else {
      ({ result: changes } = await transact(store, (s) => {
        const m = discovered(s.doc);
        return { doc: m.doc, result: m.changes };
      }));
    }
    ctx.output(
      () =>
        changesText(changes) +
        (opts.dryRun ? '\n(dry run: the state was not written)' : '') +
        (add !== undefined && !opts.dryRun ? `\n${nextSteps(ctx.opts, true, [add.host]).join('\n')}` : ''),
      () => ({ dry_run: opts.dryRun === true, nodes: discoveredJson(found, changes) }),
    );
}

/**
 * `nodes add`: after the merge, the new node's adminoverlay address and MAC
 * (as adminoverlay-update gives them) and a key for each of its pairs that
 * has none, in the same state change.
 */
function withAddedNode(m: { doc: StateDoc; changes: Record<string, string[]> }, host: string): { doc: StateDoc; changes: Record<string, string[]> } {
  let doc = m.doc;
  const lines = m.changes[host] ?? (m.changes[host] = []);
  const model = buildModel(doc);
  if (model.adminOverlay) {
    const edit = updateAdminOverlay(doc, model, {});
    doc = edit.doc;
    for (const c of edit.result.members.filter((x) => x.kind === 'added')) lines.push(`adminoverlay: ${c.node} gets ${c.ip} (${c.mac})`);
  }
  const withAddress = buildModel(doc);
  const stored = storedMeshKeys(withAddress);
  const pairs = meshPairs(withAddress).filter((p) => (p[0] === host || p[1] === host) && !stored.has(pairId(p)));
  if (pairs.length > 0) {
    doc = rotateKeys(doc, withAddress, pairs).doc;
    lines.push(`IPsec: a new key for each of its ${pairs.length} pair(s) with nodes of other PDCs`);
  }
  return { doc, changes: m.changes };
}
