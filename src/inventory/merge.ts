/**
 * The live inventory's one decision: the state's `vnics` and what each
 * resynced node reports → the new `vnics` and a report of what changed.
 * Pure and deterministic (docs/daemon.md#merge).
 *
 * - A node absent from `views` is unknown (never resynced, or its view was
 *   lost): its entries stay as they are.
 * - Migration: while a VM's MAC is on two nodes, the node where it runs owns
 *   it; when it runs on neither or on both, the previous owner keeps it; with
 *   no previous owner, the first node by name. Such MACs are reported.
 * - A MAC claimed by two different VMs (or by a VM and an entry the operator
 *   wrote without `vm`, or by a node's adminoverlay vNIC) is reported and
 *   never overwritten: the entry the state has stays, none is added.
 * - An address already used on the same overlay by another entry: the
 *   newcomer is reported and left out (the state would be refused).
 * - NICs whose tag names no rule, or a rule the node does not have, are
 *   counted and ignored, as `nodes discover` skips them.
 * - Entries without `vm` are the operator's: never removed or changed.
 */
import type { VnicDoc } from '../model/state.js';
import { isRunning, type NicObservation, type VmObservation } from './observation.js';

export interface MergeInput {
  vnics: readonly VnicDoc[];
  /** node → its VMs by UUID, for every node whose view is current. */
  views: ReadonlyMap<string, ReadonlyMap<string, VmObservation>>;
  /** rule → the nodes that have it. */
  rules: ReadonlyMap<string, ReadonlySet<string>>;
  /** MACs the state gives to something else (adminoverlay vNICs). */
  reservedMacs?: ReadonlySet<string>;
}

export interface MigratingMac {
  mac: string;
  vm: string;
  /** Every node that has the MAC now (or had it, when unknown). */
  nodes: string[];
  owner: string;
}

export interface MacConflict {
  mac: string;
  /** The claimants: `vm <uuid> on <node>`, `operator entry on <node>`, `adminoverlay`. */
  claims: string[];
  /** The node whose entry the state keeps, if any. */
  kept: string | undefined;
}

export interface AddressConflict {
  mac: string;
  node: string;
  nicTag: string;
  ip: string;
  /** MAC of the entry that has the address. */
  heldBy: string;
}

export interface MergeReport {
  added: VnicDoc[];
  removed: VnicDoc[];
  moved: Array<{ mac: string; vm: string | undefined; from: string; to: string; before: VnicDoc; after: VnicDoc }>;
  /** Same MAC and node, another IP, tag or VLAN. */
  changed: Array<{ before: VnicDoc; after: VnicDoc }>;
  migrating: MigratingMac[];
  conflicts: MacConflict[];
  addressConflicts: AddressConflict[];
  ignored: { noRule: number; ruleNotOnNode: number };
}

export interface MergeResult {
  vnics: VnicDoc[];
  /** False when `vnics` equals the input (then it is the same entries, in the same order). */
  changed: boolean;
  report: MergeReport;
}

interface Candidate {
  nic: NicObservation;
  running: boolean;
}

function byNode(a: Candidate, b: Candidate): number {
  return a.nic.node < b.nic.node ? -1 : a.nic.node > b.nic.node ? 1 : 0;
}

function docOf(nic: NicObservation, cur: VnicDoc | undefined): VnicDoc {
  const doc: VnicDoc = { node: nic.node, mac: nic.mac, ip: nic.ip, nic_tag: nic.nicTag };
  if (nic.vlan !== 0) doc.vlan_id = nic.vlan;
  doc.vm = nic.vm;
  // What the node does not report (the operator's vDC, an IPv6 address) stays with the NIC.
  if (cur?.ip6 !== undefined && cur.ip === nic.ip) doc.ip6 = cur.ip6;
  if (cur?.vdc !== undefined) doc.vdc = cur.vdc;
  return doc;
}

function sameDoc(a: VnicDoc, b: VnicDoc): boolean {
  return (
    a.node === b.node && a.mac.toLowerCase() === b.mac.toLowerCase() && a.ip === b.ip && a.nic_tag === b.nic_tag &&
    (a.vlan_id ?? 0) === (b.vlan_id ?? 0) && (a.vm ?? '') === (b.vm ?? '') && a.ip6 === b.ip6 && a.vdc === b.vdc
  );
}

function normalize(mac: string): string {
  return mac.split(':').map((o) => o.toLowerCase().padStart(2, '0')).join(':');
}

export function mergeInventory(input: MergeInput): MergeResult {
  const report: MergeReport = {
    added: [],
    removed: [],
    moved: [],
    changed: [],
    migrating: [],
    conflicts: [],
    addressConflicts: [],
    ignored: { noRule: 0, ruleNotOnNode: 0 },
  };
  const candidates = collectCandidates(input, report);
  const current = new Map<string, VnicDoc>();
  for (const v of input.vnics) if (!current.has(normalize(v.mac))) current.set(normalize(v.mac), v);
  const macs = [...new Set([...current.keys(), ...[...candidates.keys()].sort()])];
  const decided = new Map<string, VnicDoc | undefined>();
  for (const mac of macs) decided.set(mac, decide(mac, current.get(mac), (candidates.get(mac) ?? []).sort(byNode), input, report));
  claimAddresses(macs, current, decided, report);
  const out = emit(input.vnics, macs, decided);
  const changed = out.length !== input.vnics.length || out.some((v, i) => v !== input.vnics[i]);
  return { vnics: changed ? out : [...input.vnics], changed, report };
}

