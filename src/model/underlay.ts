/**
 * How two nodes reach each other: over the admin network when they share a
 * PDC, over the external network (inside IPsec) when they do not. ARP
 * tables, the IPsec mesh, MTU paths and the Linux target all ask this one
 * question, so it is answered here once.
 */
import type { Node, OverlayRule } from './model.js';

export type PathKind = 'admin' | 'external';

export function pathKind(a: Node, b: Node): PathKind {
  return a.pdc === b.pdc ? 'admin' : 'external';
}

/**
 * The underlay address `from` sends a rule's VXLAN packets to, for a NIC on
 * `to`: the rule's listen IP when it names one, else `to`'s admin IP in the
 * same PDC and its external IP across PDCs. Undefined only for a node with no
 * external IP in a multi-PDC installation, which validation refuses.
 */
export function underlayIp(rule: OverlayRule, from: Node, to: Node): string | undefined {
  if (rule.listenIp !== '0.0.0.0') return rule.listenIp;
  return pathKind(from, to) === 'admin' ? to.adminIp : to.externalIp;
}
