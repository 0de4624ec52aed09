/**
 * Where simulated nodes (test/harness) keep their "/": given by the test
 * harness only, through the environment variable ESDC_OVERLAY_SIM_ROOTS
 * naming a JSON file it wrote. No state, store, bundle or node can set it:
 * a root decides which `dladm` runs as root on the node, so it must come
 * from whoever already runs this process. Unset (production), nothing is
 * re-rooted and the transport never touches PATH.
 *
 * The file: `{ "ssh": { "<host>:<port>": "/abs/root", ... }, "local": "/abs/root" }`.
 * `ssh` keys are the SSH endpoint the tool connects to (simulated nodes all
 * listen on 127.0.0.1, each on its own port); `local` is the root the agent
 * (local transport) uses.
 */
import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { UsageError } from '../errors.js';

export const SIM_ROOTS_ENV = 'ESDC_OVERLAY_SIM_ROOTS';

export interface SimRoots {
  /** `host:port` → root directory. */
  readonly ssh: ReadonlyMap<string, string>;
  /** The agent's root directory. */
  readonly local: string | undefined;
}

/** The key of an SSH endpoint in the roots file. */
export const endpointKey = (host: string, port: number): string => `${host}:${port}`;

function bad(file: string, what: string): UsageError {
  return new UsageError(`${SIM_ROOTS_ENV}=${file}: ${what} (test harness only; unset it outside tests)`);
}

/** A root must be an absolute, normalized path of an existing directory. */
function checkRoot(file: string, key: string, value: unknown): string {
  if (typeof value !== 'string' || !posix.isAbsolute(value) || value.includes('\0') || posix.normalize(value) !== value || value === '/') {
    throw bad(file, `${key} must be an absolute, normalized directory path other than / (got ${JSON.stringify(value)})`);
  }
  let isDir = false;
  try {
    isDir = statSync(value).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw bad(file, `${key}: ${value} is not an existing directory`);
  return value;
}

/**
 * Reads the roots the harness gave, or undefined when the variable is unset
 * or empty. A bad file is refused as a whole, naming the entry.
 */
export function simRootsFrom(env: NodeJS.ProcessEnv): SimRoots | undefined {
  const file = env[SIM_ROOTS_ENV];
  if (file === undefined || file === '') return undefined;
  if (!posix.isAbsolute(file)) throw bad(file, 'must be an absolute path of a JSON file');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw bad(file, `cannot be read as JSON (${(err as NodeJS.ErrnoException).code ?? 'syntax error'})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(file, 'must hold a JSON object');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (k !== 'ssh' && k !== 'local') throw bad(file, `unknown key ${JSON.stringify(k)} (known: ssh, local)`);
  const ssh = new Map<string, string>();
  if (r.ssh !== undefined) {
    if (typeof r.ssh !== 'object' || r.ssh === null || Array.isArray(r.ssh)) throw bad(file, 'ssh must be an object of "host:port": root');
    for (const [k, v] of Object.entries(r.ssh)) {
      if (!/^[A-Za-z0-9.-]{1,253}:\d{1,5}$/.test(k)) throw bad(file, `ssh key ${JSON.stringify(k)} is not host:port`);
      ssh.set(k, checkRoot(file, `ssh.${k}`, v));
    }
  }
  const local = r.local === undefined ? undefined : checkRoot(file, 'local', r.local);
  return { ssh, local };
}
