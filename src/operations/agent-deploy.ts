/**
 * `agent deploy`'s operation, the fleet path with the agent's own files as
 * the desired state (docs/architecture.md#operations): load → select →
 * connect to every selected node, find its Node and read its agent files
 * and service state (nothing written yet; a node without a usable Node
 * refuses the whole run) → plan → preview → confirm → stage and commit the
 * files with the ordinary two-phase executor, then run the SMF commands each
 * node needs. The decisions are src/agent/deploy.ts's.
 */
import { executeWork, type ExecuteResult } from '../apply/execute.js';
import { closeAll, connectNodes, eachOrFail, failureOf, NodesFailedError, type Opener } from '../apply/fleet.js';
import { settleLimit } from '../apply/pool.js';
import { bundlePath, readBundle } from '../agent/bundle-file.js';
import { readRemoteAgent, serviceState, type RemoteAgent } from '../agent/remote-status.js';
import type { OperationContext } from './context.js';
import { fleetProgress } from './nodes.js';
import { remoteFrom, selectNodes, type RemoteOptions } from './remote.js';
import { loadState } from './warnings.js';
import { UsageError } from '../errors.js';
import type { Model } from '../model/model.js';
import type { ActualFile } from '../plan/plan.js';
import { quoteArgv } from '../shell/quote.js';
import { checkExec, type Transport } from '../transport/transport.js';
import {
  AGENT_FMRI,
  chooseNode,
  desiredAgentFiles,
  NODE_CANDIDATES,
  planDeploy,
  SAFE_NODE_PATH,
  type DeployPlan,
  type NodeCandidate,
} from '../agent/deploy.js';
import type { NodeWork } from '../plan/plan.js';

export interface DeployRunOptions {
  /** The one-file bundle's text (dist/esdc-overlay.mjs). */
  bundleText: string;
  /** `--node PATH`: the only Node binary to use, instead of looking under /opt. */
  nodePath?: string;
  concurrency: number;
  timeoutMs: number;
  onProgress?: (node: string, line: string) => void;
}

export interface DeployNode {
  plan: DeployPlan;
  work: NodeWork;
}

export interface DeployFleet {
  transports: Map<string, Transport>;
  nodes: DeployNode[];
  close(): Promise<void>;
}

export interface DeployOutcome {
  node: string;
  status: 'unchanged' | 'deployed' | 'failed';
  wrote: number;
  ran: string[];
  error?: string;
  /** Commands that finish a deploy whose SMF step failed, to run on the node. */
  finish?: string[];
}

/** `<path> --version` for each candidate, in order; a missing or failing binary has no version. */
async function probeNode(t: Transport, candidates: readonly string[], timeoutMs: number): Promise<NodeCandidate[]> {
  const out: NodeCandidate[] = [];
  for (const path of candidates) {
    const r = await t.exec([path, '--version'], timeoutMs);
    out.push({ path, version: r.code === 0 ? r.stdout : undefined });
  }
  return out;
}

async function readOne(t: Transport, path: string, timeoutMs: number): Promise<ActualFile | null> {
  const got = await t.readFile(path, timeoutMs);
  return got ? { mode: got.mode, text: got.data.toString('utf8') } : null;
}

/**
 * Connects to every selected node, then reads and plans each. Throws
 * NodesFailedError, after closing every connection, when a node cannot be
 * reached or read or has no usable Node: nothing is written anywhere then.
 */
export async function planAgentDeploy(model: Model, only: ReadonlySet<string> | undefined, open: Opener, opts: DeployRunOptions): Promise<DeployFleet> {
  if (opts.nodePath !== undefined && !SAFE_NODE_PATH.test(opts.nodePath)) {
    throw new UsageError(`--node ${JSON.stringify(opts.nodePath)} must be an absolute path of letters, digits and . _ + - /`);
  }
  const candidates = opts.nodePath !== undefined ? [opts.nodePath] : NODE_CANDIDATES;
  const selected = model.nodes.filter((n) => !only || only.has(n.name));
  const transports = await connectNodes(selected, open, opts.concurrency, opts.onProgress);
  const nodes = await eachOrFail(selected, (n) => n.name, opts.concurrency, transports, 'agent deploy refused', async (n) => {
    const t = transports.get(n.name)!;
    const choice = chooseNode(await probeNode(t, candidates, opts.timeoutMs));
    if (!choice.ok) throw Object.assign(new Error(choice.message), { code: 'NoUsableNode' });
    const desired = desiredAgentFiles(opts.bundleText, choice.path);
    const files = new Map<string, ActualFile | null>();
    for (const f of desired) files.set(f.path, await readOne(t, f.path, opts.timeoutMs));
    const state = await serviceState(t, opts.timeoutMs);
    const planned = planDeploy(n.name, desired, { files, serviceState: state }, choice);
    opts.onProgress?.(n.name, planned.plan.changed ? 'read: changes pending' : 'read: up to date');
    return planned;
  });
  return {
    transports,
    nodes,
    close: () => closeAll(transports.values()),
  };
}

