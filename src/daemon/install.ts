/**
 * `daemon install`: the service definition that runs the daemon on the head
 * node, rendered like the agent's (src/agent/install.ts): an SMF manifest on
 * SmartOS, a systemd unit on Linux. Pure rendering.
 */
import { UsageError } from '../errors.js';
import type { Platform } from '../agent/install.js';
import { template } from '../render/template.js';

export const DAEMON_DEFAULT_OUT: Readonly<Record<Platform, string>> = {
  smartos: '/opt/custom/smf/esdc-overlay-daemon.xml',
  linux: '/etc/systemd/system/esdc-overlay-daemon.service',
};

export interface DaemonServiceView {
  node: string;
  cli: string;
  /** `--state` with a file, or `--store` with a zk:// URL (credentials never go here). */
  storeOption: '--state' | '--store';
  store: string;
  /** ZooKeeper credentials file (mode 0600), passed on; the credentials themselves never are. */
  zkAuthFile?: string;
  status: string;
  out: string;
}

const SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;
/** A zk:// URL: hosts, ports, a root path; no user info (credentials come from a file or the environment). */
const SAFE_ZK = /^zk:\/\/[A-Za-z0-9.:,[\]-]+(\/[A-Za-z0-9._/-]*)?$/;

export function renderDaemonService(platform: Platform, view: DaemonServiceView): string {
  for (const k of ['node', 'cli', 'status', 'out', 'zkAuthFile'] as const) {
    if (view[k] !== undefined && !SAFE_PATH.test(view[k])) throw new UsageError(`${k} path ${JSON.stringify(view[k])} must be absolute and hold only letters, digits and . _ + - /`);
  }
  const ok = view.storeOption === '--state' ? SAFE_PATH.test(view.store) : SAFE_ZK.test(view.store);
  if (!ok) throw new UsageError(`${view.storeOption} ${JSON.stringify(view.store)} must be an absolute path or a zk://host:port/root URL without credentials`);
  // A batch takes seconds; the stop timeout lets it finish.
  return template(platform === 'smartos' ? 'daemon/esdc-overlay-daemon.xml.hbs' : 'daemon/esdc-overlay-daemon.service.hbs')({ ...view, stopTimeout: 120 });
}
