/**
 * The normalised model every generator works on: defaults resolved, rule
 * strings parsed, node lists expanded, MACs normalised, everything in a
 * stable order (code-point order of names). Built by `buildModel` from a
 * shape-valid StateDoc; pure.
 */
import type { ValidationIssue } from '../errors.js';
import type { ArpTableOwner, IpsecAuth, IpsecEncr, IpsecPolicyScope, IpsecProfile, StateDoc } from './state.js';
import type { VdcAllowance } from './vdcs.js';

/** A compute node. */
export interface Node {
  /** Hostname: the key under `nodes`. */
  name: string;
  uuid: string;
  /** Physical datacenter. Nodes sharing it use the admin network; others the external one, inside IPsec. */
  pdc: string;
  adminIp: string;
  externalIp: string | undefined;
  /** Link MTUs of the admin and external networks. */
  underlayMtu: { admin: number; external: number };
  /** SSH overrides as written; the transport fills in the defaults. */
  ssh: { host?: string; port?: number; user?: string };
}

/** An overlay rule: what `overlay_rule_<name>` says and which nodes get it. */
export interface OverlayRule {
  name: string;
  port: number;
  /** `0.0.0.0` means every interface. */
  listenIp: string;
  /** Absolute path of the varpd files/config ARP table on the node. */
  filesConfig: string;
  mtu: number;
  /** As written: `all` or a list of hostnames. */
  nodeSelector: 'all' | readonly string[];
  /** Hostnames (known nodes only) that have the rule, sorted. */
  nodes: readonly string[];
  /** True for the rule the `adminoverlay` section defines. */
  adminOverlay: boolean;
}

/** A node's vNIC on the admin overlay. */
export interface AdminOverlayMember {
  node: string;
  ip: string;
  mac: string;
}

export interface AdminOverlay {
  subnet: string;
  network: string;
  netmask: string;
  prefix: number;
  vxlanId: number;
  vlanId: number;
  mtu: number;
  port: number;
  /** Sorted by node name. */
  members: readonly AdminOverlayMember[];
}

/** A VM NIC on an overlay. */
export interface VNic {
  /** Position in `vnics`, for messages. */
  index: number;
  node: string;
  /** Lower case, zero padded. */
  mac: string;
  ip: string;
  ip6: string | undefined;
  rule: string;
  vni: number;
  /** 0 when untagged. */
  vlanId: number;
  vm: string | undefined;
  vdc: string | undefined;
}

/** One IPsec pre-shared key; `nodes` is sorted by code point. */
export interface PairKey {
  nodes: readonly [string, string];
  key: string;
}

/** A key of the `pdc-pair` scheme: the two PDC names in code-point order. */
export interface PdcPairKey {
  pdcs: readonly [string, string];
  key: string;
}

/** The key schemes this tool builds (`cert` is refused by the model). */
export type KeyScheme = 'pair' | 'pdc-pair';

export interface Firewall {
  enabled: boolean;
  administratorSources: readonly string[];
}

export interface Defaults {
  underlayMtu: number;
  /** Who writes the ARP tables (`defaults.arp_tables`, default esdc-overlay). */
  arpTables: ArpTableOwner;
  /** The ESP suite and scope in effect: under `danube`, always Danube's (aes-cbc, sha512, all-udp). */
  ipsec: { profile: IpsecProfile; encr: IpsecEncr; auth: IpsecAuth; policyScope: IpsecPolicyScope; keys: KeyScheme };
  /** The head node's PDC (`defaults.head_pdc`), one of the nodes' PDCs; undefined when not recorded. */
  headPdc: string | undefined;
}

export interface Model {
  /** The document the model was built from. */
  doc: StateDoc;
  defaults: Defaults;
  /** Sorted by name. */
  nodes: readonly Node[];
  nodeByName: ReadonlyMap<string, Node>;
  /** Sorted by name; includes the adminoverlay rule when there is one. */
  rules: readonly OverlayRule[];
  ruleByName: ReadonlyMap<string, OverlayRule>;
  adminOverlay: AdminOverlay | undefined;
  /** In document order. */
  vnics: readonly VNic[];
  firewall: Firewall;
  pairKeys: readonly PairKey[];
  /** Keys of the `pdc-pair` scheme, sorted by PDC pair. */
  pdcKeys: readonly PdcPairKey[];
  /** Sorted PDC names. */
  pdcs: readonly string[];
  /** The vDCs' VXLAN and VLAN allowances, parsed once, sorted by name. */
  vdcs: readonly VdcAllowance[];
  /** Problems that make the state inconsistent (unknown names, duplicates...). */
  issues: readonly ValidationIssue[];
  /** Things that load but deserve attention. */
  warnings: readonly ValidationIssue[];
}

/** Code-point order, never locale order: Danube's bash and Jinja disagreed on pair keys (docs/file-formats.md#danube-defects, item 8). */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ordered pair of two node names, as keys and policies name it. */
export function orderedPair(a: string, b: string): readonly [string, string] {
  return byCodePoint(a, b) <= 0 ? [a, b] : [b, a];
}
