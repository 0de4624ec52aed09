/**
 * The state file as it is written on disk (docs/state-format.md). These types mirror
 * the document, optional fields and all; `buildModel` turns a document into
 * the normalised `Model` the generators work on. Commands edit a `StateDoc`
 * and the store saves it, so what the operator wrote (and left out) survives.
 */

export type IpsecEncr = 'aes-cbc' | 'aes-gcm';
export type IpsecAuth = 'sha256' | 'sha512';
/**
 * What the ESP policy between two nodes covers: only the overlay rules' UDP
 * ports (the default), or all UDP between them as Danube did.
 */
export type IpsecPolicyScope = 'overlay-ports' | 'all-udp';
/**
 * Which IKE and ESP parameters the mesh uses: `danube` writes exactly what
 * Danube's playbook writes (adopting an installation changes no IPsec
 * parameter); `strong` (the default) uses larger groups (src/ipsec/profile.ts).
 */
export type IpsecProfile = 'danube' | 'strong';
/**
 * How pre-shared keys are shared out (docs/ipsec-keys.md): `pair` (the
 * default, Danube's) gives every pair of nodes its own key (`ipsec.psk`);
 * `pdc-pair` gives every pair of PDCs one key (`ipsec.pdc_psk`) that all node
 * pairs between those two PDCs use. `cert` (per-node certificates,
 * `auth_method rsa_sig`) is named so that it can be refused as not built.
 */
export type IpsecKeyScheme = 'pair' | 'pdc-pair' | 'cert';

export interface DefaultsDoc {
  /** MTU of admin and external links where a node gives none (1500). */
  underlay_mtu?: number;
  /** ESP suite of the mesh; Danube uses aes-cbc + sha512. */
  ipsec?: { profile?: IpsecProfile; encr?: IpsecEncr; auth?: IpsecAuth; policy_scope?: IpsecPolicyScope; keys?: IpsecKeyScheme };
  /**
   * Who writes the varpd ARP tables (docs/daemon.md#ownership): `esdc-overlay`
   * (the default: apply, the agent and the daemon) or `danube` (Danube's
   * management server; we only create `{}` where a table is missing).
   */
  arp_tables?: ArpTableOwner;
  /**
   * The PDC of the head node (where this tool runs): nodes in it are reached
   * over SSH on their admin IP, nodes of other PDCs on their external IP.
   * `nodes discover --head` records it from the head node's sysinfo.
   */
  head_pdc?: string;
}

export type ArpTableOwner = 'esdc-overlay' | 'danube';

/** How the head node reaches a node over SSH. */
export interface SshDoc {
  host?: string;
  port?: number;
  user?: string;
}

export interface NodeDoc {
  uuid: string;
  /** Physical datacenter: nodes that share it talk over the admin network. */
  pdc: string;
  admin_ip: string;
  external_ip?: string;
  underlay_mtu?: number | { admin?: number; external?: number };
  ssh?: SshDoc;
}

export interface RuleDoc {
  port?: number;
  /** `all`, or the hostnames that get the rule. */
  nodes?: 'all' | string[];
  mtu?: number;
  listen_ip?: string;
  files_config?: string;
  /** A raw dladm parameter string; what it sets wins over the fields above. */
  rule?: string;
}

export interface AdminOverlayMemberDoc {
  ip: string;
  mac: string;
}

export interface AdminOverlayDoc {
  subnet: string;
  port?: number;
  vxlan_id?: number;
  vlan_id?: number;
  mtu?: number;
  nodes?: Record<string, AdminOverlayMemberDoc>;
}

export interface FirewallDoc {
  enabled?: boolean;
  administrator_sources?: string[];
}

/** One pre-shared key of the IPsec mesh, for an unordered pair of nodes. */
export interface PskDoc {
  nodes: [string, string];
  key: string;
}

/** One pre-shared key of the `pdc-pair` scheme, for an unordered pair of PDCs. */
export interface PdcPskDoc {
  pdcs: [string, string];
  key: string;
}

export interface VdcDoc {
  vxlan_allowed?: string | Array<number | string>;
  vlan_allowed?: string | Array<number | string>;
  vxlan_restrict?: boolean;
  vlan_restrict?: boolean;
}

/** A VM NIC on an overlay (`nic_tag` is `<rule>/<vni>`). */
export interface VnicDoc {
  node: string;
  mac: string;
  ip: string;
  ip6?: string;
  nic_tag: string;
  vlan_id?: number;
  vm?: string;
  vdc?: string;
}

export interface StateDoc {
  version: 1;
  defaults?: DefaultsDoc;
  nodes?: Record<string, NodeDoc>;
  overlay_rules?: Record<string, RuleDoc>;
  adminoverlay?: AdminOverlayDoc;
  firewall?: FirewallDoc;
  ipsec?: { psk?: PskDoc[]; pdc_psk?: PdcPskDoc[] };
  vdcs?: Record<string, VdcDoc>;
  vnics?: VnicDoc[];
}

/**
 * A change to the state, as a command computes it from the current one: the
 * new document (the very object it was given when nothing changes, so that
 * nothing is written) and what the change did, for the command to report.
 */
export interface Mutation<T> {
  doc: StateDoc;
  result: T;
}
