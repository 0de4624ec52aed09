/**
 * The same overlay on Linux hosts, as iproute2 input: per node, a VXLAN
 * device (`nolearning proxy`) and a bridge per (rule, VNI) the node needs,
 * static `bridge fdb` entries and neighbour entries from the VM NICs (the
 * files/config ARP table's content, addressed by the same underlay rule,
 * src/model/underlay.ts), and ESP transport-mode states and policies for
 * every pair of nodes in different PDCs, with keys derived from the pair's
 * PSK. Pure: randomness for missing keys comes in through `randomKey`.
 *
 * Keys and SPIs never reach argv: they go to `ip -batch` input, a 0600 file.
 */
import { hkdfSync } from 'node:crypto';
import type { ValidationIssue } from '../errors.js';
import type { Model, Node, OverlayRule, VNic } from '../model/model.js';
import { byCodePoint, orderedPair } from '../model/model.js';
import { pathKind, underlayIp } from '../model/underlay.js';
import { ESP_SUITES, suiteOf, type EspSuiteName } from '../mtu/overhead.js';
import { overlaysOfNode } from '../rules/overlays.js';
import type { TreeFile } from '../render/render-tree.js';

/** One (rule, VNI) segment on a node: its devices. */
export interface LinuxSegment {
  rule: string;
  vni: number;
  /** VXLAN device: `vx<port>-<vni>`, within Linux's 15 characters. */
  vxlan: string;
  /** Bridge the VM NICs (or a lab's guests) attach to: `br<port>-<vni>`. */
  bridge: string;
}

/** Linux interface names for a rule's VNI; the UDP port is unique per rule and short. */
export function segmentNames(rule: OverlayRule, vni: number): { vxlan: string; bridge: string } {
  return { vxlan: `vx${rule.port}-${vni}`, bridge: `br${rule.port}-${vni}` };
}

export interface LinuxNodeFiles {
  node: string;
  segments: LinuxSegment[];
  /** `ip -batch` input: links, neighbours, xfrm (holds keys). */
  ipBatch: string;
  /** `bridge -batch` input: forwarding entries. */
  bridgeBatch: string;
}

export interface LinuxTarget {
  nodes: LinuxNodeFiles[];
  warnings: ValidationIssue[];
}

/** A NIC on an overlay segment, from a VM NIC or an adminoverlay member. */
type SegmentNic = Pick<VNic, 'node' | 'mac' | 'ip' | 'ip6' | 'rule' | 'vni'>;

const KDF_SALT = 'esdc-overlay linux xfrm v1';

/** Key bytes for one direction of a pair, from the pair's PSK (HKDF-SHA-256). */
export function directionKey(psk: string, from: string, to: string, purpose: 'enc' | 'auth' | 'aead', bytes: number): string {
  const ikm = /^[0-9a-f]+$/i.test(psk) && psk.length % 2 === 0 ? Buffer.from(psk, 'hex') : Buffer.from(psk, 'utf8');
  const out = hkdfSync('sha256', ikm, KDF_SALT, `${from}>${to} ${purpose}`, bytes);
  return `0x${Buffer.from(out).toString('hex')}`;
}

/**
 * SPI of the SA from `from` to `to`: unique per destination (0x1000 + the
 * source's position among `to`'s peers in other PDCs), so both ends compute
 * it from the model alone.
 */
function spiOf(peers: ReadonlyMap<string, readonly string[]>, from: string, to: string): string {
  const list = peers.get(to) ?? [];
  const i = list.indexOf(from);
  return `0x${(0x1000 + i).toString(16)}`;
}

function segmentNics(model: Model): SegmentNic[] {
  const nics: SegmentNic[] = model.vnics.map((v) => ({ node: v.node, mac: v.mac, ip: v.ip, ip6: v.ip6, rule: v.rule, vni: v.vni }));
  const ao = model.adminOverlay;
  if (ao) for (const m of ao.members) nics.push({ node: m.node, mac: m.mac, ip: m.ip, ip6: undefined, rule: 'adminoverlay', vni: ao.vxlanId });
  return nics;
}

function xfrmAlgo(suite: EspSuiteName, psk: string, from: string, to: string): string {
  const l = ESP_SUITES[suite].linux;
  if (l.kind === 'aead') return `aead ${l.aead} ${directionKey(psk, from, to, 'aead', l.keyBytes)} ${l.icvBits}`;
  return `enc ${l.enc} ${directionKey(psk, from, to, 'enc', l.encKeyBytes)} auth-trunc ${l.auth} ${directionKey(psk, from, to, 'auth', l.authKeyBytes)} ${l.truncBits}`;
}

/**
 * The Linux target for every node (or those in `only`). `randomKey` gives a
 * fresh PSK for a cross-PDC pair with none in the state; each such pair is
 * warned about once.
 */
