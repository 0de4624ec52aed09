/** "Did you mean": the names offered for a typo (src/model/suggest.ts). */
import { describe, expect, it } from 'vitest';
import { closestNames, didYouMean, editDistance, unknownName } from '../../src/model/suggest.js';

describe('closest names', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('pgr', 'prg')).toBe(1);
    expect(editDistance('custmer-a', 'customer-a')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
  });
  it('offers the best names only, a short name matching its hostname first', () => {
    const nodes = ['cn01.prg.example.com', 'cn02.prg.example.com', 'cn05.ams.example.com'];
    expect(closestNames('cn01', nodes)).toEqual(['cn01.prg.example.com']);
    expect(closestNames('cn01.prg.exmaple.com', nodes)).toEqual(['cn01.prg.example.com']);
    expect(closestNames('prag', ['brn', 'prg'])).toEqual(['prg']);
    expect(closestNames('zzzz', ['brn', 'prg'])).toEqual([]);
  });
  it('says nothing when nothing is close, and lists a short set of known names', () => {
    expect(didYouMean('backup', ['customers', 'lab'])).toBe('');
    expect(unknownName('rule', 'backup', ['customers', 'lab'])).toBe('unknown rule "backup" (known: customers, lab)');
    expect(unknownName('vDC', 'custmer-a', ['customer-a', 'main'])).toBe('unknown vDC "custmer-a" (did you mean customer-a?)');
  });
});