/** Every reported NIC on a rule its node has, by MAC (nodes in name order); the others counted as ignored. */
function collectCandidates(input: MergeInput, report: MergeReport): Map<string, Candidate[]> {
  const candidates = new Map<string, Candidate[]>();
  for (const node of [...input.views.keys()].sort()) {
    for (const vm of input.views.get(node)!.values()) {
      for (const nic of vm.nics) {
        const has = input.rules.get(nic.nicTag.split('/')[0]!);
        if (!has) {
          report.ignored.noRule++;
          continue;
        }
        if (!has.has(node)) {
          report.ignored.ruleNotOnNode++;
          continue;
        }
        const list = candidates.get(nic.mac) ?? [];
        list.push({ nic, running: isRunning(vm) });
        candidates.set(nic.mac, list);
      }
    }
  }
  return candidates;
}

/** The entry one MAC gets: `cur` (the state's), `cands` (what the nodes report, by node name); conflicts and moves go to `report`. */
function decide(mac: string, cur: VnicDoc | undefined, cands: Candidate[], input: MergeInput, report: MergeReport): VnicDoc | undefined {
  const curKnown = cur !== undefined && input.views.has(cur.node);
  const claims = (): string[] => cands.map((c) => `vm ${c.nic.vm} on ${c.nic.node}`);
  if (cur !== undefined && cur.vm === undefined) {
    // The operator's entry: it stays; a VM claiming its MAC is a conflict.
    if (cands.length > 0) report.conflicts.push({ mac, claims: [`operator entry on ${cur.node}`, ...claims()], kept: cur.node });
    return cur;
  }
  if (input.reservedMacs?.has(mac) && cands.length > 0) {
    report.conflicts.push({ mac, claims: ['adminoverlay', ...claims()], kept: cur?.node });
    return cur;
  }
  const vms = new Set(cands.map((c) => c.nic.vm));
  if (cur !== undefined && !curKnown) vms.add(cur.vm!);
  if (vms.size > 1) {
    report.conflicts.push({ mac, claims: cur !== undefined && !curKnown ? [`vm ${cur.vm} on ${cur.node} (not connected)`, ...claims()] : claims(), kept: cur?.node });
    return cur;
  }
  if (cands.length === 0) {
    if (cur !== undefined && curKnown) {
      report.removed.push(cur);
      return undefined;
    }
    return cur;
  }
  const running = cands.filter((c) => c.running);
  let owner: Candidate | undefined;
  if (running.length === 1) owner = running[0];
  else if (cur !== undefined && !curKnown) owner = undefined; // the previous owner, unreachable, keeps it
  else owner = cands.find((c) => c.nic.node === cur?.node) ?? cands[0];
  const nodes = [...new Set([...cands.map((c) => c.nic.node), ...(cur !== undefined && !curKnown ? [cur.node] : [])])].sort();
  if (nodes.length > 1) report.migrating.push({ mac, vm: [...vms][0]!, nodes, owner: owner?.nic.node ?? cur!.node });
  if (owner === undefined) return cur;
  const next = docOf(owner.nic, cur);
  if (cur === undefined) {
    report.added.push(next);
    return next;
  }
  if (sameDoc(cur, next)) return cur;
  if (cur.node !== next.node) report.moved.push({ mac, vm: next.vm, from: cur.node, to: next.node, before: cur, after: next });
  else report.changed.push({ before: cur, after: next });
  return next;
}

/** Addresses: entries that did not change claim theirs first; a newcomer on a taken address is left out (its MAC keeps its old entry). */
function claimAddresses(macs: readonly string[], current: ReadonlyMap<string, VnicDoc>, decided: Map<string, VnicDoc | undefined>, report: MergeReport): void {
  const held = new Map<string, string>();
  const addressKey = (v: VnicDoc): string => `${v.nic_tag}/${v.ip}`;
  for (const mac of macs) {
    const v = decided.get(mac);
    if (v !== undefined && v === current.get(mac)) held.set(addressKey(v), mac);
  }
  for (const mac of macs) {
    const v = decided.get(mac);
    if (v === undefined || v === current.get(mac)) continue;
    const other = held.get(addressKey(v));
    if (other !== undefined && other !== mac) {
      report.addressConflicts.push({ mac, node: v.node, nicTag: v.nic_tag, ip: v.ip, heldBy: other });
      report.added = report.added.filter((a) => a !== v);
      report.moved = report.moved.filter((m) => m.mac !== mac);
      report.changed = report.changed.filter((c) => c.after !== v);
      decided.set(mac, current.get(mac));
      continue;
    }
    held.set(addressKey(v), mac);
  }
}

/** The new list: the state's order first (a duplicate it already had stays), then new MACs in order. */
function emit(vnics: readonly VnicDoc[], macs: readonly string[], decided: ReadonlyMap<string, VnicDoc | undefined>): VnicDoc[] {
  const out: VnicDoc[] = [];
  const emitted = new Set<string>();
  for (const v of vnics) {
    const mac = normalize(v.mac);
    if (emitted.has(mac)) {
      out.push(v); // a duplicate the state already had: not ours to drop
      continue;
    }
    emitted.add(mac);
    const d = decided.get(mac);
    if (d !== undefined) out.push(d);
  }
  for (const mac of macs) {
    if (emitted.has(mac)) continue;
    const d = decided.get(mac);
    if (d !== undefined) out.push(d);
  }
  return out;
}

/** The rules whose ARP tables a merge changed: every rule of an entry added, removed, moved or changed (old and new tag). */
export function affectedRules(report: MergeReport): Set<string> {
  const rules = new Set<string>();
  const add = (v: VnicDoc): void => void rules.add(v.nic_tag.split('/')[0]!);
  report.added.forEach(add);
  report.removed.forEach(add);
  for (const c of [...report.changed, ...report.moved]) {
    add(c.before);
    add(c.after);
  }
  return rules;
}
