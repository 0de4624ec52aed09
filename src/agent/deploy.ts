/**
 * `agent deploy`: the agent onto a SmartOS node as files apply manages. Pure:
 * the files a node should have (the one-file bundle, agent.json, the SMF
 * manifest that runs `<node> <bundle> agent`), compared with what it has and
 * what its Node and service are, gives a plan (for people) and the work
 * (files for the ordinary two-phase stage/commit of src/apply/execute.ts,
 * then the SMF commands). A second deploy with nothing new plans nothing.
 *
 * The files are not in apply's manifest of managed files: apply would remove
 * them as not desired. Like the agent's bundle.json, they are the agent's own.
 */
import { DEFAULT_CONFIG, type AgentConfig } from './config.js';
import { renderService } from './install.js';
import { AGENT_LAYOUT } from './layout.js';
import { MIN_NODE_TEXT, NODE_INSTALL_HINT, nodeUsable, parseNodeVersion } from './node-version.js';
import type { ActualFile, FilePlan, NodeWork } from '../plan/plan.js';

/** The service the manifest defines (templates/agent/esdc-overlay-agent.xml.hbs). */
export const AGENT_FMRI = 'svc:/site/esdc-overlay-agent:default';

/**
 * Where deploy looks for Node when --node does not say: under /opt, the part
 * of a global zone that survives a reboot (docs/node-on-smartos.md): the
 * pkgsrc-tools prefix first, then /opt/local (Danube's pkgsrc archive).
 */
export const NODE_CANDIDATES: readonly string[] = ['/opt/tools/bin/node', '/opt/local/bin/node'];

export const AGENT_FILE_MODE = 0o644;

/** A path that may go into the manifest's exec attribute and an argv unquoted. */
export const SAFE_NODE_PATH = /^\/[A-Za-z0-9._+/-]+$/;

export interface DeployFile {
  path: string;
  content: string;
  mode: number;
  /** What runs again when it changes: the service is restarted (bundle), refreshed (config) or re-imported (manifest). */
  role: 'bundle' | 'config' | 'manifest';
}

/** What `node --version` said for one candidate binary. */
export interface NodeCandidate {
  path: string;
  /** stdout of `<path> --version` when it exited 0; undefined when it is missing or failed. */
  version: string | undefined;
}

/** The Node a node will run the agent with, or why there is none. */
export type NodeChoice = { ok: true; path: string; version: string } | { ok: false; message: string };

/** The first candidate with a usable version; else a message naming each candidate and what to install where (the caller adds the node's name). */
export function chooseNode(candidates: readonly NodeCandidate[]): NodeChoice {
  for (const c of candidates) {
    const v = c.version === undefined ? null : parseNodeVersion(c.version);
    if (v && nodeUsable(v)) return { ok: true, path: c.path, version: c.version!.trim() };
  }
  const seen = candidates.map((c) => {
    if (c.version === undefined) return `${c.path}: not found`;
    const v = parseNodeVersion(c.version);
    return v ? `${c.path}: ${c.version.trim()}, below ${MIN_NODE_TEXT}` : `${c.path}: --version said ${JSON.stringify(c.version.trim().slice(0, 40))}`;
  });
  return { ok: false, message: `no usable Node.js (${seen.join('; ')}): ${NODE_INSTALL_HINT}` };
}

/** agent.json as deploy writes it: every setting spelled out, so the node shows what it runs with. */
export function agentConfigText(config: AgentConfig = DEFAULT_CONFIG): string {
  const { schedule, bundle, status, start_delay_max_seconds, timeout_seconds } = config;
  return `${JSON.stringify({ schedule, bundle, status, start_delay_max_seconds, timeout_seconds }, null, 2)}\n`;
}

/** The three files a SmartOS node should have to run the agent with `nodePath`. */
export function desiredAgentFiles(bundleText: string, nodePath: string): DeployFile[] {
  const layout = AGENT_LAYOUT.smartos;
  return [
    { path: layout.cli, content: bundleText, mode: AGENT_FILE_MODE, role: 'bundle' },
    { path: layout.config, content: agentConfigText(), mode: AGENT_FILE_MODE, role: 'config' },
    {
      path: layout.service,
      content: renderService('smartos', { node: nodePath, cli: layout.cli, config: layout.config, out: layout.service }),
      mode: AGENT_FILE_MODE,
      role: 'manifest',
    },
  ];
}

