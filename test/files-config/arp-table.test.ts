import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { arpTable } from '../../src/files-config/arp-table.js';
import { ARP_TABLE_MODE, filesConfigGenerator } from '../../src/files-config/generator.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { desiredNode } from '../../src/plan/desired-state.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { node, rawModel, threeNodes, validModel } from '../support/state-fixtures.js';

/** Every ARP table of a model, by node and path, as parsed JSON (through the streamed form). */
function tables(model: Model): Map<string, Map<string, Record<string, Record<string, unknown>>>> {
  const ctx = new RenderContext(model);
  const out = new Map<string, Map<string, Record<string, Record<string, unknown>>>>();
  for (const n of model.nodes) {
    const files = new Map<string, Record<string, Record<string, unknown>>>();
    for (const f of filesConfigGenerator(ctx, n).files ?? []) files.set(f.path, JSON.parse(fileText(f)));
    out.set(n.name, files);
  }
  return out;
}

const NET = '/opt/custom/networking/net_overlay.json';
const vnic = (nodeName: string, mac: string, ip: string, tag = 'net/100', ip6?: string) =>
  ip6 === undefined ? { node: nodeName, mac, ip, nic_tag: tag } : { node: nodeName, mac, ip, nic_tag: tag, ip6 };

describe('underlay address of an entry', () => {
  const model = validModel(
    threeNodes({
      vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1'), vnic('a2', '52:54:00:00:00:02', '10.10.0.2'), vnic('b1', '52:54:00:00:00:03', '10.10.0.3')],
    }),
  );
  const t = tables(model);

  it('is the owner\'s admin IP when both nodes share a PDC', () => {
    expect(t.get('a1')!.get(NET)!['52:54:00:00:00:02']).toEqual({ arp: '10.10.0.2', ip: '10.100.0.2', port: 4790 });
  });

  it('is the owner\'s external IP when the PDCs differ', () => {
    expect(t.get('a1')!.get(NET)!['52:54:00:00:00:03']).toEqual({ arp: '10.10.0.3', ip: '203.0.113.1', port: 4790 });
    expect(t.get('b1')!.get(NET)!['52:54:00:00:00:01']).toEqual({ arp: '10.10.0.1', ip: '198.51.100.1', port: 4790 });
  });

  it('a fixed listen IP is accepted on a rule with exactly one node: it binds there, and the table has no peer to point at', () => {
    const doc = threeNodes({
      overlay_rules: { net: { port: 4790, nodes: ['a1'], listen_ip: '192.0.2.50' } },
      vnics: [vnic('a1', '52:54:00:00:00:02', '10.10.0.2')],
    });
    const model = validModel(doc);
    expect(model.ruleByName.get('net')!.listenIp).toBe('192.0.2.50');
    expect(tables(model).get('a1')!.get(NET)).toEqual({});
  });

  it('a fixed listen IP on a rule with several nodes is refused: every entry would point at one address', () => {
    const doc = threeNodes({ overlay_rules: { net: { port: 4790, nodes: 'all', listen_ip: '192.0.2.50' } } });
    expect(() => validModel(doc)).toThrow(/overlay_rules\.net\.listen_ip.*has 3 nodes/s);
  });

  it('writes the port as a JSON number (varpd drops packets for a string port)', () => {
    const text = fileText(filesConfigGenerator(new RenderContext(model), model.nodeByName.get('a1')!).files![0]!);
    expect(text).toContain('"port": 4790\n');
    expect(text).not.toContain('"4790"');
  });
});

