/**
 * The nodes of one run: open a connection to each (bounded concurrency),
 * read what each has, plan. Every connection is made, and every host key
 * checked, before anything is staged anywhere.
 */
import { BUNDLE_PATH, buildBundle, bundleTextAt, bundleVersionIn } from '../agent/bundle.js';
import { stageBundle } from '../agent/stage-bundle.js';
import { AGENT_STATUS_PATH, floorOf } from '../agent/status.js';
import { EsdcError } from '../errors.js';
import { IKE_CONFIG_PATH, IKE_PRESHARED_PATH } from '../ipsec/generator.js';
import { refuseIkeSplits } from '../ipsec/ike-subset.js';
import { refuseKeySplits } from '../ipsec/key-subset.js';
import type { Model, Node } from '../model/model.js';
import { fileText, type DesiredNode, type NodeGenerator } from '../desired/desired.js';
import { desiredNode, GENERATORS } from '../plan/desired-state.js';
import { planNode, type ActualNode, type NodePlan, type NodeWork, type Plan } from '../plan/plan.js';
import { RenderContext } from '../desired/render-context.js';
import type { ValidationIssue } from '../errors.js';
import { TransportError, type Transport } from '../transport/transport.js';
import { settleLimit } from './pool.js';
import { readActual, type ExpectedText } from './read-actual.js';

export interface NodeFailure {
  node: string;
  code: string;
  message: string;
}

/** Some nodes could not be reached or read; nothing was changed anywhere. */
export class NodesFailedError extends EsdcError {
  readonly failures: readonly NodeFailure[];
  constructor(what: string, failures: readonly NodeFailure[]) {
    const hostKey = failures.find((f) => f.code.startsWith('HostKey'));
    super(`${what} on ${failures.length} node(s); nothing was changed:\n${failures.map((f) => `  - ${f.message}`).join('\n')}`, {
      code: hostKey ? hostKey.code : 'NodesFailed',
    });
    this.failures = failures;
  }
}

export function failureOf(node: string, err: unknown): NodeFailure {
  const e = err as EsdcError;
  const message = err instanceof TransportError ? e.message : `${node}: ${e?.message ?? String(err)}`;
  return { node, code: e?.code ?? 'Error', message };
}

export interface NodeRun {
  desired: DesiredNode;
  actual: ActualNode;
  plan: NodePlan;
  work: NodeWork;
}

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
  /** Stage each node's agent bundle with its files (default true). */
  bundle?: boolean;
  /** Largest file read from a node (default MAX_READ_BYTES). */
  maxReadBytes?: number;
  /** The clock for bundle versions (tests). */
  now?: () => number;
  /** Hash first only on nodes with at least this many bytes of desired files (default HASH_FROM_BYTES; tests use 0). */
  hashFromBytes?: number;
  /** Told how many bytes were read from each node to plan it (the CLI logs it). */
  onRead?: (node: string, bytes: number) => void;
}

/** Enough of a bundle to hold its format, node name and version. */
const BUNDLE_PREFIX = 512;

export type Opener = (node: Node) => Promise<Transport>;

async function closeAll(transports: Iterable<Transport>): Promise<void> {
  await Promise.all([...transports].map((t) => t.close().catch(() => undefined)));
}

/**
 * Connects to every selected node first (every host key checked, nothing
 * read yet), then reads each and plans. Throws NodesFailedError, after
 * closing every connection, if any node fails either step.
 */
