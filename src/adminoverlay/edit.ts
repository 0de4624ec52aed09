/**
 * Pure edits of the `adminoverlay` section (docs/state-format.md#adminoverlay):
 * `init` creates it with an address and a MAC for every node; `update`
 * changes the addresses of the nodes named, gives nodes that have none an
 * address and a MAC, and keeps every MAC it does not have to create. Each
 * function returns a new document and never touches the one it was given.
 */
import { ConflictError, EsdcError, ValidationError, type ValidationIssue } from '../errors.js';
import { ADMIN_OVERLAY_DEFAULTS } from '../model/build-model.js';
import { normalizeMac } from '../model/mac.js';
import { byCodePoint, type Model } from '../model/model.js';
import { HOSTNAME, matches } from '../syntax/patterns.js';
import type { AdminOverlayDoc, AdminOverlayMemberDoc, StateDoc } from '../model/state.js';
import { ipv4ToInt, isHostOf, isIpv4, parseNetwork, type Ipv4Network } from '../net/ipv4.js';
import { nextFreePort } from '../syntax/ports.js';
import { ADMIN_OVERLAY_RULE } from '../syntax/rule-name.js';
import { AddressPool, formatIp, type AddressRange } from './addresses.js';
import { cryptoRandom, newAdminOverlayMac, type RandomSource } from './mac.js';
import { didYouMean } from '../model/suggest.js';
import { parseAdminSubnet } from './subnet.js';

/** `node=ip` pairs as the operator gave them, in order. */
export interface Assignment {
  node: string;
  ip: string;
}

/** Danube's `node=ip,node=ip` list; blanks and stray commas ignored. */
export function parseAssignments(text: string, path = 'nodes'): Assignment[] {
  const items = text.replace(/\s+/g, '').split(',').filter((s) => s !== '');
  const issues: ValidationIssue[] = [];
  const out: Assignment[] = [];
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const eq = item.indexOf('=');
    const node = eq < 0 ? item : item.slice(0, eq);
    const ip = eq < 0 ? '' : item.slice(eq + 1);
    if (eq < 0) issues.push({ path: at, value: item, message: 'must be node=ip' });
    else if (!matches(HOSTNAME, node)) issues.push({ path: at, value: node, message: 'is not a valid hostname' });
    else if (!isIpv4(ip)) issues.push({ path: at, value: ip, message: `is not an IPv4 address (for ${node})` });
    else out.push({ node, ip });
  });
  const seenNode = new Set<string>();
  const seenIp = new Map<string, string>();
  for (const a of out) {
    if (seenNode.has(a.node)) issues.push({ path, value: a.node, message: 'names a node twice' });
    seenNode.add(a.node);
    const other = seenIp.get(a.ip);
    if (other !== undefined) issues.push({ path, value: a.ip, message: `gives one address to ${other} and ${a.node}` });
    seenIp.set(a.ip, a.node);
  }
  if (issues.length > 0) throw new ValidationError(issues, 'node=ip list');
  return out;
}

export type MemberChangeKind = 'added' | 'address changed' | 'removed (not a known node)' | 'unchanged';

export interface MemberChange {
  node: string;
  kind: MemberChangeKind;
  ip: string | undefined;
  mac: string | undefined;
  before?: AdminOverlayMemberDoc;
}

export interface AdminOverlayEditResult {
  subnet: string;
  port: number;
  /** One per node of the section before or after, sorted by node. */
  members: MemberChange[];
}

export interface InitRequest {
  subnet: string;
  assignments?: readonly Assignment[];
  port?: number;
  reserved?: readonly AddressRange[];
}

export interface UpdateRequest {
  assignments?: readonly Assignment[];
  reserved?: readonly AddressRange[];
}

/** Every MAC in the state: VM NICs and the adminoverlay members that stay. */
function macsInUse(model: Model, staying: readonly AdminOverlayMemberDoc[]): Set<string> {
  const macs = new Set<string>(model.vnics.map((v) => v.mac));
  for (const m of staying) macs.add(normalizeMac(m.mac));
  return macs;
}

/** Addresses of the subnet that something other than an adminoverlay member holds. */
function foreignAddresses(model: Model, net: Ipv4Network): Map<number, string> {
  const held = new Map<number, string>();
  const add = (ip: string, what: string): void => {
    const n = ipv4ToInt(ip);
    if (n >= net.first && n <= net.last && !held.has(n)) held.set(n, what);
  };
  for (const v of model.vnics) if (v.rule === ADMIN_OVERLAY_RULE) add(v.ip, `vnics[${v.index}] (a VM NIC on the adminoverlay)`);
  for (const n of model.nodes) {
    add(n.adminIp, `the admin IP of ${n.name}`);
    if (n.externalIp !== undefined) add(n.externalIp, `the external IP of ${n.name}`);
  }
  return held;
}

/**
 * The new member list: explicit assignments first, then every known node
 * without an address gets the next free one. Members not named keep
 * address and MAC; members of unknown nodes are dropped.
 */
