/**
 * The nodes of one run: connect to each (every host key checked before
 * anything is read), then for each node desired → read actual → plan, the
 * agent's bundle joining the desired files before planning
 * (docs/architecture.md#the-data-path). What apply, plan and verify start
 * with; nothing is changed.
 */
import { connectNodes, closeAll, eachOrFail, SPLIT_CHECK_PATHS, type Opener } from '../apply/fleet.js';
import { readAndPlan, releaseContents, type NodeRun } from '../apply/node-plan.js';
import type { NodeGenerator } from '../desired/desired.js';
import { RenderContext } from '../desired/render-context.js';
import type { ValidationIssue } from '../errors.js';
import type { Model } from '../model/model.js';
import { desiredNode, GENERATORS } from '../plan/desired-state.js';
import type { Plan } from '../plan/plan.js';
import type { Transport } from '../transport/transport.js';
import { bundleFile, bundleReads } from './bundle.js';

export type { NodeRun };

export interface FleetRun {
  transports: Map<string, Transport>;
  nodes: NodeRun[];
  /** The selected nodes, or undefined for all. */
  only: ReadonlySet<string> | undefined;
  plan: Plan;
  warnings: ValidationIssue[];
  close(): Promise<void>;
}

export interface FleetOptions {
  concurrency: number;
  timeoutMs: number;
  onProgress?: (node: string, line: string) => void;
  /** The generators of the desired state (default: all of GENERATORS). */
  generators?: readonly NodeGenerator[];
  /** Add each node's agent bundle to its desired files (default true). */
  bundle?: boolean;
  /** Largest file read from a node (default MAX_READ_BYTES). */
  maxReadBytes?: number;
  /** The clock for bundle versions (tests). */
  now?: () => number;
  /** Hash first only on nodes with at least this many bytes of desired files (default HASH_FROM_BYTES; tests use 0). */
  hashFromBytes?: number;
  /** Told how many bytes were read from each node to plan it (the CLI logs it). */
  onRead?: (node: string, bytes: number) => void;
  /** Keep every node's desired and read-back file contents in its run (tests that look at them); by default they are dropped once the node is planned. */
  keepContents?: boolean;
}

/**
 * Connects to every selected node first, then reads each and plans. Throws
 * NodesFailedError, after closing every connection, if any node fails
 * either step.
 */
export async function planFleet(model: Model, only: ReadonlySet<string> | undefined, open: Opener, opts: FleetOptions): Promise<FleetRun> {
  const ctx = new RenderContext(model);
  const selected = model.nodes.filter((n) => !only || only.has(n.name));
  const transports = await connectNodes(selected, open, opts.concurrency, opts.onProgress);
  const withBundle = opts.bundle ?? true;
  // Once a node is planned only its work is executed; the split-pair checks (refuseSplitPairs) read the IKE
  // files of a subset run's nodes. Everything else is dropped, so a run holds one node's files per slot,
  // not the fleet's.
  const keep = only === undefined ? new Set<string>() : SPLIT_CHECK_PATHS;
  const nodes = await eachOrFail(selected, (n) => n.name, opts.concurrency, transports, 'could not read the live state', async (n) => {
    const desired = desiredNode(ctx, n, opts.generators ?? GENERATORS);
    const reads = withBundle ? bundleReads(desired, n.pdc) : { extra: [], expected: new Map() };
    const run = await readAndPlan(transports.get(n.name)!, desired, {
      timeoutMs: opts.timeoutMs,
      ...(opts.maxReadBytes !== undefined ? { maxReadBytes: opts.maxReadBytes } : {}),
      ...(opts.hashFromBytes !== undefined ? { hashFromBytes: opts.hashFromBytes } : {}),
      ...reads,
      ...(withBundle ? { complete: (actual, d) => [bundleFile(d, n.pdc, actual, (opts.now ?? Date.now)())] } : {}),
      node: { pdc: n.pdc },
    });
    opts.onRead?.(n.name, run.actual.bytesRead ?? 0);
    opts.onProgress?.(n.name, run.plan.changed ? 'read: changes pending' : 'read: in sync');
    return opts.keepContents ? run : releaseContents(run, keep);
  });
  return {
    transports,
    nodes,
    only,
    plan: { nodes: nodes.map((n) => n.plan) },
    warnings: ctx.warnings,
    close: () => closeAll(transports.values()),
  };
}
