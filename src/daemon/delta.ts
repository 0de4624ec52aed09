/**
 * What the daemon remembers to send a node a patch instead of a table
 * (docs/arp-deltas.md#on-the-head-node). Memory stays bounded by the state,
 * not by nodes x tables:
 *
 * - per node and table, only the SHA-256 of what the node has and the
 *   generation (saved state) it was rendered from;
 * - per generation, for the last few only, each rule's entries as one PDC
 *   sees them (one string per entry; the render context of the newest only) (an entry's underlay address depends on the viewer only
 *   through its PDC), shared by every node of that PDC, and the list of MACs
 *   that differ between two generations, computed once per (rule, PDC pair).
 *
 * A node's patch is then those MACs with its own NICs left out (they are not
 * in its table, src/files-config/arp-table.ts). A node whose generation is no
 * longer kept, or whose hash is unknown, gets the whole file.
 */
import { createHash } from 'node:crypto';
import type { ArpEntry } from '../files-config/arp-table.js';
import { entryUnderlayIp, ruleSources } from '../files-config/arp-table.js';
import type { ArpPatchOp } from '../files-config/arp-patch.js';
import { arpTableFile } from '../files-config/generator.js';
import type { Model, Node, OverlayRule } from '../model/model.js';
import { RenderContext } from '../desired/render-context.js';
import { HashPool } from './hash-pool.js';

/**
 * One rule's entries as one PDC sees them: MAC → `owner \t arp \t ip \t ndp \t port`.
 * One string per entry (not an object): a few MB for 25,000 NICs.
 */
type View = Map<string, string>;

function entryOf(value: string): { owner: string; entry: ArpEntry } {
  const [owner, arp, ip, ndp, port] = value.split('\t') as [string, string, string, string, string];
  return { owner, entry: ndp === '' ? { arp, ip, port: Number(port) } : { arp, ip, ndp, port: Number(port) } };
}

interface Generation {
  gen: number;
  model: Model;
  /** Kept for the newest generation only: older ones are needed for their views, not for rendering. */
  ctx: RenderContext | undefined;
  /** `${rule}\0${pdc}` → view. */
  views: Map<string, View>;
  /** `${fromGen}\0${rule}\0${fromPdc}\0${toPdc}` → MACs that differ. */
  diffs: Map<string, string[]>;
}

/** What a node's table is known to hold. */
export interface KnownTable {
  sha256: string;
  gen: number;
}

/** How many saved states are kept for patches: a node more behind than this gets the whole file. */
export const GENERATIONS_KEPT = 4;

export class DeltaState {
  private gens: Generation[] = [];
  private next = 1;
  private readonly genOf = new WeakMap<Model, number>();
  /** node → path → what it holds. */
  private readonly known = new Map<string, Map<string, KnownTable>>();
  /** Nodes that cannot run the patch command (no Node, no agent bundle, an older one): whole files only. */
  readonly noPatch = new Map<string, string>();
  /** The Node binary that ran a patch on each node. */
  readonly nodeBinary = new Map<string, string>();
  /** Where new tables are hashed (docs/arp-deltas.md#hashing-off-the-event-loop); its threads start at the first hash. */
  readonly hashes = new HashPool();

  constructor(private readonly keep = GENERATIONS_KEPT) {}

  /** The generation of `model`, registered (and the oldest dropped) on first sight. */
  generation(model: Model): Generation {
    const g = this.genOf.get(model);
    const found = g === undefined ? undefined : this.gens.find((x) => x.gen === g);
    if (found) return found;
    const gen: Generation = { gen: this.next++, model, ctx: undefined, views: new Map(), diffs: new Map() };
    this.genOf.set(model, gen.gen);
    for (const g of this.gens) g.ctx = undefined;
    this.gens.push(gen);
    if (this.gens.length > this.keep) this.gens.shift();
    return gen;
  }

  /** One render context per saved state, shared by every node's writer. */
  context(model: Model): RenderContext {
    const g = this.generation(model);
    return (g.ctx ??= new RenderContext(model));
  }

  knownTable(node: string, path: string): KnownTable | undefined {
    return this.known.get(node)?.get(path);
  }

  /** Records what a node's table now holds (written whole, patched, or read and found equal). */
  record(node: string, path: string, sha256: string, model: Model): void {
    let m = this.known.get(node);
    if (!m) this.known.set(node, (m = new Map()));
    m.set(path, { sha256, gen: this.generation(model).gen });
  }