function assign(
  model: Model,
  net: Ipv4Network,
  current: Readonly<Record<string, AdminOverlayMemberDoc>>,
  assignments: readonly Assignment[],
  reserved: readonly AddressRange[],
  random: RandomSource,
): { nodes: Record<string, AdminOverlayMemberDoc>; members: MemberChange[] } {
  const issues: ValidationIssue[] = [];
  const explicit = new Map(assignments.map((a) => [a.node, a.ip]));
  assignments.forEach((a, i) => {
    if (!model.nodeByName.has(a.node)) issues.push({ path: `nodes[${i}]`, value: a.node, message: `is not a known node${didYouMean(a.node, model.nodes.map((n) => n.name))}` });
  });

  const foreign = foreignAddresses(model, net);
  // Members that keep their address: known nodes not named explicitly.
  const kept = new Map<number, string>();
  for (const [node, m] of Object.entries(current)) {
    if (model.nodeByName.has(node) && !explicit.has(node)) kept.set(ipv4ToInt(m.ip), node);
  }
  assignments.forEach((a, i) => {
    const n = ipv4ToInt(a.ip);
    const path = `nodes[${i}]`;
    if (!isHostOf(net, n)) {
      issues.push({
        path,
        value: a.ip,
        message: n >= net.first && n <= net.last ? `is the network or broadcast address of ${net.cidr}` : `is outside the adminoverlay subnet ${net.cidr}`,
      });
    }
    const holder = kept.get(n) ?? foreign.get(n);
    if (holder !== undefined) issues.push({ path, value: a.ip, message: `is in use: ${kept.has(n) ? `the adminoverlay address of ${holder}` : holder}` });
  });
  if (issues.length > 0) throw new ValidationError(issues, 'adminoverlay');

  const pool = new AddressPool(net, [...kept.keys(), ...foreign.keys()], reserved);
  for (const a of assignments) pool.claim(ipv4ToInt(a.ip));
  const macs = macsInUse(model, Object.entries(current).filter(([node]) => model.nodeByName.has(node)).map(([, m]) => m));

  const nodes: Record<string, AdminOverlayMemberDoc> = {};
  const members: MemberChange[] = [];
  for (const node of model.nodes.map((n) => n.name)) {
    const before = current[node];
    const ip = explicit.get(node) ?? before?.ip ?? formatIp(pool.take(node));
    // A MAC is never changed for an address: the vNIC keeps its identity (docs/file-formats.md#danube-defects, item 2).
    const mac = before ? normalizeMac(before.mac) : newAdminOverlayMac(macs, random);
    nodes[node] = { ip, mac };
    const kind: MemberChangeKind = !before ? 'added' : before.ip !== ip ? 'address changed' : 'unchanged';
    members.push(before ? { node, kind, ip, mac, before: { ...before } } : { node, kind, ip, mac });
  }
  for (const [node, m] of Object.entries(current)) {
    if (!model.nodeByName.has(node)) members.push({ node, kind: 'removed (not a known node)', ip: undefined, mac: undefined, before: { ...m } });
  }
  members.sort((a, b) => byCodePoint(a.node, b.node));
  return { nodes, members };
}

export function initAdminOverlay(
  doc: StateDoc,
  model: Model,
  req: InitRequest,
  random: RandomSource = cryptoRandom,
): { doc: StateDoc; result: AdminOverlayEditResult } {
  if (doc.adminoverlay !== undefined) {
    throw new ConflictError(
      `the adminoverlay exists already (subnet ${doc.adminoverlay.subnet}); change node addresses with adminoverlay-update`,
      { code: 'AdminOverlayExists' },
    );
  }
  const net = parseAdminSubnet(req.subnet);
  const owners = new Map<number, string>();
  for (const r of model.rules) if (r.port > 0) owners.set(r.port, r.name);
  const port = req.port ?? nextFreePort(owners.keys());
  const owner = owners.get(port);
  if (owner !== undefined) throw new ConflictError(`port ${port} is already used by rule ${owner}; choose another with --port`, { code: 'PortInUse' });
  if (port < 1 || port > 65535) throw new ValidationError([{ path: 'port', value: port, message: 'must be a UDP port 1-65535' }], 'adminoverlay-init');

  const { nodes, members } = assign(model, net, {}, req.assignments ?? [], req.reserved ?? [], random);
  const section: AdminOverlayDoc = {
    subnet: net.cidr,
    port,
    vxlan_id: ADMIN_OVERLAY_DEFAULTS.vxlanId,
    vlan_id: ADMIN_OVERLAY_DEFAULTS.vlanId,
    mtu: ADMIN_OVERLAY_DEFAULTS.mtu,
    nodes,
  };
  return { doc: { ...doc, adminoverlay: section }, result: { subnet: net.cidr, port, members } };
}

export function updateAdminOverlay(
  doc: StateDoc,
  model: Model,
  req: UpdateRequest,
  random: RandomSource = cryptoRandom,
): { doc: StateDoc; result: AdminOverlayEditResult } {
  const section = doc.adminoverlay;
  if (section === undefined) {
    throw new EsdcError('there is no adminoverlay yet; create it with: esdc-overlay adminoverlay-init <subnet>', { code: 'AdminOverlayMissing' });
  }
  const net = parseNetwork(section.subnet);
  if (!net) throw new ValidationError([{ path: 'adminoverlay.subnet', value: section.subnet, message: 'is not a valid network' }], 'state');
  const { nodes, members } = assign(model, net, section.nodes ?? {}, req.assignments ?? [], req.reserved ?? [], random);
  const port = section.port ?? model.adminOverlay?.port ?? nextFreePort(model.rules.filter((r) => !r.adminOverlay).map((r) => r.port));
  if (members.every((m) => m.kind === 'unchanged') && section.port !== undefined) {
    return { doc, result: { subnet: section.subnet, port, members } };
  }
  // The port is pinned here too: a floating port would move when another rule is created.
  return { doc: { ...doc, adminoverlay: { ...section, port, nodes } }, result: { subnet: section.subnet, port, members } };
}
