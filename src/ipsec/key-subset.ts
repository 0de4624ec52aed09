/**
 * Applying new keys to only some nodes. ike.preshared(5) gives each node one
 * entry per peer address; a phase 1 between two nodes authenticates only
 * while both entries hold the same secret. A run that installs a new key for
 * a pair on one end and leaves the other end out cuts the pair until both
 * have it. That happens after `keys rotate`, and on every cross-PDC pair
 * when `defaults.ipsec.keys` switches between `pair` and `pdc-pair`.
 *
 * Same rule as the IKE parameters (ike-subset.ts): the selected node's
 * current ike.preshared (read by plan, like every file it compares) against
 * what the run would write; the unselected peer is not read, since both ends
 * were last written in one run. A node without ike.preshared, or without an
 * entry for that peer, has no working pair to cut. Messages name pairs,
 * never keys. Pure.
 */
import { EsdcError } from '../errors.js';
import type { Model } from '../model/model.js';
import { parsePreshared } from './ike-files.js';
import { pairLabel } from './pairs.js';
import { peersToAdd, subsetSplits, type SubsetSplit } from './subset-splits.js';

/** A pair whose key would change at `node` (in this run) and not at `peer`. */
export type KeySplit = SubsetSplit;

/**
 * Every pair a run over `only` would leave with different keys at its two
 * ends. `current(node)` and `desired(node)` are the node's ike.preshared
 * text now (null/undefined when it has none) and in this run.
 */
export function keySubsetSplits(
  model: Model,
  only: ReadonlySet<string> | undefined,
  current: (node: string) => string | null | undefined,
  desired: (node: string) => string | undefined,
): KeySplit[] {
  return subsetSplits(model, only, (node) => {
    const now = current(node);
    const next = desired(node);
    if (now === null || now === undefined || next === undefined) return undefined;
    const nowKeys = parsePreshared(now);
    const nextKeys = parsePreshared(next);
    return (peerIp) => {
      const had = nowKeys.get(peerIp);
      return had !== undefined && had !== nextKeys.get(peerIp) ? {} : undefined;
    };
  });
}

/** How many pairs a refusal lists before it counts the rest (a scheme switch touches every cross-PDC pair). */
const LISTED = 20;

/** A subset run that would install a new key on one end of pairs only. */
export class KeySplitError extends EsdcError {
  readonly splits: readonly KeySplit[];
  readonly add: readonly string[];
  constructor(splits: readonly KeySplit[]) {
    const add = peersToAdd(splits);
    const lines = splits.slice(0, LISTED).map((s) => `  - ${pairLabel(s.pair)}: ${s.node} would get a new key, ${s.peer} would keep the old one`);
    if (splits.length > LISTED) lines.push(`  - and ${splits.length - LISTED} more pair(s)`);
    const addText = add.length > LISTED ? `${add.slice(0, LISTED).join(', ')} and ${add.length - LISTED} more node(s)` : add.join(', ');
    super(
      `this run would leave ${splits.length} IPsec pair(s) with different pre-shared keys at their two ends, cutting them:\n${lines.join('\n')}\n` +
        `add ${addText} to the run (or name no nodes), so both ends of every pair get the new key in one commit phase; nothing was changed`,
      { code: 'KeySplit' },
    );
    this.splits = splits;
    this.add = add;
  }
}

/** Throws KeySplitError when the run over `only` would give a pair different keys at its two ends. */
export function refuseKeySplits(
  model: Model,
  only: ReadonlySet<string> | undefined,
  current: (node: string) => string | null | undefined,
  desired: (node: string) => string | undefined,
): void {
  const splits = keySubsetSplits(model, only, current, desired);
  if (splits.length > 0) throw new KeySplitError(splits);
}
