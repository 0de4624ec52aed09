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

/**
 * Every entry of a rule's table as one viewer PDC sees it, in one buffer:
 * entry i is `,\n<entry>` at `text[starts[i] .. starts[i + 1])`. An entry's
 * text depends on the viewer only through its PDC, so this is made once per
 * (rule, PDC) and each node's table is slices of it (`arpTableBytes`).
 * The text is in shared memory (docs/arp-deltas.md#hashing-off-the-event-loop).
 */
export interface ArpTableText {
  owners: Uint32Array;
  text: Buffer;
  starts: Uint32Array;
}

export function arpTableText(compiled: CompiledRuleTable, column: readonly string[]): ArpTableText {
  const { owners, heads, tails } = compiled;
  const parts: string[] = new Array<string>(owners.length);
  const starts = new Uint32Array(owners.length + 1);
  let offset = 0;
  for (let i = 0; i < owners.length; i++) {
    const part = `,\n${heads[i]!}${column[owners[i]!]!}${tails[i]!}`;
    parts[i] = part;
    starts[i] = offset;
    offset += Buffer.byteLength(part, 'utf8');
  }
  starts[owners.length] = offset;
  // In shared memory: the daemon hashes each node's slices of it in another thread without copying them (src/daemon/hash-pool.ts).
  const text = Buffer.from(new SharedArrayBuffer(offset));
  text.write(parts.join(''), 0, 'utf8');
  return { owners, text, starts };
}

const OPEN = Buffer.from('{\n');
const CLOSE = Buffer.from('\n}\n');
const EMPTY = Buffer.from('{}\n');

/**
 * One node's table as buffers: the same bytes as `arpTableChunks`, made of
 * slices of the shared text that skip the viewer's own entries (no copy).
 */
export function* arpTableBytes(table: ArpTableText, viewerIndex: number): Generator<Uint8Array> {
  const { owners, text, starts } = table;
  let runStart = -1;
  let first = true;
  for (let i = 0; i <= owners.length; i++) {
    const skip = i === owners.length || owners[i] === viewerIndex;
    if (!skip) {
      if (runStart === -1) runStart = i;
      continue;
    }
    if (runStart === -1) continue;
    let from = starts[runStart]!;
    if (first) {
      yield OPEN;
      from += 2; // the first entry has no leading ",\n"
      first = false;
    }
    yield text.subarray(from, starts[i]!);
    runStart = -1;
  }
  yield first ? EMPTY : CLOSE;
}
