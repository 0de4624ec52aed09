/**
 * UDP ports of overlay rules. Every rule (the adminoverlay too) has its own
 * port, as Danube does: two rules may use one VNI, and ipf rules are per port.
 */
import { ConflictError } from '../errors.js';

/** The port Danube gives the first rule: one above the IANA VXLAN port 4789. */
export const FIRST_RULE_PORT = 4790;

/** 4790 when no rule exists, else one above the highest port in use. */
export function nextFreePort(used: Iterable<number>): number {
  let highest = FIRST_RULE_PORT - 1;
  for (const p of used) if (p > highest) highest = p;
  const next = highest + 1;
  if (next > 65535) {
    throw new ConflictError(`no port above ${highest} is left; give the rule a free port with --port`);
  }
  return next;
}
