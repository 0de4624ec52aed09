/**
 * `agent deploy`, the I/O half: connect to every selected node, find its
 * Node and read its agent files and service state (nothing written yet;
 * a node without a usable Node refuses the whole run), then stage and commit
 * the files with the ordinary two-phase executor, then run the SMF commands
 * each node needs. The decisions are src/agent/deploy.ts's.
 */
import { executeWork, type ExecuteResult } from '../apply/execute.js';
import { closeAll, connectNodes, eachOrFail, type Opener } from '../apply/fleet.js';
import { settleLimit } from '../apply/pool.js';
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
} from './deploy.js';
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

/** svcs(1) `-H -o state FMRI`: the instance's state, or null when SMF does not know it. */
export async function serviceState(t: Transport, timeoutMs: number): Promise<string | null> {
  const r = await t.exec(['svcs', '-H', '-o', 'state', AGENT_FMRI], timeoutMs);
  const state = r.stdout.trim();
  return r.code === 0 && /^[a-z_*]+$/.test(state) ? state : null;
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
