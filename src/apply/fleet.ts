/**
 * The nodes of one run: open a connection to each (bounded concurrency),
 * read what each has, plan. Every connection is made, and every host key
 * checked, before anything is staged anywhere.
 */
import { EsdcError } from '../errors.js';
import type { Model, Node } from '../model/model.js';
import type { DesiredNode } from '../plan/desired.js';
import { desiredNodes } from '../plan/desired-state.js';
import { planNode, type ActualNode, type NodePlan, type NodeWork, type Plan } from '../plan/plan.js';
import { RenderContext } from '../plan/render-context.js';
import type { ValidationIssue } from '../errors.js';
import { TransportError, type Transport } from '../transport/transport.js';
import { settleLimit } from './pool.js';
import { readActual } from './read-actual.js';

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
  plan: Plan;
  warnings: ValidationIssue[];
  close(): Promise<void>;
}

export interface FleetOptions {
  concurrency: number;
  timeoutMs: number;
  onProgress?: (node: string, line: string) => void;
}

export type Opener = (node: Node) => Promise<Transport>;

async function closeAll(transports: Iterable<Transport>): Promise<void> {
  await Promise.all([...transports].map((t) => t.close().catch(() => undefined)));
}

/** Connects to `nodes`, reads them and plans; throws NodesFailedError (after closing) if any node fails. */
export async function planFleet(model: Model, only: ReadonlySet<string> | undefined, open: Opener, opts: FleetOptions): Promise<FleetRun> {
  const ctx = new RenderContext(model);
  const desired = [...desiredNodes(ctx, only)];
  const transports = new Map<string, Transport>();
  const connected = await settleLimit(desired, opts.concurrency, async (d) => {
    const t = await open(model.nodeByName.get(d.node)!);
    transports.set(d.node, t);
    opts.onProgress?.(d.node, `connected (${t.target})`);
    const actual = await readActual(t, d, opts.timeoutMs);
    const { plan, work } = planNode(d, actual);
    opts.onProgress?.(d.node, plan.changed ? 'read: changes pending' : 'read: in sync');
    return { desired: d, actual, plan, work };
  });
  const failures = connected.flatMap((r, i) => (r.ok ? [] : [failureOf(desired[i]!.node, r.error)]));
  if (failures.length > 0) {
    await closeAll(transports.values());
    throw new NodesFailedError('could not read the live state', failures);
  }
  const nodes = connected.map((r) => (r as { ok: true; value: NodeRun }).value);
  return {
    transports,
    nodes,
    plan: { nodes: nodes.map((n) => n.plan) },
    warnings: ctx.warnings,
    close: () => closeAll(transports.values()),
  };
}
