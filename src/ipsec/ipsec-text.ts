/**
 * The text of a node's three IPsec files, built directly. The formats are
 * the templates templates/ipsecinit.conf.hbs, ike-config.hbs and
 * ike.preshared.hbs, which stay the reference: test/ipsec/ipsec-text.property.test.ts
 * holds these functions to the templates' output, byte for byte, on generated
 * views. Why not the templates themselves: one peer block per peer in another
 * PDC, 150 per node at 200 nodes over 4 PDCs, and Handlebars' `each` with
 * `@root` lookups in strict mode cost 0.13 s of a 0.95 s render profile
 * (issue 20, bench/RESULTS.md, fourth pass); string concatenation costs a
 * few milliseconds. Pure.
 */

/** One peer in another PDC, as the three files show it. */
export interface IpsecPeerView {
  name: string;
  pdc: string;
  /** This node's external IP. */
  local: string;
  /** The peer's external IP. */
  remote: string;
  label: string;
  /** The UDP ports of the overlay rules both nodes have, ascending. */
  ports: readonly number[];
  key: string;
}

export interface IpsecinitView {
  node: string;
  adminIp: string;
  allUdp: boolean;
  esp: string;
  peers: readonly IpsecPeerView[];
}

export interface IkeConfigView {
  node: string;
  p1Lifetime: number;
  p2Lifetime: number;
  p2Softlife: number;
  p1Xform: string;
  pfsDefault: number | string;
  pfsRule: number | string;
  peers: readonly IpsecPeerView[];
}

export interface IkePresharedView {
  node: string;
  peers: readonly IpsecPeerView[];
}

/** templates/ipsecinit.conf.hbs */
export function ipsecinitText(v: IpsecinitView): string {
  let s =
    `# IPsec policy of ${v.node}, written by esdc-overlay; installed as /etc/inet/ipsecinit.conf.\n` +
    '# Check with: ipsecconf -c FILE\n' +
    '#\n' +
    '# Nodes of one PDC talk over the admin network, outside IPsec.\n' +
    `{ laddr ${v.adminIp} dir both } bypass {}\n`;
  const esp = ` } ipsec { ${v.esp} }\n`;
  for (const p of v.peers) {
    s += `\n# ${p.name} (PDC ${p.pdc})\n`;
    const addrs = `{ ulp udp laddr ${p.local} raddr ${p.remote}`;
    if (v.allUdp) s += addrs + esp;
    else if (p.ports.length === 0) s += '# no overlay rule in common: no traffic that needs a policy\n';
    else for (const port of p.ports) s += `${addrs} rport ${port}${esp}${addrs} lport ${port}${esp}`;
  }
  return s;
}

/** templates/ike-config.hbs */
export function ikeConfigText(v: IkeConfigView): string {
  let s =
    `# IKE configuration of ${v.node}, written by esdc-overlay; installed as /etc/inet/ike/config.\n` +
    '# Check with: in.iked -c -f FILE\n' +
    `p1_lifetime_secs ${v.p1Lifetime}\n` +
    `p2_lifetime_secs ${v.p2Lifetime}\n` +
    `p2_softlife_secs ${v.p2Softlife}\n` +
    '\n' +
    `p1_xform { ${v.p1Xform} }\n` +
    `p2_pfs ${v.pfsDefault}\n`;
  const tail = ` p1_xform { ${v.p1Xform} } p2_pfs ${v.pfsRule} }\n`;
  for (const p of v.peers) {
    s += `\n# ${p.name} (PDC ${p.pdc})\n{ label "${p.label}" local_addr ${p.local} remote_addr ${p.remote}${tail}`;
  }
  return s;
}

/** templates/ike.preshared.hbs */
export function ikePresharedText(v: IkePresharedView): string {
  let s =
    `# IKE pre-shared keys of ${v.node}, written by esdc-overlay; installed as\n` +
    '# /etc/inet/secret/ike.preshared. One key per peer in another PDC. Keep it 0400.\n';
  for (const p of v.peers) {
    s +=
      `\n# ${v.node} <-> ${p.name}\n{\n    localidtype IP\n    localid ${p.local}\n    remoteidtype IP\n` +
      `    remoteid ${p.remote}\n    key "${p.key}"\n}\n`;
  }
  return s;
}