/** `randomKey(pairId)`: the key of a pair the state has none for (random, or derived from `render --key-secret`). */
export function linuxTarget(model: Model, randomKey: (pairId: string) => string, only?: ReadonlySet<string>): LinuxTarget {
  const warnings: ValidationIssue[] = [];
  const suite = suiteOf(model.defaults.ipsec);
  const psk = new Map(model.pairKeys.map((k) => [k.nodes.join('\u0000'), k.key]));
  const keyOf = (a: string, b: string): string => {
    const id = orderedPair(a, b).join('\u0000');
    let key = psk.get(id);
    if (key === undefined) {
      key = randomKey(id);
      psk.set(id, key);
      const [x, y] = orderedPair(a, b);
      warnings.push({
        path: 'ipsec.psk',
        message: `no key for ${x} - ${y}: the Linux target makes one up for this render only (random, or derived from --key-secret); run \`keys generate\` to store one`,
      });
    }
    return key;
  };
  // Each node's peers in other PDCs, sorted: SPIs and the pair list.
  const peers = new Map<string, string[]>();
  for (const n of model.nodes) {
    peers.set(n.name, model.nodes.filter((m) => m.name !== n.name && pathKind(n, m) === 'external').map((m) => m.name));
  }
  const nics = segmentNics(model);
  const out: LinuxNodeFiles[] = [];
  for (const node of model.nodes) {
    if (only && !only.has(node.name)) continue;
    out.push(nodeFiles(model, node, nics, peers, suite, keyOf));
  }
  warnings.sort((a, b) => byCodePoint(a.message, b.message));
  return { nodes: out, warnings };
}

function nodeFiles(
  model: Model,
  node: Node,
  nics: readonly SegmentNic[],
  peers: ReadonlyMap<string, readonly string[]>,
  suite: EspSuiteName,
  keyOf: (a: string, b: string) => string,
): LinuxNodeFiles {
  const ip: string[] = [`# ${node.name}: ip -batch input (esdc-overlay render --target linux)`];
  const br: string[] = [`# ${node.name}: bridge -batch input`];
  const segments: LinuxSegment[] = [];
  for (const link of overlaysOfNode(model, node)) {
    const rule = model.ruleByName.get(link.rule)!;
    const names = segmentNames(rule, link.vni);
    segments.push({ rule: rule.name, vni: link.vni, ...names });
    const local = rule.listenIp !== '0.0.0.0' ? ` local ${rule.listenIp}` : '';
    ip.push(
      `link add ${names.vxlan} mtu ${rule.mtu} type vxlan id ${link.vni} dstport ${rule.port}${local} nolearning proxy`,
      `link add ${names.bridge} mtu ${rule.mtu} type bridge`,
      `link set ${names.vxlan} master ${names.bridge}`,
      `link set ${names.vxlan} up`,
      `link set ${names.bridge} up`,
    );
    const remote = nics.filter((n) => n.rule === rule.name && n.vni === link.vni && n.node !== node.name);
    // Broadcast and unknown unicast go to every other node with the segment (ARP over a VLAN tag, DHCP).
    const floods = new Set<string>();
    for (const n of remote) {
      const to = model.nodeByName.get(n.node);
      if (!to) continue;
      const dst = underlayIp(rule, node, to);
      if (dst === undefined) continue;
      floods.add(dst);
      br.push(`fdb append ${n.mac} dev ${names.vxlan} dst ${dst} self permanent`);
      ip.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${names.vxlan} nud permanent`);
      if (n.ip6 !== undefined) ip.push(`neigh replace ${n.ip6} lladdr ${n.mac} dev ${names.vxlan} nud permanent`);
    }
    for (const dst of [...floods].sort(byCodePoint)) br.push(`fdb append 00:00:00:00:00:00 dev ${names.vxlan} dst ${dst} self permanent`);
  }
  // ESP transport mode with every node in another PDC, between external IPs.
  for (const peerName of peers.get(node.name) ?? []) {
    const peer = model.nodeByName.get(peerName)!;
    const a = node.externalIp;
    const b = peer.externalIp;
    if (a === undefined || b === undefined) continue;
    const key = keyOf(node.name, peer.name);
    const outSpi = spiOf(peers, node.name, peer.name);
    const inSpi = spiOf(peers, peer.name, node.name);
    ip.push(
      `xfrm state add src ${a} dst ${b} proto esp spi ${outSpi} mode transport ${xfrmAlgo(suite, key, node.name, peer.name)}`,
      `xfrm state add src ${b} dst ${a} proto esp spi ${inSpi} mode transport ${xfrmAlgo(suite, key, peer.name, node.name)}`,
      `xfrm policy add src ${a} dst ${b} dir out tmpl src ${a} dst ${b} proto esp mode transport`,
      `xfrm policy add src ${b} dst ${a} dir in tmpl src ${b} dst ${a} proto esp mode transport`,
    );
  }
  return { node: node.name, segments, ipBatch: `${ip.join('\n')}\n`, bridgeBatch: `${br.join('\n')}\n` };
}

/** The apply script beside the batches; it runs them from its own directory. */
export const LINUX_APPLY_SCRIPT = `#!/bin/sh
# Builds this node's overlay with iproute2 (esdc-overlay render --target linux).
set -e
cd "$(dirname "$0")"
ip -batch ip.batch
bridge -batch bridge.batch
`;

/** The files of a node's Linux tree, relative to `DIR/<node>/`. */
export function linuxTreeFiles(n: LinuxNodeFiles): TreeFile[] {
  const segments = `${n.segments.map((s) => `${s.rule}\t${s.vni}\t${s.vxlan}\t${s.bridge}`).join('\n')}\n`;
  return [
    { path: 'linux/apply.sh', mode: 0o700, content: () => [LINUX_APPLY_SCRIPT] },
    { path: 'linux/bridge.batch', mode: 0o644, content: () => [n.bridgeBatch] },
    { path: 'linux/ip.batch', mode: 0o600, content: () => [n.ipBatch] },
    { path: 'linux/segments.tsv', mode: 0o644, content: () => [segments] },
  ];
}

