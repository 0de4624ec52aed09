/**
 * Danube's cfgdb layout (docs/file-formats.md#cfgdb-layout) ⇄ our state document. Pure: a tree
 * is a map from znode path (relative to the store root, e.g.
 * `overlay_rules/lab/port`) to its text. Danube's own keys carry what Danube
 * knows, in exactly the form its bash tool writes, so `esdc-overlay` of
 * Danube and this tool can read each other's state; what Danube has no key
 * for (node facts, VM NICs, vDC ranges, defaults, adminoverlay VXLAN/VLAN)
 * lives under `esdc_overlay/` as JSON with sorted keys.
 *
 * A document read from cfgdb comes back in normal form: rule parameters as
 * fields (a raw string only when it is not one our fields can express),
 * adminoverlay port and MTU pinned. Encoding that document again gives the
 * same tree, and the model is the same as the one the original document built.
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import { byCodePoint, orderedPair, type Model } from '../model/model.js';
import { HOSTNAME, PDC_NAME, matches } from '../syntax/patterns.js';
import { own } from '../model/own.js';
import type {
  AdminOverlayDoc,
  AdminOverlayMemberDoc,
  DefaultsDoc,
  FirewallDoc,
  NodeDoc,
  PdcPskDoc,
  PskDoc,
  RuleDoc,
  StateDoc,
  VdcDoc,
  VnicDoc,
} from '../model/state.js';
import { createHash } from 'node:crypto';
import { parseNodeList } from '../rules/edit.js';
import { ADMIN_OVERLAY_RULE } from '../syntax/rule-name.js';
import { canonicalRuleString, defaultFilesConfig, parseRuleString, RULE_DEFAULTS } from '../syntax/rule-string.js';

/** Our subtree under the root. */
export const OURS = 'esdc_overlay';
/** Lock nodes (ephemeral) live here; never part of the state. */
export const LOCKS = `${OURS}/locks`;
/** Format of our subtree; a newer one is refused rather than misread. */
export const FORMAT = '1';

/** Relative znode path → text. Directories are present with '' as their text. */
export type Tree = Map<string, string>;

/**
 * Keys of the `pdc-pair` scheme: `esdc_overlay/pdc_psk/<a>,<b>` (PDC names in
 * code-point order; `,` cannot occur in a PDC name). Not under Danube's
 * `ipsec/psk`: Danube's tool reads every child there as a pair of node names
 * and would misread a PDC pair (docs/ipsec-keys.md#storage).
 */
export const PDC_PSK_DIR = `${OURS}/pdc_psk`;

/** The child name of a PDC pair's key znode. */
export function pdcPskName(a: string, b: string): string {
  const [x, y] = orderedPair(a, b);
  return `${x},${y}`;
}

/** The subtrees the store reads (relative to the root); anything else under the root is Danube's alone. */
export const READ_SCOPES = {
  /** Read recursively. */
  subtrees: ['overlay_rules', 'ipsec/psk', 'adminoverlay', OURS],
  /** Read as single leaves. */
  leaves: ['firewall/globally_enabled', 'firewall/administrator_sources'],
} as const;

/** Containers shared with Danube (or holding our lock): a save never deletes them. */
const KEPT_DIRS = new Set(['overlay_rules', 'ipsec', 'ipsec/psk', 'firewall', 'adminoverlay', OURS, LOCKS]);

const KNOWN_LEAF = [
  /^overlay_rules\/[^/]+\/(?:port|nodelist|rule)$/,
  /^ipsec\/psk\/[^/]+$/,
  /^firewall\/(?:globally_enabled|administrator_sources)$/,
  /^adminoverlay\/(?:subnet|netmask)$/,
  /^adminoverlay\/nodes\/[^/]+\/(?:ip|mac)$/,
  new RegExp(`^${OURS}/(?:format|defaults|adminoverlay|(?:nodes|vnics|vdcs|pdc_psk)/[^/]+)$`),
];

/** A leaf this layout writes, so a save may delete it when the state no longer has it. */
export function isKnownLeaf(rel: string): boolean {
  return KNOWN_LEAF.some((re) => re.test(rel));
}

