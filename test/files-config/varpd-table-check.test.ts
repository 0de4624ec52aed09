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
    // An array is an nvlist to varpd (libvarpd_files_json.c:417-467), so a member holding one passes.
    '{"02:00:00:00:00:01":[1,2]}',
    '{"02:00:00:00:00:01":[]}',
    // ether_aton_r is sscanf(" %x:%x:%x:%x:%x:%x") (ether_addr.c:296): white space, a sign and 0x
    // before a part, more than two digits, and text after the sixth part are all taken.
    '{" 02:00:00:00:00:01":{}}',
    '{"0x2:0X0:+0:-1:0:1":{}}',
    '{"102:0:0:0:0:1":{}}',
    '{"02:00:00:00:00:01junk":{}}',
    '{"02: 00:00:00:00:01":{}}',
    // A 0x with no hex digit after it: the 0 is the part and the x is left (doscan.c:752-770); after
    // the sixth part what is left is never read.
    '{"1:2:3:4:5:0x":{}}',
    '{"1:2:3:4:5:0xg":{}}',
    // sscanf keeps up to 62 characters of a number (doscan.c:779-782).
    `{"${'0'.repeat(61)}2:0:0:0:0:1":{}}`,
    // A \u0000 escape ends the C string varpd keeps for a key or a string value.
    '{"02:00:00:00:00:01\\u0000junk":{"ip":"10.0.0.1\\u0000x"}}',
    // A NUL byte after the top-level value is never read.
    '{}\0 garbage',
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
    // White space is C's isspace (libvarpd_files_json.c:179): no byte-order mark, no no-break space.
    ['\ufeff{}', /no '\{' or '\['/],
    ['\u00a0{}', /no '\{' or '\['/],
    // A part of 63 characters or more is too long for sscanf (doscan.c:779-782).
    [`{"${'0'.repeat(62)}2:0:0:0:0:1":{}}`, /not a MAC address/],
    ['{"0x:0:0:0:0:1":{}}', /not a MAC address/],
    ['{"- 1:0:0:0:0:1":{}}', /not a MAC address/],
    ['{"02:00:00:00:00:01":true}', /not an object/],
    ['{"02:00:00:00:00:01":null}', /not an object/],
    ['{"02:00:00:00:00:01":[1,]}', /no value/],
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
  it.each(['02:00:00:00:00:01', '2:0:0:0:0:1', 'AA:bb:0C:d:e:F', ' 02:00:00:00:00:01', '02:00:00:00:00:01junk', '0x2:0:0:0:0:1', '102:0:0:0:0:1', '1:2:3:4:5:0x', '+0x2:0:0:0:0:1', `${'f'.repeat(62)}:0:0:0:0:1`])('takes %j', (k) => {
    expect(etherAtonAccepts(k)).toBe(true);
  });
  it.each(['', '02:00:00:00:00', '02-00-00-00-00-01', 'g2:00:00:00:00:01', '02 :00:00:00:00:01', '0x:0:0:0:0:1', '0xg:0:0:0:0:1', `${'f'.repeat(63)}:0:0:0:0:1`, '+-1:0:0:0:0:1'])('refuses %j', (k) => {
    expect(etherAtonAccepts(k)).toBe(false);
  });
});
