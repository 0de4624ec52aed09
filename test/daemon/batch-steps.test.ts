/**
 * The daemon batch's pure steps (src/daemon/table-asks.ts,
 * src/daemon/batch-report.ts): which nodes are asked for which tables, and
 * what the batch reports when its table writes fail or run past the wait.
 */
import { describe, expect, it } from 'vitest';
import { batchLogFields, batchSummary, recordMerge, summariseWrites } from '../../src/daemon/batch-report.js';
import { emptyDaemonStatus } from '../../src/daemon/status.js';
import { tableAsks } from '../../src/daemon/table-asks.js';
import { emptyTableResult, type TableResult } from '../../src/daemon/tables.js';
import type { MergeReport } from '../../src/inventory/merge.js';
import type { VnicDoc } from '../../src/model/state.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

const vnic = (mac: string, node: string, tag = 'net/5'): VnicDoc => ({ node, mac, ip: '10.0.0.9', nic_tag: tag });

function report(extra: Partial<MergeReport> = {}): MergeReport {
  return { added: [], removed: [], moved: [], changed: [], migrating: [], conflicts: [], addressConflicts: [], ignored: { noRule: 0, ruleNotOnNode: 0 }, ...extra };
}

function wrote(node: string, paths: string[], sent?: { bytes: number; patched: string[] }): TableResult {
  const r = emptyTableResult();
  r.written.set(node, paths);
  if (sent) r.sent.set(node, { bytes: sent.bytes, patched: sent.patched, whole: paths.filter((p) => !sent.patched.includes(p)), fallbacks: [] });
  return r;
}

describe('tableAsks', () => {
  const model = validModel(threeNodes({ overlay_rules: { net: { port: 4790, nodes: 'all' }, lab: { port: 4791, nodes: ['a2'] } } }));

  it('asks each connected node for its own changed rules, in the state order; skips the disconnected', () => {
    const asks = tableAsks(model, new Set(['lab', 'net']), new Set(), (n) => n !== 'b1');
    expect(asks).toEqual([
      { node: 'a1', rules: new Set(['net']), all: false },
      { node: 'a2', rules: new Set(['net', 'lab']), all: false },
    ]);
  });

  it('a node with no changed rule is asked only when all its tables are to be checked (resynced or retried)', () => {
    const asks = tableAsks(model, new Set(['lab']), new Set(['b1']), () => true);
    expect(asks).toEqual([
      { node: 'a2', rules: new Set(['lab']), all: false },
      { node: 'b1', rules: new Set(), all: true },
    ]);
    expect(tableAsks(model, new Set(), new Set(['b1']), (n) => n !== 'b1')).toEqual([]);
  });
});

describe('batch report', () => {
  it('sums the tables written and sent; no error when every node answered', () => {
    const t = summariseWrites({ results: [wrote('a1', ['/x/net_overlay.json'], { bytes: 40, patched: ['/x/net_overlay.json'] }), wrote('a2', ['/x/net_overlay.json', '/x/lab_overlay.json'], { bytes: 900, patched: [] })], complete: true }, 5000);
    expect(t.written).toBe(3);
    expect(t.error).toBeNull();
    expect(t.sent).toMatchObject({ nodes: 2, total_bytes: 940, max_bytes: 900, tables_patched: 1, tables_whole: 2 });
  });

  it('names each failed node, and the wait that ran out after them', () => {
    const failed = emptyTableResult();
    failed.failed.set('b1', 'refusing to restart varpd');
    expect(summariseWrites({ results: [failed], complete: true }, 5000).error).toBe('b1: refusing to restart varpd');
    expect(summariseWrites({ results: [], complete: false }, 700)).toMatchObject({ written: 0, error: 'some nodes still writing after 700 ms' });
    expect(summariseWrites({ results: [failed], complete: false }, 700).error).toBe('b1: refusing to restart varpd; some nodes still writing after 700 ms');
  });

  it('a batch that wrote no table (Danube owns them, or the lease was lost) reports none and no bytes', () => {
    const r = report({ added: [vnic('52:54:00:00:00:01', 'a1')], moved: [] });
    const times = { eventToCommitMs: 12, eventToAppliedMs: null };
    expect(batchSummary('2026-12-01T00:00:00.000Z', ['a1'], r, undefined, times)).toEqual({
      at: '2026-12-01T00:00:00.000Z', nodes: ['a1'], added: 1, removed: 0, moved: 0, changed: 0, tables_written: 0, event_to_commit_ms: 12, event_to_applied_ms: null, error: null,
    });
    const fields = batchLogFields(['a1'], r, undefined, 'danube', times);
    expect(fields).not.toHaveProperty('tables_patched');
    expect(fields).toMatchObject({ tables_written: 0, arp_tables: 'danube' });
  });

  it('a batch that wrote tables carries the bytes into the status and the log line, keys in the order the status file shows them', () => {
    const tables = summariseWrites({ results: [wrote('a1', ['/x/net_overlay.json'], { bytes: 40, patched: ['/x/net_overlay.json'] })], complete: true }, 5000);
    const times = { eventToCommitMs: 5, eventToAppliedMs: 9 };
    const s = batchSummary('t', ['a1'], report(), tables, times);
    expect(Object.keys(s)).toEqual(['at', 'nodes', 'added', 'removed', 'moved', 'changed', 'tables_written', 'event_to_commit_ms', 'event_to_applied_ms', 'error', 'sent']);
    expect(s.sent).toMatchObject({ nodes: 1, total_bytes: 40, tables_patched: 1 });
    expect(Object.keys(batchLogFields(['a1'], report(), tables, 'esdc-overlay', times))).toEqual([
      'nodes', 'added', 'removed', 'moved', 'changed', 'migrating', 'conflicts', 'tables_written',
      'bytes_sent_per_node_median', 'bytes_sent_per_node_max', 'tables_patched', 'patch_fallbacks', 'arp_tables', 'event_to_commit_ms', 'event_to_applied_ms',
    ]);
  });

  it('adds the merge to the counters and replaces the MACs migrating and in conflict', () => {
    const status = emptyDaemonStatus();
    status.counters.vnics_added = 2;
    const before = vnic('52:54:00:00:00:02', 'a1');
    recordMerge(status, report({ added: [vnic('52:54:00:00:00:01', 'a1')], moved: [{ mac: before.mac, vm: undefined, from: 'a1', to: 'a2', before, after: { ...before, node: 'a2' } }], ignored: { noRule: 3, ruleNotOnNode: 1 } }));
    expect(status.counters).toMatchObject({ batches: 1, vnics_added: 3, vnics_moved: 1, vnics_removed: 0, ignored_no_rule: 3, ignored_rule_not_on_node: 1 });
    expect(status.migrating).toEqual([]);
  });
});
