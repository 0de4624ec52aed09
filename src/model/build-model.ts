/**
 * StateDoc → Model, with the consistency checks of docs/state-format.md (node lists
 * naming known nodes, NICs on known nodes and rules, unique ports, MACs and
 * IPs). Pure. The document must already have passed the shape check.
 */
import type { ValidationIssue } from '../errors.js';
import { isHostOf, ipv4ToInt, parseNetwork } from '../net/ipv4.js';
import { canonicalIpv6 } from '../net/ipv6.js';
import { ADMIN_OVERLAY_RULE, looseRuleNameWarning } from '../syntax/rule-name.js';
import { nextFreePort } from '../syntax/ports.js';
import { RULE_DEFAULTS, defaultFilesConfig, filesConfigProblem, parseRuleString } from '../syntax/rule-string.js';
import { isMulticastMac, normalizeMac } from './mac.js';
import {
  byCodePoint,
  orderedPair,
  type AdminOverlay,
  type AdminOverlayMember,
  type Defaults,
  type Model,
  type Node,
  type OverlayRule,
  type KeyScheme,
  type PairKey,
  type PdcPairKey,
  type VNic,
} from './model.js';
import { DANUBE_ESP, DEFAULT_IPSEC_PROFILE, DEFAULT_KEY_SCHEME, PDC_PAIR_UNVERIFIED, unverifiedSettings } from './ipsec-settings.js';
import { NIC_TAG } from '../syntax/patterns.js';
import type { DefaultsDoc, IpsecKeyScheme, RuleDoc, StateDoc } from './state.js';
import { pathFromSegments } from './validate-shape.js';
import { didYouMean } from './suggest.js';
import { vdcAllowances } from './vdcs.js';

export const ADMIN_OVERLAY_DEFAULTS = { vxlanId: 2, vlanId: 2, mtu: 1300 } as const;
export const DEFAULT_UNDERLAY_MTU = 1500;
/** The VXLAN VNI is 24 bits (RFC 7348). */
export const VNI_MAX = 16_777_215;

const p = (...segs: (string | number)[]): string => pathFromSegments(segs);

/**
 * The IPsec settings in effect. Under `danube` the ESP suite and scope are
 * Danube's: a different `encr`, `auth` or `policy_scope` beside it would
 * silently not be Danube's policy, so it is refused naming the field.
 */
function ipsecDefaults(d: DefaultsDoc['ipsec'], issues: ValidationIssue[], warnings: ValidationIssue[]): Defaults['ipsec'] {
  const profile = d?.profile ?? DEFAULT_IPSEC_PROFILE;
  if (profile === 'danube') {
    const given = { encr: d?.encr, auth: d?.auth, policy_scope: d?.policy_scope };
    const danube = { encr: DANUBE_ESP.encr, auth: DANUBE_ESP.auth, policy_scope: DANUBE_ESP.policyScope };
    for (const field of ['encr', 'auth', 'policy_scope'] as const) {
      if (given[field] !== undefined && given[field] !== danube[field]) {
        issues.push({
          path: p('defaults', 'ipsec', field),
          value: given[field],
          message: `must be ${danube[field]} or left out with profile danube, which writes Danube's ESP policy (aes, sha512, all UDP); use profile strong for another suite`,
        });
      }
    }
    return { profile, ...DANUBE_ESP, keys: keyScheme(d?.keys, issues, warnings) };
  }
  const encr = d?.encr ?? 'aes-cbc';
  const auth = d?.auth ?? 'sha512';
  warnings.push(...unverifiedSettings(profile, encr, auth));
  return { profile, encr, auth, policyScope: d?.policy_scope ?? 'overlay-ports', keys: keyScheme(d?.keys, issues, warnings) };
}

/**
 * The key scheme in effect. `cert` is a value the issue names but nothing
 * builds (no CA, no ikecert, no rsa_sig rules): refused rather than silently
 * read as another scheme. `pdc-pair` writes the same ike.preshared format
 * with one key repeated across the node pairs of two PDCs, which Danube
 * never ran: a warning says so (docs/ipsec-keys.md).
 */
