/**
 * Saves larger than one ZooKeeper request (docs/zk-large-saves.md). ZooKeeper
 * refuses a request above its jute.maxbuffer (~1 MiB), so a multi cannot carry
 * a large state. Our subtree is then written as a new generation,
 * `esdc_overlay/gen/<id>/...`, in several requests, and one last multi
 * switches to it: it sets the sequencer `esdc_overlay` (the pointer: its
 * JSON names the generation) against the version read, checks the new
 * generation is still there, and carries every change to Danube's own znodes.
 * Readers follow the pointer. Pure: paths, the pointer's text, batching.
 */
import { OURS, type Tree } from './cfgdb-layout.js';
import type { WriteOp } from './zk-writes.js';

/** Generations live here (relative to the root). */
export const GEN_DIR = `${OURS}/gen`;

/** What the sequencer znode holds: who wrote last, and which generation is current (none: our znodes sit directly under esdc_overlay). */
export interface SequencerMeta {
  txn: string;
  by: string;
  at: string;
  gen?: string;
}

/** A generation id: sortable by time, unique by the random part; only [0-9a-z-]. */
export function newGenerationId(now: Date, random: string): string {
  return `${now.toISOString().replace(/[-:.TZ]/g, '').toLowerCase()}-${random.replace(/[^0-9a-z]/gi, '').slice(0, 12).toLowerCase()}`;
}

const GEN_ID = /^[0-9]{17}-[0-9a-z]{1,12}$/;

/** The generation the sequencer's text points at, or undefined (no pointer, or a text that is not ours). */
export function pointedGeneration(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const meta = JSON.parse(text) as Partial<SequencerMeta>;
    return typeof meta.gen === 'string' && GEN_ID.test(meta.gen) ? meta.gen : undefined;
  } catch {
    return undefined;
  }
}

/** True for a path of our subtree other than the sequencer itself. */
export function inOurSubtree(rel: string): boolean {
  return rel.startsWith(`${OURS}/`);
}

/** Where the logical path `rel` (cfgdb layout) is stored: inside the generation for our subtree, as is otherwise. */
export function physicalPath(rel: string, gen: string | undefined): string {
  if (gen === undefined || !inOurSubtree(rel)) return rel;
  return `${GEN_DIR}/${gen}/${rel.slice(OURS.length + 1)}`;
}

/** The logical path of a physical path inside generation `gen`, or undefined for the generation's own root. */
export function logicalPath(phys: string, gen: string): string | undefined {
  const root = `${GEN_DIR}/${gen}`;
  if (phys === root) return undefined;
  return `${OURS}/${phys.slice(root.length + 1)}`;
}

/** The size a request of these operations has on the wire, roughly: paths, data, and per-operation framing and ACL. */
export function requestBytes(ops: readonly WriteOp[]): number {
  return ops.reduce((n, o) => n + Buffer.byteLength(o.path) + ('data' in o ? Buffer.byteLength(o.data) : 0) + 24, 0);
}

/**
 * The creates that write our part of `desired` into generation `gen`
 * (relative paths): the generation's root first (its text says it is not
 * yet in use), then parents before children.
 */
export function generationCreates(desired: Tree, gen: string, marker: string): WriteOp[] {
  const depth = (p: string): number => p.split('/').length;
  const ours = [...desired.keys()].filter(inOurSubtree).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  return [
    { op: 'create', path: `${GEN_DIR}/${gen}`, data: marker },
    ...ours.map((rel): WriteOp => ({ op: 'create', path: physicalPath(rel, gen), data: desired.get(rel)! })),
  ];
}

/**
 * Operations cut into requests of at most `maxBytes` each, in order (so a
 * parent created in one request exists for the next). An operation larger
 * than `maxBytes` alone is its own request, which the server will refuse:
 * one znode's data cannot be split.
 */
export function batches(ops: readonly WriteOp[], maxBytes: number): WriteOp[][] {
  const out: WriteOp[][] = [];
  let current: WriteOp[] = [];
  let size = 0;
  for (const o of ops) {
    const b = requestBytes([o]);
    if (current.length > 0 && size + b > maxBytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(o);
    size += b;
  }
  if (current.length > 0) out.push(current);
  return out;
}
