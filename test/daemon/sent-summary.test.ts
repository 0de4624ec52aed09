/** The bytes the daemon reports per batch (docs/arp-deltas.md#bytes): the summary and how `daemon status` shows it. */
import { describe, expect, it } from 'vitest';
import { emptyDaemonStatus, renderDaemonStatus, sentSummary } from '../../src/daemon/status.js';

describe('bytes sent per node', () => {
  it('median and maximum over the nodes sent to, with table counts', () => {
    const s = sentSummary([
      { bytes: 300, patched: 1, whole: 0, fallbacks: 0 },
      { bytes: 5_000_000, patched: 0, whole: 1, fallbacks: 1 },
      { bytes: 320, patched: 1, whole: 0, fallbacks: 0 },
    ]);
    expect(s).toEqual({ nodes: 3, total_bytes: 5_000_620, median_bytes: 320, max_bytes: 5_000_000, tables_patched: 2, tables_whole: 1, patch_fallbacks: 1 });
    expect(sentSummary([])).toMatchObject({ nodes: 0, median_bytes: 0, max_bytes: 0 });
  });

  it('daemon status shows them for the last batch and in its totals', () => {
    const st = emptyDaemonStatus();
    st.counters.bytes_sent = 620;
    st.counters.tables_patched = 2;
    st.last_batch = {
      at: '2026-12-01T00:00:00.000Z', nodes: ['cn1'], added: 0, removed: 0, moved: 1, changed: 0, tables_written: 2,
      event_to_commit_ms: 10, event_to_applied_ms: 90, error: null,
      sent: sentSummary([{ bytes: 300, patched: 1, whole: 0, fallbacks: 0 }, { bytes: 320, patched: 1, whole: 0, fallbacks: 0 }]),
    };
    const text = renderDaemonStatus(st, () => true);
    expect(text).toContain('tables written 0 (patched 2, patch refused 0), failed 0; bytes sent 620;');
    expect(text).toContain('sent:      2 node(s), 620 bytes; per node median 300, max 320; tables patched 2, whole 0, patches refused 0');
  });
});
