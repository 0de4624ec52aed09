/**
 * The textual shapes the state accepts, in one place, so the JSON Schema and
 * the command-line parsers agree. Every pattern is anchored and excludes shell
 * metacharacters: several of these values end up in /usbkey/config, which
 * SmartOS evaluates as shell.
 */

/** RFC 1123 hostname: dot-separated labels of letters, digits and inner hyphens. */
export const HOSTNAME =
  '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';

/**
 * Rule names we create: start with a letter (dladm link names do), end with a
 * letter (the VNI is appended to form the link name), under 20 characters
 * (nictagadm hides longer ones), no trailing `_` (Danube strips it).
 */
export const RULE_NAME_STRICT = '^[A-Za-z][A-Za-z0-9_]{0,17}[A-Za-z]$';

/**
 * Rule names we still read: older names Danube installations hold (e.g.
 * `customer1`, which ends in a digit), within nictagadm's length limit. A
 * leading digit is refused even here: the overlay link `<name><VNI>` would
 * start with one, and libdladm's dladm_valid_linkname refuses that (see
 * docs/smartos-rules.md). Such a name loads with a warning; `create` insists
 * on the strict form.
 */
export const RULE_NAME_LOOSE = '^[A-Za-z_][A-Za-z0-9_]{1,18}$';

/** A MAC address: six octets of one or two hex digits (illumos ether_aton accepts both). */
export const MAC = '^[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}$';

/** A VM NIC tag on an overlay: `<rule>/<vni>`. */
export const NIC_TAG = '^([A-Za-z0-9_]+)/([0-9]{1,10})$';

/** PDC (datacenter) names: Danube's `datacenter_name`, kept shell- and file-safe. */
export const PDC_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

/** vDC names as Danube allows them. */
export const VDC_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** Absolute path for a varpd files/config table: plain characters only, no `..` segment. */
export const FILES_CONFIG_PATH = '^(?!.*/\\.\\.?(?:/|$))/[A-Za-z0-9._/-]{1,254}$';

/**
 * Directories a rule's files/config may live under: persistent on SmartOS,
 * and where Danube keeps ARP tables (owned-paths.ts ARP_TABLE_DIR).
 */
export const FILES_CONFIG_ROOTS = ['/opt/custom/networking/'] as const;

/** A POSIX login name for SSH. */
export const SSH_USER = '^[a-z_][a-z0-9_-]{0,31}$';

/** 128 random bytes as lower-case hex (Danube: `openssl rand -hex 128`). */
export const PSK = '^[0-9a-f]{256}$';

/** A range list for vDCs, e.g. `"2-100,200, 300-310"`; checked in depth by src/ranges. */
export const RANGE_STRING = '^[0-9 ,-]*$';

export const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export function matches(pattern: string, value: string): boolean {
  return new RegExp(pattern, 'u').test(value);
}
