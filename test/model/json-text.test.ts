import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from '../../src/errors.js';
import { findDuplicateKey, looksLikeJson, parseJsonState } from '../../src/model/json-text.js';
import { loadStateText } from '../../src/model/load.js';
import { FUZZ } from '../fuzz/fuzz-config.js';

describe('JSON states are parsed as JSON, with duplicate keys refused', () => {
  it('finds a duplicate key with its line and column', () => {
    const text = '{\n  "version": 1,\n  "overlay_rules": { "a": { "port": 1, "port": 2 } }\n}';
    expect(() => parseJsonState(text, 's')).toThrow(/line 3, column 40: key "port" appears twice in one object/);
  });

  it('equal keys in different objects, in arrays and escaped spellings are told apart correctly', () => {
    expect(findDuplicateKey('{"a":{"x":1},"b":{"x":[{"x":1},{"x":2}]}}')).toBeUndefined();
    expect(findDuplicateKey('{"a\\"b":1,"a\\u0022b":2}')).toMatchObject({ key: 'a"b' });
    expect(findDuplicateKey('{"k":"x:y","v":["k","k"]}')).toBeUndefined();
  });

  it('a syntax error names the line', () => {
    expect(() => parseJsonState('{\n  "version": 1,\n  oops\n}', 's')).toThrow(ValidationError);
    expect(() => parseJsonState('{\n  "version": 1,\n  oops\n}', 's')).toThrow(/line 3/);
  });

  it('agrees with a reference on random objects: a duplicate is found exactly when one exists', () => {
    const obj = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 4 }), tie('arr'), tie('entries')),
      arr: fc.array(tie('node'), { maxLength: 3 }),
      entries: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'a"', 'é'), tie('node')), { maxLength: 4 }),
    }));
    const render = (v: unknown): string =>
      Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string')
        ? `{${(v as [string, unknown][]).map(([k, x]) => `${JSON.stringify(k)}: ${render(x)}`).join(', ')}}`
        : Array.isArray(v)
          ? `[${v.map(render).join(',')}]`
          : JSON.stringify(v);
    const hasDup = (v: unknown): boolean =>
      Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string')
        ? new Set((v as [string, unknown][]).map(([k]) => k)).size < v.length || (v as [string, unknown][]).some(([, x]) => hasDup(x))
        : Array.isArray(v) && v.some(hasDup);
    fc.assert(
      fc.property(obj.entries, (entries) => {
        expect(findDuplicateKey(render(entries)) !== undefined).toBe(hasDup(entries));
      }),
      FUZZ,
    );
  });

  it('loadStateText takes the JSON path and builds the same model', () => {
    const doc = { version: 1, overlay_rules: { net: { port: 4790 } } };
    expect(loadStateText(JSON.stringify(doc), 's.json').model.ruleByName.get('net')!.port).toBe(4790);
    expect(loadStateText(JSON.stringify(doc), 's.json').yaml).toBeUndefined();
  });

  it("only JSON's own white space may come before the `{`: a byte-order mark or a no-break space sends the text to YAML", () => {
    expect(looksLikeJson(' \t\r\n{}')).toBe(true);
    expect(looksLikeJson('\uFEFF{}')).toBe(false);
    expect(looksLikeJson('\u00A0{}')).toBe(false);
    expect(looksLikeJson('version: 1')).toBe(false);
    // A JSON state saved with a byte-order mark: JSON.parse refuses it, YAML (of which JSON is a subset) reads it.
    const doc = { version: 1, overlay_rules: { net: { port: 4790 } } };
    const loaded = loadStateText(`\uFEFF${JSON.stringify(doc)}`, 's.json');
    expect(loaded.model.ruleByName.get('net')!.port).toBe(4790);
  });
});
