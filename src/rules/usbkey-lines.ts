/**
 * /usbkey/config lines (docs/file-formats.md#usbkey-config): `overlay_rule_<name>="<rule>"`
 * for each rule on the node, and the adminoverlay vNIC keys. SmartOS
 * evaluates the file as shell, so every value is checked against a plain
 * character set here even though validation already guarantees it.
 */
import { InternalError } from '../errors.js';
import type { Model, Node, OverlayRule } from '../model/model.js';
import type { UsbkeyLine } from '../desired/desired.js';
import { canonicalRuleString } from '../syntax/rule-string.js';

const SAFE_VALUE = /^[A-Za-z0-9 ._/=,:-]*$/;
const SAFE_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

export function usbkeyLineText(line: UsbkeyLine): string {
  if (!SAFE_KEY.test(line.key) || !SAFE_VALUE.test(line.value)) {
    throw new InternalError(`refusing to write an unsafe /usbkey/config line for key ${JSON.stringify(line.key)}`);
  }
  return `${line.key}="${line.value}"`;
}

export function ruleKey(ruleName: string): string {
  return `overlay_rule_${ruleName}`;
}

export function ruleLine(rule: OverlayRule): UsbkeyLine {
  return { key: ruleKey(rule.name), value: canonicalRuleString(rule) };
}

/** The rules a node has, sorted by name. */
export function rulesOfNode(model: Model, node: Node): OverlayRule[] {
  return model.rules.filter((r) => r.nodes.includes(node.name));
}

/** The adminoverlay vNIC of a node, `adminoverlay_0` over `adminoverlay<vni>`, and the VNC bind address. */
export function adminOverlayLines(model: Model, node: Node): UsbkeyLine[] {
  const ao = model.adminOverlay;
  const member = ao?.members.find((m) => m.node === node.name);
  if (!ao || !member) return [];
  return [
    { key: 'adminoverlay_0_vxlan_id', value: String(ao.vxlanId) },
    { key: 'adminoverlay_0_vlan_id', value: String(ao.vlanId) },
    { key: 'adminoverlay_0_ip', value: member.ip },
    { key: 'adminoverlay_0_netmask', value: ao.netmask },
    { key: 'adminoverlay_0_mac', value: member.mac },
    { key: 'vnc_listen_address', value: member.ip },
  ];
}

/** Every /usbkey/config line the node should have, in emission order. */
export function usbkeyLinesOf(model: Model, node: Node): UsbkeyLine[] {
  return [...rulesOfNode(model, node).map(ruleLine), ...adminOverlayLines(model, node)];
}

/** The keys this tool owns in /usbkey/config: lines with these keys are ours to add, change or remove. */
export function isOwnedUsbkeyKey(key: string): boolean {
  return key.startsWith('overlay_rule_') || key.startsWith('adminoverlay_0_') || key === 'vnc_listen_address';
}
