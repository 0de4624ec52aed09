/**
 * The agent's status file: what `agent status` shows. Written whole
 * (src/io/atomic-file.ts) after every run and at start and stop, so a reader
 * never sees half of it. Holds paths and keys of /usbkey/config lines, never
 * file contents.
 */
import { readTextIfPresent } from '../io/read-if-present.js';
import { EsdcError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';

/** Where the agent keeps its status by default; apply reads the version floor from here. */
export const AGENT_STATUS_PATH = '/opt/custom/esdc-overlay/agent-status.json';

/** `skipped`: apply held the node lock, so this run changed nothing and read nothing. */
export type RunResult = 'in-sync' | 'repaired' | 'failed' | 'refused' | 'skipped';

export interface Drift {
  files: string[];
  usbkey: string[];
  overlays: string[];
  services: string[];
}

export interface AgentStatus {
  /** `running` while the daemon lives; `stopped` after a clean stop; `once` after `agent --once`. */
  state: 'running' | 'stopped' | 'once';
  pid: number | null;
  /** The bundle version last applied (the floor below which bundles are refused). */
  bundle_version: number | null;
  bundle_sha256: string | null;
  last_run: string | null;
  last_result: RunResult | null;
  last_duration_ms: number | null;
  /** What the last run found different and repaired. */
  last_drift: Drift | null;
  last_error: string | null;
  runs: number;
  repairs: number;
  started_at: string | null;
  stopped_at: string | null;
}

export const EMPTY_STATUS: AgentStatus = {
  state: 'once',
  pid: null,
  bundle_version: null,
  bundle_sha256: null,
  last_run: null,
  last_result: null,
  last_duration_ms: null,
  last_drift: null,
  last_error: null,
  runs: 0,
  repairs: 0,
  started_at: null,
  stopped_at: null,
};

/**
 * The status, or undefined when there is none yet. A damaged file is an
 * error, not "none": it holds the version floor that keeps a node from
 * going back to an older bundle.
 */
export async function readStatus(path: string): Promise<AgentStatus | undefined> {
  const text = await readTextIfPresent(path);
  if (text === undefined) return undefined;
  let raw: Partial<AgentStatus>;
  try {
    raw = JSON.parse(text) as Partial<AgentStatus>;
  } catch (err) {
    throw new EsdcError(`${path}: agent status is not JSON (${(err as Error).message}); move it away to start afresh`, { code: 'BadAgentStatus' });
  }
  return { ...EMPTY_STATUS, ...raw };
}

/** The floor in a status file's text, or undefined when there is none (or the text is not a status). */
export function floorOf(text: string | undefined): { version: number; sha256: string | null } | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Partial<AgentStatus>;
    if (typeof s.bundle_version !== 'number' || !Number.isSafeInteger(s.bundle_version)) return undefined;
    return { version: s.bundle_version, sha256: typeof s.bundle_sha256 === 'string' ? s.bundle_sha256 : null };
  } catch {
    return undefined;
  }
}

export async function writeStatus(path: string, status: AgentStatus): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644, mkdirMode: 0o755 });
}

/** True when `pid` names a live process (a `running` status whose process died is shown as such). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function renderStatus(s: AgentStatus, alive: (pid: number) => boolean = processAlive): string {
  const d = s.last_drift;
  const drift = d
    ? [...d.files.map((f) => `file ${f}`), ...d.usbkey.map((k) => `/usbkey/config ${k}`), ...d.overlays.map((o) => `overlay ${o}`)].join(', ') || 'none'
    : '-';
  return [
    `state:          ${s.state}${s.pid !== null && s.state === 'running' ? ` (pid ${s.pid}${alive(s.pid) ? '' : ', no such process: it died without recording a stop'})` : ''}`,
    `bundle version: ${s.bundle_version ?? '-'}`,
    `last run:       ${s.last_run ?? 'never'}${s.last_duration_ms !== null ? ` (${s.last_duration_ms} ms)` : ''}`,
    `last result:    ${s.last_result ?? '-'}`,
    `drift repaired: ${drift}`,
    `refreshed:      ${d?.services.join(', ') || '-'}`,
    `runs, repairs:  ${s.runs}, ${s.repairs}`,
    `last error:     ${s.last_error ?? '-'}`,
    ...(s.stopped_at ? [`stopped at:     ${s.stopped_at}`] : []),
  ].join('\n');
}
