/**
 * Discovered facts → a new state document, and what changed, in words.
 * Pure: the result is written in one store transaction (src/operations/transact.ts).
 */
import { ConflictError } from '../errors.js';
import { normalizeMac } from '../model/mac.js';
import type { NodeDoc, SshDoc, StateDoc, VnicDoc } from '../model/state.js';
import type { NodeFacts } from './sysinfo.js';

export interface Discovered {
  facts: NodeFacts;
  vnics: VnicDoc[];
  /** How the node was reached, recorded for a new node when it is not the default. */
  ssh: SshDoc | undefined;
}

function vnicKey(v: VnicDoc): string {
  return [normalizeMac(v.mac), v.ip, v.nic_tag, v.vlan_id ?? 0, v.vm ?? ''].join(' ');
}

function vnicText(v: VnicDoc): string {
  return `${normalizeMac(v.mac)} ${v.ip} on ${v.nic_tag}${v.vlan_id ? ` vlan ${v.vlan_id}` : ''}${v.vm ? ` (vm ${v.vm})` : ''}`;
}

/**
 * A node that answers with a known hostname but another UUID: a reinstalled
 * node, or an impostor at a new address. Either way the next apply would send
 * it the node's keys, so it is never taken silently.
 */
export class IdentityChangeError extends ConflictError {
  constructor(readonly changes: readonly string[]) {
    super(
      `discovery would replace the identity of ${changes.length} node(s) in the state:\n${changes.map((c) => `  ${c}`).join('\n')}\n` +
        'nothing was written; if the node was reinstalled or replaced, run again with --replace',
      { code: 'NodeIdentityChanged' },
    );
  }
}

/** `uuid a → b, admin_ip x → y, ...` for a known node whose UUID differs from what it reports; undefined when it is the same node. */
function identityChange(old: NodeDoc, facts: NodeFacts): string | undefined {
  if (old.uuid.toLowerCase() === facts.uuid.toLowerCase()) return undefined;
  const parts = [`uuid ${old.uuid} → ${facts.uuid}`];
  if (old.admin_ip !== facts.adminIp) parts.push(`admin_ip ${old.admin_ip} → ${facts.adminIp}`);
  if ((old.external_ip ?? undefined) !== facts.externalIp) parts.push(`external_ip ${old.external_ip ?? '(none)'} → ${facts.externalIp ?? '(none)'}`);
  if (old.pdc !== facts.pdc) parts.push(`pdc ${old.pdc} → ${facts.pdc}`);
  return `${facts.hostname}: ${parts.join(', ')}`;
}

export interface MergeOptions {
  /** Accept a node that reports a known hostname with another UUID (`nodes discover --replace`). */
  replace?: boolean;
}

/** Throws IdentityChangeError when a discovered node would replace a known one's identity and `replace` is not set. */
export function mergeDiscovery(doc: StateDoc, found: readonly Discovered[], opts: MergeOptions = {}): { doc: StateDoc; changes: Record<string, string[]> } {
  const identity = found.flatMap(({ facts }) => {
    const old = doc.nodes !== undefined && Object.hasOwn(doc.nodes, facts.hostname) ? doc.nodes[facts.hostname] : undefined;
    const change = old === undefined ? undefined : identityChange(old, facts);
    return change === undefined ? [] : [change];
  });
  if (identity.length > 0 && opts.replace !== true) throw new IdentityChangeError(identity);
  const next: StateDoc = structuredClone(doc);
  const nodes: Record<string, NodeDoc> = (next.nodes ??= {});
  const changes: Record<string, string[]> = {};
  let vnics = [...(next.vnics ?? [])];
  let vnicsChanged = false;
  const rules = new Set([...Object.keys(next.overlay_rules ?? {}), ...(next.adminoverlay ? ['adminoverlay'] : [])]);
  for (const d of found) {
    const name = d.facts.hostname;
    const log: string[] = (changes[name] = []);
    nodes[name] = mergedNode(Object.hasOwn(nodes, name) ? nodes[name] : undefined, d, next.defaults?.underlay_mtu ?? 1500, log);
    const merged = mergedVnics(vnics, name, d.vnics, rules, log);
    vnics = merged.vnics;
    vnicsChanged ||= merged.changed;
    for (const r of Object.keys(d.facts.overlayRules).sort()) if (!rules.has(r)) log.push(`note: the node has overlay rule ${r}, which the state does not`);
  }
  const kept = withoutMoved(vnics, found, changes);
  if (vnicsChanged || kept.length !== vnics.length) next.vnics = kept;
  return { doc: next, changes };
}

