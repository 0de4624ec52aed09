/**
 * The text of a node's two ipf files, built directly. The formats are the
 * templates templates/ipf.conf-020-overlays.hbs and
 * ipf.conf-090-administration.hbs, which stay the reference:
 * test/firewall/ipf-text.property.test.ts holds these functions to the
 * templates' output, byte for byte, on generated views. Why not the templates
 * themselves: with the IPsec files built directly (src/ipsec/ipsec-text.ts),
 * these were the render's last use of Handlebars, whose modules (with
 * source-map) a render then loaded for two small files per node (issue 20,
 * bench/RESULTS.md, fourth pass). Pure.
 */

/** The view of ipf.conf-020-overlays. */
export interface IpfOverlaysView {
  node: string;
  externalIp: string;
  /** The rules on the node that have a port, in model order. */
  rules: readonly { name: string; port: number }[];
}

/** The view of ipf.conf-090-administration. */
export interface IpfAdministrationView {
  node: string;
  externalIp: string;
  enabled: boolean;
  /** Administrator sources (empty when the firewall is disabled). */
  sources: readonly string[];
  /** Every other node with an external IP. */
  nodes: readonly { name: string; externalIp: string }[];
}

/** templates/ipf.conf-020-overlays.hbs */
export function ipfOverlaysText(v: IpfOverlaysView): string {
  let s =
    `# Overlay ports of ${v.node}, written by esdc-overlay; part of /etc/ipf/ipf.conf.\n` +
    '# Plain VXLAN never crosses external0: IPsec-protected VXLAN leaves as ESP and\n' +
    '# is not matched, so these rules drop overlay traffic only when IPsec is down.\n';
  if (v.rules.length === 0) return `${s}# no overlay rule on this node\n`;
  for (const r of v.rules) {
    s +=
      `# rule ${r.name}\n` +
      `block out log quick on external0 proto udp from ${v.externalIp} to any port = ${r.port}\n` +
      `block in log quick on external0 proto udp from any to ${v.externalIp} port = ${r.port}\n`;
  }
  return s;
}

/** templates/ipf.conf-090-administration.hbs */
export function ipfAdministrationText(v: IpfAdministrationView): string {
  let s = `# Access to ${v.node} on external0, written by esdc-overlay; part of /etc/ipf/ipf.conf.\n`;
  const to = ` to ${v.externalIp} keep state\n`;
  if (v.enabled) {
    s += '# administrator sources\n';
    for (const source of v.sources) s += `pass in quick on external0 from ${source}${to}`;
  }
  s += '# every other compute node (IKE, ESP and the rest between nodes), whether or not it is in this run\n';
  for (const n of v.nodes) s += `# ${n.name}\npass in quick on external0 from ${n.externalIp}${to}`;
  s += v.enabled
    ? '# firewall enabled: block what nothing above lets in\npass out quick on external0 all keep state\nblock in quick on external0 all\n'
    : '# firewall disabled: unmatched incoming traffic is not blocked\n';
  return s;
}