/** Stages and commits every node's files (all or none staged), then runs each node's SMF commands. */
export async function executeAgentDeploy(fleet: DeployFleet, opts: Pick<DeployRunOptions, 'concurrency' | 'timeoutMs' | 'onProgress'>): Promise<{ ok: boolean; files: ExecuteResult; outcomes: DeployOutcome[] }> {
  const files = await executeWork(
    fleet.transports,
    fleet.nodes.map((n) => n.work),
    { concurrency: opts.concurrency, timeoutMs: opts.timeoutMs, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
  );
  const outcomes: DeployOutcome[] = fleet.nodes.map((n, i) => {
    const f = files.outcomes[i]!;
    const failed = f.status === 'stage-failed' || f.status === 'rolled-back' || f.status === 'commit-failed';
    return {
      node: n.plan.node,
      status: failed ? 'failed' : n.plan.changed ? 'deployed' : 'unchanged',
      wrote: f.wrote,
      ran: [],
      ...(f.error !== undefined ? { error: f.error } : failed ? { error: `files ${f.status}` } : {}),
      ...(f.finish !== undefined ? { finish: f.finish } : {}),
    };
  });
  await settleLimit(fleet.nodes, opts.concurrency, async (n, i) => {
    const out = outcomes[i]!;
    if (out.status === 'failed') return;
    const t = fleet.transports.get(n.plan.node)!;
    const cmds = n.plan.commands;
    for (let k = 0; k < cmds.length; k++) {
      try {
        checkExec(t.node, cmds[k]!, await t.exec(cmds[k]!, opts.timeoutMs));
        out.ran.push(cmds[k]!.join(' '));
      } catch (err) {
        out.status = 'failed';
        out.error = (err as Error).message;
        out.finish = cmds.slice(k).map((c) => quoteArgv(c));
        opts.onProgress?.(n.plan.node, `failed at ${cmds[k]!.join(' ')}`);
        return;
      }
    }
    if (cmds.length > 0) opts.onProgress?.(n.plan.node, `ran ${out.ran.join('; ')}`);
  });
  return { ok: outcomes.every((o) => o.status !== 'failed'), files, outcomes };
}

export interface DeployRequest {
  nodes: readonly string[];
  remote: RemoteOptions;
  /** `--node PATH`. */
  nodePath?: string;
  /** `--bundle FILE`: the one-file program to deploy (default: this program when it is one, else dist/esdc-overlay.mjs). */
  bundle?: string;
}

export interface DeployHooks {
  preview(plans: readonly DeployPlan[]): void;
  confirm(question: string): Promise<void>;
}

/** What `agent deploy` did: no outcomes when every node was up to date (nothing asked, nothing run). */
export interface DeployResult {
  plans: DeployPlan[];
  ok: boolean;
  outcomes: DeployOutcome[];
}

/** load → select → connect → plan → preview → confirm → execute, for the agent's files. */
export async function deployAgent(ctx: OperationContext, req: DeployRequest, hooks: DeployHooks): Promise<DeployResult> {
  const snap = await loadState(ctx.store(), 'require', (w) => ctx.warn(w));
  const only = selectNodes(snap.model, req.nodes);
  const bundleText = await readBundle(bundlePath(req.bundle));
  const remote = await remoteFrom(req.remote, ctx.env, {}, snap.model, ctx.log);
  const { onProgress } = fleetProgress(ctx);
  const fleet = await planAgentDeploy(snap.model, only, remote.open, {
    bundleText,
    ...(req.nodePath !== undefined ? { nodePath: req.nodePath } : {}),
    concurrency: remote.concurrency,
    timeoutMs: remote.timeoutMs,
    onProgress,
  });
  try {
    const plans = fleet.nodes.map((n) => n.plan);
    hooks.preview(plans);
    const changed = plans.filter((p) => p.changed);
    if (changed.length === 0) return { plans, ok: true, outcomes: [] };
    await hooks.confirm(`Deploy the agent to ${changed.length} node(s)?`);
    const result = await executeAgentDeploy(fleet, { concurrency: remote.concurrency, timeoutMs: remote.timeoutMs, onProgress });
    return { plans, ok: result.ok, outcomes: result.outcomes };
  } finally {
    await fleet.close();
  }
}

/** Reads the agent of every selected node (`agent status --all`); any node that cannot be reached fails the whole run, naming each. */
export async function remoteAgents(ctx: OperationContext, nodes: readonly string[], opts: RemoteOptions): Promise<RemoteAgent[]> {
  const snap = await loadState(ctx.store(), 'require', (w) => ctx.warn(w));
  const only = selectNodes(snap.model, nodes);
  const selected = snap.model.nodes.filter((n) => !only || only.has(n.name));
  const remote = await remoteFrom(opts, ctx.env, {}, snap.model, ctx.log);
  const opened: Transport[] = [];
  try {
    const results = await settleLimit(selected, remote.concurrency, async (n) => {
      const t = await remote.open(n);
      opened.push(t);
      return readRemoteAgent(t, remote.timeoutMs);
    });
    const failures = results.flatMap((r, i) => (r.ok ? [] : [failureOf(selected[i]!.name, r.error)]));
    if (failures.length > 0) throw new NodesFailedError('could not read the agent', failures);
    return results.map((r) => (r as { ok: true; value: RemoteAgent }).value);
  } finally {
    await closeAll(opened);
  }
}
