/**
 * /usbkey/config lines (docs/file-formats.md#usbkey-config): `overlay_rule_<name>="<rule>"`
 * for each rule on the node, and the adminoverlay vNIC keys. SmartOS
 * evaluates the file as shell, so every value is checked against a plain
 * character set here even though validation already guarantees it.
 */
import { InternalError } from '../errors.js';
import type { Model, Node, OverlayRule } from '../model/model.js';
import type { UsbkeyLine } from '../desired/desired.js';
import { canonicalRuleString, ruleProperties } from '../syntax/rule-string.js';

const SAFE_VALUE = /^[A-Za-z0-9 ._/=,:-]*$/;
const SAFE_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

export function usbkeyLineText(line: UsbkeyLine): string {
  if (!SAFE_KEY.test(line.key) || !SAFE_VALUE.test(line.value)) {
    throw new InternalError(`refusing to write an unsafe /usbkey/config line for key ${JSON.stringify(line.key)}`);
  }
  return `${line.key}="${line.value}"`;
}

const RULE_KEY_PREFIX = 'overlay_rule_';
const ADMIN_OVERLAY_KEY_PREFIX = 'adminoverlay_0_';
const VNC_KEY = 'vnc_listen_address';

export function ruleKey(ruleName: string): string {
  return `${RULE_KEY_PREFIX}${ruleName}`;
}

/** What one of our /usbkey/config keys sets: a rule's string, a field of the adminoverlay vNIC, or the VNC address. */
export type UsbkeyKeyOwner = { kind: 'rule'; rule: string } | { kind: 'adminoverlay'; field: string } | { kind: 'vnc' };

/** What `key` sets when it is one of ours (the inverse of ruleKey and adminOverlayLines), else undefined. */
export function usbkeyKeyOwner(key: string): UsbkeyKeyOwner | undefined {
  if (key.startsWith(RULE_KEY_PREFIX)) return { kind: 'rule', rule: key.slice(RULE_KEY_PREFIX.length) };
  if (key.startsWith(ADMIN_OVERLAY_KEY_PREFIX)) return { kind: 'adminoverlay', field: key.slice(ADMIN_OVERLAY_KEY_PREFIX.length) };
  return key === VNC_KEY ? { kind: 'vnc' } : undefined;
}

export function ruleLine(rule: OverlayRule): UsbkeyLine {
  return { key: ruleKey(rule.name), value: canonicalRuleString(rule), properties: Object.fromEntries(ruleProperties(rule)) };
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
    { key: `${ADMIN_OVERLAY_KEY_PREFIX}vxlan_id`, value: String(ao.vxlanId) },
    { key: `${ADMIN_OVERLAY_KEY_PREFIX}vlan_id`, value: String(ao.vlanId) },
    { key: `${ADMIN_OVERLAY_KEY_PREFIX}ip`, value: member.ip },
    { key: `${ADMIN_OVERLAY_KEY_PREFIX}netmask`, value: ao.netmask },
    { key: `${ADMIN_OVERLAY_KEY_PREFIX}mac`, value: member.mac },
    { key: VNC_KEY, value: member.ip },
  ];
}

/** Every /usbkey/config line the node should have, in emission order. */
export function usbkeyLinesOf(model: Model, node: Node): UsbkeyLine[] {
  return [...rulesOfNode(model, node).map(ruleLine), ...adminOverlayLines(model, node)];
}

/** The keys this tool owns in /usbkey/config: lines with these keys are ours to add, change or remove. */
export function isOwnedUsbkeyKey(key: string): boolean {
  return usbkeyKeyOwner(key) !== undefined;
}
