/**
 * `agent install`: the service definition that runs the agent, rendered for
 * the platform: an SMF manifest on SmartOS, a systemd unit on Linux. Pure
 * rendering; the command decides whether to print or write it.
 */
import { UsageError } from '../errors.js';
import { template } from '../render/template.js';

export const PLATFORMS = ['smartos', 'linux'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const DEFAULT_OUT: Readonly<Record<Platform, string>> = {
  smartos: '/opt/custom/smf/esdc-overlay-agent.xml',
  linux: '/etc/systemd/system/esdc-overlay-agent.service',
};

export interface ServiceView {
  /** The node binary. */
  node: string;
  /** The one-file bundle (src/agent/layout.ts). */
  cli: string;
  config: string;
  /** Where the file goes (named in its comments). */
  out: string;
}

/** Paths go into an XML attribute and a unit's ExecStart unquoted: only plain path characters. */
const SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;

export function renderService(platform: Platform, view: ServiceView): string {
  for (const [k, v] of Object.entries(view)) {
    if (!SAFE_PATH.test(v)) throw new UsageError(`${k} path ${JSON.stringify(v)} must be absolute and hold only letters, digits and . _ + - /`);
  }
  // A run takes seconds; the stop timeout lets the current step finish.
  const vars = { ...view, stopTimeout: 120 };
  return template(platform === 'smartos' ? 'agent/esdc-overlay-agent.xml.hbs' : 'agent/esdc-overlay-agent.service.hbs')(vars);
}