function keyScheme(given: IpsecKeyScheme | undefined, issues: ValidationIssue[], warnings: ValidationIssue[]): KeyScheme {
  if (given === 'cert') {
    issues.push({
      path: p('defaults', 'ipsec', 'keys'),
      value: given,
      message: 'is not built: per-node certificates (auth_method rsa_sig) are not implemented; use pair or pdc-pair',
    });
    return DEFAULT_KEY_SCHEME;
  }
  if (given === 'pdc-pair') warnings.push(PDC_PAIR_UNVERIFIED);
  return given ?? DEFAULT_KEY_SCHEME;
}

/** For a rule's node that is not in the state (yet). */
export function futureNodeMessage(host: string, nodes: readonly Node[]): string {
  return `is not a known node (yet)${didYouMean(host, nodes.map((n) => n.name))}: nothing is rendered for it until nodes discover adds it`;
}

export function buildModel(doc: StateDoc): Model {
  const issues: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];

  const defaults: Defaults = {
    underlayMtu: doc.defaults?.underlay_mtu ?? DEFAULT_UNDERLAY_MTU,
    arpTables: doc.defaults?.arp_tables ?? 'esdc-overlay',
    ipsec: ipsecDefaults(doc.defaults?.ipsec, issues, warnings),
    headPdc: doc.defaults?.head_pdc,
  };

  const nodes = buildNodes(doc, defaults, issues);
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const pdcs = [...new Set(nodes.map((n) => n.pdc))].sort(byCodePoint);
  checkPdcs(defaults, nodes, pdcs, issues);

  const rules = buildRules(doc, nodes, nodeByName, issues, warnings);
  const adminOverlay = buildAdminOverlay(doc, nodeByName, rules, issues);
  if (adminOverlay) {
    rules.push(adminOverlayRule(adminOverlay, nodes));
    rules.sort((a, b) => byCodePoint(a.name, b.name));
  }
  const ruleByName = new Map(rules.map((r) => [r.name, r]));
  checkRuleUniqueness(rules, issues);

  const vnics = buildVnics(doc, nodeByName, ruleByName, issues);
  checkMacs(vnics, adminOverlay, issues);
  checkAdminOverlayAddresses(vnics, adminOverlay, issues);
  checkVniPerHost(nodes, rules, vnics, adminOverlay, issues);
  checkListenIps(rules, issues);
  warnings.push(...adminOverlayGaps(nodes, adminOverlay));
  const pairKeys = buildPairKeys(doc, nodeByName, issues, warnings);
  const pdcKeys = buildPdcKeys(doc, new Set(pdcs), issues, warnings);
  checkVdcRefs(doc, vnics, issues);
  // The deep check of every vDC range (ids in 1-16777215 / 1-4094, items well formed).
  const vdcs = vdcAllowances(doc);
  for (const v of vdcs) issues.push(...v.issues);

  return {
    doc,
    defaults,
    nodes,
    nodeByName,
    rules,
    ruleByName,
    adminOverlay,
    vnics,
    firewall: {
      enabled: doc.firewall?.enabled ?? false,
      administratorSources: [...(doc.firewall?.administrator_sources ?? [])],
    },
    pairKeys,
    pdcKeys,
    pdcs,
    vdcs,
    issues,
    warnings,
  };
}

/** The head PDC names a PDC of the nodes; an installation over several PDCs has every node's external IP. */
function checkPdcs(defaults: Defaults, nodes: readonly Node[], pdcs: readonly string[], issues: ValidationIssue[]): void {
  // A misspelt head PDC would send every node's SSH to its external IP.
  if (defaults.headPdc !== undefined && nodes.length > 0 && !pdcs.includes(defaults.headPdc)) {
    issues.push({ path: 'defaults.head_pdc', value: defaults.headPdc, message: `is not the PDC of any node${didYouMean(defaults.headPdc, pdcs)}` });
  }
  if (pdcs.length <= 1) return;
  const missing = nodes.filter((n) => n.externalIp === undefined).map((n) => n.name);
  if (missing.length > 0) {
    issues.push({
      path: 'nodes',
      value: missing,
      message: `the installation spans ${pdcs.length} PDCs (${pdcs.join(', ')}), so every node needs an external_ip; missing on ${missing.join(', ')}`,
    });
  }
}

