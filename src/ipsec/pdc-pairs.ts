/**
 * The units of the `pdc-pair` key scheme (docs/ipsec-keys.md): every
 * unordered pair of PDCs that both have nodes. All node pairs between two
 * PDCs use that PDC pair's key, so there are P(P-1)/2 keys for P PDCs,
 * whatever the number of nodes. Pure.
 */
import type { Model } from '../model/model.js';
import { orderedPair } from '../model/model.js';
import type { Pair } from './pairs.js';

/** Every pair of PDCs with nodes, sorted by first then second name. */
export function pdcPairs(model: Model): Pair[] {
  const pairs: Pair[] = [];
  const pdcs = model.pdcs; // sorted
  for (let i = 0; i < pdcs.length; i++) {
    for (let j = i + 1; j < pdcs.length; j++) pairs.push([pdcs[i]!, pdcs[j]!]);
  }
  return pairs;
}

/** The PDC pair whose key the node pair uses (the nodes must be in the mesh: different PDCs). */
export function pdcPairOf(model: Model, nodes: Pair): Pair {
  return orderedPair(model.nodeByName.get(nodes[0])!.pdc, model.nodeByName.get(nodes[1])!.pdc);
}
