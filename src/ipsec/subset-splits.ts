/**
 * The shape every "would a subset run split a pair" check shares (IKE
 * parameters in ike-subset.ts, keys in key-subset.ts): for each node in the
 * run, each mesh peer left out of it whose entry on the node would change is
 * a pair the run would leave with different settings at its two ends. The
 * peer is not read: both ends were last written in one run, so the node's
 * current file stands for both. Pure.
 */
import { orderedPair, type Model } from '../model/model.js';
import { meshPeers, type Pair } from './pairs.js';

/** A pair a subset run would split: `node` is in the run and would change, `peer` is not. */
export interface SubsetSplit {
  pair: Pair;
  /** In this run; its entry for `peer` changes. */
  node: string;
  /** Not in this run. */
  peer: string;
}

/**
 * How one selected node's entries would change: for a peer's address, what
 * to say of its change (an object, merged into the split) or undefined when
 * that entry stays or the node has none for it.
 */
export type EntryChange<T extends object> = (peerIp: string) => T | undefined;

/**
 * Every pair a run over `only` would split (none when every node runs).
 * `changes(node)` is undefined for a node with nothing to cut yet (no file
 * now, or none in this run).
 */
export function subsetSplits<T extends object>(
  model: Model,
  only: ReadonlySet<string> | undefined,
  changes: (node: string) => EntryChange<T> | undefined,
): Array<SubsetSplit & T> {
  if (!only) return [];
  const splits: Array<SubsetSplit & T> = [];
  for (const node of model.nodes) {
    if (!only.has(node.name)) continue;
    const change = changes(node.name);
    if (change === undefined) continue;
    for (const peer of meshPeers(model, node)) {
      if (only.has(peer.name) || peer.externalIp === undefined) continue;
      const said = change(peer.externalIp);
      if (said !== undefined) splits.push({ pair: orderedPair(node.name, peer.name), node: node.name, peer: peer.name, ...said });
    }
  }
  return splits;
}

/** The nodes to add to the run so that no pair is split, sorted. */
export function peersToAdd(splits: readonly SubsetSplit[]): string[] {
  return [...new Set(splits.map((s) => s.peer))].sort();
}
