import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { VLAN, VXLAN } from '../../src/syntax/id-kinds.js';
import { parseRangeList, parseRanges } from '../../src/syntax/range-list.js';

function issuesOf(fn: () => unknown): unknown[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

describe('parsing range strings', () => {
  it('reads items with blanks after commas and around dashes', () => {
    expect(parseRanges('2-100,200, 300-310', VXLAN, 'x').toString()).toBe('2-100,200,300-310');
    expect(parseRanges(' 5 - 7 ', VLAN, 'x').toString()).toBe('5-7');
  });
  it('reads an empty string as no ids (Danube default [])', () => {
    expect(parseRanges('', VXLAN, 'x').isEmpty).toBe(true);
  });
  it('merges overlapping items', () => {
    expect(parseRanges('1-10,5-20,21', VLAN, 'x').toString()).toBe('1-21');
  });
  it('reads the whole VXLAN space', () => {
    expect(parseRanges('1-16777215', VXLAN, 'x').size).toBe(16_777_215);
  });
});

describe('parsing JSON lists', () => {
  it('reads numbers and "a-b" strings', () => {
    expect(parseRanges([200, '2-100', '300-310', 101], VXLAN, 'x').toString()).toBe('2-101,200,300-310');
  });
  it('locates a bad item by its index', () => {
    expect(issuesOf(() => parseRanges([10, 4095, '5-9000'], VLAN, 'vdcs.a.vlan_allowed'))).toEqual([
      { path: 'vdcs.a.vlan_allowed[1]', value: 4095, message: 'VLAN 4095 is reserved (VLAN ids are 1-4094)' },
      { path: 'vdcs.a.vlan_allowed[2]', value: '5-9000', message: '9000 is not a VLAN id (VLAN ids are 1-4094)' },
    ]);
  });
  it('refuses items that are neither numbers nor strings', () => {
    expect(parseRangeList([true], VLAN, 'p').issues).toEqual([{ path: 'p[0]', value: true, message: 'must be a number or a "a-b" string' }]);
  });
});

describe('ids outside their space are errors naming the value', () => {
  it('VLAN 0 is untagged, not allocatable', () => {
    expect(issuesOf(() => parseRanges('0-10', VLAN, 'v'))).toEqual([
      { path: 'v', value: '0-10', message: 'item 1: VLAN 0 means untagged; it cannot be allowed or allocated (VLAN ids are 1-4094)' },
    ]);
  });
  it('VLAN 4095 is reserved', () => {
    expect(issuesOf(() => parseRanges('10,4095', VLAN, 'v'))).toEqual([
      { path: 'v', value: 4095, message: 'item 2: VLAN 4095 is reserved (VLAN ids are 1-4094)' },
    ]);
  });
  it('VXLAN ids are 1-16777215', () => {
    expect(issuesOf(() => parseRanges('0, 16777216', VXLAN, 'v'))).toEqual([
      { path: 'v', value: 0, message: 'item 1: 0 is not a VXLAN id (VXLAN ids are 1-16777215)' },
      { path: 'v', value: 16777216, message: 'item 2: 16777216 is not a VXLAN id (VXLAN ids are 1-16777215)' },
    ]);
  });
  it('reports malformed, empty and reversed items, all at once', () => {
    expect(issuesOf(() => parseRanges('1,,x,100-2,-5', VXLAN, 'v'))).toEqual([
      { path: 'v', value: '', message: 'item 2 is empty (separate items with single commas)' },
      { path: 'v', value: 'x', message: 'item 3: "x" is not a VXLAN id or "a-b" range' },
      { path: 'v', value: '100-2', message: 'item 4: 100-2 is reversed (write 2-100)' },
      { path: 'v', value: '-5', message: 'item 5: "-5" is not a VXLAN id or "a-b" range' },
    ]);
  });
  it('says which input the error is about', () => {
    expect(() => parseRanges('9999', VLAN, '--vlan')).toThrow(/--vlan: item 1: 9999 is not a VLAN id/);
  });
});
