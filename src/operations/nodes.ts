/**
 * The fleet path of the commands that read nodes (docs/architecture.md#operations):
 * load the state (its model's warnings shown once) → select nodes → connect
 * → desired → read actual → plan. plan and verify stop there; apply goes on
 * (src/operations/apply.ts), `agent deploy` plans its own files
 * (src/operations/agent-deploy.ts).
 */
import { refuseSplitPairs } from '../apply/fleet.js';
import type { Model } from '../model/model.js';
import type { OperationContext } from './context.js';
import { planFleet, type FleetRun } from './fleet.js';
import { remoteFrom, selectNodes, type Remote, type RemoteOptions } from './remote.js';
import { loadState } from './warnings.js';

export interface PlanRequest {
  /** `[nodes...]` as given (names or comma-separated lists; none or `all` for every node). */
  nodes: readonly string[];
  remote: RemoteOptions;
  /** Refuse a subset that would leave an IPsec pair split (plan, apply; verify only reports). */
  refuseSplitPairs?: boolean;
}

/** The logging and progress every fleet run reports through. */
export function fleetProgress(ctx: OperationContext): { onProgress: (node: string, line: string) => void; onRead: (node: string, bytes: number) => void } {
  return {
    onProgress: (node, line) => ctx.progress(`${node}: ${line}`),
    onRead: (node, bytesRead) => ctx.log.debug({ node, bytesRead }, 'read the node'),
  };
}

/**
 * Loads the state and reads the selected nodes over their transports into a
 * plan, changing nothing: what plan and verify both are. `inspect` reads more
 * over the same connections before they close (verify: each node's agent
 * and sysinfo).
 */
export async function planNodes<T = undefined>(
  ctx: OperationContext,
  req: PlanRequest,
  inspect?: (fleet: FleetRun, remote: Remote, model: Model) => Promise<T>,
): Promise<FleetRun & { inspected: T | undefined; model: Model }> {
  const snap = await loadState(ctx.store(), 'require', (w) => ctx.warn(w));
  const only = selectNodes(snap.model, req.nodes);
  const remote = await remoteFrom(req.remote, ctx.env, {}, snap.model, ctx.log);
  const fleet = await planFleet(snap.model, only, remote.open, {
    concurrency: remote.concurrency,
    timeoutMs: remote.timeoutMs,
    maxReadBytes: remote.maxReadBytes,
    ...fleetProgress(ctx),
  });
  let inspected: T | undefined;
  try {
    ctx.warn(fleet.warnings);
    if (req.refuseSplitPairs) refuseSplitPairs(snap.model, fleet);
    if (inspect) inspected = await inspect(fleet, remote, snap.model);
  } finally {
    await fleet.close();
  }
  return Object.assign(fleet, { inspected, model: snap.model });
}