export interface DeployActual {
  files: ReadonlyMap<string, ActualFile | null>;
  /** `svcs -H -o state` of the agent, or null when SMF has no such instance. */
  serviceState: string | null;
}

export interface DeployPlan {
  node: string;
  /** The Node the service runs, and its version. */
  nodeBinary: string;
  nodeVersion: string;
  files: FilePlan[];
  /** SMF commands run after the files are committed, in order. */
  commands: string[][];
  serviceState: string | null;
  changed: boolean;
}

/** Compares one node's agent files and service with what they should be. */
export function planDeploy(
  node: string,
  desired: readonly DeployFile[],
  actual: DeployActual,
  nodeChoice: { path: string; version: string },
): { plan: DeployPlan; work: NodeWork } {
  const files: FilePlan[] = [];
  const stage: NodeWork['stage'] = [];
  const changedRoles = new Set<DeployFile['role']>();
  for (const f of desired) {
    const have = actual.files.get(f.path) ?? null;
    const contentChanged = have === null || have.text !== f.content;
    const modeChanged = have !== null && have.mode !== f.mode;
    if (!contentChanged && !modeChanged) continue;
    files.push({
      path: f.path,
      action: have === null ? 'add' : 'change',
      mode: f.mode,
      ...(have !== null ? { oldMode: have.mode } : {}),
      contentChanged,
      secret: false,
      refresh: null,
      // The bundle is megabytes of JavaScript: no line diff.
      diff: [],
    });
    stage.push({ path: f.path, content: f.content, mode: f.mode });
    if (contentChanged) changedRoles.add(f.role);
  }
  const manifest = AGENT_LAYOUT.smartos.service;
  const commands: string[][] = [];
  const known = actual.serviceState !== null;
  // svccfg(8) import: (re)defines the service from the manifest, which is also imported at every boot from /opt/custom/smf.
  if (!known || changedRoles.has('manifest')) commands.push(['svccfg', 'import', manifest]);
  if (!known || actual.serviceState !== 'online') {
    // svcadm(8) enable; `clear` first when it is in maintenance, which enable alone does not leave.
    if (actual.serviceState === 'maintenance') commands.push(['svcadm', 'clear', AGENT_FMRI]);
    commands.push(['svcadm', 'enable', AGENT_FMRI]);
  } else if (changedRoles.has('bundle') || changedRoles.has('manifest')) {
    // A running agent keeps the code it started with: a new bundle needs a restart.
    commands.push(['svcadm', 'restart', AGENT_FMRI]);
  } else if (changedRoles.has('config')) {
    // The manifest's refresh method sends SIGHUP: the agent rereads agent.json.
    commands.push(['svcadm', 'refresh', AGENT_FMRI]);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    plan: {
      node,
      nodeBinary: nodeChoice.path,
      nodeVersion: nodeChoice.version,
      files,
      commands,
      serviceState: actual.serviceState,
      changed: files.length > 0 || commands.length > 0,
    },
    work: { node, stage, remove: [], leftovers: [], usbkey: undefined, createOverlays: [], services: [], manifest: undefined },
  };
}

export function renderDeployPlan(plans: readonly DeployPlan[]): string {
  const lines: string[] = [];
  for (const p of plans) {
    lines.push(`${p.node}: node ${p.nodeBinary} (${p.nodeVersion}), service ${p.serviceState ?? 'not defined'}${p.changed ? '' : ': up to date'}`);
    for (const f of p.files) {
      const mode = f.mode !== undefined ? ` mode ${f.mode.toString(8).padStart(4, '0')}` : '';
      const was = f.oldMode !== undefined && f.oldMode !== f.mode ? ` (was ${f.oldMode.toString(8).padStart(4, '0')})` : '';
      lines.push(`  ${f.action === 'add' ? '+' : '~'} ${f.path}${mode}${was}${f.action === 'change' && !f.contentChanged ? ' (mode only)' : ''}`);
    }
    for (const c of p.commands) lines.push(`  run ${c.join(' ')}`);
  }
  return lines.join('\n');
}
