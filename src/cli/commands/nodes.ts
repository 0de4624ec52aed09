/**
 * `esdc-overlay nodes discover <node|address>...`: read each node's sysinfo
 * and VM NICs over SSH and record them in the state, showing what changed.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { settleLimit } from '../../apply/pool.js';
import { failureOf, NodesFailedError } from '../../apply/fleet.js';
import { discoverNode } from '../../discovery/discover.js';
import type { Discovered } from '../../discovery/merge.js';
import { mergeDiscovery } from '../../discovery/merge.js';
import { matches, HOSTNAME, SSH_USER } from '../../syntax/patterns.js';
import type { Node } from '../../model/model.js';
import type { SshDoc, StateDoc } from '../../model/state.js';
import { mutate } from '../../store/store.js';
import { Validator } from 'ip-num';
import { withCommonOptions } from '../common.js';
import { registerNodesRemove } from './nodes-remove.js';
import { nextSteps } from '../next-steps.js';
import { EsdcError } from '../../errors.js';
import { buildModel } from '../../model/build-model.js';
import { updateAdminOverlay } from '../../adminoverlay/edit.js';
import { rotateKeys, storedMeshKeys } from '../../ipsec/keys.js';
import { meshPairs, pairId } from '../../ipsec/pairs.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { remoteFrom, withRemoteOptions, type RemoteOptions } from '../remote.js';

/** `[user@]host[:port]` → an SSH doc; undefined when it is not an address. */
export function parseAddress(text: string): SshDoc | undefined {
  const m = /^(?:([^@]+)@)?([^:@]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const [, user, host, port] = m;
  if (!Validator.isValidIPv4String(host!)[0] && !matches(HOSTNAME, host!)) return undefined;
  if (user !== undefined && !matches(SSH_USER, user)) throw new UsageError(`${JSON.stringify(user)} in ${text} is not a user name`);
  const ssh: SshDoc = { host: host! };
  if (user !== undefined) ssh.user = user;
  if (port !== undefined) {
    const p = Number(port);
    if (p < 1 || p > 65535) throw new UsageError(`port ${port} in ${text} is not 1-65535`);
    ssh.port = p;
  }
  return ssh;
}

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

type DiscoverOptions = RemoteOptions & { dryRun?: boolean; acceptNewHostKeys?: boolean; replace?: boolean; head?: string };

/**
 * `nodes discover`, and `nodes add` (one node, then its adminoverlay address
 * and the keys of its pairs, in the same state change).
 */
async function discoverCommand(io: CliIo, cmd: Command, targets: string[], opts: DiscoverOptions, add?: { host: string }): Promise<void> {
    const ctx = CliContext.fromCommand(io, cmd);
    if (opts.head !== undefined && !targets.includes(opts.head)) {
      throw new UsageError(`--head ${JSON.stringify(opts.head)} must be one of the targets given (${targets.join(', ')})`);
    }
    const store = ctx.store();
    const snap = await store.load('warn');
    const remote = await remoteFrom(opts, io.env, { acceptNewHostKeys: opts.acceptNewHostKeys === true }, snap.model, ctx.log);
    // A known name keeps its SSH settings; an address is a new node.
    const jobs = targets.map((t) => {
      const known = snap.model.nodeByName.get(t);
      if (known) return { label: t, node: known, ssh: undefined as SshDoc | undefined };
      const ssh = parseAddress(t);
      if (!ssh) throw new UsageError(`${JSON.stringify(t)} is neither a node in the state nor an address [user@]host[:port]`);
      const node: Node = {
        name: t,
        uuid: '',
        pdc: '',
        adminIp: ssh.host!,
        externalIp: undefined,
        underlayMtu: { admin: 1500, external: 1500 },
        ssh,
      };
      return { label: t, node, ssh };
    });
    const results = await settleLimit(jobs, remote.concurrency, async (job) => {
      const t = await remote.open(job.node);
      try {
        ctx.progress(`${job.label}: connected (${t.target})`);
        const d = await discoverNode(t, remote.timeoutMs);
        // Record how a new node was reached unless it is the default (its admin IP, port 22, root).
        let ssh: SshDoc | undefined;
        if (job.ssh) {
          ssh = {};
          if (job.ssh.host !== d.facts.adminIp) ssh.host = job.ssh.host!;
          if (job.ssh.port !== undefined && job.ssh.port !== 22) ssh.port = job.ssh.port;
          if (job.ssh.user !== undefined && job.ssh.user !== 'root') ssh.user = job.ssh.user;
        }
        return { ...d, ssh } satisfies Discovered;
      } finally {
        await t.close();
      }
    });
    const failures = results.flatMap((r, i) => (r.ok ? [] : [failureOf(jobs[i]!.label, r.error)]));
    if (failures.length > 0) throw new NodesFailedError('discovery failed', failures);
    const found = results.map((r) => (r as { ok: true; value: Discovered }).value);
    for (const [i, f] of found.entries()) {
      const job = jobs[i]!;
      if (job.ssh === undefined && f.facts.hostname !== job.node.name) {
        throw new UsageError(`${job.node.name} reports hostname ${f.facts.hostname}; rename the node in the state first`);
      }
    }
    if (add !== undefined && found[0]!.facts.hostname !== add.host) {
      throw new EsdcError(`${targets[0]} reports hostname ${found[0]!.facts.hostname}, not ${add.host}; nothing was changed`, { code: 'HostnameMismatch' });
    }
    let changes: Record<string, string[]>;
    const merge = { replace: opts.replace === true };
    const head = opts.head === undefined ? undefined : found[targets.indexOf(opts.head)]!;
    const discovered = (doc: StateDoc): { doc: StateDoc; changes: Record<string, string[]> } => {
      const m = add === undefined ? mergeDiscovery(doc, found, merge) : withAddedNode(mergeDiscovery(doc, found, merge), add.host);
      if (head === undefined || m.doc.defaults?.head_pdc === head.facts.pdc) return m;
      const lines = m.changes[head.facts.hostname] ?? (m.changes[head.facts.hostname] = []);
      lines.push(`head node: defaults.head_pdc ${m.doc.defaults?.head_pdc ?? '(none)'} → ${head.facts.pdc} (nodes of other PDCs are reached on their external IP)`);
      return { doc: { ...m.doc, defaults: { ...m.doc.defaults, head_pdc: head.facts.pdc } }, changes: m.changes };
    };
    if (opts.dryRun) changes = discovered(snap.doc).changes;
    else {
      ({ result: changes } = await mutate(store, (s) => {
        const m = discovered(s.doc);
        return { doc: m.doc, result: m.changes };
      }));
    }
    ctx.output(
      () =>
        Object.entries(changes)
          .map(([node, lines]) => (lines.length === 0 ? `${node}: unchanged` : [`${node}:`, ...lines.map((l) => `  ${l}`)].join('\n')))
          .join('\n') +
        (opts.dryRun ? '\n(dry run: the state was not written)' : '') +
        (add !== undefined && !opts.dryRun ? `\n${nextSteps(ctx.opts, true, [add.host]).join('\n')}` : ''),
      () => ({
        dry_run: opts.dryRun === true,
        nodes: found.map((f) => ({
          node: f.facts.hostname,
          changes: changes[f.facts.hostname] ?? [],
          // Keys snake_case; the rule names under overlay_rules are data and pass as they are.
          facts: { ...(snakeJson({ ...f.facts, overlayRules: undefined }) as object), overlay_rules: f.facts.overlayRules },
          vnics: f.vnics,
        })),
      }),
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
