/**
 * The check before a varpd restart (src/files-config/varpd-table-check.ts)
 * says a table fails exactly where varpd's files plugin would fail to start
 * on it (docs/smartos-rules.md#before-a-restart). Each case is also run
 * through the simulated varpd's parser (test/harness/smartos-rules.mjs), an
 * independent reading of the same source, so the two cannot drift apart
 * unnoticed; where they differ on purpose the case says why.
 */
import { describe, expect, it } from 'vitest';
import { etherAtonAccepts, varpdTableProblem } from '../../src/files-config/varpd-table-check.js';
// @ts-expect-error: a plain .mjs module of the harness, without types
import { parseVarpdFilesConfig } from '../harness/smartos-rules.mjs';

const ok = (s: string): boolean => varpdTableProblem(Buffer.from(s, 'utf8')) === undefined;
const sim = (s: string): boolean => (parseVarpdFilesConfig(s) as { error?: string }).error === undefined;
const entry = '{"arp":"10.0.0.1","ip":"192.168.1.2","port":4789}';

describe('varpdTableProblem', () => {
  const good = [
    '{}',
    '  \n{}',
    `{"02:00:00:00:00:01":${entry}}`,
    `{"02:00:00:00:00:01":${entry},\n "2:0:0:0:0:2": {"port": -1, "x": [1, "a", true, null, {}]}}`,
    '{} trailing text is never read',
    `{"02:00:00:00:00:01":{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0065"}}`,
    // An entry varpd would drop lookups for (port 0, no ip) does not fail the start.
    '{"02:00:00:00:00:01":{"port":0}}',
  ];
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /no '\{' or '\['/],
    ['"x"', /no '\{' or '\['/],
    ['[]', /array/],
    [`[${entry}]`, /array/],
    [`{"02:00:00:00:00:01":${entry},}`, /trailing comma/],
    ['{"02:00:00:00:00:01":{"port":4789.0}}', /fraction/],
    ['{"02:00:00:00:00:01":{"port":1e3}}', /fraction or an exponent/],
    ['{"02:00:00:00:00:01":{"ok":True}}', /no value/],
    ['{"02:00:00:00:00:01":{"ok":nul}}', /bare word "nul"/],
    ['{"02:00:00:00:00:01":{"s":"\\x"}}', /escape/],
    ['{"02:00:00:00:00:01":{"s":"\\u0200"}}', /above 127/],
    ['{"02:00:00:00:00:01":{"s":"open', /ends inside a string/],
    ['{"02:00:00:00:00:01":{"port":4789}', /',' or '\}'/],
    ['{"02:00:00:00:00:01":"x"}', /not an object/],
    ['{"02:00:00:00:00:01":5}', /not an object/],
    [`{"not-a-mac":${entry}}`, /not a MAC address/],
    [`{"02:00:00:00:00":${entry}}`, /not a MAC address/],
    // A NUL byte ends the text for varpd's parser.
    [`{"02:00:00:00:00:01":${entry}\0}`, /',' or '\}'/],
  ];

  it.each(good)('starts on %j, as the simulated varpd does', (s) => {
    expect(ok(s)).toBe(true);
    expect(sim(s)).toBe(true);
  });

  it.each(bad)('refuses %j, as the simulated varpd does', (s, why) => {
    const p = varpdTableProblem(Buffer.from(s, 'utf8'));
    expect(p?.reason).toMatch(why);
    expect(sim(s)).toBe(false);
  });

  it('gives the byte offset where the parser stops', () => {
    expect(varpdTableProblem(Buffer.from('{"a":1,}'))).toEqual({ reason: "a key expected after ',' (no trailing comma)", offset: 8 });
  });

  it('a member holding an array passes: varpd stores arrays as nvlists too (the simulated varpd refuses it, stricter than illumos)', () => {
    expect(ok('{"02:00:00:00:00:01":[1,2]}')).toBe(true);
  });

  it('the last of a repeated key decides, as in an nvlist of unique names', () => {
    expect(ok(`{"02:00:00:00:00:01":"x","02:00:00:00:00:01":${entry}}`)).toBe(true);
    expect(ok(`{"02:00:00:00:00:01":${entry},"02:00:00:00:00:01":"x"}`)).toBe(false);
  });

  it('nesting deeper than the stack is refused, not thrown', () => {
    const deep = `{"02:00:00:00:00:01":${'['.repeat(200_000)}`;
    expect(varpdTableProblem(Buffer.from(deep))?.reason).toMatch(/nested too deep|ends|expected|no value/);
  });
});

describe('etherAtonAccepts (sscanf " %x:%x:%x:%x:%x:%x")', () => {
  it.each(['02:00:00:00:00:01', '2:0:0:0:0:1', 'AA:bb:0C:d:e:F', ' 02:00:00:00:00:01', '02:00:00:00:00:01junk', '0x2:0:0:0:0:1', '102:0:0:0:0:1'])('takes %j', (k) => {
    expect(etherAtonAccepts(k)).toBe(true);
  });
  it.each(['', '02:00:00:00:00', '02-00-00-00-00-01', 'g2:00:00:00:00:01', '02 :00:00:00:00:01', '0x:0:0:0:0:1'])('refuses %j', (k) => {
    expect(etherAtonAccepts(k)).toBe(false);
  });
});
