/** The cfgdb layout codec, pure: docs/file-formats.md#cfgdb-layout keys ⇄ our state document. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import {
  decodeRuleValue,
  decodeState,
  derivedAdminMac,
  encodeRuleValue,
  encodeState,
  equivalentText,
  prefixOf,
  pskKeyName,
  resolvePskName,
} from '../../src/store/cfgdb-layout.js';
import { comparableModel } from '../../src/store/compare.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'cfgdb');
const tsv = (name: string): Map<string, string> =>
  new Map(
    readFileSync(join(FIX, name), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)] as [string, string]),
  );
const at = (rel: string): string => `/esdc/settings/${rel}`;
const yaml = () => loadStateText(readFileSync(join(FIX, 'two-sites.yaml'), 'utf8'), 'two-sites.yaml');

describe('rule values', () => {
  it('are base64 of the rule plus a newline, as `echo "$rule" | base64` writes them', () => {
    expect(encodeRuleValue('-e vxlan')).toBe(Buffer.from('-e vxlan\n').toString('base64'));
    expect(decodeRuleValue(encodeRuleValue('-e vxlan -s files'))).toBe('-e vxlan -s files');
  });
  it('decode with line breaks inside, and refuse what is not base64', () => {
    const wrapped = Buffer.from(`${'x'.repeat(100)}\n`).toString('base64').replace(/(.{76})/g, '$1\n');
    expect(decodeRuleValue(wrapped)).toBe('x'.repeat(100));
    expect(decodeRuleValue('-e vxlan')).toBeUndefined();
    expect(decodeRuleValue(Buffer.from([0xff, 0xfe]).toString('base64'))).toBeUndefined();
  });
});

describe('PSK key names <a>-<b>', () => {
  const known = new Set(['cn-01.prg.example.com', 'cn-03.brn.example.com', 'node01.local', 'node09.local']);
  it('resolve when only one split gives two hostnames', () => {
    expect(resolvePskName('node01.local-node09.local', new Set())).toEqual({ nodes: ['node01.local', 'node09.local'] });
  });
  it('resolve hyphenated names against the known nodes', () => {
    expect(resolvePskName('cn-01.prg.example.com-cn-03.brn.example.com', known)).toEqual({
      nodes: ['cn-01.prg.example.com', 'cn-03.brn.example.com'],
    });
  });
  it('report an ambiguous name that no known pair explains, listing the candidates', () => {
    const r = resolvePskName('cn-01.prg.example.com-cn-03.brn.example.com', new Set());
    expect(r).toEqual({ problem: expect.stringMatching(/ambiguous \(cn \+ 01\.prg.*cn-01\.prg\.example\.com \+ cn-03\.brn\.example\.com.*nodes discover/) });
  });
  it('report a name that holds no pair at all', () => {
    expect(resolvePskName('justone', known)).toEqual({ problem: 'is not "<node>-<node>" of two hostnames' });
  });
  // The cases below came from the second PSK-name parser (ipsec/cfgdb.ts), deleted as it served only its test.
  it('are written in code-point order', () => {
    expect(pskKeyName('node-b.dc', 'node-a.dc')).toBe('node-a.dc-node-b.dc');
    expect(pskKeyName('alpha', 'Zeta')).toBe('Zeta-alpha');
  });
  it('report a name that splits into two pairs of known nodes, and round-trip one that does not', () => {
    const nodes = new Set(['a', 'a-b', 'b', 'b-c', 'c']);
    // "a-b-c" is a + b-c and a-b + c: both pairs would be written to one name.
    expect(pskKeyName('a', 'b-c')).toBe(pskKeyName('a-b', 'c'));
    expect(resolvePskName(pskKeyName('a', 'b-c'), nodes)).toEqual({
      problem: expect.stringContaining('ambiguous: a + b-c, a-b + c are all known nodes'),
    });
    expect(resolvePskName(pskKeyName('b-c', 'a-b'), nodes)).toEqual({ nodes: ['a-b', 'b-c'] });
  });
});

describe('netmasks', () => {
  it('give the prefix of contiguous masks only', () => {
    expect(prefixOf('255.255.255.0')).toBe(24);
    expect(prefixOf('255.255.252.0')).toBe(22);
    expect(prefixOf('255.255.255.255')).toBe(32);
    expect(prefixOf('255.0.255.0')).toBeUndefined();
    expect(prefixOf('255.255.256.0')).toBeUndefined();
  });
});

describe('decoding a Danube tree', () => {
  it('gives the two-sites document', () => {
    const { doc, warnings } = decodeState(new Map([...tsv('two-sites.danube.tsv'), ...tsv('two-sites.ours.tsv')]), at, 'cfgdb');
    expect(doc).toEqual(yaml().doc);
    expect(warnings).toEqual([]);
  });

  it('loads a rule Danube named customer1 (ends in a digit), with a warning saying what breaks (issue 16, defect 3)', () => {
    const renamed = new Map(
      [...tsv('two-sites.danube.tsv'), ...tsv('two-sites.ours.tsv')].map(([k, v]) => [k.replace(/^overlay_rules\/lab\//, 'overlay_rules/customer1/'), v] as [string, string]),
    );
    const { doc } = decodeState(renamed, at, 'cfgdb');
    doc.vnics = (doc.vnics ?? []).map((v) => ({ ...v, nic_tag: v.nic_tag.replace(/^lab\//, 'customer1/') }));
    const { model, warnings } = validateDoc(doc, 'cfgdb', 'require');
    expect(model.ruleByName.has('customer1')).toBe(true);
    expect(warnings).toContainEqual(expect.objectContaining({ path: 'overlay_rules.customer1', message: expect.stringMatching(/ends in a digit: its overlay links run into the VNI/) }));
  });

  it('replaces an empty adminoverlay MAC (Danube bug, docs/file-formats.md#danube-defects item 2) by a stable derived one, with a warning', () => {
    const tree = new Map([
      ['adminoverlay/subnet', '10.44.0.0'],
      ['adminoverlay/netmask', '255.255.255.0'],
      ['adminoverlay/nodes/n1.local/ip', '10.44.0.11'],
      ['adminoverlay/nodes/n1.local/mac', ''],
    ]);
    const { doc, warnings } = decodeState(tree, at, 'cfgdb');
    const mac = derivedAdminMac('n1.local');
    expect(mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(doc.adminoverlay).toEqual({ subnet: '10.44.0.0/24', nodes: { 'n1.local': { ip: '10.44.0.11', mac } } });
    expect(warnings).toEqual([expect.objectContaining({ path: '/esdc/settings/adminoverlay/nodes/n1.local/mac', value: mac })]);
  });

  it('reports every unreadable value at once, by znode path', () => {
    const tree = new Map([
      ['overlay_rules/web/port', 'forty'],
      ['overlay_rules/web/nodelist', 'all'],
      ['overlay_rules/web/rule', 'not base64!'],
      ['firewall/globally_enabled', 'yes'],
      ['adminoverlay/subnet', '10.44.0.0'],
      ['adminoverlay/netmask', '255.0.255.0'],
      ['esdc_overlay/nodes/n1.local', '{oops'],
    ]);
    const err = (() => {
      try {
        decodeState(tree, at, 'zk://x/esdc/settings');
      } catch (e) {
        return e;
      }
      return undefined;
    })() as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      '/esdc/settings/adminoverlay/netmask',
      '/esdc/settings/esdc_overlay/nodes/n1.local',
      '/esdc/settings/firewall/globally_enabled',
      '/esdc/settings/overlay_rules/web/port',
      '/esdc/settings/overlay_rules/web/rule',
    ]);
    expect(err.message).toMatch(/^zk:\/\/x\/esdc\/settings is invalid \(5 problems\)/);
  });

  it('refuses a subtree written in a newer format rather than misreading it', () => {
    expect(() => decodeState(new Map([['esdc_overlay/format', '2']]), at, 'cfgdb')).toThrow(/format this version does not know/);
  });

  it('keeps a rule whose port key disagrees with its string as a raw rule, so the model warns', () => {
    const rule = '-e vxlan -p vxlan/listen_port=4800 -s files';
    const { doc } = decodeState(
      new Map([
        ['overlay_rules/web/port', '4801'],
        ['overlay_rules/web/nodelist', 'all'],
        ['overlay_rules/web/rule', encodeRuleValue(rule)],
      ]),
      at,
      'cfgdb',
    );
    expect(doc.overlay_rules).toEqual({ web: { port: 4801, nodes: 'all', rule } });
    const v = validateDoc(doc, 'cfgdb');
    expect(v.model.ruleByName.get('web')!.port).toBe(4800);
    expect(v.warnings.map((w) => w.message)).toContain('differs from the rule string (4800), which wins');
  });
});

describe('encoding then decoding', () => {
  it('is the identity on the two-sites state (document and model)', () => {
    const y = yaml();
    const { doc } = decodeState(encodeState(y.doc, y.model), at, 'cfgdb');
    expect(doc).toEqual(y.doc);
    expect(comparableModel(validateDoc(doc, 'cfgdb').model)).toEqual(comparableModel(y.model));
  });

  it('writes the Danube keys exactly as the Danube fixture has them', () => {
    const y = yaml();
    const tree = encodeState(y.doc, y.model);
    for (const [rel, value] of tsv('two-sites.danube.tsv')) if (!rel.startsWith('dc/')) expect([rel, tree.get(rel)]).toEqual([rel, value]);
  });

  it('pins a floating adminoverlay port and a default MTU: the normal form, a fixed point after one round', () => {
    const y = loadStateText(
      'version: 1\nnodes: {}\noverlay_rules: { web: { port: 4790, nodes: all } }\nadminoverlay: { subnet: 10.44.0.0/24 }\n',
      'x',
    );
    const once = decodeState(encodeState(y.doc, y.model), at, 'x').doc;
    expect(once.adminoverlay).toEqual({ subnet: '10.44.0.0/24', port: 4791, mtu: 1300 });
    expect(once.overlay_rules).toEqual({ web: { port: 4790, nodes: 'all', mtu: 1400 } });
    const m = validateDoc(once, 'x').model;
    expect(comparableModel(m)).toEqual(comparableModel(y.model));
    expect(decodeState(encodeState(once, m), at, 'x').doc).toEqual(once);
  });
});

describe('equivalent texts', () => {
  it('treat Danube spellings of the same value as unchanged', () => {
    expect(equivalentText('overlay_rules/a/nodelist', 'n1, n2,', 'n1,n2')).toBe(true);
    expect(equivalentText('overlay_rules/a/rule', `${encodeRuleValue('-e vxlan')}`.replace(/(.{4})/, '$1\n'), encodeRuleValue('-e vxlan'))).toBe(true);
    expect(equivalentText('esdc_overlay/nodes/n1', '{"b":1,"a":2}', '{"a":2,"b":1}')).toBe(true);
    expect(equivalentText('overlay_rules/a/port', '4790\n', '4790')).toBe(true);
    expect(equivalentText('overlay_rules/a/port', '4790', '4791')).toBe(false);
  });
});

describe('an adminoverlay rule without adminoverlay settings', () => {
  it('is ignored with a warning that says it goes at the next change', () => {
    const { doc, warnings } = decodeState(
      new Map([
        ['overlay_rules/adminoverlay/port', '4792'],
        ['overlay_rules/adminoverlay/nodelist', 'all'],
        ['overlay_rules/adminoverlay/rule', encodeRuleValue('-e vxlan -p vxlan/listen_port=4792 -s files -p mtu=1300')],
      ]),
      at,
      'cfgdb',
    );
    expect(doc).toEqual({ version: 1 });
    expect(warnings).toEqual([expect.objectContaining({ path: '/esdc/settings/overlay_rules/adminoverlay', message: expect.stringMatching(/subnet does not/) })]);
  });
});

describe('a rule string the model cannot use (state copied as inconsistent)', () => {
  it('is written back as it was, so store migrate copies it faithfully', () => {
    const y = loadStateText(
      'version: 1\noverlay_rules: { web: { port: 4800, nodes: [n9.local], rule: "-e vxlan -p vxlan/listen_port=4800 -s files -p vxlan/foo=1" } }\n',
      'x',
      'warn',
    );
    expect(y.model.issues.length).toBeGreaterThan(0);
    const back = decodeState(encodeState(y.doc, y.model), at, 'x').doc;
    expect(back).toEqual(y.doc);
  });
});
