/**
 * Where the agent lives on a node, per platform. On SmartOS the global
 * zone's root is rebuilt at every boot and only /opt, /usbkey and /var
 * persist; manifests under /opt/custom/smf are imported at boot
 * (docs/node-on-smartos.md). The one-file bundle (dist/esdc-overlay.mjs)
 * goes beside the agent's configuration.
 */
import type { Platform } from './install.js';

export interface AgentLayout {
  /** The directory holding the bundle and the configuration. */
  dir: string;
  /** The bundle, run as `<node> <cli> agent`. */
  cli: string;
  /** The agent configuration (agent.json). */
  config: string;
  /** The service definition: SMF manifest or systemd unit. */
  service: string;
}

export const AGENT_LAYOUT: Readonly<Record<Platform, AgentLayout>> = {
  smartos: {
    dir: '/opt/custom/esdc-overlay',
    cli: '/opt/custom/esdc-overlay/esdc-overlay.mjs',
    config: '/opt/custom/esdc-overlay/agent.json',
    service: '/opt/custom/smf/esdc-overlay-agent.xml',
  },
  linux: {
    dir: '/opt/esdc-overlay',
    cli: '/opt/esdc-overlay/esdc-overlay.mjs',
    config: '/opt/custom/esdc-overlay/agent.json',
    service: '/etc/systemd/system/esdc-overlay-agent.service',
  },
};
