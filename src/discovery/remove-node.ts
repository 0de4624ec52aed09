/**
 * `nodes remove <host>`: a node leaves the state, as a pure edit. Refused
 * while VM NICs or rule node lists name it, unless forced; forced, its VM
 * NICs go, it leaves the rule lists it shares with other nodes (a list
 * naming only it keeps it, as a node not known yet), and its adminoverlay
 * address and IPsec keys go with it.
 */
import { ConflictError } from '../errors.js';
import type { Model } from '../model/model.js';
import type { StateDoc } from '../model/state.js';
import { unknownNameError } from '../model/suggest.js';

export interface RemoveNodeResult {
  node: string;
  vnics: number;
  /** Rules whose node list no longer names it. */
  rules: string[];
  /** Rules whose list names only this node: kept, as a future node. */
  keptIn: string[];
  adminoverlay: boolean;
  keys: number;
}

export function removeNode(doc: StateDoc, model: Model, host: string, force: boolean): { doc: StateDoc; result: RemoveNodeResult } {
  if (!model.nodeByName.has(host) || doc.nodes === undefined || !Object.hasOwn(doc.nodes, host)) {
    throw unknownNameError('node', host, model.nodes.map((n) => n.name));
  }
  const vnics = (doc.vnics ?? []).filter((v) => v.node === host);
  const ruleRefs = Object.entries(doc.overlay_rules ?? {}).filter(([, r]) => Array.isArray(r.nodes) && r.nodes.includes(host));
  if (!force && vnics.length + ruleRefs.length > 0) {
    const what = [
      ...(vnics.length > 0 ? [`${vnics.length} VM NIC(s) (e.g. ${vnics[0]!.mac})`] : []),
      ...(ruleRefs.length > 0 ? [`the node list of rule(s) ${ruleRefs.map(([n]) => n).join(', ')}`] : []),
    ];
    throw new ConflictError(`node ${host} is still referenced by ${what.join(' and ')}; move or delete them first, or pass --force`, { code: 'NodeInUse' });
  }
  const next: StateDoc = structuredClone(doc);
  delete next.nodes![host];
  if (next.vnics !== undefined) next.vnics = next.vnics.filter((v) => v.node !== host);
  const rules: string[] = [];
  const keptIn: string[] = [];
  for (const [name, r] of Object.entries(next.overlay_rules ?? {})) {
    if (!Array.isArray(r.nodes) || !r.nodes.includes(host)) continue;
    if (r.nodes.length > 1) {
      r.nodes = r.nodes.filter((n) => n !== host);
      rules.push(name);
    } else keptIn.push(name);
  }
  let adminoverlay = false;
  if (next.adminoverlay?.nodes !== undefined && Object.hasOwn(next.adminoverlay.nodes, host)) {
    delete next.adminoverlay.nodes[host];
    adminoverlay = true;
  }
  let keys = 0;
  if (next.ipsec?.psk !== undefined) {
    const before = next.ipsec.psk.length;
    next.ipsec.psk = next.ipsec.psk.filter((k) => !k.nodes.includes(host));
    keys = before - next.ipsec.psk.length;
    if (next.ipsec.psk.length === 0) delete next.ipsec.psk;
  }
  return { doc: next, result: { node: host, vnics: vnics.length, rules, keptIn, adminoverlay, keys } };
}