/** The adminoverlay as a rule on every node, so overlays, tables and MTUs treat it like the others. */
function adminOverlayRule(adminOverlay: AdminOverlay, nodes: readonly Node[]): OverlayRule {
  return {
    name: ADMIN_OVERLAY_RULE,
    port: adminOverlay.port,
    listenIp: RULE_DEFAULTS.listenIp,
    filesConfig: defaultFilesConfig(ADMIN_OVERLAY_RULE),
    mtu: adminOverlay.mtu,
    nodeSelector: 'all',
    nodes: nodes.map((n) => n.name),
    adminOverlay: true,
  };
}

function buildNodes(doc: StateDoc, defaults: Defaults, issues: ValidationIssue[]): Node[] {
  const nodes: Node[] = [];
  const byUuid = new Map<string, string>();
  const byIp = new Map<string, string>();
  for (const name of Object.keys(doc.nodes ?? {}).sort(byCodePoint)) {
    const d = doc.nodes![name]!;
    const mtu = d.underlay_mtu;
    const node: Node = {
      name,
      uuid: d.uuid.toLowerCase(),
      pdc: d.pdc,
      adminIp: d.admin_ip,
      externalIp: d.external_ip,
      underlayMtu:
        typeof mtu === 'number'
          ? { admin: mtu, external: mtu }
          : { admin: mtu?.admin ?? defaults.underlayMtu, external: mtu?.external ?? defaults.underlayMtu },
      ssh: { ...d.ssh },
    };
    nodes.push(node);
    const other = byUuid.get(node.uuid);
    if (other) issues.push({ path: p('nodes', name, 'uuid'), value: d.uuid, message: `is also the uuid of ${other}` });
    else byUuid.set(node.uuid, name);
    for (const [field, ip] of [['admin_ip', d.admin_ip], ['external_ip', d.external_ip]] as const) {
      if (ip === undefined) continue;
      const owner = byIp.get(ip);
      if (owner) issues.push({ path: p('nodes', name, field), value: ip, message: `is also an address of ${owner}` });
      else byIp.set(ip, `${name} (${field})`);
    }
  }
  return nodes;
}

function buildRules(
  doc: StateDoc,
  nodes: readonly Node[],
  nodeByName: ReadonlyMap<string, Node>,
  issues: ValidationIssue[],
  warnings: ValidationIssue[],
): OverlayRule[] {
  const rules: OverlayRule[] = [];
  for (const name of Object.keys(doc.overlay_rules ?? {}).sort(byCodePoint)) {
    const d = doc.overlay_rules![name]!;
    const nameWarning = looseRuleNameWarning(name, p('overlay_rules', name));
    if (nameWarning) warnings.push(nameWarning);
    const params = ruleParams(name, d, issues, warnings);
    const selector = d.nodes ?? 'all';
    rules.push({
      name,
      ...params,
      nodeSelector: selector,
      nodes: ruleMembers(name, selector, nodes, nodeByName, warnings),
      adminOverlay: false,
    });
  }
  return rules;
}

/**
 * A rule's parameters: its fields, overridden by what its rule string says
 * (a field that disagrees is a warning), defaults for the rest.
 */
function ruleParams(
  name: string,
  d: RuleDoc,
  issues: ValidationIssue[],
  warnings: ValidationIssue[],
): Pick<OverlayRule, 'port' | 'listenIp' | 'filesConfig' | 'mtu'> {
  let fromString = {};
  if (d.rule !== undefined) {
    const parsed = parseRuleString(d.rule, p('overlay_rules', name, 'rule'));
    issues.push(...parsed.issues);
    fromString = parsed.params;
    for (const [field, key] of [
      ['port', 'port'],
      ['mtu', 'mtu'],
      ['listen_ip', 'listenIp'],
      ['files_config', 'filesConfig'],
    ] as const) {
      const a = d[field];
      const b = (parsed.params as Record<string, unknown>)[key];
      if (a !== undefined && b !== undefined && a !== b) {
        warnings.push({
          path: p('overlay_rules', name, field),
          value: a,
          message: `differs from the rule string (${String(b)}), which wins`,
        });
      }
    }
  }
  const merged = {
    port: d.port,
    mtu: d.mtu,
    listenIp: d.listen_ip,
    filesConfig: d.files_config,
    ...stripUndefined(fromString),
  };
  if (merged.port === undefined) {
    issues.push({ path: p('overlay_rules', name, 'port'), message: 'is required (or give vxlan/listen_port in rule)' });
  }
  const filesConfig = merged.filesConfig ?? defaultFilesConfig(name);
  if (d.files_config !== undefined) {
    const problem = filesConfigProblem(d.files_config);
    if (problem) issues.push({ path: p('overlay_rules', name, 'files_config'), value: d.files_config, message: problem });
  }
  return {
    port: merged.port ?? 0,
    listenIp: merged.listenIp ?? RULE_DEFAULTS.listenIp,
    filesConfig,
    mtu: merged.mtu ?? RULE_DEFAULTS.mtu,
  };
}

