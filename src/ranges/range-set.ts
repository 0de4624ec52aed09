/**
 * A set of non-negative integers kept as sorted, merged, closed intervals.
 * Never expanded into its members: a VXLAN space holds 16,777,215 ids and a
 * vDC may be allowed most of them. Immutable; every operation is linear in
 * the number of intervals (membership is a binary search).
 *
 * Invariant of `intervals`: each `lo <= hi`, and for consecutive intervals
 * `prev.hi + 1 < next.lo` (neither overlapping nor touching), so two equal
 * sets always have equal interval lists and one canonical string.
 */
import { InternalError } from '../errors.js';

/** A closed interval `[lo, hi]` of integers. */
export type Interval = readonly [lo: number, hi: number];

export class RangeSet {
  static readonly EMPTY = new RangeSet([]);

  /** Sorted, merged, non-touching. */
  readonly intervals: readonly Interval[];

  private constructor(intervals: readonly Interval[]) {
    this.intervals = intervals;
  }

  /** The set of `lo..hi` (empty when `hi < lo`). */
  static range(lo: number, hi: number): RangeSet {
    checkBound(lo);
    checkBound(hi);
    return hi < lo ? RangeSet.EMPTY : new RangeSet([[lo, hi]]);
  }

  /** Any intervals, in any order, overlapping or not. */
  static fromIntervals(list: Iterable<Interval>): RangeSet {
    const sorted = [...list];
    for (const [lo, hi] of sorted) {
      checkBound(lo);
      checkBound(hi);
      if (hi < lo) throw new InternalError(`interval [${lo}, ${hi}] is reversed`);
    }
    sorted.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return new RangeSet(mergeSorted(sorted));
  }

  /** Individual ids, in any order, with repeats. Sorts a typed copy: 100,000 ids take a few milliseconds. */
  static fromIds(ids: ArrayLike<number> | Iterable<number>): RangeSet {
    const arr = Float64Array.from(ids as ArrayLike<number>);
    arr.sort();
    const out: Interval[] = [];
    let i = 0;
    while (i < arr.length) {
      const lo = arr[i]!;
      checkBound(lo);
      let hi = lo;
      i++;
      while (i < arr.length && arr[i]! <= hi + 1) {
        hi = Math.max(hi, arr[i]!);
        i++;
      }
      checkBound(hi);
      out.push([lo, hi]);
    }
    return new RangeSet(out);
  }

  get isEmpty(): boolean {
    return this.intervals.length === 0;
  }

  /** How many ids the set holds. */
  get size(): number {
    let n = 0;
    for (const [lo, hi] of this.intervals) n += hi - lo + 1;
    return n;
  }

  get min(): number | undefined {
    return this.intervals[0]?.[0];
  }

  get max(): number | undefined {
    return this.intervals[this.intervals.length - 1]?.[1];
  }

  contains(id: number): boolean {
    const iv = this.intervals;
    let a = 0;
    let b = iv.length - 1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      const [lo, hi] = iv[m]!;
      if (id < lo) b = m - 1;
      else if (id > hi) a = m + 1;
      else return true;
    }
    return false;
  }

  union(other: RangeSet): RangeSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    // Merge two sorted lists, then coalesce.
    const a = this.intervals;
    const b = other.intervals;
    const merged: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i]![0] <= b[j]![0])) merged.push(a[i++]!);
      else merged.push(b[j++]!);
    }
    return new RangeSet(mergeSorted(merged));
  }

  intersect(other: RangeSet): RangeSet {
    const a = this.intervals;
    const b = other.intervals;
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const lo = Math.max(a[i]![0], b[j]![0]);
      const hi = Math.min(a[i]![1], b[j]![1]);
      if (lo <= hi) out.push([lo, hi]);
      // Advance whichever ends first; the other may still meet the next one.
      if (a[i]![1] < b[j]![1]) i++;
      else j++;
    }
    return new RangeSet(out);
  }

  /** The ids of this set that are not in `other`. */
  difference(other: RangeSet): RangeSet {
    if (this.isEmpty || other.isEmpty) return this;
    const b = other.intervals;
    const out: Interval[] = [];
    let j = 0;
    for (const [lo0, hi] of this.intervals) {
      let lo = lo0;
      while (j < b.length && b[j]![1] < lo) j++;
      let k = j;
      while (k < b.length && b[k]![0] <= hi) {
        const [blo, bhi] = b[k]!;
        if (blo > lo) out.push([lo, blo - 1]);
        lo = bhi + 1;
        if (lo > hi) break;
        k++;
      }
      if (lo <= hi) out.push([lo, hi]);
    }
    return new RangeSet(out);
  }

  intersects(other: RangeSet): boolean {
    return !this.intersect(other).isEmpty;
  }

  /** True when every id of this set is in `other`. */
  isSubsetOf(other: RangeSet): boolean {
    return this.difference(other).isEmpty;
  }

  equals(other: RangeSet): boolean {
    const a = this.intervals;
    const b = other.intervals;
    return a.length === b.length && a.every(([lo, hi], i) => lo === b[i]![0] && hi === b[i]![1]);
  }

  /** The `count` smallest ids of the set, ascending (fewer when the set is smaller). */
  lowest(count: number): number[] {
    const out: number[] = [];
    for (const [lo, hi] of this.intervals) {
      for (let id = lo; id <= hi && out.length < count; id++) out.push(id);
      if (out.length >= count) break;
    }
    return out;
  }

  /** The shortest canonical text: `2-100,200,300-310`; `""` for the empty set. */
  toString(): string {
    return this.intervals.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(',');
  }

  /** Danube's list form (numbers for single ids, `"a-b"` for runs), for states written as lists. */
  toList(): Array<number | string> {
    return this.intervals.map(([lo, hi]) => (lo === hi ? lo : `${lo}-${hi}`));
  }
}

/** Coalesces intervals sorted by `lo` into the canonical form. */
function mergeSorted(sorted: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) {
      if (hi > last[1]) out[out.length - 1] = [last[0], hi];
    } else out.push([lo, hi]);
  }
  return out;
}

function checkBound(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new InternalError(`range bound ${n} is not a non-negative integer`);
}
