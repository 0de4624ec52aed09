/**
 * Range lists as people and Danube write them: a string such as
 * `"2-100,200, 300-310"`, or a JSON/YAML list of numbers and `"a-b"`
 * strings (Danube's `VMS_NET_*_ALLOWED` is a list of integers). Every bad
 * item is reported with its path and text, not only the first.
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import { idProblem, type IdDomain } from './id-kinds.js';
import { RangeSet, type Interval } from './range-set.js';

export type RangeInput = string | readonly (number | string)[];

export interface ParsedRanges {
  /** The valid items; complete when `issues` is empty. */
  set: RangeSet;
  issues: ValidationIssue[];
}

/** One item: `N` or `N-M`, blanks allowed around the numbers. */
const ITEM = /^\s*(\d{1,16})\s*(?:-\s*(\d{1,16})\s*)?$/;

/** Parses without throwing: the valid part and every problem (for the state's consistency check). */
export function parseRangeList(input: unknown, domain: IdDomain, path: string): ParsedRanges {
  const issues: ValidationIssue[] = [];
  const intervals: Interval[] = [];
  if (typeof input === 'string') {
    if (input.trim() !== '') {
      input.split(',').forEach((text, i) => {
        const iv = parseItem(text, domain, path, `item ${i + 1}`, issues);
        if (iv) intervals.push(iv);
      });
    }
  } else if (Array.isArray(input)) {
    input.forEach((item: unknown, i) => {
      const itemPath = `${path}[${i}]`;
      if (typeof item === 'number') {
        const problem = idProblem(domain, item);
        if (problem) issues.push({ path: itemPath, value: item, message: problem });
        else intervals.push([item, item]);
      } else if (typeof item === 'string') {
        const iv = parseItem(item, domain, itemPath, undefined, issues);
        if (iv) intervals.push(iv);
      } else issues.push({ path: itemPath, value: item, message: 'must be a number or a "a-b" string' });
    });
  } else {
    issues.push({ path, value: input, message: `must be a ${domain.label} range string such as "2-100,200" or a list` });
  }
  return { set: RangeSet.fromIntervals(intervals), issues };
}

/** Parses or throws ValidationError naming the path and every bad value. */
export function parseRanges(input: unknown, domain: IdDomain, path: string): RangeSet {
  const { set, issues } = parseRangeList(input, domain, path);
  if (issues.length > 0) throw new ValidationError(issues, path);
  return set;
}

function parseItem(text: string, domain: IdDomain, path: string, where: string | undefined, issues: ValidationIssue[]): Interval | undefined {
  const at = where ? `${where}: ` : '';
  const m = ITEM.exec(text);
  if (!m) {
    const message = text.trim() === ''
      ? `${where ?? 'item'} is empty (separate items with single commas)`
      : `${at}${JSON.stringify(text.trim())} is not a ${domain.label} id or "a-b" range`;
    issues.push({ path, value: text.trim(), message });
    return undefined;
  }
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  for (const id of m[2] === undefined ? [lo] : [lo, hi]) {
    const problem = idProblem(domain, id);
    if (problem) {
      issues.push({ path, value: m[2] === undefined ? id : text.trim(), message: `${at}${problem}` });
      return undefined;
    }
  }
  if (hi < lo) {
    issues.push({ path, value: text.trim(), message: `${at}${lo}-${hi} is reversed (write ${hi}-${lo})` });
    return undefined;
  }
  return [lo, hi];
}
