/**
 * Datalink names as libdladm accepts them (dladm_valid_linkname, illumos-joyent
 * usr/src/lib/libdladm/common/libdladm.c:861-891; docs/smartos-rules.md): fewer than
 * MAXLINKNAMELEN (32, sys/param.h:209) characters of letters, digits, `_` and `.`; not
 * starting with a digit; ending in a number with no leading zero. Overlay
 * links we create are `<rule><VNI>`, but a node may hold others (e.g. with a
 * `.`), and reading them must not fail.
 */

/** MAXLINKNAMELEN in illumos sys/param.h, including the terminating NUL. */
export const MAXLINKNAMELEN = 32;

export function isValidLinkName(name: string): boolean {
  if (name.length === 0 || name.length >= MAXLINKNAMELEN) return false;
  if (!/^[A-Za-z0-9_.]+$/.test(name) || /^[0-9]/.test(name)) return false;
  const digits = /[0-9]+$/.exec(name)?.[0];
  return digits !== undefined && !(digits.length > 1 && digits.startsWith('0'));
}

/** Why `name` is not a valid link name, or undefined. */
export function linkNameProblem(name: string): string | undefined {
  if (isValidLinkName(name)) return undefined;
  if (name.length >= MAXLINKNAMELEN) return `has ${name.length} characters; dladm allows at most ${MAXLINKNAMELEN - 1}`;
  if (!/^[A-Za-z0-9_.]*$/.test(name)) return 'may only hold letters, digits, "_" and "."';
  if (/^[0-9]/.test(name)) return 'must not start with a digit';
  if (!/[0-9]$/.test(name)) return 'must end with a number';
  return 'must end with a number without a leading zero';
}
