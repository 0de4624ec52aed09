/**
 * One node's half of every run that changes nodes: desired → read actual →
 * plan (docs/architecture.md#the-data-path). apply, plan and verify (through
 * src/operations/fleet.ts) and the agent (src/agent/reconcile.ts) all plan a
 * node here; what differs is where the desired state comes from and which
 * extra files are read.
 */
import { contentOnce, type DesiredFile, type DesiredNode } from '../desired/desired.js';
import { byCodePoint } from '../model/model.js';
import { planNode, type ActualNode, type NodeContext, type NodePlan, type NodeWork } from '../plan/plan.js';
import type { Transport } from '../transport/transport.js';
import { readActual, type ExpectedText } from './read-actual.js';

export interface NodeReadOptions {
  timeoutMs: number;
  /** Largest file read from the node (default MAX_READ_BYTES). */
  maxReadBytes?: number;
  /** More paths to read with the desired ones (the agent's bundle and status), and the text each is expected to have, if known. */
  extra?: readonly string[];
  expected?: ReadonlyMap<string, ExpectedText>;
  /** Hash first only from this many bytes of desired files (default HASH_FROM_BYTES). */
  hashFromBytes?: number;
  /**
   * Desired files that depend on what the node has, added before planning
   * (the agent's bundle: its version follows the node's bundle and the
   * agent's floor). Kept in path order with the others.
   */
  complete?: (actual: ActualNode, desired: DesiredNode) => readonly DesiredFile[];
  node?: NodeContext;
}

export interface NodeRun {
  /** What the node should have, the files `complete` added included. */
  desired: DesiredNode;
  actual: ActualNode;
  plan: NodePlan;
  work: NodeWork;
}

/** `desired` with `more` files, in path order. */
export function withFiles(desired: DesiredNode, more: readonly DesiredFile[]): DesiredNode {
  if (more.length === 0) return desired;
  return { ...desired, files: [...desired.files, ...more].sort((a, b) => byCodePoint(a.path, b.path)) };
}

/** Reads the node for `desired` and plans it. Changes nothing. */
export async function readAndPlan(t: Transport, desired: DesiredNode, opts: NodeReadOptions): Promise<NodeRun> {
  const actual = await readActual(t, desired, opts.timeoutMs, opts.extra ?? [], opts.maxReadBytes, opts.expected, opts.hashFromBytes);
  // From here on each file's text is made once, not once per reader (the bundle, the plan;
  // bench/RESULTS.md, "No-op apply: the CLI's per-node work"), and only once the node was read:
  // kept from before, the texts of every node being read at once (up to --concurrency) would be
  // held across their reads, where now only the node being planned holds its own.
  const once = contentOnce(desired);
  const complete = withFiles(once, opts.complete?.(actual, once) ?? []);
  const { plan, work } = planNode(complete, actual, opts.node ?? {});
  return { desired: complete, actual, plan, work };
}

/**
 * The run as the rest of a fleet run needs it once planned, every file
 * content dropped but those of `keep` (docs/architecture.md#the-data-path):
 * the plan, the work (the executor releases its staged contents once
 * staged), the node's overlays, usbkey and manifest stay. Without this a
 * fleet run held every node's desired and read-back files, bundle included,
 * until it ended (~4-5 GiB at 1,000 nodes x 8 PDCs, bench/RESULTS.md).
 */
export function releaseContents(run: NodeRun, keep: ReadonlySet<string>): NodeRun {
  const files = new Map([...run.actual.files].filter(([p]) => keep.has(p)));
  return {
    ...run,
    desired: { ...run.desired, files: run.desired.files.filter((f) => keep.has(f.path)) },
    actual: { ...run.actual, files },
  };
}