export function isKeptDir(rel: string): boolean {
  return KEPT_DIRS.has(rel);
}

// ---------------------------------------------------------------- encoding

/** JSON with sorted keys: the same value is always the same bytes, so unchanged values never rewrite. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort(byCodePoint)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Danube's `echo "$rule" | base64`: the rule plus its newline (docs/file-formats.md#cfgdb-layout). */
export function encodeRuleValue(rule: string): string {
  return Buffer.from(`${rule}\n`, 'utf8').toString('base64');
}

/** The key name Danube uses for a pair: `<a>-<b>`, code-point order (Jinja's, docs/file-formats.md#danube-defects item 8). */
export function pskKeyName(a: string, b: string): string {
  const [x, y] = orderedPair(a, b);
  return `${x}-${y}`;
}

/** Puts `rel` and every ancestor directory into the tree. */
function put(tree: Tree, rel: string, text: string): void {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (!tree.has(dir)) tree.set(dir, '');
  }
  tree.set(rel, text);
}

/**
 * The tree for a validated document (and the model built from it): every
 * rule resolved to the canonical string Danube's Ansible plays expect.
 */
export function encodeState(doc: StateDoc, model: Model): Tree {
  const tree: Tree = new Map();
  put(tree, `${OURS}/format`, FORMAT);

  for (const rule of model.rules) {
    const base = `overlay_rules/${rule.name}`;
    // A raw string we cannot parse (only in a state saved as inconsistent, e.g. by store migrate) is kept as written.
    const written = rule.adminOverlay ? undefined : own(doc.overlay_rules, rule.name);
    const keepRaw = written?.rule !== undefined && parseRuleString(written.rule).issues.length > 0;
    const port = keepRaw ? written?.port : rule.port;
    if (port !== undefined) put(tree, `${base}/port`, String(port));
    put(tree, `${base}/nodelist`, rule.nodeSelector === 'all' ? 'all' : rule.nodeSelector.join(','));
    put(tree, `${base}/rule`, encodeRuleValue(keepRaw ? written!.rule! : canonicalRuleString(rule)));
  }

  const admin = doc.adminoverlay;
  if (admin && model.adminOverlay) {
    put(tree, 'adminoverlay/subnet', model.adminOverlay.network);
    put(tree, 'adminoverlay/netmask', model.adminOverlay.netmask);
    for (const host of Object.keys(admin.nodes ?? {}).sort(byCodePoint)) {
      const m = admin.nodes![host]!;
      put(tree, `adminoverlay/nodes/${host}/ip`, m.ip);
      put(tree, `adminoverlay/nodes/${host}/mac`, m.mac);
    }
    const extra: Partial<AdminOverlayDoc> = {};
    if (admin.vxlan_id !== undefined) extra.vxlan_id = admin.vxlan_id;
    if (admin.vlan_id !== undefined) extra.vlan_id = admin.vlan_id;
    if (Object.keys(extra).length > 0) put(tree, `${OURS}/adminoverlay`, stableJson(extra));
  }

  for (const psk of doc.ipsec?.psk ?? []) put(tree, `ipsec/psk/${pskKeyName(psk.nodes[0], psk.nodes[1])}`, psk.key);
  for (const psk of doc.ipsec?.pdc_psk ?? []) put(tree, `${PDC_PSK_DIR}/${pdcPskName(psk.pdcs[0], psk.pdcs[1])}`, psk.key);

  if (doc.firewall?.enabled !== undefined) put(tree, 'firewall/globally_enabled', String(doc.firewall.enabled));
  if (doc.firewall?.administrator_sources !== undefined) {
    put(tree, 'firewall/administrator_sources', doc.firewall.administrator_sources.join(','));
  }

  if (doc.defaults !== undefined) put(tree, `${OURS}/defaults`, stableJson(doc.defaults));
  for (const [name, node] of Object.entries(doc.nodes ?? {})) put(tree, `${OURS}/nodes/${name}`, stableJson(node));
  for (const [name, vdc] of Object.entries(doc.vdcs ?? {})) put(tree, `${OURS}/vdcs/${name}`, stableJson(vdc));
  const byNode = new Map<string, Omit<VnicDoc, 'node'>[]>();
  for (const { node, ...rest } of doc.vnics ?? []) {
    const list = byNode.get(node) ?? [];
    list.push(rest);
    byNode.set(node, list);
  }
  for (const [node, list] of byNode) put(tree, `${OURS}/vnics/${node}`, stableJson(list));
  return tree;
}

