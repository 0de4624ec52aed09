/**
 * Which nodes a batch asks for table writes, and for which of their tables
 * (docs/daemon.md#tables): pure, so the daemon's batch is the decision here
 * and the requests to the node writers beside it.
 */
import type { Model } from '../model/model.js';

/** One node's share of a batch: its tables of the rules that changed, or every table of it. */
export interface TableAsk {
  node: string;
  /** The node's rules whose tables changed. */
  rules: Set<string>;
  /** Every table of the node (just resynced, or a failed write to retry). */
  all: boolean;
}

/**
 * The asks, in the state's node order. A node not connected is left for its
 * resync; a connected one with no changed rule and no reason to check all
 * its tables is not asked.
 */
export function tableAsks(model: Model, changedRules: ReadonlySet<string>, checkAll: ReadonlySet<string>, connected: (node: string) => boolean): TableAsk[] {
  const asks: TableAsk[] = [];
  for (const node of model.nodes) {
    if (!connected(node.name)) continue;
    const mine = new Set(model.rules.filter((x) => x.nodes.includes(node.name) && changedRules.has(x.name)).map((x) => x.name));
    if (mine.size === 0 && !checkAll.has(node.name)) continue;
    asks.push({ node: node.name, rules: mine, all: checkAll.has(node.name) });
  }
  return asks;
}
