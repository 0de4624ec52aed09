import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../src/syntax/range-set.js';

const rs = (...iv: Array<[number, number]>): RangeSet => RangeSet.fromIntervals(iv);

describe('a range set is kept as sorted, merged intervals', () => {
  it('merges overlapping and touching intervals given in any order', () => {
    expect(rs([300, 310], [2, 50], [51, 100], [40, 60], [200, 200]).intervals).toEqual([[2, 100], [200, 200], [300, 310]]);
  });

  it('builds from single ids with repeats, merging runs', () => {
    expect(RangeSet.fromIds([5, 3, 4, 4, 10, 1]).toString()).toBe('1,3-5,10');
  });

  it('reads a Uint32Array of ids the same way, leaving it unsorted', () => {
    const ids = Uint32Array.of(9, 2, 3, 3, 1);
    expect(RangeSet.fromIds(ids).equals(RangeSet.fromIds([9, 2, 3, 3, 1]))).toBe(true);
    expect([...ids]).toEqual([9, 2, 3, 3, 1]);
  });

  it('counts a whole VXLAN space without expanding it', () => {
    const all = RangeSet.range(1, 16_777_215);
    expect(all.size).toBe(16_777_215);
    expect(all.intervals).toHaveLength(1);
  });

  it('is empty for a reversed range', () => {
    expect(RangeSet.range(5, 4).isEmpty).toBe(true);
  });
});

describe('set algebra on intervals', () => {
  const a = rs([1, 10], [20, 30]);
  const b = rs([5, 25], [40, 40]);

  it('union', () => expect(a.union(b).toString()).toBe('1-30,40'));
  it('intersection', () => expect(a.intersect(b).toString()).toBe('5-10,20-25'));
  it('difference', () => {
    expect(a.difference(b).toString()).toBe('1-4,26-30');
    expect(b.difference(a).toString()).toBe('11-19,40');
  });
  it('difference that splits one interval many times', () => {
    expect(rs([1, 100]).difference(RangeSet.fromIds([1, 50, 51, 100])).toString()).toBe('2-49,52-99');
  });
  it('contains by binary search', () => {
    expect([0, 1, 10, 11, 19, 20, 30, 31].map((n) => a.contains(n))).toEqual([false, true, true, false, false, true, true, false]);
  });
  it('lowest free ids skip the used ones', () => {
    const free = rs([1000, 1099], [2000, 2000]).difference(RangeSet.fromIds([1000, 1001, 1003]));
    expect(free.lowest(3)).toEqual([1002, 1004, 1005]);
    expect(rs([7, 8]).lowest(5)).toEqual([7, 8]);
  });
});

describe('formatting', () => {
  it('writes the shortest canonical text', () => {
    expect(rs([2, 100], [200, 200], [300, 310]).toString()).toBe('2-100,200,300-310');
    expect(RangeSet.EMPTY.toString()).toBe('');
  });
  it('writes Danube-style lists', () => {
    expect(rs([2, 100], [200, 200]).toList()).toEqual(['2-100', 200]);
  });
});
