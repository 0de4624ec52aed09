/**
 * varpd `files/config` ARP tables (docs/file-formats.md#arp-table), pure.
 *
 * The table of rule R on node N holds one entry per overlay NIC that sits on
 * another node that also has R: every VM NIC tagged `R/<vni>`, and for the
 * adminoverlay rule every node's adminoverlay vNIC. The NICs of N itself are
 * left out: the overlay device switches local MACs itself. VNIs and VLANs do
 * not matter here: one table serves every VNI of a rule.
 *
 * An entry's underlay address depends on the viewing node only through its
 * PDC, so everything but the left-out entries is shared by the nodes of one
 * PDC. `compileRuleTable` does the per-rule work once; `underlayColumn` the
 * per-(rule, PDC) work; `arpTableChunks` streams one node's file from them.
 */
import { InternalError } from '../errors.js';
import { byCodePoint, type Model, type Node, type OverlayRule } from '../model/model.js';
import { underlayIp } from '../model/underlay.js';
import { canonicalIpv6 } from '../net/ipv6.js';

/** One entry as JSON would hold it (keys in the order they are written). */
export interface ArpEntry {
  arp: string;
  ip: string;
  ndp?: string;
  port: number;
}

/** What goes into a rule's tables, before the viewer is known. */
export interface ArpSource {
  /** Lower case, zero padded: the key. */
  mac: string;
  /** The node the NIC sits on. */
  node: string;
  arp: string;
  /** Canonical IPv6, when the NIC has one. */
  ndp: string | undefined;
  /** For messages: where in the state the NIC comes from. */
  origin: string;
}

/**
 * The NICs a rule's tables list, sorted by MAC. NICs on nodes that do not
 * have the rule are never listed (validation refuses them; this keeps a
 * table correct even on an unvalidated model).
 */
export function ruleSources(model: Model, rule: OverlayRule): ArpSource[] {
  const members = new Set(rule.nodes);
  const sources: ArpSource[] = [];
  for (const v of model.vnics) {
    if (v.rule !== rule.name || !members.has(v.node)) continue;
    sources.push({ mac: v.mac, node: v.node, arp: v.ip, ndp: ndp(v.ip6), origin: `vnics[${v.index}]` });
  }
  if (rule.adminOverlay && model.adminOverlay) {
    for (const m of model.adminOverlay.members) {
      if (!members.has(m.node)) continue;
      sources.push({ mac: m.mac, node: m.node, arp: m.ip, ndp: undefined, origin: `adminoverlay.nodes[${m.node}]` });
    }
  }
  sources.sort((a, b) => byCodePoint(a.mac, b.mac));
  for (let i = 1; i < sources.length; i++) {
    if (sources[i]!.mac === sources[i - 1]!.mac) {
      // Validation refuses duplicate MACs; varpd would silently keep only one of them.
      throw new InternalError(
        `MAC ${sources[i]!.mac} appears twice on rule ${rule.name} (${sources[i - 1]!.origin}, ${sources[i]!.origin})`,
      );
    }
  }
  return sources;
}

function ndp(ip6: string | undefined): string | undefined {
  if (ip6 === undefined) return undefined;
  const canonical = canonicalIpv6(ip6);
  if (canonical === undefined) throw new InternalError(`not an IPv6 address: ${ip6}`);
  return canonical;
}

/** The underlay address `viewer` sends the rule's packets for NICs on `owner` to. */
export function entryUnderlayIp(rule: OverlayRule, viewer: Node, owner: Node): string {
  const ip = underlayIp(rule, viewer, owner);
  if (ip === undefined) {
    // Validation refuses a multi-PDC installation with a node lacking external_ip (docs/file-formats.md#danube-defects, item 17).
    throw new InternalError(`${owner.name} has no external IP, needed by ${viewer.name} in PDC ${viewer.pdc}`);
  }
  return ip;
}

