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
import type { SshDoc } from '../../model/state.js';
import { mutate } from '../../store/store.js';
import { Validator } from 'ip-num';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
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
  const nodes = withCommonOptions(program.command('nodes')).description('compute nodes: discovery');
  withRemoteOptions(withCommonOptions(nodes.command('discover')))
    .description('read sysinfo and vmadm from nodes over SSH and record hostname, UUID, PDC, IPs, MTUs and overlay VM NICs')
    .argument('<targets...>', 'node names already in the state, or addresses [user@]host[:port]')
    .option('--dry-run', 'show what would change without writing the state')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts (a changed key is still refused)')
    .option('--replace', 'accept a node that reports a hostname of the state with another UUID (a reinstalled or replaced node)')
    .action(async (targets: string[], opts: RemoteOptions & { dryRun?: boolean; acceptNewHostKeys?: boolean; replace?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const store = ctx.store();
      const snap = await store.load('warn');
      const remote = await remoteFrom(opts, io.env, { acceptNewHostKeys: opts.acceptNewHostKeys === true });
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
      let changes: Record<string, string[]>;
      const merge = { replace: opts.replace === true };
      if (opts.dryRun) changes = mergeDiscovery(snap.doc, found, merge).changes;
      else {
        ({ result: changes } = await mutate(store, (s) => {
          const m = mergeDiscovery(s.doc, found, merge);
          return { doc: m.doc, result: m.changes };
        }));
      }
      ctx.output(
        () =>
          Object.entries(changes)
            .map(([node, lines]) => (lines.length === 0 ? `${node}: unchanged` : [`${node}:`, ...lines.map((l) => `  ${l}`)].join('\n')))
            .join('\n') + (opts.dryRun ? '\n(dry run: the state was not written)' : ''),
        () => ({
          dry_run: opts.dryRun === true,
          nodes: found.map((f) => ({
            node: f.facts.hostname,
            changes: changes[f.facts.hostname] ?? [],
            facts: f.facts,
            vnics: f.vnics,
          })),
        }),
      );
    });
}
