import { describe, expect, it } from 'vitest';
import { pskFromCfgdb, pskToCfgdb } from '../../src/ipsec/cfgdb.js';
import { newPsk } from '../../src/ipsec/psk.js';

describe("Danube's cfgdb key names (<a>-<b>), read and written only for the cfgdb layout", () => {
  const k1 = newPsk();
  const k2 = newPsk();

  it('writes code-point ordered <a>-<b> names', () => {
    const out = pskToCfgdb([{ nodes: ['node-b.dc', 'node-a.dc'], key: k1 }]);
    expect([...out.entries()]).toEqual([['node-a.dc-node-b.dc', k1]]);
  });

  it('reads names whose hostnames hold "-" by splitting against the known nodes', () => {
    const nodes = ['cn-01.prg', 'cn-02.brn', 'x'];
    const read = pskFromCfgdb(new Map([['cn-01.prg-cn-02.brn', k1], ['cn-02.brn-x', k2]]), nodes);
    expect(read.issues).toEqual([]);
    expect(read.keys).toEqual([
      { nodes: ['cn-01.prg', 'cn-02.brn'], key: k1 },
      { nodes: ['cn-02.brn', 'x'], key: k2 },
    ]);
  });

  it('round-trips whatever the hostnames look like', () => {
    const nodes = ['a', 'a-b', 'b', 'b-c', 'c'];
    const keys = [
      { nodes: ['a', 'b-c'] as const, key: k1 },
      { nodes: ['a-b', 'c'] as const, key: k2 },
    ];
    // "a-b-c" is ambiguous here: both pairs would be written to one name.
    const written = pskToCfgdb(keys);
    expect(written.size).toBe(1);
    const read = pskFromCfgdb(written, nodes);
    expect(read.keys).toEqual([]);
    expect(read.issues[0]!.message).toMatch(/splits into known nodes in 2 ways \(a \+ b-c, a-b \+ c\)/);
    // Without the ambiguity, the structured form comes back unchanged.
    const clear = [{ nodes: ['a-b', 'b-c'] as const, key: k1 }];
    expect(pskFromCfgdb(pskToCfgdb(clear), nodes).keys).toEqual(clear);
  });

  it('accepts the locale-ordered name Danube\'s bash may have created, and prefers code-point order on conflict', () => {
    const nodes = ['Zeta', 'alpha'];
    // Code point: "Zeta" < "alpha"; a locale sort puts alpha first.
    const onlyLocale = pskFromCfgdb(new Map([['alpha-Zeta', k1]]), nodes);
    expect(onlyLocale.keys).toEqual([{ nodes: ['Zeta', 'alpha'], key: k1 }]);
    const both = pskFromCfgdb(new Map([['alpha-Zeta', k1], ['Zeta-alpha', k2]]), nodes);
    expect(both.keys).toEqual([{ nodes: ['Zeta', 'alpha'], key: k2 }]);
    expect(both.issues).toHaveLength(1);
    expect(both.issues[0]!.message).toContain('Zeta-alpha (code-point order');
  });

  it('skips unknown names and malformed values without showing the value', () => {
    const read = pskFromCfgdb(new Map([['gone-x', k1], ['cn1-cn2', 'secret-but-short']]), ['cn1', 'cn2', 'x']);
    expect(read.keys).toEqual([]);
    expect(read.issues.map((i) => i.value)).toEqual(['cn1-cn2', 'gone-x']);
    expect(JSON.stringify(read.issues)).not.toContain('secret-but-short');
    expect(JSON.stringify(read.issues)).not.toContain(k1);
  });
});
