/**
 * Who may read and write the znodes we keep. Pure. ZooKeeper checks an ACL
 * per znode, never inherited from the parent, and `setData` keeps whatever
 * ACL a znode has: a key written with credentials into a znode created
 * without them stays world-readable unless its ACL is changed explicitly.
 * See docs/zookeeper-security.md.
 */
import type { ValidationIssue } from '../errors.js';
import type { ZnodeAcl } from './zk-session.js';

/** ZooKeeper's READ permission bit (ZooDefs.Perms.READ). */
const READ = 1;

/** Relative paths of znodes holding a PSK: Danube's `ipsec/psk/<a>-<b>`, and our PDC pair keys `esdc_overlay/pdc_psk/<a>,<b>`. */
export const KEY_ZNODE = /^(?:ipsec\/psk|esdc_overlay\/pdc_psk)\/[^/]+$/;

/** True when the ACL grants anything to `world:anyone`: such a znode is ours to tighten before writing. */
export function isOpenAcl(acl: readonly ZnodeAcl[]): boolean {
  return acl.some((a) => a.scheme === 'world' && a.id === 'anyone' && a.perms !== 0);
}

/** True when `world:anyone` may read the znode. */
export function isWorldReadable(acl: readonly ZnodeAcl[]): boolean {
  return acl.some((a) => a.scheme === 'world' && a.id === 'anyone' && (a.perms & READ) !== 0);
}

/** How many paths a warning names before it only counts the rest. */
const NAMED = 20;

/** The load warning for key znodes anyone can read (none when the list is empty). Names paths, never keys. */
export function worldReadableKeysWarning(absPaths: readonly string[]): ValidationIssue[] {
  if (absPaths.length === 0) return [];
  const sorted = [...absPaths].sort();
  const named = sorted.slice(0, NAMED).join(', ');
  const more = sorted.length > NAMED ? ` and ${sorted.length - NAMED} more` : '';
  return [
    {
      path: 'ipsec.psk',
      message:
        `${sorted.length} key znode(s) are readable by world:anyone, so anyone who can reach ZooKeeper can read these PSKs: ${named}${more}. ` +
        'The next change saved with credentials (ESDC_OVERLAY_ZK_AUTH or --zk-auth-file) makes them creator-only; ' +
        'as they may have been read, make that change "esdc-overlay keys rotate --all" (docs/zookeeper-security.md)',
    },
  ];
}
