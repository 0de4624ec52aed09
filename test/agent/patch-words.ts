/**
 * What the daemon would send a simulated node for one VM move, for the
 * `agent patch-table` tests: the node's customers table for a state, a state
 * with one NIC moved, and the patch-table words between two states.
 */
import { DeltaState } from '../../src/daemon/delta.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { patchWords } from '../../src/files-config/arp-patch.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import { validateDoc } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { sha256Hex } from '../../src/sha256.js';

export const CUSTOMERS_ARP = '/opt/custom/networking/customers_overlay.json';

export const modelOf = (d: StateDoc): Model => validateDoc(structuredClone(d), 'test', 'warn').model;

/** Node `node`'s customers ARP table under `m`. */
export function customersTable(m: Model, node: string): string {
  return fileText(arpTableFile(new RenderContext(m), m.rules.find((r) => r.name === 'customers')!, m.nodeByName.get(node)!));
}

/** The words the daemon sends to take `node`'s table from `before` to `after` (`from`: the base hash claimed, default the true one). */
export function moveWords(node: string, before: StateDoc, after: StateDoc, from = sha256Hex(customersTable(modelOf(before), node))): string[] {
  const delta = new DeltaState();
  const g = delta.generation(modelOf(before)).gen;
  const m1 = modelOf(after);
  return patchWords({ path: CUSTOMERS_ARP, from, to: sha256Hex(customersTable(m1, node)), nowMs: Date.now(), ops: delta.patch(g, m1, 'customers', node)! });
}

/** The state with the first customers NIC of a node other than `node` moved to a third node. */
export function moveOne(d: StateDoc, node: string): StateDoc {
  const next = structuredClone(d);
  const i = next.vnics!.findIndex((v) => v.node !== node && v.nic_tag.startsWith('customers/'));
  const other = Object.keys(next.nodes!).find((n) => n !== node && n !== next.vnics![i]!.node)!;
  next.vnics![i] = { ...next.vnics![i]!, node: other };
  return next;
}
