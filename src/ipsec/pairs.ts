/**
 * The IPsec mesh: which nodes talk through IPsec. Every unordered pair of
 * nodes whose PDC names differ is a pair; nodes that share a PDC reach each
 * other over the admin network and get no pair (docs/state-format.md#ipsec). Pure.
 */
import type { Model, Node } from '../model/model.js';

/** Two node names in code-point order (never locale order: docs/file-formats.md#danube-defects, item 8). */
export type Pair = readonly [string, string];

/** A stable map key for a pair; NUL cannot occur in a hostname, unlike Danube's `-`. */
export function pairId(pair: Pair): string {
  return `${pair[0]}\u0000${pair[1]}`;
}

/** For messages: `a <-> b`. Hostnames may hold `-`, so never `a-b`. */
export function pairLabel(pair: Pair): string {
  return `${pair[0]} <-> ${pair[1]}`;
}

/** True when the two nodes talk through IPsec. */
export function inMesh(a: Node, b: Node): boolean {
  return a.name !== b.name && a.pdc !== b.pdc;
}

/** Every pair of the mesh, sorted by first then second name. */
export function meshPairs(model: Model): Pair[] {
  const pairs: Pair[] = [];
  const nodes = model.nodes; // sorted by name
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      if (inMesh(nodes[i]!, nodes[j]!)) pairs.push([nodes[i]!.name, nodes[j]!.name]);
    }
  }
  return pairs;
}

/** The nodes `node` talks to through IPsec, sorted by name. */
export function meshPeers(model: Model, node: Node): Node[] {
  return model.nodes.filter((n) => inMesh(node, n));
}
