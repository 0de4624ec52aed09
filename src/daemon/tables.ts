/**
 * The daemon's writes: the ARP tables a batch changed, on the nodes that
 * have them, through the executor `apply` uses (staged beside the target,
 * renamed into place, varpd restarted once per node), with the node's
 * bundle refreshed in the same commit so the agent checks against the new
 * tables instead of reverting them (docs/daemon.md#tables).
 *
 * Only tables that exist on the node are written: a rule not yet applied
 * there is `apply`'s to create (its manifest records it). Each node is its
 * own two-phase run: one node's failure holds back no other.
 *
 * With a DeltaState, a table the node is known to hold (its SHA-256 and the
 * saved state it came from) is patched instead: the changed entries only, run
 * by the node's agent (`agent patch-table`), which checks both hashes; any
 * refusal sends the whole file as before (docs/arp-deltas.md).
 */
import { BUNDLE_MODE, BUNDLE_PATH, parseBundle, serializeBundle } from '../agent/bundle.js';
import { executeWork, type NodeOutcome } from '../apply/execute.js';
import { settleLimit } from '../apply/pool.js';
import { arpTableFile } from '../files-config/generator.js';
import type { Model, Node, OverlayRule } from '../model/model.js';
import { fileText } from '../desired/desired.js';
import type { NodeWork } from '../plan/plan.js';
import { RenderContext } from '../desired/render-context.js';
import { rulesOfNode } from '../rules/usbkey-lines.js';
import type { Transport } from '../transport/transport.js';
import { NODE_CANDIDATES } from '../agent/deploy.js';
import { AGENT_LAYOUT } from '../agent/layout.js';
import { MAX_PATCH_OPS, patchWords, type ArpPatch } from '../files-config/arp-patch.js';
import { quoteArgv } from '../shell/quote.js';
import { sha256Hex } from '../sha256.js';
import { tableSha256Async, type DeltaState, type KnownTable } from './delta.js';
import { knownTables, noteDegraded } from './degraded.js';
import type { OverlayStatus } from '../discovery/dladm.js';

export interface TableRequest {
  /** Rules whose tables changed, on every node that has them. */
  rules: ReadonlySet<string>;
  /** Nodes whose every table is checked (just resynced, or a failed write to retry). */
  nodes: ReadonlySet<string>;
}

export interface TableResult {
  /** Tables written, per node. */
  written: Map<string, string[]>;
  /** Nodes that failed (to retry with the next batch), with the error. */
  failed: Map<string, string>;
  /** Tables the state wants but the node does not have yet (`apply` creates them). */
  missing: Array<{ node: string; path: string }>;
  /** Nodes whose bundle was refreshed. */
  bundles: string[];
  outcomes: NodeOutcome[];
  /** What was sent to each node that was sent anything (docs/arp-deltas.md#bytes). */
  sent: Map<string, SentToNode>;
  /** Per node whose varpd this batch restarted, the overlays the state wants there that are DEGRADED after it (docs/daemon.md#tables). */
  degraded: Map<string, OverlayStatus[]>;
}

/** Bytes sent to one node for its tables: file contents and patch commands (SSH framing not counted). */
export interface SentToNode {
  bytes: number;
  /** Tables patched. */
  patched: string[];
  /** Tables sent whole. */
  whole: string[];
  /** Patches refused or failed, with the reason: those tables were sent whole. */
  fallbacks: Array<{ path: string; reason: string }>;
}

export interface TableOptions {
  timeoutMs: number;
  concurrency: number;
  now?: () => number;
  /** Hashes and generations for patches; without it every change sends the whole file. */
  delta?: DeltaState;
}

export function emptyTableResult(): TableResult {
  return { written: new Map(), failed: new Map(), missing: [], bundles: [], outcomes: [], sent: new Map(), degraded: new Map() };
}

/** `degraded`: the patch is in, and the node said an overlay is DEGRADED after the restart (exit 2). */
type PatchOutcome = { ok: true; bytes: number; degraded: boolean } | { ok: false; bytes: number; reason: string };

/**
 * Runs the patch on the node: `<node> <bundle> agent patch-table <words>`,
 * argv only (every word validated, src/files-config/arp-patch.ts). Node is
 * looked for where `agent deploy` looks, and the one that answered is kept.
 * The patch refused or failed (exit 1 with its message): the whole file
 * follows. Any other failure means the node cannot patch (no Node, no agent
 * bundle, an older one without the command): whole files until its next resync.
 */