/** The node's entry with what it reports (`old` undefined: a new node); each change in words to `log`. */
function mergedNode(old: NodeDoc | undefined, { facts, ssh }: Discovered, defaultMtu: number, log: string[]): NodeDoc {
  const updated: NodeDoc = old ? { ...old } : { uuid: facts.uuid, pdc: facts.pdc, admin_ip: facts.adminIp };
  if (!old) {
    log.push(`new node: uuid ${facts.uuid}, pdc ${facts.pdc}, admin ${facts.adminIp}${facts.externalIp ? `, external ${facts.externalIp}` : ''}`);
    if (ssh && Object.keys(ssh).length > 0) updated.ssh = ssh;
  } else if (ssh !== undefined && identityChange(old, facts) !== undefined) {
    // Replaced (--replace) through an address: the new node is reached where it was found.
    log.push(`replaced: reached at ${ssh.host ?? facts.adminIp}${ssh.port !== undefined ? `:${ssh.port}` : ''}`);
    if (Object.keys(ssh).length > 0) updated.ssh = ssh;
    else delete updated.ssh;
  }
  const set = <K extends 'uuid' | 'pdc' | 'admin_ip' | 'external_ip'>(key: K, value: NodeDoc[K] | undefined): void => {
    if (old && old[key] !== value && value !== undefined) log.push(`${key}: ${old[key] ?? '(none)'} → ${value}`);
    if (value !== undefined) updated[key] = value;
  };
  set('uuid', old && old.uuid.toLowerCase() === facts.uuid ? old.uuid : facts.uuid);
  set('pdc', facts.pdc);
  set('admin_ip', facts.adminIp);
  set('external_ip', facts.externalIp);
  if (facts.mtu.admin !== undefined || facts.mtu.external !== undefined) {
    const admin = facts.mtu.admin ?? defaultMtu;
    const external = facts.mtu.external ?? defaultMtu;
    const want: NodeDoc['underlay_mtu'] = admin === external ? admin : { admin, external };
    const had = updated.underlay_mtu;
    const same = JSON.stringify(had ?? defaultMtu) === JSON.stringify(want) || (admin === defaultMtu && external === defaultMtu && had === undefined);
    if (!same) {
      log.push(`underlay_mtu: ${JSON.stringify(had ?? defaultMtu)} → ${JSON.stringify(want)}`);
      updated.underlay_mtu = want;
    }
  }
  return updated;
}

/**
 * `vnics` with node `name`'s entries replaced by what it reports on the
 * state's rules (NICs on other tags skipped, said in `log`). Entries that did
 * not change keep their place; new ones go at the end.
 */
function mergedVnics(vnics: VnicDoc[], name: string, seen: readonly VnicDoc[], rules: ReadonlySet<string>, log: string[]): { vnics: VnicDoc[]; changed: boolean } {
  const wanted = seen.filter((v) => {
    const rule = v.nic_tag.split('/')[0]!;
    if (rules.has(rule)) return true;
    log.push(`skipped NIC ${vnicText(v)}: the state has no rule ${rule}`);
    return false;
  });
  const mine = vnics.filter((v) => v.node === name);
  const before = new Set(mine.map(vnicKey));
  const after = new Set(wanted.map(vnicKey));
  for (const v of mine) if (!after.has(vnicKey(v))) log.push(`- vnic ${vnicText(v)}`);
  for (const v of wanted) if (!before.has(vnicKey(v))) log.push(`+ vnic ${vnicText(v)}`);
  if (mine.length === wanted.length && [...after].every((k) => before.has(k))) return { vnics, changed: false };
  const out = vnics.filter((v) => v.node !== name || after.has(vnicKey(v)));
  for (const v of wanted) if (!before.has(vnicKey(v))) out.push(v);
  return { vnics: out, changed: true };
}

/** A VM that moved is on its new node only: its old entry on a node not rediscovered in this run goes (said in `changes`). */
function withoutMoved(vnics: readonly VnicDoc[], found: readonly Discovered[], changes: Record<string, string[]>): VnicDoc[] {
  const rediscovered = new Set(found.map((f) => f.facts.hostname));
  const macsSeen = new Map(found.flatMap((f) => f.vnics.map((v) => [normalizeMac(v.mac), f.facts.hostname] as const)));
  return vnics.filter((v) => {
    const now = macsSeen.get(normalizeMac(v.mac));
    if (now === undefined || now === v.node || rediscovered.has(v.node)) return true;
    if (!Object.hasOwn(changes, v.node)) changes[v.node] = [];
    changes[v.node]!.push(`- vnic ${vnicText(v)} (now on ${now})`);
    return false;
  });
}
