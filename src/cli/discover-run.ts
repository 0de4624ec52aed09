/**
 * Discovery as `nodes discover`, `nodes add` and `init --discover` share it:
 * open each target (a node of the state, or an address), read its sysinfo
 * and VM NICs (src/discovery/discover.ts), and merge what was found into a
 * state document (src/discovery/merge.ts), recording the head node's PDC
 * when asked. Nothing is written here: each command saves as it must.
 */
import { Validator } from 'ip-num';
import { settleLimit } from '../apply/pool.js';
import { failureOf, NodesFailedError } from '../apply/fleet.js';
import { discoverNode } from '../discovery/discover.js';
import { mergeDiscovery, type Discovered } from '../discovery/merge.js';
import { UsageError } from '../errors.js';
import type { Model, Node } from '../model/model.js';
import type { SshDoc, StateDoc } from '../model/state.js';
import { HOSTNAME, matches, SSH_USER } from '../syntax/patterns.js';
import type { CliContext, CliIo } from './context.js';
import { snakeJson } from './json-style.js';
import { remoteFrom, type RemoteOptions } from './remote.js';

export type DiscoverOptions = RemoteOptions & { dryRun?: boolean; acceptNewHostKeys?: boolean; replace?: boolean; head?: string };

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

/**
 * Reads every target (in parallel, bounded); throws NodesFailedError, having
 * changed nothing, when any cannot be read, and refuses a known node that
 * now reports another hostname.
 */
export async function discoverTargets(ctx: CliContext, io: CliIo, model: Model, targets: readonly string[], opts: DiscoverOptions): Promise<Discovered[]> {
  if (opts.head !== undefined && !targets.includes(opts.head)) {
    throw new UsageError(`--head ${JSON.stringify(opts.head)} must be one of the targets given (${targets.join(', ')})`);
  }
  const remote = await remoteFrom(opts, io.env, { acceptNewHostKeys: opts.acceptNewHostKeys === true }, model, ctx.log);
  // A known name keeps its SSH settings; an address is a new node.
  const jobs = targets.map((t) => {
    const known = model.nodeByName.get(t);
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
  return found;
}

/** What was found, merged into `doc`; with --head, that node's PDC as defaults.head_pdc. */
export function mergeFound(
  doc: StateDoc,
  found: readonly Discovered[],
  targets: readonly string[],
  opts: Pick<DiscoverOptions, 'replace' | 'head'>,
): { doc: StateDoc; changes: Record<string, string[]> } {
  const m = mergeDiscovery(doc, [...found], { replace: opts.replace === true });
  const head = opts.head === undefined ? undefined : found[targets.indexOf(opts.head)]!;
  if (head === undefined || m.doc.defaults?.head_pdc === head.facts.pdc) return m;
  const lines = m.changes[head.facts.hostname] ?? (m.changes[head.facts.hostname] = []);
  lines.push(`head node: defaults.head_pdc ${m.doc.defaults?.head_pdc ?? '(none)'} → ${head.facts.pdc} (nodes of other PDCs are reached on their external IP)`);
  return { doc: { ...m.doc, defaults: { ...m.doc.defaults, head_pdc: head.facts.pdc } }, changes: m.changes };
}

/** Per node: its changes, or "unchanged". */
export function changesText(changes: Record<string, string[]>): string {
  return Object.entries(changes)
    .map(([node, lines]) => (lines.length === 0 ? `${node}: unchanged` : [`${node}:`, ...lines.map((l) => `  ${l}`)].join('\n')))
    .join('\n');
}

/** The nodes part of the --json output: snake_case keys; the rule names under overlay_rules are data and pass as they are. */
export function discoveredJson(found: readonly Discovered[], changes: Record<string, string[]>): unknown[] {
  return found.map((f) => ({
    node: f.facts.hostname,
    changes: changes[f.facts.hostname] ?? [],
    facts: { ...(snakeJson({ ...f.facts, overlayRules: undefined }) as object), overlay_rules: f.facts.overlayRules },
    vnics: f.vnics,
  }));
}
