/**
 * A set of non-negative integers kept as sorted, merged, closed intervals.
 * Never expanded into its members: a VXLAN space holds 16,777,215 ids and a
 * vDC may be allowed most of them. Immutable; every operation is linear in
 * the number of intervals (membership is a binary search).
 *
 * The bounds live in one flat typed array (`lo0, hi0, lo1, hi1, ...`): an
 * installation's used VNIs can be 100,000 separate intervals, and one array
 * instead of 100,000 small ones keeps `vdc allocate` clear of the garbage
 * collector.
 *
 * Invariant: each `lo <= hi`, and for consecutive intervals
 * `prev.hi + 1 < next.lo` (neither overlapping nor touching), so two equal
 * sets always have equal bounds and one canonical string.
 */
import { InternalError } from '../errors.js';

/** A closed interval `[lo, hi]` of integers. */
export type Interval = readonly [lo: number, hi: number];

/** The private constructor, for the builder below. */
let wrap: (bounds: Float64Array) => RangeSet;

export class RangeSet {
  static readonly EMPTY = new RangeSet(new Float64Array(0));

  /** Flat bounds, canonical (see the invariant above). */
  private readonly b: Float64Array;
  private listed: readonly Interval[] | undefined;

  private constructor(bounds: Float64Array) {
    this.b = bounds;
  }

  static {
    wrap = (bounds) => new RangeSet(bounds);
  }

  /** The set of `lo..hi` (empty when `hi < lo`). */
  static range(lo: number, hi: number): RangeSet {
    checkBound(lo);
    checkBound(hi);
    return hi < lo ? RangeSet.EMPTY : new RangeSet(Float64Array.of(lo, hi));
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
    const out = new Builder(sorted.length);
    for (const [lo, hi] of sorted) out.add(lo, hi);
    return out.done();
  }

  /** Individual ids, in any order, with repeats. Sorts a typed copy: 100,000 ids take about 10 ms. */
  static fromIds(ids: ArrayLike<number> | Iterable<number>): RangeSet {
    // Network ids fit 32 bits, and V8 sorts those almost twice as fast as doubles: callers that
    // collect many ids (usedIds) hand over a Uint32Array, which is sorted as one.
    let arr: Float64Array | Uint32Array;
    if (ids instanceof Uint32Array) arr = ids.slice();
    else {
      arr = Float64Array.from(ids as ArrayLike<number>);
      if (arr.every((id) => id >= 0 && id <= 0xffff_ffff && Number.isInteger(id))) arr = Uint32Array.from(arr);
    }
    arr.sort();
    const out = new Builder(arr.length);
    for (let i = 0; i < arr.length; i++) {
      checkBound(arr[i]!);
      out.add(arr[i]!, arr[i]!);
    }
    return out.done();
  }

  /** The intervals as `[lo, hi]` pairs, ascending. */
  get intervals(): readonly Interval[] {
    if (!this.listed) {
      const list: Interval[] = [];
      for (let i = 0; i < this.b.length; i += 2) list.push([this.b[i]!, this.b[i + 1]!]);
      this.listed = list;
    }
    return this.listed;
  }

  get isEmpty(): boolean {
    return this.b.length === 0;
  }

  /** How many ids the set holds. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.b.length; i += 2) n += this.b[i + 1]! - this.b[i]! + 1;
    return n;
  }

  get min(): number | undefined {
    return this.b.length === 0 ? undefined : this.b[0];
  }

  get max(): number | undefined {
    return this.b.length === 0 ? undefined : this.b[this.b.length - 1];
  }

  contains(id: number): boolean {
    const b = this.b;
    let lo = 0;
    let hi = b.length / 2 - 1;
    while (lo <= hi) {
      const m = (lo + hi) >>> 1;
      if (id < b[2 * m]!) hi = m - 1;
      else if (id > b[2 * m + 1]!) lo = m + 1;
      else return true;
    }
    return false;
  }

  union(other: RangeSet): RangeSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    const a = this.b;
    const b = other.b;
    const out = new Builder((a.length + b.length) / 2);
    let i = 0;
    let j = 0;
    // Feed both lists in order of their lower bounds; the builder coalesces.
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) {
        out.add(a[i]!, a[i + 1]!);
        i += 2;
      } else {
        out.add(b[j]!, b[j + 1]!);
        j += 2;
      }
    }
    return out.done();
  }

  intersect(other: RangeSet): RangeSet {
    const a = this.b;
    const b = other.b;
    const out = new Builder((a.length + b.length) / 2);
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const lo = Math.max(a[i]!, b[j]!);
      const hi = Math.min(a[i + 1]!, b[j + 1]!);
      if (lo <= hi) out.add(lo, hi);
      // Advance whichever ends first; the other may still meet the next one.
      if (a[i + 1]! < b[j + 1]!) i += 2;
      else j += 2;
    }
    return out.done();
  }

  /** The ids of this set that are not in `other`. */
  difference(other: RangeSet): RangeSet {
    if (this.isEmpty || other.isEmpty) return this;
    const out = new Builder(this.b.length / 2 + other.b.length / 2);
    this.walkDifference(other, (lo, hi) => {
      out.add(lo, hi);
      return true;
    });
    return out.done();
  }

