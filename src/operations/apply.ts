/**
 * apply's operation (docs/operations.md#apply): in one store transaction
 * (src/operations/transact.ts), load → select → the state changes apply
 * brings (keys for pairs without one, adminoverlay addresses on request) →
 * connect → plan → preview → confirm → save → execute on every node, the
 * store's lock held throughout: a second apply waits for it (then plans
 * afresh and finds the work done) or gives up with StateLocked.
 */
import { adminOverlayGaps } from '../model/build-model.js';
import { updateAdminOverlay, type MemberChange } from '../adminoverlay/edit.js';
import { executeWork, type ExecuteResult } from '../apply/execute.js';
import { mapLimit } from '../apply/pool.js';
import { readOverlayHealth } from '../discovery/overlay-health.js';
import type { OverlayStatus } from '../discovery/dladm.js';
import { refuseSplitPairs, type NodeFailure, type Opener } from '../apply/fleet.js';
import { EsdcError } from '../errors.js';
import { generateMissingKeys, type KeyChange } from '../ipsec/keys.js';
import { validateDoc } from '../model/load.js';
import type { Model } from '../model/model.js';
import type { Mutation, StateDoc } from '../model/state.js';
import type { Snapshot, Store } from '../store/store.js';
import { planIsEmpty, type Plan } from '../plan/plan.js';
import type { OperationContext } from './context.js';
import { planFleet, type FleetOptions, type FleetRun } from './fleet.js';
import { excludedNames, unreachableToSkip, without } from './apply-run-nodes.js';
import { fleetProgress } from './nodes.js';
import { remoteFrom, requireKnownNodes, selectNodes, type RemoteOptions } from './remote.js';
import { transact, type TransactOptions } from './transact.js';
import { modelWarnings } from './warnings.js';

export interface ApplyRequest {
  /** `[nodes...]` as given. */
  nodes: readonly string[];
  /** Nodes left out of the run (names or comma-separated lists). */
  exclude?: readonly string[];
  /** Leave out nodes that cannot be connected to (never one with a host key problem). */
  skipUnreachable?: boolean;
  /** Give each node the adminoverlay rule reaches without an address one now (stored on confirmation). */
  assignAdminoverlay?: boolean;
  remote: RemoteOptions;
}

/** What apply is about to do, shown before it asks. */
export interface ApplyPreview {
  plan: Plan;
  empty: boolean;
  /** Keys the state gets with this run (stored on confirmation), when any. */
  keys: KeyChange | undefined;
  /** Nodes that get an adminoverlay address with this run (stored on confirmation). */
  assigned: MemberChange[];
}

export interface ApplyHooks {
  preview(p: ApplyPreview): void;
  /** Asked when the plan is not empty; throws to refuse (nothing is stored or changed). */
  confirm(question: string): Promise<void>;
  /** A node left out because it could not be reached (--skip-unreachable). */
  skipped(failure: NodeFailure): void;
}

export interface ApplyOutcome extends ApplyPreview {
  result: ExecuteResult;
  /** Nodes left out of this run, by request or unreachable. */
  left: string[];
  /**
   * Overlays the state wants that are DEGRADED after this run restarted varpd
   * on their node (read with `dladm show-overlay -f` only where varpd was
   * restarted): their VMs reach no one until each is recreated
   * (docs/operations.md#verify); the files were applied all the same.
   */
  degraded: Array<{ node: string; overlays: OverlayStatus[] }>;
}

interface Prepared extends ApplyPreview {
  model: Model;
  fleet: FleetRun;
  concurrency: number;
  timeoutMs: number;
}

/** What the steps of one apply share: the request, the hooks, and what they leave for after the transaction. */
interface ApplyRun {
  ctx: OperationContext;
  req: ApplyRequest;
  hooks: ApplyHooks;
  store: Store;
  /** Nodes left out of the run, by request or unreachable, in the order found. */
  left: string[];
  /** The fleet once planned: closed once the run is over, whatever happened. */
  fleet: FleetRun | undefined;
}

/**
 * The overlays left DEGRADED on the nodes whose varpd this run restarted: a
 * restart is when varpd drops the instance of an overlay whose table it
 * cannot read, for good (docs/smartos-rules.md#overlay-devices-and-dladm).
 * A node whose state cannot be read is passed over here; verify reports it.
 */
async function degradedAfterRestart(p: Prepared, result: ExecuteResult): Promise<ApplyOutcome['degraded']> {
  const restarted = result.outcomes.filter((o) => o.status === 'applied' && o.refreshed.includes('varpd')).map((o) => o.node);
  const found = await mapLimit(restarted, p.concurrency, async (name) => {
    const node = p.model.nodeByName.get(name);
    const t = p.fleet.transports.get(name);
    if (node === undefined || t === undefined) return { node: name, overlays: [] };
    const health = await readOverlayHealth(t, p.model, node, p.timeoutMs);
    return { node: name, overlays: health.degraded };
  });
  return found.filter((d) => d.overlays.length > 0);
}

export async function applyNodes(ctx: OperationContext, req: ApplyRequest, hooks: ApplyHooks): Promise<ApplyOutcome> {
  // One store object for the transaction and the prepared save: the model of the state with the new keys is built once.
  const run: ApplyRun = { ctx, req, hooks, store: ctx.store(), left: [], fleet: undefined };
  try {
    const out = await transact<Prepared, ExecuteResult>(run.store, (snap) => prepareApply(run, snap), applySteps(ctx, hooks));
    const p = out.result;
    const degraded = await degradedAfterRestart(p, out.executed!);
    return { plan: p.plan, empty: p.empty, keys: p.keys, assigned: p.assigned, result: out.executed!, left: run.left, degraded };
  } finally {
    await run.fleet?.close();
  }
}