/** The known nodes a rule's selector names, sorted; unknown names are issues. */
function ruleMembers(
  name: string,
  selector: 'all' | readonly string[],
  nodes: readonly Node[],
  nodeByName: ReadonlyMap<string, Node>,
  warnings: ValidationIssue[],
): string[] {
  if (selector === 'all') return nodes.map((n) => n.name);
  const members: string[] = [];
  selector.forEach((host, i) => {
    if (nodeByName.has(host)) members.push(host);
    // Danube's node lists may name nodes that are not installed yet: the rule reaches them once
    // discovered. Until then nothing is rendered for them; the warning offers the close names.
    else warnings.push({ path: p('overlay_rules', name, 'nodes', i), value: host, message: futureNodeMessage(host, nodes) });
  });
  return members.sort(byCodePoint);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function buildAdminOverlay(
  doc: StateDoc,
  nodeByName: ReadonlyMap<string, Node>,
  rules: readonly OverlayRule[],
  issues: ValidationIssue[],
): AdminOverlay | undefined {
  const d = doc.adminoverlay;
  if (!d) return undefined;
  const net = parseNetwork(d.subnet);
  if (!net) return undefined; // the shape check already reported it
  const members: AdminOverlayMember[] = [];
  const ipOwner = new Map<number, string>();
  for (const host of Object.keys(d.nodes ?? {}).sort(byCodePoint)) {
    const m = d.nodes![host]!;
    const path = p('adminoverlay', 'nodes', host);
    if (!nodeByName.has(host)) issues.push({ path, value: host, message: 'is not a known node' });
    const ip = ipv4ToInt(m.ip);
    if (!isHostOf(net, ip)) {
      issues.push({
        path: `${path}.ip`,
        value: m.ip,
        message: ip >= net.first && ip <= net.last
          ? `is the network or broadcast address of ${d.subnet}`
          : `is outside the adminoverlay subnet ${d.subnet}`,
      });
    }
    const owner = ipOwner.get(ip);
    if (owner) issues.push({ path: `${path}.ip`, value: m.ip, message: `is also the adminoverlay address of ${owner}` });
    else ipOwner.set(ip, host);
    members.push({ node: host, ip: m.ip, mac: normalizeMac(m.mac) });
  }
  return {
    subnet: d.subnet,
    network: net.network,
    netmask: net.netmask,
    prefix: net.prefix,
    vxlanId: d.vxlan_id ?? ADMIN_OVERLAY_DEFAULTS.vxlanId,
    vlanId: d.vlan_id ?? ADMIN_OVERLAY_DEFAULTS.vlanId,
    mtu: d.mtu ?? ADMIN_OVERLAY_DEFAULTS.mtu,
    // Unpinned: the next port after the other rules' (commands that allocate ports pin it first).
    port: d.port ?? nextFreePort(rules.map((r) => r.port)),
    members,
  };
}

function checkRuleUniqueness(rules: readonly OverlayRule[], issues: ValidationIssue[]): void {
  const rulePath = (r: OverlayRule, field: string): string =>
    r.adminOverlay ? p('adminoverlay', field) : p('overlay_rules', r.name, field);
  const byPort = new Map<number, OverlayRule>();
  const byFile = new Map<string, OverlayRule>();
  for (const r of rules) {
    if (r.port === 0) continue;
    const other = byPort.get(r.port);
    if (other) issues.push({ path: rulePath(r, 'port'), value: r.port, message: `is also the port of rule ${other.name}` });
    else byPort.set(r.port, r);
    const sameFile = byFile.get(r.filesConfig);
    if (sameFile) {
      issues.push({ path: rulePath(r, 'files_config'), value: r.filesConfig, message: `is also the files/config of rule ${sameFile.name}` });
    } else byFile.set(r.filesConfig, r);
  }
}

function buildVnics(
  doc: StateDoc,
  nodeByName: ReadonlyMap<string, Node>,
  ruleByName: ReadonlyMap<string, OverlayRule>,
  issues: ValidationIssue[],
): VNic[] {
  const vnics: VNic[] = [];
  const tagRe = new RegExp(NIC_TAG, 'u');
  const ipOnOverlay = new Map<string, number>();
  // Asked once per NIC: rule.nodes.includes scanned every node of the rule (10,000 x 200 at issue 20's size).
  const membersOf = new Map([...ruleByName].map(([name, r]) => [name, new Set(r.nodes)]));
  (doc.vnics ?? []).forEach((d, index) => {
    const m = tagRe.exec(d.nic_tag);
    const rule = m?.[1] ?? '';
    const vni = Number(m?.[2] ?? 0);
    if (!nodeByName.has(d.node)) {
      issues.push({ path: p('vnics', index, 'node'), value: d.node, message: 'is not a known node' });
    }
    const r = ruleByName.get(rule);
    if (!r) {
      issues.push({ path: p('vnics', index, 'nic_tag'), value: d.nic_tag, message: `names rule ${JSON.stringify(rule)}, which does not exist` });
    } else if (nodeByName.has(d.node) && !membersOf.get(rule)!.has(d.node)) {
      issues.push({ path: p('vnics', index, 'node'), value: d.node, message: `does not have rule ${rule} (its nodes: ${r.nodes.join(', ') || 'none'})` });
    }
    if (vni < 1 || vni > VNI_MAX) {
      issues.push({ path: p('vnics', index, 'nic_tag'), value: d.nic_tag, message: `VNI must be 1-${VNI_MAX}` });
    }
    // One address twice on one overlay (rule and VNI): varpd's proxy ARP/NDP would answer for one NIC only.
    const addresses: Array<['ip' | 'ip6', string]> = [['ip', d.ip]];
    if (d.ip6 !== undefined) addresses.push(['ip6', canonicalIpv6(d.ip6) ?? d.ip6]);
    for (const [field, ip] of addresses) {
      const key = `${rule}/${vni}/${ip}`;
      const first = ipOnOverlay.get(key);
      if (first !== undefined) {
        issues.push({ path: p('vnics', index, field), value: d[field], message: `is also the address of vnics[${first}] on ${rule}/${vni}` });
      } else ipOnOverlay.set(key, index);
    }
    vnics.push({
      index,
      node: d.node,
      mac: normalizeMac(d.mac),
      ip: d.ip,
      ip6: d.ip6,
      rule,
      vni,
      vlanId: d.vlan_id ?? 0,
      vm: d.vm,
      vdc: d.vdc,
    });
  });
  return vnics;
}

function checkMacs(vnics: readonly VNic[], admin: AdminOverlay | undefined, issues: ValidationIssue[]): void {
  const owner = new Map<string, string>();
  const claim = (mac: string, path: string): void => {
    if (isMulticastMac(mac)) issues.push({ path, value: mac, message: 'is a multicast MAC address, not a NIC address' });
    const first = owner.get(mac);
    if (first) issues.push({ path, value: mac, message: `is also the MAC of ${first}` });
    else owner.set(mac, path);
  };
  for (const m of admin?.members ?? []) claim(m.mac, p('adminoverlay', 'nodes', m.node, 'mac'));
  for (const v of vnics) claim(v.mac, p('vnics', v.index, 'mac'));
}

/** A VM NIC on the adminoverlay's own VNI must not take a node's adminoverlay address. */
function checkAdminOverlayAddresses(vnics: readonly VNic[], admin: AdminOverlay | undefined, issues: ValidationIssue[]): void {
  if (!admin) return;
  const owner = new Map(admin.members.map((m) => [m.ip, m.node]));
  for (const v of vnics) {
    if (v.rule !== ADMIN_OVERLAY_RULE || v.vni !== admin.vxlanId) continue;
    const node = owner.get(v.ip);
    if (node !== undefined) {
      issues.push({ path: p('vnics', v.index, 'ip'), value: v.ip, message: `is also the adminoverlay address of node ${node}` });
    }
  }
}

/**
 * One VXLAN overlay per VNI on a host: the illumos overlay driver refuses a
 * second overlay with the same VNI and encapsulation (overlay_i_create returns
 * EEXIST, illumos-joyent usr/src/uts/common/io/overlay/overlay.c:1327-1333;
 * docs/smartos-rules.md), whatever its port or name. Two rules whose NICs share a
 * VNI on one node would render two create-overlay steps, and the second
 * fails on the node. The adminoverlay's own overlay counts.
 */
function checkVniPerHost(
  nodes: readonly Node[],
  rules: readonly OverlayRule[],
  vnics: readonly VNic[],
  admin: AdminOverlay | undefined,
  issues: ValidationIssue[],
): void {
  const membersOf = new Map(rules.map((r) => [r.name, new Set(r.nodes)]));
  // One pass groups the NICs by node (in state order): scanning every NIC for each node was
  // nodes x NICs (2 million steps at 200 x 10,000, 5 % of a render's profile; issue 20).
  const vnicsOf = new Map<string, VNic[]>();
  for (const v of vnics) {
    const group = vnicsOf.get(v.node);
    if (group) group.push(v);
    else vnicsOf.set(v.node, [v]);
  }
  for (const node of nodes) {
    // VNI -> rule -> the path that puts that (rule, VNI) overlay on this node.
    const byVni = new Map<number, Map<string, string>>();
    const use = (vni: number, rule: string, path: string): void => {
      const rulesOfVni = byVni.get(vni) ?? new Map<string, string>();
      if (!rulesOfVni.has(rule)) rulesOfVni.set(rule, path);
      byVni.set(vni, rulesOfVni);
    };
    if (admin && admin.members.some((m) => m.node === node.name)) use(admin.vxlanId, ADMIN_OVERLAY_RULE, p('adminoverlay', 'vxlan_id'));
    for (const v of vnicsOf.get(node.name) ?? []) {
      if (membersOf.get(v.rule)?.has(node.name)) use(v.vni, v.rule, p('vnics', v.index, 'nic_tag'));
    }
    for (const [vni, users] of byVni) {
      if (users.size < 2) continue;
      const names = [...users.keys()];
      const [, second] = [...users.values()];
      issues.push({
        path: second!,
        value: vni,
        message:
          `VNI ${vni} is used on node ${node.name} by rules ${names.join(' and ')} ` +
          `(overlays ${names.map((r) => `${r}${vni}`).join(', ')}): illumos allows one VXLAN overlay per VNI on a host, ` +
          'so the second create-overlay would fail (overlay_i_create: EEXIST); give one rule\'s NICs another VNI',
      });
    }
  }
}

/**
 * A fixed vxlan/listen_ip is an address of one host: the overlay binds to it,
 * and every ARP entry of the rule points at it. On a rule with more than one
 * node the others cannot bind it and their peers' traffic all goes to that
 * one address, so it is refused; with exactly one node it is that node's
 * choice of interface.
 */
function checkListenIps(rules: readonly OverlayRule[], issues: ValidationIssue[]): void {
  for (const r of rules) {
    if (r.adminOverlay || r.listenIp === RULE_DEFAULTS.listenIp || r.nodes.length <= 1) continue;
    issues.push({
      path: p('overlay_rules', r.name, 'listen_ip'),
      value: r.listenIp,
      message:
        `is fixed on rule ${r.name}, which has ${r.nodes.length} nodes (${r.nodes.join(', ')}): every ARP entry would point at ${r.listenIp}, ` +
        `not at the peers' own addresses; a fixed listen_ip fits a rule with exactly one node (leave it out: ${RULE_DEFAULTS.listenIp})`,
    });
  }
}

/**
 * Nodes the adminoverlay rule is rendered on (it spans every node) that have
 * no adminoverlay address: they get no adminoverlay vNIC, silently. Danube
 * assigns one on every run; we name them, and `apply` offers the assignment.
 */
export function adminOverlayGaps(nodes: readonly Node[], admin: AdminOverlay | undefined): ValidationIssue[] {
  if (!admin) return [];
  const have = new Set(admin.members.map((m) => m.node));
  const missing = nodes.filter((n) => !have.has(n.name)).map((n) => n.name);
  if (missing.length === 0) return [];
  return [
    {
      path: 'adminoverlay.nodes',
      value: missing,
      message:
        `has no address for ${missing.join(', ')}: the adminoverlay rule is rendered there but no adminoverlay vNIC is created; ` +
        'run esdc-overlay apply --assign-adminoverlay, or adminoverlay-update (each gives every node without an address ' +
        'the next free one and a MAC; or name one: adminoverlay-update <node>=<ip>)',
    },
  ];
}

function buildPairKeys(
  doc: StateDoc,
  nodeByName: ReadonlyMap<string, Node>,
  issues: ValidationIssue[],
  warnings: ValidationIssue[],
): PairKey[] {
  const keys: PairKey[] = [];
  const seen = new Map<string, number>();
  (doc.ipsec?.psk ?? []).forEach((d, i) => {
    const [a, b] = d.nodes;
    const path = p('ipsec', 'psk', i, 'nodes');
    if (a === b) {
      issues.push({ path, value: d.nodes, message: 'names one node twice' });
      return;
    }
    const pair = orderedPair(a, b);
    const id = pair.join('\u0000');
    const first = seen.get(id);
    if (first !== undefined) {
      issues.push({ path, value: d.nodes, message: `is the same pair as ipsec.psk[${first}]` });
      return;
    }
    seen.set(id, i);
    const na = nodeByName.get(a);
    const nb = nodeByName.get(b);
    if (!na || !nb) warnings.push({ path, value: d.nodes, message: 'names a node that is not known; the key is unused' });
    else if (na.pdc === nb.pdc) warnings.push({ path, value: d.nodes, message: 'names two nodes in one PDC; the key is unused' });
    keys.push({ nodes: pair, key: d.key });
  });
  keys.sort((x, y) => byCodePoint(x.nodes[0], y.nodes[0]) || byCodePoint(x.nodes[1], y.nodes[1]));
  return keys;
}

function buildPdcKeys(doc: StateDoc, pdcs: ReadonlySet<string>, issues: ValidationIssue[], warnings: ValidationIssue[]): PdcPairKey[] {
  const keys: PdcPairKey[] = [];
  const seen = new Map<string, number>();
  (doc.ipsec?.pdc_psk ?? []).forEach((d, i) => {
    const [a, b] = d.pdcs;
    const path = p('ipsec', 'pdc_psk', i, 'pdcs');
    if (a === b) {
      issues.push({ path, value: d.pdcs, message: 'names one PDC twice; nodes of one PDC talk without IPsec' });
      return;
    }
    const pair = orderedPair(a, b);
    const id = pair.join('\u0000');
    const first = seen.get(id);
    if (first !== undefined) {
      issues.push({ path, value: d.pdcs, message: `is the same PDC pair as ipsec.pdc_psk[${first}]` });
      return;
    }
    seen.set(id, i);
    if (!pdcs.has(a) || !pdcs.has(b)) warnings.push({ path, value: d.pdcs, message: 'names a PDC that no node is in; the key is unused' });
    keys.push({ pdcs: pair, key: d.key });
  });
  keys.sort((x, y) => byCodePoint(x.pdcs[0], y.pdcs[0]) || byCodePoint(x.pdcs[1], y.pdcs[1]));
  return keys;
}

function checkVdcRefs(doc: StateDoc, vnics: readonly VNic[], issues: ValidationIssue[]): void {
  const vdcs = doc.vdcs ?? {};
  for (const v of vnics) {
    if (v.vdc !== undefined && !Object.hasOwn(vdcs, v.vdc)) {
      issues.push({ path: p('vnics', v.index, 'vdc'), value: v.vdc, message: 'is not a known vDC' });
    }
  }
}
