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

/** Every path that has a child in the tree (linear, so large trees plan quickly). */
function dirsOf(tree: ReadonlyMap<string, unknown>): Set<string> {
  const dirs = new Set<string>();
  for (const k of tree.keys()) {
    for (let i = k.lastIndexOf('/'); i > 0; i = k.lastIndexOf('/', i - 1)) {
      const dir = k.slice(0, i);
      if (dirs.has(dir)) break;
      dirs.add(dir);
    }
  }
  return dirs;
}

const inOurs = (p: string): boolean => p === OURS || p.startsWith(`${OURS}/`);

/** Operations in a valid order: creates parents first, removes children first. Paths are relative. */
export function planWrites(base: ReadonlyMap<string, ReadZnode>, desired: Tree): WriteOp[] {
  const desiredDirs = dirsOf(desired);
  const baseDirs = dirsOf(base);
  const creates: WriteOp[] = [];
  const sets: WriteOp[] = [];
  const checks: WriteOp[] = [];
  const keys = [...desired.keys()].sort((a, b) => depth(a) - depth(b) || byCodePoint(a, b));
  for (const path of keys) {
    const want = desired.get(path)!;
    const have = base.get(path);
    const dir = desiredDirs.has(path);
    if (!have) creates.push({ op: 'create', path, data: want });
    else if (dir) continue;
    else if (have.data !== want) sets.push({ op: 'set', path, data: want, version: have.version });
    else if (!inOurs(path)) checks.push({ op: 'check', path, version: have.version });
  }

  // Removals: known leaves the state no longer has, then directories left empty by them.
  // Deepest first, so a directory's children are decided before it is.
  const removed = new Set<string>();
  const kept = new Set<string>(); // directories with a child that stays
  const parentOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
  for (const path of [...base.keys()].sort((a, b) => depth(b) - depth(a) || byCodePoint(a, b))) {
    const goes = !desired.has(path) && (baseDirs.has(path) ? !isKeptDir(path) && !kept.has(path) : isKnownLeaf(path));
    if (goes) removed.add(path);
    else kept.add(parentOf(path));
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
