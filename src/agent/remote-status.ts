/**
 * The agent on a node as seen over its transport, for `verify` and
 * `agent status --all`: which bundle version it has, on which Node, whether
 * SMF runs it, and what its status file says. Read-only.
 */
import type { Transport } from '../transport/transport.js';
import { parseVersionLine } from '../version.js';
import { DEFAULT_CONFIG } from './config.js';
import { AGENT_FMRI, SAFE_NODE_PATH } from './deploy.js';
import { AGENT_LAYOUT } from './layout.js';
import type { AgentStatus } from './status.js';

export interface RemoteAgent {
  node: string;
  /** False when the node has no agent manifest (agent deploy never ran there). */
  installed: boolean;
  /** The bundle's package version ("0.1.0"), or null when it did not answer. */
  version: string | null;
  /** The Node it runs on ("v20.11.1"). */
  nodeVersion: string | null;
  /** SMF state of the agent's instance, or null when SMF has none. */
  service: string | null;
  last_run: string | null;
  last_result: string | null;
  bundle_version: number | null;
  /** What could not be read, for the report. */
  problems: string[];
}

/** The Node binary the deployed manifest runs, read back from its start method. */
export function nodeOfManifest(text: string): string | null {
  const cli = AGENT_LAYOUT.smartos.cli.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = new RegExp(`exec="(\\S+) ${cli} agent `).exec(text);
  return m && SAFE_NODE_PATH.test(m[1]!) ? m[1]! : null;
}

export async function readRemoteAgent(t: Transport, timeoutMs: number): Promise<RemoteAgent> {
  const out: RemoteAgent = { node: t.node, installed: false, version: null, nodeVersion: null, service: null, last_run: null, last_result: null, bundle_version: null, problems: [] };
  const manifest = await t.readFile(AGENT_LAYOUT.smartos.service, timeoutMs);
  out.service = await serviceState(t, timeoutMs);
  if (!manifest) return out;
  out.installed = true;
  const node = nodeOfManifest(manifest.data.toString('utf8'));
  if (node === null) out.problems.push(`${AGENT_LAYOUT.smartos.service} names no Node binary esdc-overlay wrote`);
  else {
    const r = await t.exec([node, AGENT_LAYOUT.smartos.cli, '--version'], timeoutMs);
    const v = r.code === 0 ? parseVersionLine(r.stdout) : null;
    if (v) {
      out.version = v.version;
      out.nodeVersion = v.node;
    } else out.problems.push(`${node} ${AGENT_LAYOUT.smartos.cli} --version failed${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-1)[0]!.slice(0, 200)}` : ''}`);
  }
  const status = await t.readFile(DEFAULT_CONFIG.status, timeoutMs);
  if (status) {
    try {
      const s = JSON.parse(status.data.toString('utf8')) as Partial<AgentStatus>;
      out.last_run = typeof s.last_run === 'string' ? s.last_run : null;
      out.last_result = typeof s.last_result === 'string' ? s.last_result : null;
      out.bundle_version = typeof s.bundle_version === 'number' ? s.bundle_version : null;
    } catch {
      out.problems.push(`${DEFAULT_CONFIG.status} is not JSON`);
    }
  }
  return out;
}

/** A node whose agent could not be read: verify still reports the node. */
export function unreadableAgent(node: string, err: unknown): RemoteAgent {
  return { node, installed: false, version: null, nodeVersion: null, service: null, last_run: null, last_result: null, bundle_version: null, problems: [`agent not readable: ${(err as Error)?.message ?? String(err)}`] };
}

/** One word for a table: what the agent is doing. */
export function agentSummary(a: RemoteAgent): string {
  if (!a.installed) return a.service === null ? 'not deployed' : `not deployed (SMF: ${a.service})`;
  const svc = a.service ?? `not imported (${AGENT_FMRI})`;
  return `${a.version ?? '?'} on ${a.nodeVersion ?? '?'}, ${svc}`;
}

/** svcs(1) `-H -o state FMRI`: the instance's state, or null when SMF does not know it. */
export async function serviceState(t: Transport, timeoutMs: number): Promise<string | null> {
  const r = await t.exec(['svcs', '-H', '-o', 'state', AGENT_FMRI], timeoutMs);
  const state = r.stdout.trim();
  return r.code === 0 && /^[a-z_*]+$/.test(state) ? state : null;
}
