import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { loadStateText } from '../../src/model/load.js';
import { EXAMPLE } from '../support/paths.js';

describe('the bundled examples load unchanged', () => {
  it('two-sites.yaml gives the model the file describes', async () => {
    const { model, warnings } = loadStateText(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
    expect(warnings).toEqual([]);
    expect(model.nodes.map((n) => [n.name, n.pdc])).toEqual([
      ['cn01.prg.example.com', 'prg'],
      ['cn02.prg.example.com', 'prg'],
      ['cn03.brn.example.com', 'brn'],
      ['cn04.brn.example.com', 'brn'],
      ['cn05.ams.example.com', 'ams'],
    ]);
    expect(model.pdcs).toEqual(['ams', 'brn', 'prg']);
    expect(model.nodeByName.get('cn03.brn.example.com')!.underlayMtu).toEqual({ admin: 9000, external: 1500 });
    expect(model.nodeByName.get('cn01.prg.example.com')!.underlayMtu).toEqual({ admin: 1500, external: 1500 });
    expect(model.rules.map((r) => [r.name, r.port, r.mtu, r.nodes.length])).toEqual([
      ['adminoverlay', 4792, 1300, 5],
      ['customers', 4790, 1400, 5],
      ['lab', 4791, 1400, 2],
    ]);
    expect(model.adminOverlay).toMatchObject({ netmask: '255.255.255.0', vxlanId: 2, vlanId: 2 });
    expect(model.vnics[4]).toMatchObject({ rule: 'lab', vni: 1001, vlanId: 0, mac: '52:54:00:bb:00:05' });
    expect(model.firewall).toEqual({ enabled: true, administratorSources: ['192.0.2.0/26', '198.51.100.200'] });
  });

  it('JSON is accepted as well as YAML', () => {
    const json = JSON.stringify({
      version: 1,
      nodes: { 'cn01.example.com': { uuid: '564d1a2b-0001-4a6e-9c1e-000000000001', pdc: 'a', admin_ip: '10.0.0.1' } },
      overlay_rules: { net: { port: 4790 } },
    });
    const { model } = loadStateText(json, 'state.json');
    expect(model.ruleByName.get('net')).toMatchObject({ nodes: ['cn01.example.com'], mtu: 1400, listenIp: '0.0.0.0' });
  });
});

describe('validation reports every problem at once', () => {
  it('lists shape problems from several sections in one error', () => {
    const text = [
      'version: 1',
      'nodes:',
      '  cn01.example.com: { uuid: x, pdc: a, admin_ip: 10.0.0.400 }',
      'overlay_rules:',
      '  1lab: { port: 99999 }',
      'vnics:',
      '  - { node: cn01.example.com, mac: "zz", ip: 1.2.3.4, nic_tag: lab/1 }',
    ].join('\n');
    try {
      loadStateText(text, 's');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const paths = (e as ValidationError).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'nodes["cn01.example.com"].uuid',
          'nodes["cn01.example.com"].admin_ip',
          'overlay_rules["1lab"]',
          'overlay_rules["1lab"].port',
          'vnics[0].mac',
        ]),
      );
    }
  });

  it('lists consistency problems together', () => {
    const text = [
      'version: 1',
      'nodes:',
      '  a.example.com: { uuid: 564d1a2b-0001-4a6e-9c1e-000000000001, pdc: p, admin_ip: 10.0.0.1 }',
      'overlay_rules:',
      '  one: { port: 4790, nodes: [a.example.com, b.example.com] }',
      '  two: { port: 4790 }',
      'vnics:',
      '  - { node: c.example.com, mac: "52:54:00:00:00:01", ip: 10.1.0.1, nic_tag: three/5 }',
    ].join('\n');
    try {
      loadStateText(text, 's');
      expect.unreachable();
    } catch (e) {
      const issues = (e as ValidationError).issues;
      expect(issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'overlay_rules.two.port', value: 4790 }),
          expect.objectContaining({ path: 'vnics[0].node', value: 'c.example.com' }),
          expect.objectContaining({ path: 'vnics[0].nic_tag', value: 'three/5' }),
        ]),
      );
    }
  });

  it('a rule naming a node not known yet loads, with a warning (Danube allows future nodes)', () => {
    const text = [
      'version: 1',
      'nodes:',
      '  a.example.com: { uuid: 564d1a2b-0001-4a6e-9c1e-000000000001, pdc: p, admin_ip: 10.0.0.1 }',
      'overlay_rules:',
      '  one: { port: 4790, nodes: [a.example.com, b.example.com] }',
    ].join('\n');
    const { warnings, model } = loadStateText(text, 's');
    expect(warnings).toContainEqual(expect.objectContaining({ path: 'overlay_rules.one.nodes[1]', value: 'b.example.com' }));
    expect(model.ruleByName.get('one')!.nodes).toEqual(['a.example.com']);
  });

  it('read-only loading turns consistency problems into warnings', () => {
    const text = 'version: 1\noverlay_rules:\n  one: { port: 4790, nodes: [gone.example.com] }\n';
    const { warnings, model } = loadStateText(text, 's', 'warn');
    expect(warnings).toContainEqual(expect.objectContaining({ path: 'overlay_rules.one.nodes[0]' }));
    expect(model.ruleByName.get('one')!.nodes).toEqual([]);
  });

  it('an older Danube rule name loads with a warning', () => {
    const { warnings } = loadStateText('version: 1\noverlay_rules:\n  "net9_": { port: 4790 }\n', 's');
    expect(warnings).toContainEqual(expect.objectContaining({ path: 'overlay_rules.net9_' }));
  });

  it('refuses oversized and absurdly nested input quickly', () => {
    const deep = `version: 1\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    const t0 = performance.now();
    expect(() => loadStateText(deep, 's')).toThrow(/nests 10000 levels/);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
