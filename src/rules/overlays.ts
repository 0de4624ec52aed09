/**
 * Overlay links a node needs: one per (rule, VNI) used by a VM NIC on the
 * node, and `adminoverlay<vni>` for the node's own adminoverlay vNIC. The
 * link name is the rule name with the VNI appended (docs/file-formats.md#dladm-create-overlay).
 */
import type { Model, Node, OverlayRule, VNic } from '../model/model.js';
import { byCodePoint } from '../model/model.js';
import type { OverlayLink } from '../desired/desired.js';
import { ruleArgv, ruleProperties } from '../syntax/rule-string.js';

export function overlayLinkName(rule: string, vni: number): string {
  return `${rule}${vni}`;
}

export function createOverlayArgv(rule: OverlayRule, vni: number): string[] {
  return ['dladm', 'create-overlay', ...ruleArgv(rule), '-v', String(vni), overlayLinkName(rule.name, vni)];
}

// Asked once per node: scanning every VM NIC for each node was 7 % of a
// 200-node, 10,000-NIC render (issue 20); one pass groups them for all nodes.
const vnicsByNode = new WeakMap<Model, ReadonlyMap<string, readonly VNic[]>>();

function vnicsOf(model: Model, node: string): readonly VNic[] {
  let index = vnicsByNode.get(model);
  if (index === undefined) {
    const groups = new Map<string, VNic[]>();
    for (const v of model.vnics) {
      const group = groups.get(v.node);
      if (group) group.push(v);
      else groups.set(v.node, [v]);
    }
    index = groups;
    vnicsByNode.set(model, index);
  }
  return index.get(node) ?? [];
}

// Asked once per NIC of the node: rule.nodes.includes was a scan of every node of the rule.
const memberSets = new WeakMap<OverlayRule, ReadonlySet<string>>();

function ruleMembers(rule: OverlayRule): ReadonlySet<string> {
  let set = memberSets.get(rule);
  if (set === undefined) {
    set = new Set(rule.nodes);
    memberSets.set(rule, set);
  }
  return set;
}

export function overlaysOfNode(model: Model, node: Node): OverlayLink[] {
  const wanted = new Map<string, { rule: OverlayRule; vni: number }>();
  const add = (rule: OverlayRule | undefined, vni: number): void => {
    if (!rule || !ruleMembers(rule).has(node.name)) return;
    wanted.set(overlayLinkName(rule.name, vni), { rule, vni });
  };
  for (const v of vnicsOf(model, node.name)) add(model.ruleByName.get(v.rule), v.vni);
  const ao = model.adminOverlay;
  if (ao && ao.members.some((m) => m.node === node.name)) add(model.ruleByName.get('adminoverlay'), ao.vxlanId);
  return [...wanted.entries()]
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([link, { rule, vni }]) => ({
      link,
      rule: rule.name,
      vni,
      argv: createOverlayArgv(rule, vni),
      properties: Object.fromEntries(ruleProperties(rule)),
    }));
}