describe('which entries a table holds', () => {
  it('leaves out the NICs of the node itself', () => {
    const model = validModel(threeNodes({ vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1'), vnic('a2', '52:54:00:00:00:02', '10.10.0.2')] }));
    const t = tables(model);
    expect(Object.keys(t.get('a1')!.get(NET)!)).toEqual(['52:54:00:00:00:02']);
    expect(Object.keys(t.get('a2')!.get(NET)!)).toEqual(['52:54:00:00:00:01']);
    expect(Object.keys(t.get('b1')!.get(NET)!)).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:02']);
  });

  it('adds "ndp" (RFC 5952 form) for a NIC with an IPv6 address', () => {
    const model = validModel(threeNodes({ vnics: [vnic('a2', '52:54:00:00:00:02', '10.10.0.2', 'net/100', '2001:DB8:0:0::0:2')] }));
    expect(tables(model).get('a1')!.get(NET)!['52:54:00:00:00:02']).toEqual({
      arp: '10.10.0.2',
      ip: '10.100.0.2',
      ndp: '2001:db8::2',
      port: 4790,
    });
  });

  it('gives a node outside the rule no file, and lists its NICs nowhere', () => {
    const doc = threeNodes({
      overlay_rules: { net: { port: 4790, nodes: ['a1', 'a2'] }, other: { port: 4791, nodes: 'all' } },
      vnics: [
        vnic('a2', '52:54:00:00:00:02', '10.10.0.2'),
        vnic('b1', '52:54:00:00:00:03', '10.10.0.3', 'other/7'),
        // Inconsistent on purpose (b1 does not have "net"): validation refuses it, and even
        // without validation no table may list it.
        vnic('b1', '52:54:00:00:00:04', '10.10.0.4'),
      ],
    });
    expect(() => validModel(doc)).toThrow(/vnics\[2\]\.node: does not have rule net/);
    const t = tables(rawModel(doc));
    expect([...t.get('b1')!.keys()]).toEqual(['/opt/custom/networking/other_overlay.json']);
    for (const [, files] of t) {
      for (const [path, table] of files) {
        expect(table).not.toHaveProperty('52:54:00:00:00:04');
        if (path === NET) expect(Object.values(table).map((e) => e.ip)).not.toContain('203.0.113.1');
      }
    }
    expect(t.get('a1')!.get('/opt/custom/networking/other_overlay.json')!['52:54:00:00:00:03']!.ip).toBe('203.0.113.1');
  });

  it('lists every VNI of the rule in one table', () => {
    const model = validModel(threeNodes({ vnics: [vnic('a2', '52:54:00:00:00:02', '10.10.0.2', 'net/100'), vnic('a2', '52:54:00:00:00:05', '10.10.0.2', 'net/200')] }));
    expect(Object.keys(tables(model).get('a1')!.get(NET)!)).toEqual(['52:54:00:00:00:02', '52:54:00:00:00:05']);
  });

  it('lists every node\'s adminoverlay vNIC in the adminoverlay table, with VM NICs on it', () => {
    const doc = threeNodes({
      adminoverlay: {
        subnet: '10.44.0.0/24',
        port: 4791,
        nodes: { a1: { ip: '10.44.0.11', mac: '02:e5:dc:00:00:01' }, a2: { ip: '10.44.0.12', mac: '02:e5:dc:00:00:02' }, b1: { ip: '10.44.0.13', mac: '02:e5:dc:00:00:03' } },
      },
      vnics: [vnic('b1', '52:54:00:00:00:09', '10.44.0.100', 'adminoverlay/2')],
    });
    const t = tables(validModel(doc)).get('a1')!.get('/opt/custom/networking/adminoverlay_overlay.json')!;
    expect(t).toEqual({
      '02:e5:dc:00:00:02': { arp: '10.44.0.12', ip: '10.100.0.2', port: 4791 },
      '02:e5:dc:00:00:03': { arp: '10.44.0.13', ip: '203.0.113.1', port: 4791 },
      '52:54:00:00:00:09': { arp: '10.44.0.100', ip: '203.0.113.1', port: 4791 },
    });
  });
});

describe('file form', () => {
  it('keys are lower-case, zero-padded MACs in order; 2-space JSON; mode 0400 netadm:netadm; varpd restart', () => {
    const model = validModel(threeNodes({ vnics: [vnic('b1', '52:54:0:AB:0:1', '10.10.0.9'), vnic('a2', '2:0:0:0:0:A', '10.10.0.8')] }));
    const file = filesConfigGenerator(new RenderContext(model), model.nodeByName.get('a1')!).files![0]!;
    expect(fileText(file)).toBe(
      '{\n' +
        '  "02:00:00:00:00:0a": {\n    "arp": "10.10.0.8",\n    "ip": "10.100.0.2",\n    "port": 4790\n  },\n' +
        '  "52:54:00:ab:00:01": {\n    "arp": "10.10.0.9",\n    "ip": "203.0.113.1",\n    "port": 4790\n  }\n' +
        '}\n',
    );
    expect(file).toMatchObject({ path: NET, mode: ARP_TABLE_MODE, owner: 'netadm', group: 'netadm', secret: false, refresh: 'varpd' });
    expect(ARP_TABLE_MODE).toBe(0o400);
  });

  it('is "{}" when no other node has a NIC on the rule', () => {
    const model = validModel(threeNodes({ vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1')] }));
    const ctx = new RenderContext(model);
    expect(fileText(filesConfigGenerator(ctx, model.nodeByName.get('a1')!).files![0]!)).toBe('{}\n');
  });

  it('streams large tables in chunks that join to JSON.stringify of the table', () => {
    const vnics = Array.from({ length: 3000 }, (_, i) =>
      vnic(['a1', 'a2', 'b1'][i % 3]!, `52:54:00:00:${((i >> 8) & 255).toString(16)}:${(i & 255).toString(16)}`, `10.10.${i >> 8}.${i & 255}`, 'net/100', i % 5 === 0 ? `2001:db8::${i.toString(16)}` : undefined),
    );
    const model = validModel(threeNodes({ vnics }));
    const ctx = new RenderContext(model);
    for (const n of model.nodes) {
      const file = filesConfigGenerator(ctx, n).files![0]!;
      const chunks = [...file.content()];
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.join('')).toBe(`${JSON.stringify(arpTable(model, model.ruleByName.get('net')!, n), null, 2)}\n`);
      expect([...file.content()].join('')).toBe(chunks.join('')); // every call yields the same bytes
      expect(Object.keys(JSON.parse(chunks.join(''))).length).toBe(2000);
    }
  });
});

describe('work shared between nodes', () => {
  it('compiles each rule once and computes underlay addresses once per PDC', () => {
    class CountingContext extends RenderContext {
      readonly computed: string[] = [];
      override shared<T>(key: string, fn: () => T): T {
        return super.shared(key, () => {
          this.computed.push(key);
          return fn();
        });
      }
    }
    const doc = threeNodes({ vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1')] });
    doc.nodes!.a3 = node('a', '10.100.0.3', '198.51.100.3');
    const model = validModel(doc);
    const ctx = new CountingContext(model);
    for (const n of model.nodes) desiredNode(ctx, n).files.forEach((f) => fileText(f));
    expect(ctx.computed.filter((k) => k.startsWith('files-config:')).sort()).toEqual([
      'files-config:column:net:a',
      'files-config:column:net:b',
      'files-config:rule:net',
    ]);
  });
});

describe('states the old tool got wrong are refused', () => {
  const refused = (doc: StateDoc): ValidationError => {
    try {
      validModel(doc);
    } catch (err) {
      if (err instanceof ValidationError) return err;
      throw err;
    }
    throw new Error('the state was accepted');
  };

  it('more than one PDC and nodes without an external IP: names every such node', () => {
    const doc = threeNodes();
    doc.nodes!.a2 = node('a', '10.100.0.2');
    doc.nodes!.b2 = node('b', '10.101.0.2');
    const err = refused(doc);
    expect(err.message).toMatch(/spans 2 PDCs \(a, b\), so every node needs an external_ip; missing on a2, b2/);
  });

  it('one PDC and no external IPs is fine (admin network only)', () => {
    const doc: StateDoc = { version: 1, nodes: { a1: node('a', '10.100.0.1'), a2: node('a', '10.100.0.2') }, overlay_rules: { net: { port: 4790 } } };
    expect(validModel(doc).issues).toEqual([]);
  });

  it('two NICs with one MAC, even spelled differently', () => {
    const err = refused(threeNodes({ vnics: [vnic('a1', '52:54:00:0a:00:01', '10.10.0.1'), vnic('b1', '52:54:0:A:0:1', '10.10.0.2')] }));
    expect(err.issues).toContainEqual({ path: 'vnics[1].mac', value: '52:54:00:0a:00:01', message: 'is also the MAC of vnics[0].mac' });
  });

  it('a VM NIC with the MAC of a node\'s adminoverlay vNIC', () => {
    const err = refused(
      threeNodes({
        adminoverlay: { subnet: '10.44.0.0/24', port: 4791, nodes: { a1: { ip: '10.44.0.11', mac: '02:e5:dc:00:00:01' } } },
        vnics: [vnic('b1', '02:E5:DC:00:00:01', '10.10.0.1')],
      }),
    );
    expect(err.message).toContain('vnics[0].mac: is also the MAC of adminoverlay.nodes.a1.mac');
  });

  it('one overlay IP twice on one rule and VNI (but not on two VNIs)', () => {
    const err = refused(threeNodes({ vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1'), vnic('b1', '52:54:00:00:00:02', '10.10.0.1')] }));
    expect(err.issues).toContainEqual({ path: 'vnics[1].ip', value: '10.10.0.1', message: 'is also the address of vnics[0] on net/100' });
    expect(validModel(threeNodes({ vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1', 'net/100'), vnic('b1', '52:54:00:00:00:02', '10.10.0.1', 'net/101')] })).issues).toEqual([]);
  });

  it('one IPv6 address twice on one rule and VNI, however spelled', () => {
    const err = refused(threeNodes({ vnics: [vnic('a1', '52:54:00:00:00:01', '10.10.0.1', 'net/100', '2001:db8::1'), vnic('b1', '52:54:00:00:00:02', '10.10.0.2', 'net/100', '2001:DB8:0::1')] }));
    expect(err.issues).toContainEqual({ path: 'vnics[1].ip6', value: '2001:DB8:0::1', message: 'is also the address of vnics[0] on net/100' });
  });

  it('a VM NIC on the adminoverlay VNI holding a node\'s adminoverlay address', () => {
    const err = refused(
      threeNodes({
        adminoverlay: { subnet: '10.44.0.0/24', port: 4791, nodes: { a1: { ip: '10.44.0.11', mac: '02:e5:dc:00:00:01' } } },
        vnics: [vnic('b1', '52:54:00:00:00:09', '10.44.0.11', 'adminoverlay/2')],
      }),
    );
    expect(err.issues).toContainEqual({ path: 'vnics[0].ip', value: '10.44.0.11', message: 'is also the adminoverlay address of node a1' });
  });
});