/** The table of `rule` on `node` as an object: for tests and small callers; `arpTableChunks` streams. */
export function arpTable(model: Model, rule: OverlayRule, node: Node): Record<string, ArpEntry> {
  const table: Record<string, ArpEntry> = {};
  for (const s of ruleSources(model, rule)) {
    if (s.node === node.name) continue;
    const owner = model.nodeByName.get(s.node)!;
    const ip = entryUnderlayIp(rule, node, owner);
    // Key order as written: arp, ip, ndp, port (sorted, like the streamed form).
    table[s.mac] = s.ndp === undefined ? { arp: s.arp, ip, port: rule.port } : { arp: s.arp, ip, ndp: s.ndp, port: rule.port };
  }
  return table;
}

/**
 * A rule's entries pre-serialised, shared by every node that has the rule.
 * Each entry's text is `head + <underlay ip> + tail`; only the underlay IP
 * depends on the viewer (by PDC), and only the owner decides whether the
 * viewer skips it.
 */
export interface CompiledRuleTable {
  rule: OverlayRule;
  /** Owner of each entry, as an index into `model.nodes`. */
  owners: Uint32Array;
  heads: readonly string[];
  tails: readonly string[];
}

export function compileRuleTable(model: Model, rule: OverlayRule): CompiledRuleTable {
  const index = nodeIndex(model);
  const sources = ruleSources(model, rule);
  const owners = new Uint32Array(sources.length);
  const heads: string[] = new Array<string>(sources.length);
  const tails: string[] = new Array<string>(sources.length);
  const portTail = `,\n    "port": ${rule.port}\n  }`;
  sources.forEach((s, i) => {
    owners[i] = index.get(s.node)!;
    heads[i] = `  ${JSON.stringify(s.mac)}: {\n    "arp": ${JSON.stringify(s.arp)},\n    "ip": `;
    tails[i] = (s.ndp === undefined ? '' : `,\n    "ndp": ${JSON.stringify(s.ndp)}`) + portTail;
  });
  return { rule, owners, heads, tails };
}

/**
 * The JSON-quoted underlay IP of every node (by index into `model.nodes`) as
 * seen from `viewer`'s PDC, for `rule`. Only nodes with the rule are filled.
 */
export function underlayColumn(model: Model, rule: OverlayRule, viewer: Node): readonly string[] {
  const index = nodeIndex(model);
  const column = new Array<string>(model.nodes.length).fill('');
  for (const name of rule.nodes) {
    const owner = model.nodeByName.get(name)!;
    column[index.get(name)!] = JSON.stringify(entryUnderlayIp(rule, viewer, owner));
  }
  return column;
}

const nodeIndexes = new WeakMap<Model, ReadonlyMap<string, number>>();

function nodeIndex(model: Model): ReadonlyMap<string, number> {
  let index = nodeIndexes.get(model);
  if (!index) {
    index = new Map(model.nodes.map((n, i) => [n.name, i]));
    nodeIndexes.set(model, index);
  }
  return index;
}

/** Chunks are about this many characters: large enough to write efficiently, small enough to stay cheap. */
const CHUNK = 1 << 16;

/**
 * One node's table as text: `JSON.stringify(arpTable(...), null, 2)` plus a
 * newline, byte for byte, produced in chunks without building the table.
 */
export function* arpTableChunks(
  compiled: CompiledRuleTable,
  column: readonly string[],
  viewerIndex: number,
): Generator<string> {
  const { owners, heads, tails } = compiled;
  let buf = '';
  let first = true;
  for (let i = 0; i < owners.length; i++) {
    const owner = owners[i]!;
    if (owner === viewerIndex) continue;
    buf += (first ? '{\n' : ',\n') + heads[i]! + column[owner]! + tails[i]!;
    first = false;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  yield first ? '{}\n' : `${buf}\n}\n`;
}

/** The index of `node` in `model.nodes`. */
export function indexOfNode(model: Model, node: Node): number {
  const i = nodeIndex(model).get(node.name);
  if (i === undefined) throw new InternalError(`${node.name} is not a node of the model`);
  return i;
}