  /** Forgets a node's tables (a failed write: what it holds is no longer known). */
  forget(node: string, path?: string): void {
    if (path === undefined) this.known.delete(node);
    else this.known.get(node)?.delete(path);
  }

  /** Ends the hashing threads (the daemon stopping); later hashes are taken on the event loop. */
  close(): Promise<void> {
    return this.hashes.close();
  }

  /** Forgets a node entirely (removed from the state). */
  drop(node: string): void {
    this.known.delete(node);
    this.noPatch.delete(node);
    this.nodeBinary.delete(node);
  }

  private view(g: Generation, rule: OverlayRule, viewer: Node): View {
    const key = `${rule.name}\0${viewer.pdc}`;
    let v = g.views.get(key);
    if (v) return v;
    v = new Map();
    for (const s of ruleSources(g.model, rule)) {
      const ip = entryUnderlayIp(rule, viewer, g.model.nodeByName.get(s.node)!);
      v.set(s.mac, `${s.node}\t${s.arp}\t${ip}\t${s.ndp ?? ''}\t${rule.port}`);
    }
    g.views.set(key, v);
    return v;
  }

  /**
   * The changes that take `node`'s table of `ruleName` from generation
   * `fromGen` to `model`; undefined when the old generation is no longer kept,
   * or the rule or the node is not in both.
   */
  patch(fromGen: number, model: Model, ruleName: string, nodeName: string): ArpPatchOp[] | undefined {
    const from = this.gens.find((x) => x.gen === fromGen);
    const to = this.generation(model);
    if (!from) return undefined;
    const rFrom = from.model.rules.find((r) => r.name === ruleName);
    const rTo = to.model.rules.find((r) => r.name === ruleName);
    const nFrom = from.model.nodeByName.get(nodeName);
    const nTo = to.model.nodeByName.get(nodeName);
    if (!rFrom || !rTo || !nFrom || !nTo || rFrom.filesConfig !== rTo.filesConfig) return undefined;
    const vFrom = this.view(from, rFrom, nFrom);
    const vTo = this.view(to, rTo, nTo);
    const dkey = `${from.gen}\0${ruleName}\0${nFrom.pdc}\0${nTo.pdc}`;
    let macs = to.diffs.get(dkey);
    if (!macs) {
      macs = [];
      for (const [mac, e] of vFrom) if (vTo.get(mac) !== e) macs.push(mac);
      for (const mac of vTo.keys()) if (!vFrom.has(mac)) macs.push(mac);
      to.diffs.set(dkey, macs);
    }
    const ops: ArpPatchOp[] = [];
    for (const mac of macs) {
      const a = vFrom.get(mac);
      const b = vTo.get(mac);
      // A node's own NICs are not in its table.
      const had = a === undefined ? undefined : entryOf(a);
      const has = b === undefined ? undefined : entryOf(b);
      const before = had && had.owner !== nodeName ? had.entry : undefined;
      const after = has && has.owner !== nodeName ? has.entry : undefined;
      if (!before && !after) continue;
      if (before && after && before.arp === after.arp && before.ip === after.ip && before.ndp === after.ndp && before.port === after.port) continue;
      ops.push({ mac, entry: after ?? null });
    }
    return ops;
  }
}

/** The SHA-256 of `node`'s table of `rule` as `ctx` renders it, without building one string of it. */
export function tableSha256(ctx: RenderContext, rule: OverlayRule, node: Node): string {
  const file = arpTableFile(ctx, rule, node);
  const h = createHash('sha256');
  if (file.bytes) for (const b of file.bytes()) h.update(b);
  else for (const c of file.content()) h.update(c);
  return h.digest('hex');
}

/**
 * The same SHA-256 as `tableSha256`, taken by `pool` in another thread
 * (docs/arp-deltas.md#hashing-off-the-event-loop): the daemon's hash of every
 * changed table (~1.8 ms each at 2.5 MB) no longer holds back the SSH traffic
 * and the other nodes' writers. The table's slices are handed over, not its
 * bytes; a table not in shared memory is hashed here.
 */
export function tableSha256Async(ctx: RenderContext, rule: OverlayRule, node: Node, pool: HashPool): Promise<string> {
  const file = arpTableFile(ctx, rule, node);
  if (!file.bytes) return Promise.resolve(tableSha256(ctx, rule, node));
  return pool.sha256([...file.bytes()]);
}