export async function planFleet(model: Model, only: ReadonlySet<string> | undefined, open: Opener, opts: FleetOptions): Promise<FleetRun> {
  const ctx = new RenderContext(model);
  const desired = model.nodes.filter((n) => !only || only.has(n.name)).map((n) => desiredNode(ctx, n, opts.generators ?? GENERATORS));
  const transports = new Map<string, Transport>();
  const fail = async (what: string, results: ReadonlyArray<{ ok: boolean; error?: unknown }>): Promise<never> => {
    await closeAll(transports.values());
    throw new NodesFailedError(what, results.flatMap((r, i) => (r.ok ? [] : [failureOf(desired[i]!.node, r.error)])));
  };
  const connected = await settleLimit(desired, opts.concurrency, async (d) => {
    const t = await open(model.nodeByName.get(d.node)!);
    transports.set(d.node, t);
    opts.onProgress?.(d.node, `connected (${t.target})`);
  });
  if (connected.some((r) => !r.ok)) await fail('could not connect', connected);
  const read = await settleLimit(desired, opts.concurrency, async (d) => {
    const withBundle = opts.bundle ?? true;
    const pdc = model.nodeByName.get(d.node)!.pdc;
    // The bundle carries every file (ARP tables too): when nothing changed it is the one of this
    // desired state at the version at its start, so it is checked by hash, not read (issue 20).
    const expected = new Map<string, ExpectedText>(
      withBundle ? [[BUNDLE_PATH, { prefixBytes: BUNDLE_PREFIX, text: (prefix) => { const v = bundleVersionIn(prefix); return v === undefined ? undefined : bundleTextAt(d, pdc, v); } }]] : [],
    );
    const actual = await readActual(transports.get(d.node)!, d, opts.timeoutMs, withBundle ? [BUNDLE_PATH, AGENT_STATUS_PATH] : [], opts.maxReadBytes, expected, opts.hashFromBytes);
    opts.onRead?.(d.node, actual.bytesRead ?? 0);
    const { plan, work } = planNode(d, actual, { pdc });
    if (withBundle) {
      const have = actual.files.get(BUNDLE_PATH) ?? null;
      // Above the version the agent last applied, whatever this head node's clock says.
      const floor = floorOf(actual.files.get(AGENT_STATUS_PATH)?.text);
      stageBundle(plan, work, buildBundle(d, pdc, have?.text, (opts.now ?? Date.now)(), floor), have);
    }
    opts.onProgress?.(d.node, plan.changed ? 'read: changes pending' : 'read: in sync');
    return { desired: d, actual, plan, work };
  });
  if (read.some((r) => !r.ok)) await fail('could not read the live state', read);
  const nodes = read.map((r) => (r as { ok: true; value: NodeRun }).value);
  return {
    transports,
    nodes,
    only,
    plan: { nodes: nodes.map((n) => n.plan) },
    warnings: ctx.warnings,
    close: () => closeAll(transports.values()),
  };
}

/** What a node of the run has as `path` now (null when absent), or undefined for a node not in the run. */
export function currentText(fleet: Pick<FleetRun, 'nodes'>, node: string, path: string): string | null | undefined {
  const run = fleet.nodes.find((n) => n.desired.node === node);
  if (!run) return undefined;
  return run.actual.files.get(path)?.text ?? null;
}

/** The text a node of the run would get as `path`, or undefined (not in the run, or no such file). */
export function desiredText(fleet: Pick<FleetRun, 'nodes'>, node: string, path: string): string | undefined {
  const file = fleet.nodes.find((n) => n.desired.node === node)?.desired.files.find((f) => f.path === path);
  return file === undefined ? undefined : fileText(file);
}

/**
 * Refuses a subset run that would leave an IPsec pair with different IKE
 * parameters (src/ipsec/ike-subset.ts) or different pre-shared keys
 * (src/ipsec/key-subset.ts) at its two ends.
 */
export function refuseSplitPairs(model: Model, fleet: Pick<FleetRun, 'nodes' | 'only'>): void {
  refuseIkeSplits(model, fleet.only, (node) => currentText(fleet, node, IKE_CONFIG_PATH));
  refuseKeySplits(
    model,
    fleet.only,
    (node) => currentText(fleet, node, IKE_PRESHARED_PATH),
    (node) => desiredText(fleet, node, IKE_PRESHARED_PATH),
  );
}