/**
 * Inside the transaction, before anything is shown: the nodes of the run,
 * the state apply will store, its model, the nodes read and the plan made.
 * Throws (nothing stored, nothing changed) on an unknown node, no node left,
 * a node that cannot be read, or a run that would split IPsec pairs.
 */
async function prepareApply(run: ApplyRun, snap: Snapshot): Promise<Mutation<Prepared>> {
  const { ctx, req, store } = run;
  ctx.warn(modelWarnings(snap));
  let only = selectNodes(snap.model, req.nodes);
  const excluded = excludedNames(req.exclude);
  if (excluded !== undefined) {
    requireKnownNodes(snap.model, excluded);
    run.left.push(...excluded);
    only = without(snap.model, only, excluded);
  }
  const { doc, keys, assigned } = stateToApply(snap, req.assignAdminoverlay);
  // The state apply will store, validated and its model built once: the plan is made with it, and the
  // save on confirmation writes the text prepared here without loading it again.
  const model = doc === snap.doc ? snap.model : store.prepare ? (await store.prepare(doc, 'require', snap)).model : validateDoc(doc, store.location).model;
  const remote = await remoteFrom(req.remote, ctx.env, {}, model, ctx.log);
  const fleetOpts = { concurrency: remote.concurrency, timeoutMs: remote.timeoutMs, maxReadBytes: remote.maxReadBytes, ...fleetProgress(ctx) };
  const planned = await planReachable(run, model, only, remote.open, fleetOpts);
  if (planned.only !== undefined && planned.only.size === 0) throw new EsdcError('no node is left to apply to', { code: 'NoNodes' });
  const fleet = planned.fleet;
  ctx.warn(fleet.warnings);
  // Before anything is shown as to be done: a run that would cut IPsec pairs is not offered.
  refuseSplitPairs(model, fleet);
  const result: Prepared = {
    model,
    fleet,
    plan: fleet.plan,
    empty: planIsEmpty(fleet.plan),
    keys,
    assigned,
    concurrency: remote.concurrency,
    timeoutMs: remote.timeoutMs,
  };
  return { doc, result };
}

/**
 * The state changes apply brings, computed, not stored (no I/O): pairs
 * without a key get one now, so what is applied is what the state will
 * hold; and, on request, nodes the adminoverlay rule reaches without an
 * address get one. Both are stored only once the operator confirms, and
 * before any node is touched. `doc` is the snapshot's own when neither
 * applies.
 */
function stateToApply(snap: Snapshot, assignAdminoverlay: boolean | undefined): { doc: StateDoc; keys: KeyChange | undefined; assigned: MemberChange[] } {
  const keys = generateMissingKeys(snap.doc, snap.model);
  const newKeys = keys.change.added.length + keys.change.pruned.length + keys.change.dropped > 0;
  let doc = newKeys ? keys.doc : snap.doc;
  // Nodes the adminoverlay rule reaches without an address get no adminoverlay vNIC: on request they
  // get one now (stored with the keys, on confirmation); otherwise the model's warning named them.
  const gaps = assignAdminoverlay ? adminOverlayGaps(snap.model.nodes, snap.model.adminOverlay) : [];
  const edit = gaps.length > 0 ? updateAdminOverlay(doc, snap.model, {}) : undefined;
  const assigned = edit?.result.members.filter((m) => m.kind !== 'unchanged') ?? [];
  if (edit && assigned.length > 0) doc = edit.doc;
  return { doc, keys: newKeys ? keys.change : undefined, assigned };
}

/**
 * The nodes read and the plan made; with --skip-unreachable, the nodes that
 * could not be reached at all are told to the hooks, left out, and the rest
 * planned again. The fleet is kept on `run` to be closed after the run.
 */
async function planReachable(run: ApplyRun, model: Model, only: Set<string> | undefined, open: Opener, fleetOpts: FleetOptions): Promise<{ fleet: FleetRun; only: Set<string> | undefined }> {
  try {
    run.fleet = await planFleet(model, only, open, fleetOpts);
    return { fleet: run.fleet, only };
  } catch (err) {
    const failures = unreachableToSkip(err, run.req.skipUnreachable);
    if (!failures) throw err;
    for (const f of failures) run.hooks.skipped(f);
    const down = failures.map((f) => f.node);
    run.left.push(...down);
    const rest = without(model, only, down);
    run.fleet = await planFleet(model, rest, open, fleetOpts);
    return { fleet: run.fleet, only: rest };
  }
}

/** After the plan: the preview, the question (only when there is work), and the work on every node under the lock. */
function applySteps(ctx: OperationContext, hooks: ApplyHooks): TransactOptions<Prepared, ExecuteResult> {
  return {
    consistency: 'require',
    preview: ({ result: p }) => hooks.preview({ plan: p.plan, empty: p.empty, keys: p.keys, assigned: p.assigned }),
    confirm: async ({ result: p }) => {
      if (!p.empty) await hooks.confirm(`Apply these changes to ${p.plan.nodes.filter((n) => n.changed).length} node(s)?`);
    },
    // The key save refuses (ConflictError) if the state changed since it was read: nothing was staged yet,
    // and what the operator confirmed is not run again on another state.
    attempts: 1,
    // An empty plan may still owe bookkeeping (our manifest); that runs without asking. The lock is checked
    // again before staging and before committing: a ZooKeeper lock goes with a lost session.
    execute: (p, _saved, lock) =>
      executeWork(
        p.fleet.transports,
        p.fleet.nodes.map((n) => n.work),
        { concurrency: p.concurrency, timeoutMs: p.timeoutMs, onProgress: fleetProgress(ctx).onProgress, ...(lock ? { lock } : {}) },
      ),
  };
}
