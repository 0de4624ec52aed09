/**
 * Properties of range sets against a brute-force reference (a plain Set of
 * ids over a small universe, where every member can be listed), plus the
 * parse/format round trip over the whole VXLAN space. Fixed seed, bounded
 * runs: a failure reproduces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VLAN, VXLAN } from '../../src/syntax/id-kinds.js';
import { parseRanges } from '../../src/syntax/range-list.js';
import { RangeSet, type Interval } from '../../src/syntax/range-set.js';
import { vdcAllowance } from '../../src/model/vdcs.js';
import { allocate } from '../../src/ranges/vdc.js';

const RUNS = { seed: 20261122, numRuns: 300 } as const;
const UNIVERSE = 120;

const interval = (max: number): fc.Arbitrary<Interval> =>
  fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 0, max: Math.max(1, Math.floor(max / 8)) })).map(([lo, len]) => [lo, Math.min(max, lo + len)] as const);
const smallSet = fc.array(interval(UNIVERSE), { maxLength: 8 }).map((iv) => RangeSet.fromIntervals(iv));
const vxlanSet = fc.array(interval(VXLAN.max), { maxLength: 12 }).map((iv) => RangeSet.fromIntervals(iv));

function members(s: RangeSet): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i <= UNIVERSE + 1; i++) if (s.contains(i)) out.add(i);
  return out;
}
const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

function isCanonical(s: RangeSet): boolean {
  return s.intervals.every(([lo, hi], i) => lo <= hi && (i === 0 || s.intervals[i - 1]![1] + 1 < lo));
}

describe('parse(format(x)) = x', () => {
  it('over the VXLAN space, as a string and as a list', () => {
    fc.assert(
      fc.property(vxlanSet, (s) => {
        expect(parseRanges(s.toString(), VXLAN, 'x').equals(s)).toBe(true);
        expect(parseRanges(s.toList(), VXLAN, 'x').equals(s)).toBe(true);
      }),
      RUNS,
    );
  });
  it('over the VLAN space', () => {
    const vlanSet = fc.array(interval(VLAN.max), { maxLength: 12 }).map((iv) => RangeSet.fromIntervals(iv));
    fc.assert(fc.property(vlanSet, (s) => parseRanges(s.toString(), VLAN, 'x').equals(s)), RUNS);
  });
  it('format(parse(t)) is canonical: one text per set', () => {
    fc.assert(
      fc.property(fc.array(interval(5000), { maxLength: 10 }), (iv) => {
        const text = iv.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(', ');
        const once = parseRanges(text, VXLAN, 'x').toString();
        expect(parseRanges(once, VXLAN, 'x').toString()).toBe(once);
      }),
      RUNS,
    );
  });
});

describe('set algebra laws on random interval sets', () => {
  it('operations agree with the brute-force sets and stay canonical', () => {
    fc.assert(
      fc.property(smallSet, smallSet, (a, b) => {
        const ma = members(a);
        const mb = members(b);
        expect(sorted(members(a.union(b)))).toEqual(sorted(new Set([...ma, ...mb])));
        expect(sorted(members(a.intersect(b)))).toEqual(sorted(ma).filter((x) => mb.has(x)));
        expect(sorted(members(a.difference(b)))).toEqual(sorted(ma).filter((x) => !mb.has(x)));
        expect(a.size).toBe(ma.size);
        for (const s of [a.union(b), a.intersect(b), a.difference(b)]) expect(isCanonical(s)).toBe(true);
      }),
      RUNS,
    );
  });
  it('commutative, associative, idempotent, absorbing', () => {
    fc.assert(
      fc.property(smallSet, smallSet, smallSet, (a, b, c) => {
        expect(a.union(b).equals(b.union(a))).toBe(true);
        expect(a.intersect(b).equals(b.intersect(a))).toBe(true);
        expect(a.union(b).union(c).equals(a.union(b.union(c)))).toBe(true);
        expect(a.intersect(b).intersect(c).equals(a.intersect(b.intersect(c)))).toBe(true);
        expect(a.union(a).equals(a) && a.intersect(a).equals(a)).toBe(true);
        expect(a.union(a.intersect(b)).equals(a)).toBe(true);
        expect(a.intersect(a.union(b)).equals(a)).toBe(true);
      }),
      RUNS,
    );
  });
  it('distributive, and De Morgan for differences', () => {
    fc.assert(
      fc.property(smallSet, smallSet, smallSet, (a, b, c) => {
        expect(a.intersect(b.union(c)).equals(a.intersect(b).union(a.intersect(c)))).toBe(true);
        expect(a.union(b.intersect(c)).equals(a.union(b).intersect(a.union(c)))).toBe(true);
        expect(a.difference(b.union(c)).equals(a.difference(b).intersect(a.difference(c)))).toBe(true);
        expect(a.difference(b.intersect(c)).equals(a.difference(b).union(a.difference(c)))).toBe(true);
        expect(a.difference(b).intersect(b).isEmpty).toBe(true);
        expect(a.difference(b).union(a.intersect(b)).equals(a)).toBe(true);
      }),
      RUNS,
    );
  });
  it('the walking shortcuts agree with the sets they avoid building', () => {
    fc.assert(
      fc.property(smallSet, smallSet, fc.integer({ min: 0, max: 30 }), (a, b, k) => {
        expect(a.overlapSize(b)).toBe(a.intersect(b).size);
        expect(a.lowestNotIn(b, k)).toEqual(a.difference(b).lowest(k));
        expect(a.isSubsetOf(b)).toBe(a.difference(b).isEmpty);
        expect(a.intersects(b)).toBe(!a.intersect(b).isEmpty);
      }),
      RUNS,
    );
  });
  it('sizes add up: |a ∪ b| = |a| + |b| - |a ∩ b|', () => {
    fc.assert(fc.property(vxlanSet, vxlanSet, (a, b) => a.union(b).size === a.size + b.size - a.intersect(b).size), RUNS);
  });
  it('fromIds equals the union of single-id ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: UNIVERSE }), { maxLength: 40 }), (ids) => {
        const expected = ids.reduce((s, id) => s.union(RangeSet.range(id, id)), RangeSet.EMPTY);
        expect(RangeSet.fromIds(ids).equals(expected)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('allocate never returns a used or disallowed id', () => {
  it('returns the lowest free ids of the allowance, or says how many are free', () => {
    fc.assert(
      fc.property(
        smallSet,
        fc.array(fc.integer({ min: 1, max: UNIVERSE }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (allowed, usedIds, count) => {
          const vdc = vdcAllowance('t', { vxlan_allowed: allowed.toString() });
          const used = RangeSet.fromIds(usedIds);
          const free = sorted(members(allowed)).filter((x) => !used.contains(x));
          if (allowed.isEmpty || free.length < count) {
            expect(() => allocate(vdc, used, 'vxlan', count)).toThrow(/vDC t (is allowed no|has \d+ free)/);
            return;
          }
          const got = allocate(vdc, used, 'vxlan', count);
          for (const id of got.ids) {
            expect(allowed.contains(id)).toBe(true);
            expect(used.contains(id)).toBe(false);
          }
          expect(got.ids).toEqual(free.slice(0, count));
          expect(got.free).toBe(free.length);
        },
      ),
      RUNS,
    );
  });
});
