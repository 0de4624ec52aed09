/**
 * Which files on a node are ours to write and remove, and which paths a
 * rule's ARP table (`files_config`, a value from the state) must keep away
 * from. Whoever can write the state must not be able to point an ARP table at
 * our bundle (plan would print its PSKs as a diff, apply would chown it to
 * netadm, dropping the rule would delete it) or at a script root runs.
 */
import { FILES_CONFIG_PATH, matches } from './patterns.js';

/**
 * Where ARP tables live: Danube's esdc-overlay creates every rule with
 * `files/config=/opt/custom/networking/<rule>_overlay.json`
 * (erigones/esdc-docs user-guide/network/esdc-overlay-cmd.rst:44).
 */
export const ARP_TABLE_DIR = '/opt/custom/networking/';

/**
 * Directories whose files we create; only files listed in our manifest and
 * lying directly or deeper in one of these are ever removed.
 */
export const OWNED_DIRS = [ARP_TABLE_DIR, '/opt/custom/etc/ipsec/', '/opt/custom/etc/ipf.d/', '/opt/custom/esdc-overlay/'] as const;

/**
 * Paths an ARP table may not be, contain or lie inside: our own files
 * (bundle, manifest, agent configuration and status), the IPsec and ipf
 * files we write, the restore scripts and SMF manifests root runs at boot,
 * and /usbkey.
 */
export const MANAGED_PATHS = [
  '/opt/custom/esdc-overlay',
  '/opt/custom/etc/ipsec',
  '/opt/custom/etc/ipf.d',
  '/opt/custom/etc/rc-pre-network.d',
  '/opt/custom/smf',
  '/usbkey',
] as const;

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** The managed path `path` is, contains or lies in; undefined when none. */
export function managedPathOverlap(path: string): string | undefined {
  const p = path.replace(/\/+$/, '');
  return MANAGED_PATHS.find((m) => within(p, m) || within(m, p));
}

/** A plain path (no `.`/`..` segments) of a file inside one of OWNED_DIRS. */
export function isOwnedPath(path: string): boolean {
  return matches(FILES_CONFIG_PATH, path) && !path.endsWith('/') && OWNED_DIRS.some((d) => path.startsWith(d) && path.length > d.length);
}
