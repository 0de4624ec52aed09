/**
 * What a bundle may ask the agent to write. The agent runs as root and
 * trusts a bundle whose checksum it can recompute, which anyone who can
 * write the file can also do: so a bundle may name only the files the plan
 * produces, never with setuid, setgid or sticky bits, never world-writable.
 * The paths are spelled out here (not imported from the generators) so the
 * agent loads no template code; test/agent/bundle-trust.test.ts checks that
 * every file the generators produce for the simulated cluster is allowed.
 */

/** Single files the generators write (IPsec, ipf.d). */
const EXACT = new Set([
  '/opt/custom/etc/ipsec/ipsecinit.conf',
  '/opt/custom/etc/ipsec/config',
  '/opt/custom/etc/ipsec/ike.preshared',
  '/opt/custom/etc/ipf.d/ipf.conf-020-overlays',
  '/opt/custom/etc/ipf.d/ipf.conf-090-administration',
]);

/** Directories whose plain files (one level, no dotfile) a bundle may name: ARP tables, and our own directory. */
const DIRS = ['/opt/custom/networking/', '/opt/custom/esdc-overlay/'];

/** Our own control files in /opt/custom/esdc-overlay/: what decides what the agent does is never a bundle's to write. */
const CONTROL = new Set(['bundle.json', 'managed.json', 'node.lock', 'agent.json', 'agent-status.json']);

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** True for a path a bundle may name. */
export function bundleMayWrite(path: string): boolean {
  if (EXACT.has(path)) return true;
  for (const dir of DIRS) {
    if (!path.startsWith(dir)) continue;
    const name = path.slice(dir.length);
    return NAME.test(name) && !(dir === '/opt/custom/esdc-overlay/' && CONTROL.has(name));
  }
  return false;
}

/** Why a mode is refused, or undefined when it is fine. */
export function modeProblem(mode: number): string | undefined {
  if ((mode & 0o7000) !== 0) return 'has the setuid, setgid or sticky bit';
  if ((mode & 0o002) !== 0) return 'is world-writable';
  return undefined;
}
