/**
 * A node's facts as its `sysinfo` gives them, against what the state records
 * for it. Pure, and the one comparison both `daemon status` and `verify`
 * report with: changed facts are only reported, never applied (`nodes
 * discover` records them).
 */
import type { Node } from '../model/model.js';
import type { NodeFacts } from './sysinfo.js';

/** The state keys `nodes discover` records from sysinfo (MTUs as `underlay_mtu`'s two links). */
export type FactField = 'hostname' | 'uuid' | 'pdc' | 'admin_ip' | 'external_ip' | 'admin_mtu' | 'external_mtu';

export interface FactChange {
  field: FactField;
  /** As the state has it (`(none)` when it has nothing). */
  state: string;
  /** As the node's sysinfo gives it. */
  node: string;
}

/**
 * Each fact sysinfo gives that differs from the state, in a fixed order.
 * A fact sysinfo does not give (no external interface, no MTU) is not
 * compared: `nodes discover` would not record it either.
 */
export function compareFacts(node: Node, facts: NodeFacts): FactChange[] {
  const out: FactChange[] = [];
  const cmp = (field: FactField, state: string | undefined, live: string | undefined): void => {
    if (live !== undefined && live !== '' && state !== live) out.push({ field, state: state ?? '(none)', node: live });
  };
  cmp('hostname', node.name, facts.hostname);
  cmp('uuid', node.uuid.toLowerCase(), facts.uuid.toLowerCase());
  cmp('pdc', node.pdc, facts.pdc);
  cmp('admin_ip', node.adminIp, facts.adminIp);
  cmp('external_ip', node.externalIp, facts.externalIp);
  cmp('admin_mtu', String(node.underlayMtu.admin), facts.mtu.admin?.toString());
  cmp('external_mtu', String(node.underlayMtu.external), facts.mtu.external?.toString());
  return out;
}

/** `external_ip 198.51.100.11 → 198.51.100.99` */
export function describeFactChange(c: FactChange): string {
  return `${c.field} ${c.state} → ${c.node}`;
}

/**
 * The command that records a node's changed facts. A new UUID is a
 * reinstalled node (or another machine at its address), which discovery
 * only takes with --replace.
 */
export function recordFactsCommand(nodeName: string, changes: readonly FactChange[]): string {
  return `esdc-overlay nodes discover ${nodeName}${changes.some((c) => c.field === 'uuid') ? ' --replace' : ''}`;
}