async function sendPatch(t: Transport, delta: DeltaState, patch: ArpPatch, timeoutMs: number): Promise<PatchOutcome> {
  const words = ['agent', 'patch-table', ...patchWords(patch)];
  const known = delta.nodeBinary.get(t.node);
  let bytes = 0;
  for (const bin of known !== undefined ? [known] : NODE_CANDIDATES) {
    const argv = [bin, AGENT_LAYOUT.smartos.cli, ...words];
    bytes += Buffer.byteLength(quoteArgv(argv));
    const r = await t.exec(argv, timeoutMs);
    if (r.code === 0 || r.code === 2) {
      delta.nodeBinary.set(t.node, bin);
      return { ok: true, bytes, degraded: r.code === 2 };
    }
    if (r.code === 127 && known === undefined) continue;
    const reason = (r.stderr.trim().split('\n').pop() ?? '') || `exit ${r.code}`;
    // Refused (a hash mismatch, a bad value) or failed as a patch (the lock held, a write): this table goes whole, the next may patch.
    const ours = r.code === 1 && /patch refused|patch of |lock/.test(r.stderr);
    if (!ours) delta.noPatch.set(t.node, `${bin}: ${reason}`);
    return { ok: false, bytes, reason };
  }
  delta.noPatch.set(t.node, `no Node.js at ${NODE_CANDIDATES.join(' or ')}`);
  return { ok: false, bytes, reason: `no Node.js at ${NODE_CANDIDATES.join(' or ')}` };
}

/** One node's part of a writeTables call: what each step for it reads, and where it puts its findings. */
interface NodeRun {
  model: Model;
  ctx: RenderContext;
  node: Node;
  t: Transport;
  /** The node resynced or retried: every table read, none taken as known, patches tried again. */
  resync: boolean;
  opts: TableOptions;
  delta: DeltaState | undefined;
  result: TableResult;
  /** What this node was sent, filled as the steps send it. */
  sent: SentToNode;
}

/** A staged file of this module: always a text (a table or the bundle, rendered here), so it is hashed and counted as one. */
type Staged = NodeWork['stage'][number] & { content: string };

/** One table checked: nothing more to do (it is current, or was patched), missing on the node, or to be sent whole. */
type TableCheck = { kind: 'done'; degraded: boolean } | { kind: 'missing' } | { kind: 'stage'; file: Staged };

/** Plans and writes the requested tables on the connected nodes (`transports`); others are left for their resync. */
export async function writeTables(model: Model, req: TableRequest, transports: ReadonlyMap<string, Transport>, opts: TableOptions): Promise<TableResult> {
  const delta = opts.delta;
  const ctx = delta?.context(model) ?? new RenderContext(model);
  const result = emptyTableResult();
  const targets = model.nodes.filter((n) => transports.has(n.name));
  await settleLimit(targets, opts.concurrency, async (node) => {
    const rules = rulesOfNode(model, node).filter((r) => req.nodes.has(node.name) || req.rules.has(r.name));
    if (rules.length === 0) return;
    const run: NodeRun = { model, ctx, node, t: transports.get(node.name)!, resync: req.nodes.has(node.name), opts, delta, result, sent: { bytes: 0, patched: [], whole: [], fallbacks: [] } };
    await writeNodeTables(run, rules);
  });
  return result;
}

/**
 * One node's tables: each checked in turn (patched where the node's copy is
 * known), then what is left sent whole in one commit. Its failure is the
 * node's alone: recorded in the result, what it holds forgotten.
 */
async function writeNodeTables(run: NodeRun, rules: OverlayRule[]): Promise<void> {
  const { node, delta, result, sent } = run;
  // A resync may find an agent deployed since: patches are tried again.
  if (run.resync) delta?.noPatch.delete(node.name);
  try {
    const { stage, restarted } = await checkTables(run, rules);
    if (stage.length === 0) {
      if (sent.patched.length > 0) result.written.set(node.name, [...sent.patched]);
      if (restarted) await noteDegraded(result, run.t, run.model, node, run.opts.timeoutMs);
      return;
    }
    await sendWhole(run, stage);
  } catch (err) {
    delta?.forget(node.name);
    result.failed.set(node.name, (err as Error)?.message ?? String(err));
  } finally {
    if (sent.bytes > 0 || sent.fallbacks.length > 0) result.sent.set(node.name, sent);
  }
}

/** The node's tables one by one, in rule order: those to send whole, and whether a patch restarted varpd. */
async function checkTables(run: NodeRun, rules: OverlayRule[]): Promise<{ stage: Staged[]; restarted: boolean }> {
  const stage: Staged[] = [];
  let restarted = false;
  for (const rule of rules) {
    const c = await checkTable(run, rule);
    if (c.kind === 'done') restarted ||= c.degraded;
    else if (c.kind === 'stage') stage.push(c.file);
  }
  return { stage, restarted };
}

/** One table: patched or found current where its hash is known; else read from the node and compared. */
async function checkTable(run: NodeRun, rule: OverlayRule): Promise<TableCheck> {
  const { model, node, delta } = run;
  const want = arpTableFile(run.ctx, rule, node);
  // A resync reads every table: what the node holds may have changed while it was away.
  const known = delta && !run.resync ? delta.knownTable(node.name, want.path) : undefined;
  if (delta && known) {
    const p = await patchKnownTable(run, delta, rule, want.path, known);
    if (p.kind === 'done') return p;
  }
  const text = fileText(want);
  const have = await run.t.readFile(want.path, run.opts.timeoutMs);
  if (have === undefined) {
    run.result.missing.push({ node: node.name, path: want.path });
    return { kind: 'missing' };
  }
  if (have.data.toString('utf8') === text && have.mode === want.mode) {
    delta?.record(node.name, want.path, sha256Hex(text), model);
    return { kind: 'done', degraded: false };
  }
  return { kind: 'stage', file: { path: want.path, content: text, mode: want.mode, owner: want.owner, group: want.group } };
}

