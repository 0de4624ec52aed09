/**
 * What a save must do to turn the tree it read into the tree it wants, as
 * ZooKeeper multi operations. Pure. Every Danube key the save leaves alone
 * is still version-checked, so a concurrent write by Danube's own tool (which
 * takes no lock) makes the whole transaction fail instead of interleaving;
 * our subtree is guarded by the sequencer node the store bumps in the same
 * transaction.
 */
import { byCodePoint } from '../model/model.js';
import { OURS, isKeptDir, isKnownLeaf, type Tree } from './cfgdb-layout.js';

/** A znode as read: its text and data version. */
export interface ReadZnode {
  data: string;
  version: number;
}

export type WriteOp =
  | { op: 'create'; path: string; data: string }
  | { op: 'set'; path: string; data: string; version: number }
  | { op: 'remove'; path: string; version: number }
  | { op: 'check'; path: string; version: number };

const depth = (p: string): number => p.split('/').length;

function isDirIn(tree: ReadonlyMap<string, unknown>, path: string): boolean {
  const prefix = `${path}/`;
  for (const k of tree.keys()) if (k.startsWith(prefix)) return true;
  return false;
}

const inOurs = (p: string): boolean => p === OURS || p.startsWith(`${OURS}/`);

/** Operations in a valid order: creates parents first, removes children first. Paths are relative. */
export function planWrites(base: ReadonlyMap<string, ReadZnode>, desired: Tree): WriteOp[] {
  const creates: WriteOp[] = [];
  const sets: WriteOp[] = [];
  const checks: WriteOp[] = [];
  const keys = [...desired.keys()].sort((a, b) => depth(a) - depth(b) || byCodePoint(a, b));
  for (const path of keys) {
    const want = desired.get(path)!;
    const have = base.get(path);
    const dir = isDirIn(desired, path);
    if (!have) creates.push({ op: 'create', path, data: want });
    else if (dir) continue;
    else if (have.data !== want) sets.push({ op: 'set', path, data: want, version: have.version });
    else if (!inOurs(path)) checks.push({ op: 'check', path, version: have.version });
  }

  // Removals: known leaves the state no longer has, then directories left empty by them.
  const removed = new Set<string>();
  const gone = [...base.keys()].filter((p) => !desired.has(p)).sort((a, b) => depth(b) - depth(a) || byCodePoint(a, b));
  for (const path of gone) {
    if (isDirIn(base, path)) {
      if (isKeptDir(path)) continue;
      const prefix = `${path}/`;
      const allGone = [...base.keys()].every((k) => !k.startsWith(prefix) || removed.has(k));
      if (allGone) removed.add(path);
    } else if (isKnownLeaf(path)) removed.add(path);
  }
  const removes: WriteOp[] = [...removed]
    .sort((a, b) => depth(b) - depth(a) || byCodePoint(a, b))
    .map((path) => ({ op: 'remove', path, version: base.get(path)!.version }));
  return [...creates, ...sets, ...checks, ...removes];
}

/** True when the operations change something (checks alone do not). */
export function changesAnything(ops: readonly WriteOp[]): boolean {
  return ops.some((o) => o.op !== 'check');
}
