/**
 * The daemon's status file: what `daemon status` shows. Written whole
 * (src/io/atomic-file.ts) when a node connects or drops and after every
 * batch, so a reader never sees half of it. Holds node names, MACs, VM UUIDs
 * and counters; never a key.
 */
import { readTextIfPresent } from '../io/read-if-present.js';
import { EsdcError } from '../errors.js';
import type { AddressConflict, MacConflict, MigratingMac } from '../inventory/merge.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { LinkStatus } from './node-link.js';
import { processAlive } from '../agent/status.js';

export const DEFAULT_DAEMON_STATUS = '/opt/erigones/var/esdc-overlay/daemon-status.json';

export interface BatchSummary {
  at: string;
  nodes: string[];
  added: number;
  removed: number;
  moved: number;
  changed: number;
  tables_written: number;
  /** From the batch's first event to the state saved. */
  event_to_commit_ms: number | null;
  /** From the batch's first event to the last table written. */
  event_to_applied_ms: number | null;
  error: string | null;
  /** What the batch sent to nodes for their tables (docs/arp-deltas.md#bytes); absent in a status from before. */
  sent?: SentSummary;
}

/** Bytes sent for tables, over the nodes that were sent anything. */
export interface SentSummary {
  nodes: number;
  total_bytes: number;
  median_bytes: number;
  max_bytes: number;
  tables_patched: number;
  tables_whole: number;
  patch_fallbacks: number;
}

/** The summary of per-node byte counts (`bytes`) and table counts. */
export function sentSummary(perNode: ReadonlyArray<{ bytes: number; patched: number; whole: number; fallbacks: number }>): SentSummary {
  const sorted = perNode.map((n) => n.bytes).sort((a, b) => a - b);
  const sum = (f: (n: (typeof perNode)[number]) => number): number => perNode.reduce((a, n) => a + f(n), 0);
  return {
    nodes: perNode.length,
    total_bytes: sum((n) => n.bytes),
    median_bytes: sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!,
    max_bytes: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
    tables_patched: sum((n) => n.patched),
    tables_whole: sum((n) => n.whole),
    patch_fallbacks: sum((n) => n.fallbacks),
  };
}

export interface DaemonStatus {
  /** `standby`: another daemon holds the lease (docs/daemon.md#one-daemon); this one writes nothing. */
  state: 'running' | 'stopped' | 'standby';
  /** While standing by: the daemon that leads (a process and its host); absent otherwise. */
  leader?: string;
  pid: number | null;
  started_at: string | null;
  stopped_at: string | null;
  /** `esdc-overlay` (the daemon writes ARP tables) or `danube` (it only records vnics). */
  arp_tables: 'esdc-overlay' | 'danube';
  store: { ok: boolean; since: string; last_error: string | null };
  nodes: Record<string, LinkStatus>;
  migrating: MigratingMac[];
  conflicts: MacConflict[];
  address_conflicts: AddressConflict[];
  /** Facts a node's sysinfo gives that differ from the state (reported, never applied). */
  node_facts_changed: Record<string, string[]>;
  /** Tables the state wants on a node that lacks them: `apply` creates them. */
  tables_missing: string[];
  /** Overlays the state wants that were DEGRADED after the daemon's last varpd restart on their node (`node: link (details)`); absent in older files. */
  overlays_degraded?: string[];
  counters: {
    batches: number;
    vnics_added: number;
    vnics_removed: number;
    vnics_moved: number;
    vnics_changed: number;
    tables_written: number;
    /** Of tables_written, those sent as a patch; bytes_sent counts every table byte and patch command sent. */
    tables_patched?: number;
    patch_fallbacks?: number;
    bytes_sent?: number;
    table_failures: number;
    store_failures: number;
    ignored_no_rule: number;
    ignored_rule_not_on_node: number;
  };
  last_batch: BatchSummary | null;
}

export function emptyDaemonStatus(): DaemonStatus {
  const now = new Date().toISOString();
  return {
    state: 'running',
    pid: process.pid,
    started_at: now,
    stopped_at: null,
    arp_tables: 'esdc-overlay',
    store: { ok: true, since: now, last_error: null },
    nodes: {},
    migrating: [],
    conflicts: [],
    address_conflicts: [],
    node_facts_changed: {},
    tables_missing: [],
    counters: {
      batches: 0,
      vnics_added: 0,
      vnics_removed: 0,
      vnics_moved: 0,
      vnics_changed: 0,
      tables_written: 0,
      tables_patched: 0,
      patch_fallbacks: 0,
      bytes_sent: 0,
      table_failures: 0,
      store_failures: 0,
      ignored_no_rule: 0,
      ignored_rule_not_on_node: 0,
    },
    last_batch: null,
  };
}

export async function readDaemonStatus(path: string): Promise<DaemonStatus | undefined> {
  const text = await readTextIfPresent(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as DaemonStatus;
  } catch (err) {
    throw new EsdcError(`${path}: daemon status is not JSON (${(err as Error).message})`, { code: 'BadDaemonStatus' });
  }
}

