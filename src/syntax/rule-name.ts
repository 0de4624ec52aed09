/**
 * Rule names. New rules must satisfy the strict form (see patterns.ts for
 * why each constraint exists); older, looser names that Danube accepted are
 * still read, with a warning, so an existing installation can be imported.
 */
import type { ValidationIssue } from '../errors.js';
import { RULE_NAME_STRICT, matches } from './patterns.js';

export const ADMIN_OVERLAY_RULE = 'adminoverlay';

export function isStrictRuleName(name: string): boolean {
  return matches(RULE_NAME_STRICT, name);
}

/** The issue for a name given to `create`, or undefined when it is acceptable. */
export function newRuleNameIssue(name: string, path = 'rule'): ValidationIssue | undefined {
  if (name === ADMIN_OVERLAY_RULE) {
    return { path, value: name, message: 'is reserved: use adminoverlay-init for the admin overlay' };
  }
  if (isStrictRuleName(name)) return undefined;
  let why: string;
  if (name.length < 2) why = 'must have at least 2 characters';
  else if (name.length > 19) why = `must have at most 19 characters (has ${name.length}); nictagadm hides longer names`;
  else if (!/^[A-Za-z]/.test(name)) why = 'must start with a letter (dladm link names do)';
  else if (/[0-9]$/.test(name)) why = 'must not end with a digit: the VNI is appended to form the overlay link name';
  else if (/_$/.test(name)) why = 'must not end with "_" (Danube strips trailing "_" and digits)';
  else why = 'may only hold letters, digits and "_"';
  return { path, value: name, message: `rule name ${why}` };
}

/** Warning for a name that loads but that `create` would refuse, saying what breaks on SmartOS. */
export function looseRuleNameWarning(name: string, path: string): ValidationIssue | undefined {
  if (name === ADMIN_OVERLAY_RULE || isStrictRuleName(name)) {
    return name.includes('_ip')
      ? { path, value: name, message: 'contains "_ip", which breaks node vNICs on it in SmartOS net-virtual' }
      : undefined;
  }
  if (/[0-9]$/.test(name)) {
    // The link is <name><VNI>: dladm reads the trailing digits as one number (dladm_valid_linkname).
    const breaks = name.endsWith('0')
      ? `its overlay links (${name}<VNI>) end in a number with a leading zero, which dladm refuses: no overlay of this rule can be created`
      : `its overlay links run into the VNI (${name} with VNI 1000 is ${name}1000, the same link name as rule ${name.replace(/[0-9]+$/, '')} with VNI ${/[0-9]+$/.exec(name)![0]}1000)`;
    return { path, value: name, message: `is an older rule name that ends in a digit: ${breaks}; new rules may not end in a digit` };
  }
  return {
    path,
    value: name,
    message: 'is an older rule name that new rules may not use (start with a letter, end with a letter)',
  };
}