// ---------------------------------------------------------------- decoding

export interface Decoded {
  doc: StateDoc;
  /** Things that load but deserve attention (an empty MAC replaced, a stray key). */
  warnings: ValidationIssue[];
}

/**
 * What every part's decoder reads from and reports to: the tree, how a
 * relative path is shown, and the problems found so far (all of them are
 * thrown together at the end, in the order the parts are read).
 */
interface DecodeContext {
  tree: ReadonlyMap<string, string>;
  at: (rel: string) => string;
  /** Values that cannot be read at all: decodeState throws them as one ValidationError. */
  issues: ValidationIssue[];
  /** Values that load but deserve attention. */
  warnings: ValidationIssue[];
}

/** The adminoverlay's port and MTU, from its rule (the subnet and members come from adminoverlay/). */
interface AdminRule {
  port: number | undefined;
  mtu: number | undefined;
}

/**
 * The document a cfgdb tree holds. `at(rel)` turns a relative path into the
 * path messages show (the absolute znode path). Values that cannot be read
 * at all (bad base64, a port that is no number, an ambiguous PSK key name)
 * throw one ValidationError listing all of them; everything else is left to
 * the state's own shape and consistency checks.
 */
export function decodeState(tree: ReadonlyMap<string, string>, at: (rel: string) => string, source: string): Decoded {
  const cx: DecodeContext = { tree, at, issues: [], warnings: [] };
  const doc: StateDoc = { version: 1 };
  checkFormat(cx, source);

  // Our own subtree first: node names resolve PSK key names.
  const defaults = readJson<DefaultsDoc>(cx, `${OURS}/defaults`);
  if (defaults !== undefined) doc.defaults = defaults;
  const nodeNames = childrenOf(tree, `${OURS}/nodes`);
  const nodes = decodeJsonDir<NodeDoc>(cx, `${OURS}/nodes`);
  if (nodes !== undefined) doc.nodes = nodes;
  const vdcs = decodeJsonDir<VdcDoc>(cx, `${OURS}/vdcs`);
  if (vdcs !== undefined) doc.vdcs = vdcs;
  const vnics = decodeVnics(cx);
  if (vnics.length > 0) doc.vnics = vnics;

  // Every name a rule, the adminoverlay or our records mention: what a PSK key name may split into.
  const knownNames = new Set(nodeNames);
  const { rules, adminRule } = decodeRules(cx, knownNames);
  if (Object.keys(rules).length > 0) doc.overlay_rules = rules;
  const admin = decodeAdminOverlay(cx, adminRule, knownNames);
  if (admin !== undefined) doc.adminoverlay = admin;

  const psk = decodePsk(cx, knownNames);
  if (psk.length > 0) doc.ipsec = { psk };
  const pdcPsk = decodePdcPsk(cx);
  if (pdcPsk.length > 0) doc.ipsec = { ...doc.ipsec, pdc_psk: pdcPsk };
  const firewall = decodeFirewall(cx);
  if (firewall !== undefined) doc.firewall = firewall;

  if (cx.issues.length > 0) throw new ValidationError(cx.issues, source);
  return { doc, warnings: cx.warnings };
}

/** A subtree in a format this version does not know is refused before anything else is read. */
function checkFormat(cx: DecodeContext, source: string): void {
  const format = cx.tree.get(`${OURS}/format`);
  if (format !== undefined && format !== FORMAT) {
    cx.issues.push({ path: cx.at(`${OURS}/format`), value: format, message: `is a format this version does not know (it reads ${FORMAT}); upgrade esdc-overlay` });
    throw new ValidationError(cx.issues, source);
  }
}