/**
 * A table whose copy on the node is known (docs/arp-deltas.md): current when
 * the hashes match, else patched when the change is small enough and the
 * node can patch. `whole` when not: the node's copy is forgotten and the
 * table is read and sent as before.
 */
async function patchKnownTable(run: NodeRun, delta: DeltaState, rule: OverlayRule, path: string, known: KnownTable): Promise<{ kind: 'done'; degraded: boolean } | { kind: 'whole' }> {
  const { model, node, sent } = run;
  // In another thread (docs/arp-deltas.md#hashing-off-the-event-loop): meanwhile the loop sends the patches already hashed.
  const sha = await tableSha256Async(run.ctx, rule, node, delta.hashes);
  if (sha === known.sha256) {
    delta.record(node.name, path, sha, model);
    return { kind: 'done', degraded: false };
  }
  const ops = delta.noPatch.has(node.name) ? undefined : delta.patch(known.gen, model, rule.name, node.name);
  if (ops && ops.length > 0 && ops.length <= MAX_PATCH_OPS) {
    const p = await sendPatch(run.t, delta, { path, from: known.sha256, to: sha, nowMs: Math.trunc((run.opts.now ?? Date.now)()), ops }, run.opts.timeoutMs);
    sent.bytes += p.bytes;
    if (p.ok) {
      delta.record(node.name, path, sha, model);
      sent.patched.push(path);
      return { kind: 'done', degraded: p.degraded };
    }
    sent.fallbacks.push({ path, reason: p.reason });
  }
  delta.forget(node.name, path);
  return { kind: 'whole' };
}

/**
 * The staged tables (and the node's bundle, moved with them) in one
 * two-phase run through apply's executor, varpd restarted once; then what
 * the node holds recorded, and the overlays DEGRADED after the restart.
 */
async function sendWhole(run: NodeRun, stage: Staged[]): Promise<void> {
  const { model, node, t, delta, result, sent, opts } = run;
  const bundle = await t.readFile(BUNDLE_PATH, opts.timeoutMs);
  if (bundle !== undefined) {
    const moved = bundleWithTables(bundle.data, `${node.name}: ${BUNDLE_PATH}`, stage, opts.now ?? Date.now);
    if (moved) {
      stage.push(moved);
      result.bundles.push(node.name);
    }
  }
  const work: NodeWork = { node: node.name, stage, remove: [], leftovers: [], usbkey: undefined, createOverlays: [], services: ['varpd'], manifest: undefined };
  // Sizes and hashes before the executor runs: it releases each staged content once it is on the node.
  const tables = stage.filter((s) => s.path !== BUNDLE_PATH).map((s) => ({ path: s.path, sha256: sha256Hex(s.content) }));
  for (const s of stage) sent.bytes += Buffer.byteLength(s.content);
  // The node's other tables are checked before varpd restarts (src/apply/restart-guard.ts); those we know by hash are not read.
  const knownGood = knownTables(delta, model, node);
  const ran = await executeWork(new Map([[node.name, t]]), [work], { concurrency: 1, timeoutMs: opts.timeoutMs, knownGoodTables: knownGood });
  result.outcomes.push(...ran.outcomes);
  if (!ran.ok) {
    for (const s of stage) delta?.forget(node.name, s.path);
    result.failed.set(node.name, ran.outcomes[0]?.error ?? 'failed');
    return;
  }
  for (const s of tables) {
    delta?.record(node.name, s.path, s.sha256, model);
    sent.whole.push(s.path);
  }
  result.written.set(node.name, [...sent.patched, ...tables.map((s) => s.path)]);
  await noteDegraded(result, t, model, node, opts.timeoutMs);
}

/**
 * The node's bundle with the staged tables' new contents, to stage beside
 * them: the agent's reference moves with the tables (same files otherwise,
 * a higher version). Undefined when the bundle holds none of them.
 */
export function bundleWithTables(prior: Buffer, source: string, stage: readonly Staged[], now: () => number): Staged | undefined {
  const parsed = parseBundle(prior, source);
  const byPath = new Map(stage.map((s) => [s.path, s.content]));
  if (!parsed.files.some((f) => byPath.has(f.path))) return undefined;
  const { sha256: _, ...body } = parsed;
  const files = parsed.files.map((f) => (byPath.has(f.path) ? { ...f, content: byPath.get(f.path)! } : f));
  const version = Math.max(Math.trunc(now()), parsed.version + 1);
  return { path: BUNDLE_PATH, content: serializeBundle({ ...body, version, files }), mode: BUNDLE_MODE };
}
