/**
 * `nodes remove <host> [--force] [--wipe]` as operations
 * (docs/architecture.md#operations): the node leaves the state in one store
 * transaction; with the wipe, everything esdc-overlay manages on it is taken
 * off it first (src/operations/wipe.ts, docs/operator.md#wipe), under the
 * same lock, and the state is saved only once the node is wiped: the wipe
 * is transact's `before` step. An unreachable node is removed only when
 * forced, and what it keeps is said.
 */
import { EsdcError } from '../errors.js';
import { NodesFailedError } from '../apply/fleet.js';
import { removeNode, type RemoveNodeResult } from '../discovery/remove-node.js';
import type { StateDoc } from '../model/state.js';
import type { Snapshot } from '../store/store.js';
import { MANIFEST_PATH } from '../plan/plan.js';
import type { OperationContext } from './context.js';
import type { FleetRun } from './fleet.js';
import { remoteFrom, type RemoteOptions } from './remote.js';
import { transact } from './transact.js';
import { loadState, modelWarnings } from './warnings.js';
import { executeWipe, planWipe, wipeIsEmpty, type WipePlan, type WipeResult } from './wipe.js';

/** What an unreachable node keeps when it leaves the state without a wipe. */
export const LEFT_ON_NODE = [
  `the files listed in ${MANIFEST_PATH} and that manifest`,
  'the overlay_rule_* and adminoverlay_* lines of /usbkey/config',
  'its overlay links (until its next reboot, or for good while those lines stay)',
];

/** A removal from the state, and the state it was removed from (its rule lists still name the node's companions). */
export interface Removal {
  result: RemoveNodeResult;
  before: StateDoc;
}

/**
 * The node leaves the state (no node is contacted). A dry run computes the
 * edit on the state as loaded and writes nothing; otherwise `confirm` is
 * asked first, and the saved state's warnings go to `ctx.warn`.
 */
export async function removeNodeFromState(
  ctx: OperationContext,
  req: { host: string; force: boolean; dryRun: boolean },
  confirm: () => Promise<void>,
): Promise<Removal> {
  if (req.dryRun) {
    const snap = await loadState(ctx.store(), 'warn', (w) => ctx.warn(w));
    return { result: removeNode(snap.doc, snap.model, req.host, req.force).result, before: snap.doc };
  }
  let before: StateDoc | undefined;
  const { result, warnings } = await transact(
    ctx.store(),
    (snap) => {
      before = snap.doc;
      return removeNode(snap.doc, snap.model, req.host, req.force);
    },
    { confirm },
  );
  ctx.warn(warnings);
  return { result, before: before! };
}

export interface WipeRemoveRequest {
  host: string;
  force: boolean;
  dryRun: boolean;
  remote: RemoteOptions;
  /** The command that runs this removal again, named when the wipe fails. */
  again: string;
}

/** A wipe and removal: planned (shown, asked), then done unless a dry run. */
export interface WipeRemoval extends Removal {
  /** The wipe planned; undefined when the node cannot be reached (forced). */
  wipe: WipePlan | undefined;
  /** Why the node could not be reached. */
  unreachable: string | undefined;
  /** What the wipe did; undefined when it did not run (dry run, unreachable, nothing to do). */
  wiped: WipeResult | undefined;
}

/** The one way a node that cannot be reached is passed over: it cannot be connected to (never a host key problem or a wrong answer). */
function unreachableOf(err: unknown): string | undefined {
  const down = err instanceof NodesFailedError && err.message.startsWith('could not connect') && !err.failures.some((f) => f.code.startsWith('HostKey'));
  return down ? (err as NodesFailedError).failures.map((f) => f.message).join('; ') : undefined;
}

/** The wipe planned on the state as loaded, and the connection to the node it needs (none when the node cannot be reached). */
interface Planned {
  removal: WipeRemoval;
  fleet: FleetRun | undefined;
  timeoutMs: number;
}