export async function writeDaemonStatus(path: string, status: DaemonStatus): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644, mkdirMode: 0o755 });
}

/**
 * A standby daemon's status: its pid and who leads. Not written over the
 * status of a live running daemon (two daemons on one host given the same
 * status file): the leader's status is the one worth reading there.
 */
export async function writeStandbyStatus(path: string, leader: string): Promise<void> {
  const now = await readDaemonStatus(path).catch(() => undefined);
  if (now?.state === 'running' && now.pid !== null && now.pid !== process.pid && processAlive(now.pid)) return;
  await writeDaemonStatus(path, { ...emptyDaemonStatus(), state: 'standby', leader });
}

export function renderDaemonStatus(s: DaemonStatus, alive: (pid: number) => boolean): string {
  const lines = [
    `state:       ${s.state}${s.pid !== null && s.state !== 'stopped' ? ` (pid ${s.pid}${alive(s.pid) ? '' : ', no such process: it died without recording a stop'})` : ''}${s.state === 'standby' ? `; ${s.leader ?? 'another daemon'} leads, this one writes nothing until it can lead` : ''}`,
    `ARP tables:  ${s.arp_tables === 'danube' ? 'danube (the daemon records vnics only; Danube writes the tables)' : 'esdc-overlay (the daemon writes them)'}`,
    `store:       ${s.store.ok ? 'ok' : `UNAVAILABLE since ${s.store.since}: ${s.store.last_error}`}`,
    'nodes:',
    ...Object.entries(s.nodes)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([n, l]) => `  ${n}: ${l.state} since ${l.since}; last resync ${l.last_resync ?? 'never'}; events ${l.counters.events}, malformed ${l.counters.malformed}, unknown ${l.counters.unknown}${l.state !== 'connected' && l.last_error ? `; ${l.last_error}` : ''}`),
  ];
  if (s.migrating.length > 0) lines.push('MACs in migration:', ...s.migrating.map((m) => `  ${m.mac} vm ${m.vm} on ${m.nodes.join(', ')}; owner ${m.owner}`));
  if (s.conflicts.length > 0) lines.push('MACs claimed twice (not changed):', ...s.conflicts.map((c) => `  ${c.mac}: ${c.claims.join('; ')}; state keeps ${c.kept ?? 'none'}`));
  if (s.address_conflicts.length > 0) lines.push('addresses taken (left out):', ...s.address_conflicts.map((c) => `  ${c.mac} on ${c.node}: ${c.ip} on ${c.nicTag} is held by ${c.heldBy}`));
  const facts = Object.entries(s.node_facts_changed).filter(([, d]) => d.length > 0);
  if (facts.length > 0) lines.push('node facts that differ from the state (run nodes discover):', ...facts.map(([n, d]) => `  ${n}: ${d.join('; ')}`));
  if (s.tables_missing.length > 0) lines.push(`tables not on their node yet (run apply): ${s.tables_missing.join(', ')}`);
  if ((s.overlays_degraded ?? []).length > 0) {
    lines.push("overlays DEGRADED after the daemon's varpd restart (their VMs reach no one; delete the overlay on the node, then apply):", ...s.overlays_degraded!.map((d) => `  ${d}`));
  }
  const c = s.counters;
  lines.push(
    `batches ${c.batches}; vnics +${c.vnics_added} -${c.vnics_removed} moved ${c.vnics_moved} changed ${c.vnics_changed}; tables written ${c.tables_written} (patched ${c.tables_patched ?? 0}, patch refused ${c.patch_fallbacks ?? 0}), failed ${c.table_failures}; bytes sent ${c.bytes_sent ?? 0}; store failures ${c.store_failures}; NICs ignored: no rule ${c.ignored_no_rule}, rule not on node ${c.ignored_rule_not_on_node}`,
  );
  if (s.last_batch) {
    const b = s.last_batch;
    lines.push(`last batch:  ${b.at} nodes ${b.nodes.join(',') || '-'}; +${b.added} -${b.removed} moved ${b.moved}; tables ${b.tables_written}; event→commit ${b.event_to_commit_ms ?? '-'} ms, event→applied ${b.event_to_applied_ms ?? '-'} ms${b.error ? `; error: ${b.error}` : ''}`);
    if (b.sent && b.sent.nodes > 0) {
      lines.push(`  sent:      ${b.sent.nodes} node(s), ${b.sent.total_bytes} bytes; per node median ${b.sent.median_bytes}, max ${b.sent.max_bytes}; tables patched ${b.sent.tables_patched}, whole ${b.sent.tables_whole}, patches refused ${b.sent.patch_fallbacks}`);
    }
  }
  if (s.stopped_at) lines.push(`stopped at:  ${s.stopped_at}`);
  return lines.join('\n');
}
