/**
 * The safe MTU of each overlay rule: the smallest inner MTU over every path
 * between two of its nodes (docs/mtu.md#per-rule). A path in one PDC runs over the admin
 * network without ESP; a path across PDCs over the external network inside
 * the mesh's ESP suite. Pure.
 *
 * Nodes are grouped into classes that every path of theirs treats alike
 * (PDC, both link MTUs, address families), so a rule on N nodes costs
 * O(N + C²) for C classes instead of O(N²): a thousand nodes in a handful
 * of PDCs is a handful of class pairs.
 */
import { OVERLAY_MTU_MAX } from '../syntax/overlay-limits.js';
import type { Model, Node, OverlayRule } from '../model/model.js';
import { byCodePoint, orderedPair } from '../model/model.js';
import { pathKind, type PathKind } from '../model/underlay.js';
import { innerMtu, suiteOf, type EspChoice, type PathSpec } from './overhead.js';

/** The path that limits a rule. */
export interface LimitingPath {
  /** Two node names in code-point order. */
  pair: readonly [string, string];
  kind: PathKind;
  spec: PathSpec;
}

export interface RuleMtu {
  rule: string;
  configured: number;
  /** The frame carries an 802.1Q tag (a NIC on the rule has a VLAN id, or the adminoverlay). */
  vlan: boolean;
  /** Undefined when the rule has fewer than two nodes: no path, no limit. */
  safe: number | undefined;
  limiting: LimitingPath | undefined;
  ok: boolean;
}

/** Rules whose frames carry an 802.1Q tag. */
export function taggedRules(model: Model): Set<string> {
  const tagged = new Set<string>();
  for (const v of model.vnics) if (v.vlanId > 0) tagged.add(v.rule);
  for (const r of model.rules) if (r.adminOverlay) tagged.add(r.name);
  return tagged;
}

/** The path spec between two nodes for a rule; `vlan` is the rule's. */
export function pathSpec(model: Model, a: Node, b: Node, vlan: boolean): { kind: PathKind; spec: PathSpec } {
  const kind = pathKind(a, b);
  const mtu = Math.min(a.underlayMtu[kind], b.underlayMtu[kind]);
  const esp: EspChoice = kind === 'external' ? suiteOf(model.defaults.ipsec) : 'none';
  const v6 = kind === 'admin' ? isV6(a.adminIp) || isV6(b.adminIp) : isV6(a.externalIp) || isV6(b.externalIp);
  return { kind, spec: { underlayMtu: mtu, ipVersion: v6 ? 6 : 4, vlan, esp, natT: false } };
}

function isV6(ip: string | undefined): boolean {
  return ip !== undefined && ip.includes(':');
}

/** Nodes that every path treats alike, with their names in code-point order. */
interface NodeClass {
  node: Node;
  names: string[];
}

function classKey(n: Node): string {
  return [n.pdc, n.underlayMtu.admin, n.underlayMtu.external, isV6(n.adminIp), isV6(n.externalIp)].join('\u0000');
}

/** The safe MTU of one rule. `tagged` comes from `taggedRules` (computed once for many rules). */
export function ruleMtu(model: Model, rule: OverlayRule, tagged: ReadonlySet<string> = taggedRules(model)): RuleMtu {
  const vlan = tagged.has(rule.name);
  const classes = new Map<string, NodeClass>();
  for (const name of [...rule.nodes].sort(byCodePoint)) {
    const node = model.nodeByName.get(name);
    if (!node) continue;
    const key = classKey(node);
    const c = classes.get(key);
    if (c) c.names.push(name);
    else classes.set(key, { node, names: [name] });
  }
  const list = [...classes.values()];
  let best: { safe: number; limiting: LimitingPath } | undefined;
  const consider = (a: NodeClass, b: NodeClass, pair: readonly [string, string]): void => {
    const { kind, spec } = pathSpec(model, a.node, b.node, vlan);
    const safe = innerMtu(spec).inner_mtu;
    if (!best || safe < best.safe || (safe === best.safe && comparePairs(pair, best.limiting.pair) < 0)) {
      best = { safe, limiting: { pair, kind, spec } };
    }
  };
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    if (a.names.length >= 2) consider(a, a, [a.names[0]!, a.names[1]!]);
    for (let j = i + 1; j < list.length; j++) {
      const b = list[j]!;
      consider(a, b, orderedPair(a.names[0]!, b.names[0]!));
    }
  }
  const found = best as { safe: number; limiting: LimitingPath } | undefined;
  // No path allows more than the overlay driver does (OVERLAY_MTU_MAX; docs/smartos-rules.md): a jumbo
  // underlay must not suggest an MTU that create-overlay refuses.
  const safe = found === undefined ? undefined : Math.min(found.safe, OVERLAY_MTU_MAX);
  return {
    rule: rule.name,
    configured: rule.mtu,
    vlan,
    safe,
    limiting: found?.limiting,
    ok: safe === undefined || rule.mtu <= safe,
  };
}

function comparePairs(a: readonly [string, string], b: readonly [string, string]): number {
  return byCodePoint(a[0], b[0]) || byCodePoint(a[1], b[1]);
}

/** Every rule's safe MTU, in rule-name order. */
export function mtuReport(model: Model): RuleMtu[] {
  const tagged = taggedRules(model);
  return model.rules.map((r) => ruleMtu(model, r, tagged));
}
