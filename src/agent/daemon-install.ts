/**
 * `daemon install`: the SMF manifest of the head node's daemon, run from the
 * one-file bundle like the agent. esdc-overlay has no daemon command yet, so
 * this is the manifest only, defining the service disabled
 * (templates/daemon/esdc-overlay-daemon.xml.hbs says so in its comment).
 * Pure rendering, as src/agent/install.ts.
 */
import { UsageError } from '../errors.js';
import { template } from '../render/template.js';
import { AGENT_LAYOUT } from './layout.js';

export const DAEMON_MANIFEST = '/opt/custom/smf/esdc-overlay-daemon.xml';
/** The head node keeps the bundle where agent deploy puts it on compute nodes: it is a SmartOS global zone too. */
export const DAEMON_CLI = AGENT_LAYOUT.smartos.cli;

export interface DaemonView {
  node: string;
  cli: string;
  out: string;
}

const SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;

export function renderDaemonService(view: DaemonView): string {
  for (const [k, v] of Object.entries(view)) {
    if (!SAFE_PATH.test(v)) throw new UsageError(`${k} path ${JSON.stringify(v)} must be absolute and hold only letters, digits and . _ + - /`);
  }
  return template('daemon/esdc-overlay-daemon.xml.hbs')({ ...view, stopTimeout: 120 });
}
