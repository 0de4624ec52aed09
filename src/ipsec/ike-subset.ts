/**
 * Applying IKE changes to only some nodes. Two ends of a pair speak IKE only
 * while they agree on the phase-1 transform and PFS group; a run that changes
 * them on one end and leaves the other end out cuts the pair. So a subset run
 * is refused when a selected node's IKE parameters for a peer would change
 * and that peer is not selected.
 *
 * What "would change" means: the selected node's current ike/config (read by
 * plan, like every file it compares) against the desired parameters. The
 * unselected peer is not read: it was last given the same parameters as the
 * selected node (both ends always change in one run), so the selected node's
 * current file stands for both ends. A node with no ike/config yet, or no rule
 * for that peer yet, has no working pair to cut. Pure.
 */
import { EsdcError } from '../errors.js';
import type { Model } from '../model/model.js';
import { modelProfile } from './generator.js';
import { ikeSummary, parseIkeConfig } from './ike-files.js';
import { pairLabel } from './pairs.js';
import { peersToAdd, subsetSplits, type SubsetSplit } from './subset-splits.js';

/** A pair whose IKE parameters would change at `node` (in this run) and not at `peer`. */
export interface IkeSplit extends SubsetSplit {
  /** The parameters both ends use now, and what `node` would get. */
  now: string;
  next: string;
}

/**
 * Every pair a run over `only` would split. `currentIkeConfig(node)` is the
 * text of the node's ike/config as read, or null/undefined when it has none.
 */
export function ikeSubsetSplits(
  model: Model,
  only: ReadonlySet<string> | undefined,
  currentIkeConfig: (node: string) => string | null | undefined,
): IkeSplit[] {
  if (!only) return []; // before the profile: a whole-fleet run needs none of it
  const { ike } = modelProfile(model);
  const next = ikeSummary(ike.p1, ike.pfsRule);
  return subsetSplits(model, only, (node) => {
    const text = currentIkeConfig(node);
    if (text === null || text === undefined) return undefined;
    const current = parseIkeConfig(text);
    return (peerIp) => {
      const now = current.get(peerIp);
      return now && now.summary !== next ? { now: now.summary, next } : undefined;
    };
  });
}

/** A subset run that would leave pairs with different IKE parameters at their two ends. */
export class IkeSplitError extends EsdcError {
  readonly splits: readonly IkeSplit[];
  readonly add: readonly string[];
  constructor(splits: readonly IkeSplit[]) {
    const add = peersToAdd(splits);
    const lines = splits.map((s) => `  - ${pairLabel(s.pair)}: ${s.node} would change IKE from "${s.now}" to "${s.next}", ${s.peer} would keep it`);
    super(
      `this run would leave ${splits.length} IPsec pair(s) with different IKE parameters at their two ends, cutting them:\n${lines.join('\n')}\n` +
        `add ${add.join(', ')} to the run (or name no nodes), so both ends of every pair change in one commit phase; nothing was changed`,
      { code: 'IkeSplit' },
    );
    this.splits = splits;
    this.add = add;
  }
}

/** Throws IkeSplitError when the run over `only` would split a pair. */
export function refuseIkeSplits(model: Model, only: ReadonlySet<string> | undefined, currentIkeConfig: (node: string) => string | null | undefined): void {
  const splits = ikeSubsetSplits(model, only, currentIkeConfig);
  if (splits.length > 0) throw new IkeSplitError(splits);
}
