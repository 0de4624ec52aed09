/**
 * The plain-YAML reader (src/model/plain-yaml.ts) is a fast path to the same
 * value `yaml` gives: wherever it answers, the answer equals `yaml`'s
 * `parseDocument(text, { uniqueKeys: true }).toJS()` (same values, same key
 * order), and `yaml` finds no error there; where it is unsure it answers
 * nothing. And it does answer for the states we write, so the speed is real.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { generateInstallation } from '../../bench/generate-installation.js';
import { MAX_NESTING, parseStateText } from '../../src/model/load.js';
import { readPlainYaml } from '../../src/model/plain-yaml.js';
import { REPO } from '../support/paths.js';
import { FUZZ } from '../fuzz/fuzz-config.js';
import { installationSpec } from '../support/installation-arb.js';

/** What `yaml` makes of the text, as the state loader asks it; undefined when it reports an error. */
function viaYaml(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) };
  } catch {
    return undefined;
  }
}

/** Same values and the same key order (toEqual ignores order; the JSON text does not). */
function expectSame(fast: { value: unknown }, slow: { value: unknown } | undefined, text: string): void {
  expect(slow, `yaml refuses text the fast reader accepted:\n${text}`).toBeDefined();
  expect(fast.value).toEqual(slow!.value);
  expect(JSON.stringify(fast.value)).toBe(JSON.stringify(slow!.value));
}

/** The fast reader either declines or agrees with `yaml`. */
function agreesOrDeclines(text: string): boolean {
  const fast = readPlainYaml(text, 64);
  if (fast !== undefined) {
    expectSame(fast, viaYaml(text), text);
    // And the loader's own checks (nesting bound, no aliases) pass on the slow path too.
    expect(parseStateText(text, 's', true).value).toEqual(fast.value);
  }
  return fast !== undefined;
}

