/**
 * The agent's own configuration: a small JSON file on the node. Read at
 * start and again on SIGHUP; a bad file is refused with every problem named,
 * and (on SIGHUP) the running configuration is kept.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import nodeCron from 'node-cron';
import { EsdcError, formatIssue, type ValidationIssue } from '../errors.js';
import { redactIssue } from '../redact.js';
import { simRootsFrom } from '../transport/sim-roots.js';
import { BUNDLE_PATH } from './bundle.js';
import { AGENT_STATUS_PATH } from './status.js';

export const DEFAULT_CONFIG_PATH = '/opt/custom/esdc-overlay/agent.json';

export interface AgentConfig {
  /** Cron expression (5 fields, or 6 with seconds first). */
  schedule: string;
  /** The bundle, as a path on the node (under `root` when set). */
  bundle: string;
  /** The agent's status file, a path on this machine (never under `root`). */
  status: string;
  /**
   * Prefix of the node's "/" for a simulated node: from the test harness's
   * ESDC_OVERLAY_SIM_ROOTS only (src/transport/sim-roots.ts), never from the
   * configuration file. Unset on a real node.
   */
  root?: string;
  /** Each scheduled run starts after a random delay up to this, so a cluster does not refresh varpd in the same second. */
  start_delay_max_seconds: number;
  /** Per file operation or command. */
  timeout_seconds: number;
  /** The uid that must own the bundle (root; tests that run as another user set theirs). */
  bundle_owner_uid: number;
}

export const DEFAULT_CONFIG: AgentConfig = {
  schedule: '*/5 * * * *',
  bundle: BUNDLE_PATH,
  status: AGENT_STATUS_PATH,
  start_delay_max_seconds: 60,
  timeout_seconds: 30,
  bundle_owner_uid: 0,
};

export class AgentConfigError extends EsdcError {
  readonly issues: readonly ValidationIssue[];
  constructor(source: string, issues: readonly ValidationIssue[]) {
    super(`${source}: invalid agent configuration:\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`, { code: 'BadAgentConfig' });
    this.issues = issues.map(redactIssue);
  }
}

const KEYS = new Set(['schedule', 'bundle', 'status', 'start_delay_max_seconds', 'timeout_seconds', 'bundle_owner_uid']);

/** Validates a parsed configuration; missing keys take their defaults. Pure. */
export function parseAgentConfig(raw: unknown, source: string): AgentConfig {
  const issues: ValidationIssue[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AgentConfigError(source, [{ path: '', message: 'must be a JSON object' }]);
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!KEYS.has(k)) issues.push({ path: k, message: `unknown setting (known: ${[...KEYS].join(', ')})` });
  const cfg: AgentConfig = { ...DEFAULT_CONFIG };
  if (r.schedule !== undefined) {
    if (typeof r.schedule !== 'string' || !nodeCron.validate(r.schedule)) issues.push({ path: 'schedule', value: r.schedule, message: 'must be a cron expression (5 fields, or 6 with seconds)' });
    else cfg.schedule = r.schedule;
  }
  for (const k of ['bundle', 'status'] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !posix.isAbsolute(v) || v.includes('\0')) issues.push({ path: k, value: v, message: 'must be an absolute path' });
    else cfg[k] = v;
  }
  const seconds = (k: 'start_delay_max_seconds' | 'timeout_seconds', min: number, max: number): void => {
    const v = r[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) issues.push({ path: k, value: v, message: `must be a number of seconds from ${min} to ${max}` });
    else cfg[k] = v;
  };
  if (r.bundle_owner_uid !== undefined) {
    const v = r.bundle_owner_uid;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) issues.push({ path: 'bundle_owner_uid', value: v, message: 'must be a uid (an integer from 0)' });
    else cfg.bundle_owner_uid = v;
  }
  seconds('start_delay_max_seconds', 0, 3600);
  seconds('timeout_seconds', 1, 3600);
  if (issues.length > 0) throw new AgentConfigError(source, issues);
  return cfg;
}

/**
 * Reads the configuration file. The default path may be absent (defaults
 * apply); a path the operator named must exist.
 */
export async function loadAgentConfig(path: string | undefined, env: NodeJS.ProcessEnv): Promise<{ config: AgentConfig; source: string }> {
  const { config, source } = await readAgentConfig(path);
  const root = simRootsFrom(env)?.local;
  return { config: root === undefined ? config : { ...config, root }, source };
}

async function readAgentConfig(path: string | undefined): Promise<{ config: AgentConfig; source: string }> {
  const source = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    if (path === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return { config: { ...DEFAULT_CONFIG }, source: '(defaults)' };
    throw new AgentConfigError(source, [{ path: '', message: `cannot be read: ${(err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(source, [{ path: '', message: `not JSON (${(err as Error).message})` }]);
  }
  return { config: parseAgentConfig(raw, source), source };
}

/** A node path as this machine sees it (under the root prefix when there is one). */
export function onNode(config: AgentConfig, path: string): string {
  return config.root === undefined ? path : posix.join(config.root, posix.normalize(`/${path}`));
}