/**
 * Refuses the removal before any node is contacted (unknown node, still
 * referenced without --force), then connects to the node and plans its
 * wipe; an unreachable node is passed over only when forced.
 */
async function planRemoval(ctx: OperationContext, req: WipeRemoveRequest, snap: Snapshot, progress: (node: string, line: string) => void): Promise<Planned & { doc: StateDoc }> {
  const { host } = req;
  ctx.warn(modelWarnings(snap));
  const change = removeNode(snap.doc, snap.model, host, req.force);
  const remote = await remoteFrom(req.remote, ctx.env, {}, snap.model, ctx.log);
  let fleet: FleetRun | undefined;
  let wipe: WipePlan | undefined;
  let unreachable: string | undefined;
  try {
    ({ fleet, wipe } = await planWipe(snap.model, host, remote.open, { concurrency: 1, timeoutMs: remote.timeoutMs, maxReadBytes: remote.maxReadBytes, onProgress: progress }));
  } catch (err) {
    unreachable = unreachableOf(err);
    if (unreachable === undefined) throw err;
    if (!req.force) {
      throw new EsdcError(
        `${host} cannot be wiped: ${unreachable}; nothing was changed. To remove it from the state anyway (it then keeps ${LEFT_ON_NODE.join('; ')}), add --force`,
        { code: 'NodeUnreachable' },
      );
    }
  }
  const removal: WipeRemoval = { result: change.result, before: snap.doc, wipe, unreachable, wiped: undefined };
  return { removal, fleet, timeoutMs: remote.timeoutMs, doc: change.doc };
}

/**
 * `nodes remove --wipe`: under the store's lock, load (a consistent state),
 * plan (planRemoval), `preview` it, `confirm` (not for a dry run), wipe the
 * node, and only then save the state without it. A failed wipe leaves the
 * state as it was.
 */
export async function wipeAndRemoveNode(
  ctx: OperationContext,
  req: WipeRemoveRequest,
  ask: { preview: (r: WipeRemoval) => void; confirm: (r: WipeRemoval) => Promise<void> },
): Promise<WipeRemoval> {
  const { host } = req;
  const progress = (node: string, line: string): void => ctx.progress(`${node}: ${line}`);
  let planned: Planned | undefined;
  try {
    const out = await transact(
      ctx.store(),
      async (snap) => {
        const p = await planRemoval(ctx, req, snap, progress);
        planned = p;
        return { doc: req.dryRun ? snap.doc : p.doc, result: p.removal };
      },
      {
        consistency: 'require',
        // The wipe runs before the save: a re-run on a newer state would wipe again.
        attempts: 1,
        preview: ({ result }) => ask.preview(result),
        confirm: async ({ result }) => {
          if (!req.dryRun) await ask.confirm(result);
        },
        before: async (r, _base, lock) => {
          const w = r.wipe;
          if (req.dryRun || w === undefined || wipeIsEmpty(w)) return;
          r.wiped = await executeWipe(planned!.fleet!.transports.get(host)!, w, { timeoutMs: planned!.timeoutMs, lock, onProgress: progress });
          if (!r.wiped.ok) throw wipeFailed(req, r.wiped);
        },
      },
    );
    if (out.saved) ctx.warn(out.warnings);
    return out.result;
  } finally {
    await planned?.fleet?.close();
  }
}

/** A wipe that did not finish: the node stays in the state; how to finish it. */
function wipeFailed(req: WipeRemoveRequest, wiped: WipeResult): EsdcError {
  const o = wiped.execute.outcomes[0]!;
  const why = wiped.error ?? o.error ?? o.status;
  return new EsdcError(
    `wipe of ${req.host} failed (${why}); it stays in the state. ` +
      (o.finish !== undefined ? `Finish by hand on the node: ${o.finish.join('; ')}; or ` : '') +
      `run ${req.again} again`,
    { code: 'WipeFailed' },
  );
}
