/**
 * The oldest Node the bundle runs on, and the check `agent deploy` makes on
 * each node before it puts the agent there. Why 18.20, and what a SmartOS
 * global zone offers: docs/node-on-smartos.md. Keep in step with TARGET in
 * scripts/build-bundle.mjs.
 */

export interface NodeVersion {
  major: number;
  minor: number;
  patch: number;
}

export const MIN_NODE: NodeVersion = { major: 18, minor: 20, patch: 0 };

export const MIN_NODE_TEXT = `v${MIN_NODE.major}.${MIN_NODE.minor}.${MIN_NODE.patch}`;

/** What to tell the operator of a node without a usable Node. */
export const NODE_INSTALL_HINT =
  `install Node.js ${MIN_NODE_TEXT} or later under /opt (the global zone's root is rebuilt at boot), ` +
  'e.g. the pkgsrc-tools bootstrap and its nodejs package (/opt/tools/bin/node), then deploy again; ' +
  'or name the binary with --node PATH';

/** `node --version` output ("v18.20.4\n") parsed; null when it is not one. */
export function parseNodeVersion(text: string): NodeVersion | null {
  const m = /^v(\d{1,4})\.(\d{1,4})\.(\d{1,4})$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : null;
}

export function compareVersions(a: NodeVersion, b: NodeVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function nodeUsable(v: NodeVersion): boolean {
  return compareVersions(v, MIN_NODE) >= 0;
}
