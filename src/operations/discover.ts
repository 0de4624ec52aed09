/**
 * Discovery as `nodes discover`, `nodes add` and `init --discover` share it
 * (docs/architecture.md#operations): open each target (a node of the state,
 * or an address), read its sysinfo and VM NICs (src/discovery/discover.ts),
 * merge what was found into a state document (src/discovery/merge.ts),
 * recording the head node's PDC when asked, and save it in one store
 * transaction. src/cli/discover-run.ts says what changed.
 */
import { Validator } from '../ip-num-lib.js';
import { settleLimit } from '../apply/pool.js';
import { failureOf, NodesFailedError } from '../apply/fleet.js';
import { updateAdminOverlay } from '../adminoverlay/edit.js';
import { discoverNode } from '../discovery/discover.js';
import { mergeDiscovery, type Discovered } from '../discovery/merge.js';
import { ConflictError, EsdcError, UsageError } from '../errors.js';
import { rotateKeys, storedMeshKeys } from '../ipsec/keys.js';
import { meshPairs, pairId } from '../ipsec/pairs.js';
import { buildModel } from '../model/build-model.js';
import type { Model, Node } from '../model/model.js';
import type { SshDoc, StateDoc } from '../model/state.js';
import { isEmptyDoc, type Snapshot } from '../store/store.js';
import { HOSTNAME, matches, SSH_USER } from '../syntax/patterns.js';
import type { OperationContext } from './context.js';
import { remoteFrom, type RemoteOptions } from './remote.js';
import { transact } from './transact.js';

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
export async function discoverTargets(ctx: OperationContext, model: Model, targets: readonly string[], opts: DiscoverOptions): Promise<Discovered[]> {
  if (opts.head !== undefined && !targets.includes(opts.head)) {
    throw new UsageError(`--head ${JSON.stringify(opts.head)} must be one of the targets given (${targets.join(', ')})`);
  }
  const remote = await remoteFrom(opts, ctx.env, { acceptNewHostKeys: opts.acceptNewHostKeys === true }, model, ctx.log);
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

/** What was found and, per node, what changed in the state. */
export interface DiscoverOutcome {
  found: Discovered[];
  changes: Record<string, string[]>;
}

/**
 * `nodes discover`, and `nodes add` (one node, then its adminoverlay address
 * and the keys of its pairs, in the same state change): reads the targets,
 * then merges them into the state in one transaction (not with --dry-run).
 */
export async function discoverNodes(ctx: OperationContext, targets: string[], opts: DiscoverOptions, add?: { host: string }): Promise<DiscoverOutcome> {
  const store = ctx.store();
  const snap = await store.load('warn');
  const found = await discoverTargets(ctx, snap.model, targets, opts);
  if (add !== undefined && found[0]!.facts.hostname !== add.host) {
    throw new EsdcError(`${targets[0]} reports hostname ${found[0]!.facts.hostname}, not ${add.host}; nothing was changed`, { code: 'HostnameMismatch' });
  }
  const discovered = (doc: StateDoc): { doc: StateDoc; changes: Record<string, string[]> } => {
    const m = mergeFound(doc, found, targets, opts);
    return add === undefined ? m : withAddedNode(m, add.host);
  };
  if (opts.dryRun) return { found, changes: discovered(snap.doc).changes };
  const { result: changes } = await transact(store, (s) => {
    const m = discovered(s.doc);
    return { doc: m.doc, result: m.changes };
  });
  return { found, changes };
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

/**
 * `init`: writes `doc` as a new state, refused when the store already holds
 * one. With `discover`, the targets are read first (a store holding a state
 * is refused before any node is contacted) and written into it, once; a
 * node that cannot be read writes nothing.
 */
export async function initState(
  ctx: OperationContext,
  doc: StateDoc,
  discover?: { targets: string[]; opts: DiscoverOptions },
): Promise<DiscoverOutcome & { written: StateDoc; location: string }> {
  const store = ctx.store();
  const refuseExisting = (base: Snapshot): void => {
    if (!isEmptyDoc(base.doc)) {
      throw new ConflictError(`${store.location} already holds a state; init writes only a new one`, { code: 'StateExists' });
    }
  };
  let found: Discovered[] = [];
  let changes: Record<string, string[]> = {};
  let written = doc;
  if (discover !== undefined) {
    // Before any node is contacted: a store that holds a state is never overwritten.
    refuseExisting(await store.loadOrEmpty('warn'));
    found = await discoverTargets(ctx, buildModel(doc), discover.targets, discover.opts);
    ({ doc: written, changes } = mergeFound(doc, found, discover.targets, discover.opts));
  }
  // One try, as before transact: a writer that got in first is reported, not written over.
  await transact(
    store,
    (base) => {
      refuseExisting(base);
      return { doc: written, result: undefined };
    },
    { orEmpty: true, attempts: 1 },
  );
  return { found, changes, written, location: store.location };
}