describe('plain YAML reader', () => {
  it('reads generated installations, as the file store writes them, to the same value as yaml', () => {
    fc.assert(
      fc.property(
        installationSpec,
        fc.boolean(),
        (spec, indentSeq) => {
          const text = stringify(generateInstallation({ ...spec, pdcs: Math.min(spec.pdcs, spec.nodes) }), { lineWidth: 0, indentSeq });
          expect(agreesOrDeclines(text), 'a generated state must take the fast path').toBe(true);
        },
      ),
      { seed: FUZZ.seed, numRuns: Math.min(FUZZ.numRuns, 100) },
    );
  });

  it('reads the examples and the state fixtures that yaml accepts to the same value, or declines', async () => {
    const files = [
      ...(await readdir(join(REPO, 'examples'))).map((f) => join(REPO, 'examples', f)),
      ...(await readdir(join(REPO, 'test/fixtures/bad-states'))).map((f) => join(REPO, 'test/fixtures/bad-states', f)),
    ].filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(3);
    let read = 0;
    for (const f of files) if (agreesOrDeclines(await readFile(f, 'utf8'))) read++;
    // The examples are plain: commented, hand-written YAML must take the fast path too.
    expect(read).toBeGreaterThan(0);
    expect(readPlainYaml(await readFile(join(REPO, 'examples/two-sites.yaml'), 'utf8'), 64)).toBeDefined();
  });

  it('agrees with yaml on arbitrary JSON-like values written as YAML', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('null', 'true', 'True', '~', '1', '0o7', '0x1f', '1e3', '-', 'a b', '__proto__', 'constructor', 'toString', '<<', 'a:b', '#x'),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, true, false, 0, -0, 1, -7, 1.5, 1e21, '', 'null', '~', 'True', '0o17', '0x1F', '007', '+1', '1e3', '.5', '.inf', '-.inf', '.nan', '1.2.3.4', '52:54:00:00:00:01', 'fd00::', 'a #b', 'a#b', "it's", 'say "hi"', '- x', '[a]', '{}', '[]', 'x: y', '\\', 'tab\there', 'line\nbreak', ' lead', 'trail ', 'é ✓'),
        fc.string({ maxLength: 12 }),
        fc.integer(),
        fc.double({ noNaN: true }),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), fc.boolean(), (doc, indentSeq) => {
        agreesOrDeclines(stringify(doc, { lineWidth: 0, indentSeq }));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns },
    );
  });

  it('agrees with yaml or declines on arbitrary lines of YAML-like text', () => {
    const fragment = fc.constantFrom(
      'a:', 'a: 1', 'b: x', 'a: b', 'c: "q"', "c: 'q''s'", 'd: null', 'd: ~', 'd: Null', 'e: true', 'e: FALSE', 'f: 0o17', 'f: 0x1f',
      'f: 1e3', 'f: .5', 'f: -1', 'f: +1', 'f: 007', 'f: 1.0', 'f: .inf', 'g: a #c', 'g: a#c', 'g: []', 'g: {}', 'g: [a]', 'g: {a: 1}',
      'h: &x y', 'h: *x', 'h: !!str 1', 'h: |', 'h: >', '  text', 'i: a: b', 'i: a:', 'i: - x', 'j:  # comment', '# comment',
      '-', '- ', '- a', '- a: 1', '- - a', '- "q"', '- "q": 1', "- 'q'", '- #c', '---', '...', '%YAML 1.2', '"k": v', "'k': v", 'k : v',
      '"a\\nb": 1', 'x: "\\x41"', 'x: "\\u00e9"', 'x: "a\\"b"', 'x: "unterminated', "x: 'unterminated", 'x: "q" tail', 'x: "q" #c',
      '? k', ': v', 'k:v', 'x: 52:54:00:00:00:01', 'x: fd00::1', 'x: fd00::', 'x: http://a/b', 'x: -e vxlan', 'x: a, b', 'x: `t`',
      'g: [a, b]', 'g: [ a ,b ]', 'g: {a: 1, b: x}', 'g: { a: 1 }', 'g: [a, [b]]', 'g: [a,]', 'g: {a: 1, a: 2}', 'g: {a}',
      'g: [a:b]', 'g: [1, null, true, 0x1f, 1.5]', 'g: [-a, - b]', 'g: [a b, c]', 'g: {a: [b]}', 'g: ["q", b]', 'g: [a, b] # c',
      'g: {toString: 1}', 'g: {a: b: c}', 'g: [#a]', 'g: [ ]', '- [a, b]', '- {a: 1}',
      '__proto__: 1', 'constructor: 1', '<<: 1', '1: a', 'true: a', 'x: @a', 'x: %a', 'x:  two  spaces ', '-1', 'k: 9007199254740993',
    );
    const line = fc.tuple(fc.integer({ min: 0, max: 6 }), fragment).map(([n, f]) => ' '.repeat(n) + f);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), (lines) => {
        agreesOrDeclines(lines.join('\n'));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns * 10 },
    );
  });

  // YAML's white space is only space and tab; JS's trim() and \s also take these, which YAML reads as content.
  const UNICODE_SPACES = ['\u00a0', '\u2003', '\u3000', '\ufeff'];

  it('reads Unicode space characters around and inside scalars and keys as yaml does, or declines', () => {
    for (const c of UNICODE_SPACES) {
      const texts = [
        `a: x${c}\n`, `a: ${c}x\n`, `a: x${c}y\n`, `a: ${c}\n`, `a: 1${c}\n`, `a: ${c}# c\n`, `a: x${c}#c\n`, `a: x ${c}\n`,
        `a:\n  b: 1${c}\n`, `a:\n  ${c}b: 1\n`, `a:\n  b${c}: 1\n`, `${c}a: 1\n`, `a${c}: 1\n`, `"${c}a${c}": 1\n`, `'a${c}b': 1\n`,
        `a: [x${c}, y]\n`, `a: [${c}x, y]\n`, `a: [x, ${c}]\n`, `a: {k: ${c}v}\n`, `a: {${c}k: v}\n`, `a: [x, y]${c}\n`,
        `- ${c}x\n`, `- x${c}\n`, `-${c}x\n`, `a: "q"${c}\n`, `a:${c}x\n`, `a:\n- x\n${c}- y\n`, `a: b\n${c}\n`,
      ];
      for (const text of texts) agreesOrDeclines(text);
    }
  });

  it('keeps Unicode space characters in plain scalars instead of trimming them (the fast path still answers)', () => {
    for (const c of UNICODE_SPACES.filter((c) => c !== '\ufeff')) {
      for (const [text, value] of [
        [`a: x${c}\n`, { a: `x${c}` }],
        [`a: ${c}x\n`, { a: `${c}x` }],
        [`a: 1${c}\n`, { a: `1${c}` }],
        [`a: ${c}\n`, { a: c }],
        [`a: [x${c}, ${c}y]\n`, { a: [`x${c}`, `${c}y`] }],
        [`- ${c}x\n`, [`${c}x`]],
      ] as const) {
        const fast = readPlainYaml(text, 64);
        expect(fast, JSON.stringify(text)).toBeDefined();
        expect(fast!.value).toEqual(value);
        expectSame(fast!, viaYaml(text), text);
      }
    }
  });

  it('agrees with yaml or declines on keys, values and flow items with Unicode space characters anywhere', () => {
    const text = (pieces: readonly string[]) => fc.array(fc.constantFrom(...pieces, ...UNICODE_SPACES), { minLength: 1, maxLength: 6 }).map((p) => p.join(''));
    const scalar = text(['x', '1', ' ', '#', ' #c', ':', '-']);
    const value = fc.oneof(scalar, fc.array(scalar, { minLength: 1, maxLength: 3 }).map((items) => `[${items.join(',')}]`));
    const entry = fc.tuple(fc.boolean(), text(['k', '"k"', ' ']), value).map(([seq, key, v]) => (seq ? `- ${v}` : `${key}: ${v}`));
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), (lines) => {
        // One kind per document: all sequence items, or all `key: value` lines under one parent key.
        const items = lines.filter((l) => l.startsWith('- '));
        agreesOrDeclines(items.length > 0 ? items.join('\n') : `top:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns * 10 },
    );
  });

  it('declines what it leaves to yaml: anchors, tags, block scalars, floats, duplicates, tabs, CR', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  x\n', 'a: 1.5\n', 'a: 1\na: 2\n', 'a:\n\tb: 1\n', 'a: 1\r\n', 'a: "\\x41"\n', 'a: [1, [2]]\n', 'a:\n  multi\n  line\n']) {
      expect(readPlainYaml(text, 64), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('declines what nests deeper than the loader allows, which the loader then refuses', () => {
    const deep = Array.from({ length: MAX_NESTING + 2 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    expect(readPlainYaml(deep, MAX_NESTING)).toBeUndefined();
    expect(() => parseStateText(deep, 's')).toThrow(/nests \d+ levels deep/);
  });

  it('reads the shapes states use: nested maps, indented and unindented sequences, compact mappings, comments', () => {
    const text = ['# head', 'version: 1', 'nodes:', '  n1: # trailing', '    pdc: p1', 'rules:', '- name: r', '  port: 4789', '  nodes:', '  - n1', '  - "n2"', 'empty:', 'list: []', ''].join('\n');
    expect(readPlainYaml(text, 64)).toEqual({
      value: { version: 1, nodes: { n1: { pdc: 'p1' } }, rules: [{ name: 'r', port: 4789, nodes: ['n1', 'n2'] }], empty: null, list: [] },
    });
    expectSame(readPlainYaml(text, 64)!, viaYaml(text), text);
  });
});
