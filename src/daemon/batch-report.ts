/**
 * What a daemon batch reports (docs/daemon.md): its merge added to the
 * status' counters, the node writers' results summed, the status' last
 * batch and the `batch` log line's fields. Pure: the daemon does the I/O
 * and the clock, these only shape what it reports.
 */
import type { MergeReport } from '../inventory/merge.js';
import type { ArpTableOwner } from '../model/state.js';
import { sentSummary, type BatchSummary, type DaemonStatus, type SentSummary } from './status.js';
import type { TableResult } from './tables.js';

/** The node writers' results for one batch; `complete` false when the batch stopped waiting for them. */
export interface SettledWrites {
  results: TableResult[];
  complete: boolean;
}

/** A batch's table writes, summed. */
export interface BatchTables {
  /** Tables written (patched or whole), over the nodes that answered in time. */
  written: number;
  sent: SentSummary;
  /** The nodes that failed, and the wait cut short; null when neither. */
  error: string | null;
}

/** From the batch's first event, in ms; null when either end is unknown. */
export interface BatchTimes {
  eventToCommitMs: number | null;
  eventToAppliedMs: number | null;
}

/** The merge's counts into the status (counters, and the MACs migrating or in conflict now). */
export function recordMerge(status: DaemonStatus, r: MergeReport): void {
  const c = status.counters;
  c.batches++;
  c.vnics_added += r.added.length;
  c.vnics_removed += r.removed.length;
  c.vnics_moved += r.moved.length;
  c.vnics_changed += r.changed.length;
  c.ignored_no_rule = r.ignored.noRule;
  c.ignored_rule_not_on_node = r.ignored.ruleNotOnNode;
  status.migrating = r.migrating;
  status.conflicts = r.conflicts;
  status.address_conflicts = r.addressConflicts;
}

/** Sums what the nodes that answered wrote and were sent; names the failed nodes and a wait that ran out (`waitMs`). */
export function summariseWrites(settled: SettledWrites, waitMs: number): BatchTables {
  let written = 0;
  for (const t of settled.results) for (const paths of t.written.values()) written += paths.length;
  const sent = sentSummary(settled.results.flatMap((t) => [...t.sent.values()].map((x) => ({ bytes: x.bytes, patched: x.patched.length, whole: x.whole.length, fallbacks: x.fallbacks.length }))));
  let error: string | null = null;
  const failed = settled.results.flatMap((t) => [...t.failed]);
  if (failed.length > 0) error = failed.map(([n, e]) => `${n}: ${e}`).join('; ');
  if (!settled.complete) error = `${error ? `${error}; ` : ''}some nodes still writing after ${waitMs} ms`;
  return { written, sent, error };
}

/** The status' last batch; `tables` undefined when the batch wrote none (Danube owns them, or the lease was lost). */
export function batchSummary(at: string, nodes: string[], r: MergeReport, tables: BatchTables | undefined, times: BatchTimes): BatchSummary {
  return {
    at,
    nodes,
    added: r.added.length,
    removed: r.removed.length,
    moved: r.moved.length,
    changed: r.changed.length,
    tables_written: tables?.written ?? 0,
    event_to_commit_ms: times.eventToCommitMs,
    event_to_applied_ms: times.eventToAppliedMs,
    error: tables?.error ?? null,
    ...(tables ? { sent: tables.sent } : {}),
  };
}

/** The fields of the daemon's `batch` log line. */
export function batchLogFields(nodes: string[], r: MergeReport, tables: BatchTables | undefined, owner: ArpTableOwner, times: BatchTimes): Record<string, unknown> {
  const sent = tables?.sent;
  return {
    nodes,
    added: r.added.length,
    removed: r.removed.length,
    moved: r.moved.length,
    changed: r.changed.length,
    migrating: r.migrating.length,
    conflicts: r.conflicts.length,
    tables_written: tables?.written ?? 0,
    ...(sent ? { bytes_sent_per_node_median: sent.median_bytes, bytes_sent_per_node_max: sent.max_bytes, tables_patched: sent.tables_patched, patch_fallbacks: sent.patch_fallbacks } : {}),
    arp_tables: owner,
    event_to_commit_ms: times.eventToCommitMs,
    event_to_applied_ms: times.eventToAppliedMs,
  };
}
