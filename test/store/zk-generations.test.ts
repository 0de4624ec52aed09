import { describe, expect, it } from 'vitest';
import { batches, generationCreates, logicalPath, newGenerationId, physicalPath, pointedGeneration, requestBytes } from '../../src/store/zk-generations.js';
import type { WriteOp } from '../../src/store/zk-writes.js';

describe('generations of our subtree (pure parts)', () => {
  const gen = newGenerationId(new Date('2026-11-30T21:00:00.123Z'), 'AB12-cd34-ef56-7890');

  it('a generation id is the time and a random part, and only that is followed', () => {
    expect(gen).toBe('20261130210000123-ab12cd34ef56');
    expect(pointedGeneration(JSON.stringify({ txn: 'x', gen }))).toBe(gen);
    expect(pointedGeneration(JSON.stringify({ txn: 'x' }))).toBeUndefined();
    expect(pointedGeneration(JSON.stringify({ gen: '../../ipsec' }))).toBeUndefined();
    expect(pointedGeneration('not json')).toBeUndefined();
    expect(pointedGeneration('')).toBeUndefined();
  });

  it('maps our subtree into the generation and leaves Danube\'s paths and the sequencer where they are', () => {
    expect(physicalPath('esdc_overlay/nodes/cn1', gen)).toBe(`esdc_overlay/gen/${gen}/nodes/cn1`);
    expect(physicalPath('esdc_overlay', gen)).toBe('esdc_overlay');
    expect(physicalPath('overlay_rules/a/port', gen)).toBe('overlay_rules/a/port');
    expect(physicalPath('esdc_overlay/nodes/cn1', undefined)).toBe('esdc_overlay/nodes/cn1');
    expect(logicalPath(`esdc_overlay/gen/${gen}/vnics/cn1`, gen)).toBe('esdc_overlay/vnics/cn1');
    expect(logicalPath(`esdc_overlay/gen/${gen}`, gen)).toBeUndefined();
  });

  it('writes the generation root first, then parents before children, and none of Danube\'s znodes', () => {
    const tree = new Map([
      ['esdc_overlay', ''],
      ['esdc_overlay/vnics/cn1', '[]'],
      ['esdc_overlay/vnics', ''],
      ['overlay_rules/a/port', '4790'],
      ['esdc_overlay/format', '1'],
    ]);
    expect(generationCreates(tree, gen, 'm').map((o) => o.path)).toEqual([
      `esdc_overlay/gen/${gen}`,
      `esdc_overlay/gen/${gen}/format`,
      `esdc_overlay/gen/${gen}/vnics`,
      `esdc_overlay/gen/${gen}/vnics/cn1`,
    ]);
  });

  it('cuts operations into requests under the limit, in order; one too large for any request stands alone', () => {
    const op = (i: number, size: number): WriteOp => ({ op: 'create', path: `p${i}`, data: 'x'.repeat(size) });
    const ops = [op(1, 400), op(2, 400), op(3, 400), op(4, 2000), op(5, 10)];
    const cut = batches(ops, 1000);
    expect(cut.map((b) => b.map((o) => o.path))).toEqual([['p1', 'p2'], ['p3'], ['p4'], ['p5']]);
    for (const b of cut.slice(0, 2)) expect(requestBytes(b)).toBeLessThanOrEqual(1000);
    expect(cut.flat()).toEqual(ops);
  });
});