  intersects(other: RangeSet): boolean {
    return this.overlapSize(other) > 0;
  }

  /** How many ids this set shares with `other`, without building the intersection. */
  overlapSize(other: RangeSet): number {
    const a = this.b;
    const b = other.b;
    let n = 0;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const lo = Math.max(a[i]!, b[j]!);
      const hi = Math.min(a[i + 1]!, b[j + 1]!);
      if (lo <= hi) n += hi - lo + 1;
      if (a[i + 1]! < b[j + 1]!) i += 2;
      else j += 2;
    }
    return n;
  }

  /** True when every id of this set is in `other`. */
  isSubsetOf(other: RangeSet): boolean {
    return this.overlapSize(other) === this.size;
  }

  equals(other: RangeSet): boolean {
    const a = this.b;
    const b = other.b;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** The `count` smallest ids of the set, ascending (fewer when the set is smaller). */
  lowest(count: number): number[] {
    return this.lowestNotIn(RangeSet.EMPTY, count);
  }

  /**
   * The `count` smallest ids of this set that are not in `other`, without
   * building the difference: it stops as soon as it has them.
   */
  lowestNotIn(other: RangeSet, count: number): number[] {
    const out: number[] = [];
    if (count <= 0) return out;
    this.walkDifference(other, (lo, hi) => {
      for (let id = lo; id <= hi && out.length < count; id++) out.push(id);
      return out.length < count;
    });
    return out;
  }

  /** The shortest canonical text: `2-100,200,300-310`; `""` for the empty set. */
  toString(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.b.length; i += 2) {
      const lo = this.b[i]!;
      const hi = this.b[i + 1]!;
      parts.push(lo === hi ? String(lo) : `${lo}-${hi}`);
    }
    return parts.join(',');
  }

  /** Danube's list form (numbers for single ids, `"a-b"` for runs), for states written as lists. */
  toList(): Array<number | string> {
    return this.intervals.map(([lo, hi]) => (lo === hi ? lo : `${lo}-${hi}`));
  }

  /** Calls `emit` with each interval of `this \ other` in order, until it returns false. */
  private walkDifference(other: RangeSet, emit: (lo: number, hi: number) => boolean): void {
    const a = this.b;
    const b = other.b;
    let j = 0;
    for (let i = 0; i < a.length; i += 2) {
      let lo = a[i]!;
      const hi = a[i + 1]!;
      while (j < b.length && b[j + 1]! < lo) j += 2;
      for (let k = j; k < b.length && b[k]! <= hi; k += 2) {
        if (b[k]! > lo && !emit(lo, b[k]! - 1)) return;
        lo = b[k + 1]! + 1;
        if (lo > hi) break;
      }
      if (lo <= hi && !emit(lo, hi)) return;
    }
  }
}

/** Collects intervals given in ascending order of `lo` and coalesces them into canonical bounds. */
class Builder {
  private b: Float64Array;
  private n = 0;

  constructor(capacity: number) {
    this.b = new Float64Array(Math.max(2, capacity * 2));
  }

  add(lo: number, hi: number): void {
    if (this.n > 0 && lo <= this.b[this.n - 1]! + 1) {
      if (hi > this.b[this.n - 1]!) this.b[this.n - 1] = hi;
      return;
    }
    if (this.n === this.b.length) {
      const grown = new Float64Array(this.b.length * 2);
      grown.set(this.b);
      this.b = grown;
    }
    this.b[this.n++] = lo;
    this.b[this.n++] = hi;
  }

  done(): RangeSet {
    if (this.n === 0) return RangeSet.EMPTY;
    // A tight copy: a set may live long (the state's allowances), its scratch space need not.
    return wrap(this.b.slice(0, this.n));
  }
}

function checkBound(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new InternalError(`range bound ${n} is not a non-negative integer`);
}
