/**
 * What every run over many nodes shares: connect to each (bounded
 * concurrency, every host key checked before anything is read or staged
 * anywhere), and the failure that names every node that could not be
 * reached or read. The run itself (load, select, plan, confirm, execute) is
 * src/operations/fleet.ts's.
 */
import { EsdcError } from '../errors.js';
import { IKE_CONFIG_PATH, IKE_PRESHARED_PATH } from '../ipsec/generator.js';
import { refuseIkeSplits } from '../ipsec/ike-subset.js';
import { refuseKeySplits } from '../ipsec/key-subset.js';
import type { Model, Node } from '../model/model.js';
import { fileText } from '../desired/desired.js';
import { TransportError, type Transport } from '../transport/transport.js';
import type { NodeRun } from './node-plan.js';
import { settleLimit } from './pool.js';

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

export type Opener = (node: Node) => Promise<Transport>;

export async function closeAll(transports: Iterable<Transport>): Promise<void> {
  await Promise.all([...transports].map((t) => t.close().catch(() => undefined)));
}

/**
 * Runs `step` on every item (bounded concurrency); when any fails, closes
 * every transport and throws NodesFailedError naming each failed node.
 */
export async function eachOrFail<T, R>(
  items: readonly T[],
  nameOf: (item: T) => string,
  concurrency: number,
  transports: Map<string, Transport>,
  what: string,
  step: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = await settleLimit(items, concurrency, step);
  if (results.some((r) => !r.ok)) {
    await closeAll(transports.values());
    throw new NodesFailedError(what, results.flatMap((r, i) => (r.ok ? [] : [failureOf(nameOf(items[i]!), r.error)])));
  }
  return results.map((r) => (r as { ok: true; value: R }).value);
}

/** Connects to every node first (every host key checked, nothing read yet); throws NodesFailedError, all closed, when any fails. */
export async function connectNodes(
  nodes: readonly Node[],
  open: Opener,
  concurrency: number,
  onProgress?: (node: string, line: string) => void,
): Promise<Map<string, Transport>> {
  const transports = new Map<string, Transport>();
  await eachOrFail(nodes, (n) => n.name, concurrency, transports, 'could not connect', async (n) => {
    const t = await open(n);
    transports.set(n.name, t);
    onProgress?.(n.name, `connected (${t.target})`);
  });
  return transports;
}

/** The nodes of a run, as the checks below need them. */
export interface PlannedNodes {
  nodes: readonly Pick<NodeRun, 'desired' | 'actual'>[];
  /** The selected nodes, or undefined for all. */
  only: ReadonlySet<string> | undefined;
}

/** What a node of the run has as `path` now (null when absent), or undefined for a node not in the run. */
export function currentText(fleet: Pick<PlannedNodes, 'nodes'>, node: string, path: string): string | null | undefined {
  const run = fleet.nodes.find((n) => n.desired.node === node);
  if (!run) return undefined;
  return run.actual.files.get(path)?.text ?? null;
}

/** The text a node of the run would get as `path`, or undefined (not in the run, or no such file). */
export function desiredText(fleet: Pick<PlannedNodes, 'nodes'>, node: string, path: string): string | undefined {
  const file = fleet.nodes.find((n) => n.desired.node === node)?.desired.files.find((f) => f.path === path);
  return file === undefined ? undefined : fileText(file);
}

/** The files the split-pair checks below read, of a subset run's nodes: a fleet run keeps only these once planned. */
export const SPLIT_CHECK_PATHS: ReadonlySet<string> = new Set([IKE_CONFIG_PATH, IKE_PRESHARED_PATH]);

/**
 * Refuses a subset run that would leave an IPsec pair with different IKE
 * parameters (src/ipsec/ike-subset.ts) or different pre-shared keys
 * (src/ipsec/key-subset.ts) at its two ends.
 */
export function refuseSplitPairs(model: Model, fleet: PlannedNodes): void {
  refuseIkeSplits(model, fleet.only, (node) => currentText(fleet, node, IKE_CONFIG_PATH));
  refuseKeySplits(
    model,
    fleet.only,
    (node) => currentText(fleet, node, IKE_PRESHARED_PATH),
    (node) => desiredText(fleet, node, IKE_PRESHARED_PATH),
  );
}