/** The JSON at `rel`; undefined when absent, or (with an issue) when it does not parse. */
function readJson<T>(cx: DecodeContext, rel: string): T | undefined {
  const text = cx.tree.get(rel);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    cx.issues.push({ path: cx.at(rel), message: `is not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
}

/** esdc_overlay/{nodes,vdcs}/<name>: one JSON record a child; undefined when the directory has none. */
function decodeJsonDir<T>(cx: DecodeContext, dir: string): Record<string, T> | undefined {
  const names = childrenOf(cx.tree, dir);
  if (names.length === 0) return undefined;
  const out: Record<string, T> = {};
  for (const name of names) {
    const v = readJson<T>(cx, `${dir}/${name}`);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** esdc_overlay/vnics/<node>: a JSON list of that node's NICs. */
function decodeVnics(cx: DecodeContext): VnicDoc[] {
  const vnics: VnicDoc[] = [];
  for (const node of childrenOf(cx.tree, `${OURS}/vnics`)) {
    const list = readJson<unknown>(cx, `${OURS}/vnics/${node}`);
    if (!Array.isArray(list)) {
      if (list !== undefined) cx.issues.push({ path: cx.at(`${OURS}/vnics/${node}`), message: 'must be a JSON list of NICs' });
      continue;
    }
    for (const v of list) vnics.push({ ...(v as Omit<VnicDoc, 'node'>), node });
  }
  return vnics;
}

/** overlay_rules/<name>/{port,nodelist,rule}: the rules, and the adminoverlay's own rule apart. Adds nodelists' names to `knownNames`. */
function decodeRules(cx: DecodeContext, knownNames: Set<string>): { rules: Record<string, RuleDoc>; adminRule: AdminRule | undefined } {
  const rules: Record<string, RuleDoc> = {};
  let adminRule: AdminRule | undefined;
  for (const name of childrenOf(cx.tree, 'overlay_rules')) {
    const base = `overlay_rules/${name}`;
    const port = decodeRulePort(cx, base);
    const ruleText = cx.tree.get(`${base}/rule`);
    let rule: string | undefined;
    if (ruleText !== undefined) {
      rule = decodeRuleValue(ruleText);
      if (rule === undefined) cx.issues.push({ path: cx.at(`${base}/rule`), value: ruleText, message: 'is not base64 of a rule string' });
    }
    if (name === ADMIN_OVERLAY_RULE) {
      adminRule = decodeAdminRule(cx, base, port, rule);
      continue;
    }
    const nodes = decodeNodelist(cx, base, knownNames);
    if (rule === undefined) {
      if (ruleText === undefined) cx.issues.push({ path: cx.at(`${base}/rule`), message: 'is missing' });
      continue;
    }
    rules[name] = ruleDocFromDanube(name, port, nodes, rule);
  }
  return { rules, adminRule };
}

/** overlay_rules/<name>/port: a UDP port number. */
function decodeRulePort(cx: DecodeContext, base: string): number | undefined {
  const portText = cx.tree.get(`${base}/port`);
  if (portText === undefined) cx.issues.push({ path: cx.at(`${base}/port`), message: 'is missing' });
  else if (!/^\d{1,5}$/.test(portText.trim())) cx.issues.push({ path: cx.at(`${base}/port`), value: portText, message: 'must be a UDP port number' });
  else return Number(portText.trim());
  return undefined;
}

/** overlay_rules/<name>/nodelist: `all` or node names, each added to `knownNames`. */
function decodeNodelist(cx: DecodeContext, base: string, knownNames: Set<string>): 'all' | string[] {
  const nodelist = cx.tree.get(`${base}/nodelist`);
  if (nodelist === undefined) {
    cx.issues.push({ path: cx.at(`${base}/nodelist`), message: 'is missing' });
    return 'all';
  }
  const list = parseNodeList(nodelist, cx.at(`${base}/nodelist`));
  cx.issues.push(...list.issues);
  if (list.nodes !== 'all') for (const n of list.nodes) knownNames.add(n);
  return list.nodes;
}

/** The adminoverlay's rule: only its port and MTU are ours to read; a listen IP or files config other than ours is a warning. */
function decodeAdminRule(cx: DecodeContext, base: string, port: number | undefined, rule: string | undefined): AdminRule {
  const parsed = rule === undefined ? undefined : parseRuleString(rule, cx.at(`${base}/rule`));
  if (parsed && parsed.issues.length > 0) cx.issues.push(...parsed.issues);
  const p = parsed?.params ?? {};
  for (const [key, dflt, field] of [
    ['listenIp', RULE_DEFAULTS.listenIp, 'vxlan/listen_ip'],
    ['filesConfig', defaultFilesConfig(ADMIN_OVERLAY_RULE), 'files/config'],
  ] as const) {
    const v = p[key];
    if (v !== undefined && v !== dflt) {
      cx.warnings.push({ path: cx.at(`${base}/rule`), value: v, message: `sets ${field}, which esdc-overlay keeps at ${dflt} for the adminoverlay` });
    }
  }
  return { port: p.port ?? port, mtu: p.mtu };
}

/** adminoverlay/{subnet,netmask,nodes/<host>/{ip,mac}} with our extra fields; undefined (with warnings for leftovers) when there is no subnet. */
function decodeAdminOverlay(cx: DecodeContext, adminRule: AdminRule | undefined, knownNames: Set<string>): AdminOverlayDoc | undefined {
  const subnet = cx.tree.get('adminoverlay/subnet');
  if (subnet === undefined) {
    warnUnfinishedAdminOverlay(cx, adminRule);
    return undefined;
  }
  const netmask = cx.tree.get('adminoverlay/netmask');
  const prefix = netmask === undefined ? undefined : prefixOf(netmask.trim());
  if (netmask === undefined) cx.issues.push({ path: cx.at('adminoverlay/netmask'), message: 'is missing (the subnet needs its netmask)' });
  else if (prefix === undefined) cx.issues.push({ path: cx.at('adminoverlay/netmask'), value: netmask, message: 'must be a dotted netmask like 255.255.255.0' });
  const admin: AdminOverlayDoc = { subnet: `${subnet.trim()}/${prefix ?? 32}` };
  if (adminRule?.port !== undefined) admin.port = adminRule.port;
  const extra = readJson<Partial<AdminOverlayDoc>>(cx, `${OURS}/adminoverlay`);
  if (extra?.vxlan_id !== undefined) admin.vxlan_id = extra.vxlan_id;
  if (extra?.vlan_id !== undefined) admin.vlan_id = extra.vlan_id;
  if (adminRule?.mtu !== undefined) admin.mtu = adminRule.mtu;
  const members = decodeAdminMembers(cx, knownNames);
  if (Object.keys(members).length > 0) admin.nodes = members;
  return admin;
}

/** adminoverlay/nodes/<host>/{ip,mac}; each host is added to `knownNames`. */
function decodeAdminMembers(cx: DecodeContext, knownNames: Set<string>): Record<string, AdminOverlayMemberDoc> {
  const members: Record<string, AdminOverlayMemberDoc> = {};
  for (const host of childrenOf(cx.tree, 'adminoverlay/nodes')) {
    knownNames.add(host);
    const ip = cx.tree.get(`adminoverlay/nodes/${host}/ip`);
    let mac = cx.tree.get(`adminoverlay/nodes/${host}/mac`) ?? '';
    if (ip === undefined) {
      cx.issues.push({ path: cx.at(`adminoverlay/nodes/${host}/ip`), message: 'is missing' });
      continue;
    }
    if (mac.trim() === '') {
      // Danube's adminoverlay-init leaves it empty (docs/file-formats.md#danube-defects, item 2): the node gets a random MAC at every boot.
      mac = derivedAdminMac(host);
      cx.warnings.push({
        path: cx.at(`adminoverlay/nodes/${host}/mac`),
        value: mac,
        message: 'is empty in cfgdb (a Danube adminoverlay-init bug); using a stable MAC derived from the hostname, stored at the next change',
      });
    }
    members[host] = { ip: ip.trim(), mac: mac.trim() };
  }
  return members;
}

/** No adminoverlay/subnet: members or an adminoverlay rule left behind are ignored, and said so. */
function warnUnfinishedAdminOverlay(cx: DecodeContext, adminRule: AdminRule | undefined): void {
  if (childrenOf(cx.tree, 'adminoverlay/nodes').length > 0) {
    cx.warnings.push({ path: cx.at('adminoverlay/nodes'), message: 'has entries but adminoverlay/subnet is missing, so the adminoverlay is off; they are ignored' });
  }
  if (adminRule) {
    cx.warnings.push({
      path: cx.at(`overlay_rules/${ADMIN_OVERLAY_RULE}`),
      message: 'exists but adminoverlay/subnet does not (an unfinished adminoverlay-init?); the rule is ignored and goes at the next change',
    });
  }
}

/** ipsec/psk/<a>-<b>: Danube's per-pair keys, the pair resolved against the known node names. */
function decodePsk(cx: DecodeContext, knownNames: ReadonlySet<string>): PskDoc[] {
  const psk: PskDoc[] = [];
  for (const keyName of childrenOf(cx.tree, 'ipsec/psk')) {
    const pair = resolvePskName(keyName, knownNames);
    if ('problem' in pair) {
      cx.issues.push({ path: cx.at(`ipsec/psk/${keyName}`), value: keyName, message: pair.problem });
      continue;
    }
    psk.push({ nodes: pair.nodes, key: (cx.tree.get(`ipsec/psk/${keyName}`) ?? '').trim() });
  }
  return psk;
}

/** esdc_overlay/pdc_psk/<a>,<b>: the pdc-pair scheme's keys. */
function decodePdcPsk(cx: DecodeContext): PdcPskDoc[] {
  const pdcPsk: PdcPskDoc[] = [];
  for (const name of childrenOf(cx.tree, PDC_PSK_DIR)) {
    const parts = name.split(',');
    if (parts.length !== 2 || parts.some((x) => !matches(PDC_NAME, x))) {
      cx.issues.push({ path: cx.at(`${PDC_PSK_DIR}/${name}`), value: name, message: 'is not two PDC names separated by a comma' });
      continue;
    }
    pdcPsk.push({ pdcs: [parts[0]!, parts[1]!], key: (cx.tree.get(`${PDC_PSK_DIR}/${name}`) ?? '').trim() });
  }
  return pdcPsk;
}

/** firewall/{globally_enabled,administrator_sources}; undefined when neither is there. */
function decodeFirewall(cx: DecodeContext): FirewallDoc | undefined {
  const enabled = cx.tree.get('firewall/globally_enabled');
  const sources = cx.tree.get('firewall/administrator_sources');
  if (enabled === undefined && sources === undefined) return undefined;
  const firewall: FirewallDoc = {};
  if (enabled !== undefined) {
    const e = enabled.trim();
    if (e === 'true' || e === 'false') firewall.enabled = e === 'true';
    else cx.issues.push({ path: cx.at('firewall/globally_enabled'), value: enabled, message: 'must be "true" or "false"' });
  }
  if (sources !== undefined) {
    firewall.administrator_sources = sources.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  return firewall;
}

/** Sorted names of the direct children of `dir` in a tree. */
export function childrenOf(tree: ReadonlyMap<string, string>, dir: string): string[] {
  const prefix = `${dir}/`;
  const out = new Set<string>();
  for (const key of tree.keys()) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    out.add(slash < 0 ? rest : rest.slice(0, slash));
  }
  return [...out].sort(byCodePoint);
}

/** base64 (whitespace ignored) → text without the one trailing newline; undefined if it is not base64 of UTF-8. */
export function decodeRuleValue(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  const buf = Buffer.from(compact, 'base64');
  const decoded = buf.toString('utf8');
  if (!Buffer.from(decoded, 'utf8').equals(buf)) return undefined;
  return decoded.endsWith('\n') ? decoded.slice(0, -1) : decoded;
}

/**
 * A rule as Danube stores it, in our normal form: fields when the string says
 * nothing they cannot (the same form `create`/`update` write), else the raw
 * string, whose problems the model then reports in detail.
 */
function ruleDocFromDanube(name: string, port: number | undefined, nodes: 'all' | string[], rule: string): RuleDoc {
  const parsed = parseRuleString(rule);
  const p = parsed.params;
  if (parsed.issues.length > 0 || (p.port !== undefined && port !== undefined && p.port !== port) || (p.port ?? port) === undefined) {
    const raw: RuleDoc = { nodes, rule };
    if (port !== undefined) raw.port = port;
    return raw;
  }
  const out: RuleDoc = { port: (p.port ?? port)!, nodes, mtu: p.mtu ?? RULE_DEFAULTS.mtu };
  if (p.listenIp !== undefined && p.listenIp !== RULE_DEFAULTS.listenIp) out.listen_ip = p.listenIp;
  if (p.filesConfig !== undefined && p.filesConfig !== defaultFilesConfig(name)) out.files_config = p.filesConfig;
  return out;
}

/** Prefix length of a contiguous dotted netmask, else undefined. */
export function prefixOf(netmask: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(netmask);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  const bits = octets.map((o) => o.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return undefined;
  return bits.indexOf('0') < 0 ? 32 : bits.indexOf('0');
}

/** A locally administered, unicast MAC that only depends on the hostname. */
export function derivedAdminMac(host: string): string {
  const h = createHash('sha256').update(`esdc-overlay adminoverlay ${host}`).digest();
  const bytes = [0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * Which two nodes a Danube PSK key `<a>-<b>` names. Hostnames may contain
 * `-`, so a name can split in several places: a split is taken when it is
 * the only one that gives two hostnames, or the only one naming two known
 * nodes.
 */
export function resolvePskName(key: string, known: ReadonlySet<string>): { nodes: [string, string] } | { problem: string } {
  const splits: [string, string][] = [];
  for (let i = key.indexOf('-'); i >= 0; i = key.indexOf('-', i + 1)) {
    const a = key.slice(0, i);
    const b = key.slice(i + 1);
    if (matches(HOSTNAME, a) && matches(HOSTNAME, b)) splits.push([a, b]);
  }
  if (splits.length === 1) return { nodes: splits[0]! };
  if (splits.length === 0) return { problem: 'is not "<node>-<node>" of two hostnames' };
  const knownSplits = splits.filter(([a, b]) => known.has(a) && known.has(b));
  if (knownSplits.length === 1) return { nodes: knownSplits[0]! };
  const options = splits.map(([a, b]) => `${a} + ${b}`).join(', ');
  return {
    problem:
      knownSplits.length === 0
        ? `names two nodes, but which ones is ambiguous (${options}) and none of these pairs are known nodes; record the nodes first (nodes discover)`
        : `names two nodes, but which ones is ambiguous: ${knownSplits.map(([a, b]) => `${a} + ${b}`).join(', ')} are all known nodes`,
  };
}

// ---------------------------------------------------------------- minimal writes

/** Whether two texts of znode `rel` mean the same (Danube may write `n1, n2`, wrapped base64, JSON in another key order). */
export function equivalentText(rel: string, a: string, b: string): boolean {
  if (a === b) return true;
  if (/^overlay_rules\/[^/]+\/rule$/.test(rel)) {
    const x = decodeRuleValue(a);
    return x !== undefined && x === decodeRuleValue(b);
  }
  if (/^overlay_rules\/[^/]+\/nodelist$/.test(rel) || rel === 'firewall/administrator_sources') {
    const norm = (s: string): string => s.replace(/\s+/g, '').replace(/^,+|,+$/g, '').replace(/,+/g, ',');
    return norm(a) === norm(b);
  }
  if (rel.startsWith(`${OURS}/`) && rel !== `${OURS}/format`) {
    try {
      return stableJson(JSON.parse(a)) === stableJson(JSON.parse(b));
    } catch {
      return false;
    }
  }
  return isKnownLeaf(rel) && a.trim() === b.trim();
}

/**
 * `desired` with the stored text kept wherever it already means the desired
 * value, so a save rewrites only what changed and leaves Danube's bytes alone.
 */
export function keepEquivalent(stored: ReadonlyMap<string, { data: string }>, desired: Tree): Tree {
  const out: Tree = new Map();
  for (const [rel, text] of desired) {
    const have = stored.get(rel)?.data;
    out.set(rel, have !== undefined && text !== '' && equivalentText(rel, have, text) ? have : text);
  }
  return out;
}
