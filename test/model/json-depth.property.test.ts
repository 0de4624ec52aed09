/**
 * The loader's nesting count for JSON text (jsonNestingDepth, one scan) is
 * the count the YAML lexer gives (nestingDepth) on the same text: brackets
 * inside strings, escapes, `#` and `: - ` runs included, at any indentation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateInstallation } from '../../bench/generate-installation.js';
import { jsonNestingDepth, MAX_NESTING, nestingDepth } from '../../src/model/load.js';
import { FUZZ } from '../fuzz/fuzz-config.js';

const tricky = fc.constantFrom('[', ']', '{', '}', '"', '\\', '#', ': - ', '- - ', '? ', '\\"', '\n', ' ', 'a', '\u00e9', '\t');
const str = fc.array(tricky, { maxLength: 12 }).map((xs) => xs.join(''));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, str, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(str, tie('v'), { maxKeys: 4 })),
})).v;

describe('jsonNestingDepth', () => {
  it('equals nestingDepth on JSON objects, compact or indented', () => {
    fc.assert(
      fc.property(fc.dictionary(str, value, { maxKeys: 5 }), fc.constantFrom(0, 1, 2, 4), (obj, indent) => {
        const text = JSON.stringify(obj, null, indent);
        expect(jsonNestingDepth(text)).toBe(nestingDepth(text));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns },
    );
  });

  it('equals it past the limit (then both count every bracket) and on a generated installation', () => {
    const deep = `{"version": 1, "x": ${'{"a": ['.repeat(MAX_NESTING)}1${']}'.repeat(MAX_NESTING)}}`;
    expect(jsonNestingDepth(deep)).toBe(nestingDepth(deep));
    expect(jsonNestingDepth(deep)).toBeGreaterThan(MAX_NESTING);
    const state = JSON.stringify(generateInstallation({ nodes: 20, pdcs: 2, rules: 2, nics: 200, seed: 3 }), null, 2);
    expect(jsonNestingDepth(state)).toBe(nestingDepth(state));
  });
});
