import { describe, expect, it } from 'vitest';
import { generateInstallation } from '../../bench/generate-installation.js';
import { AddressPool, handOutOrder, parseReserved } from '../../src/adminoverlay/addresses.js';
import { initAdminOverlay, parseAssignments, updateAdminOverlay } from '../../src/adminoverlay/edit.js';
import { ADMIN_OVERLAY_MAC_PREFIX, newAdminOverlayMac, type RandomSource } from '../../src/adminoverlay/mac.js';
import { parseAdminSubnet } from '../../src/adminoverlay/subnet.js';
import { ConflictError, ValidationError } from '../../src/errors.js';
import type { StateDoc } from '../../src/model/state.js';
import { intToIpv4, ipv4ToInt } from '../../src/net/ipv4.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

const installation = (nodes: number): StateDoc => generateInstallation({ nodes, pdcs: 1, rules: 1, nics: 0, seed: 1 });
const init = (doc: StateDoc, subnet: string, extra: Partial<Parameters<typeof initAdminOverlay>[2]> = {}) =>
  initAdminOverlay(doc, validModel(doc), { subnet, ...extra });
const ips = (doc: StateDoc): string[] => Object.values(doc.adminoverlay!.nodes!).map((m) => m.ip);

describe('the subnet', () => {
  it('is accepted as CIDR and as Danube\'s net/dotted-netmask', () => {
    expect(parseAdminSubnet('10.44.0.0/24')).toMatchObject({ cidr: '10.44.0.0/24', netmask: '255.255.255.0', prefix: 24 });
    expect(parseAdminSubnet('10.44.0.0/255.255.252.0')).toMatchObject({ cidr: '10.44.0.0/22', prefix: 22 });
  });

  it('is refused with host bits set (naming the network meant), a broken mask, or no room for a node', () => {
    expect(() => parseAdminSubnet('10.44.0.5/24')).toThrow(/host bits set: the network of 10\.44\.0\.5\/24 is 10\.44\.0\.0\/24/);
    expect(() => parseAdminSubnet('10.44.0.0/255.0.255.0')).toThrow(/netmask 255\.0\.255\.0, whose one bits are not contiguous/);
    expect(() => parseAdminSubnet('10.44.0.0/31')).toThrow(/prefix length of 1-30/);
    expect(() => parseAdminSubnet('10.44.0.0')).toThrow(/must be a network as 10\.44\.0\.0\/24/);
    expect(() => parseAdminSubnet('10.44.0.300/24')).toThrow(ValidationError);
  });
});

describe('address hand-out', () => {
  it('goes numerically from subnet + 11 to the last host, then the low hosts; never network or broadcast', () => {
    const order = [...handOutOrder(parseAdminSubnet('10.44.0.0/24'))].map(intToIpv4);
    expect(order).toHaveLength(254);
    expect(order.slice(0, 3)).toEqual(['10.44.0.11', '10.44.0.12', '10.44.0.13']);
    expect(order.slice(243, 246)).toEqual(['10.44.0.254', '10.44.0.1', '10.44.0.2']);
    expect(order).not.toContain('10.44.0.0');
    expect(order).not.toContain('10.44.0.255');
  });

  it('250 nodes in a /24 get 250 distinct host addresses, .11 first', () => {
    const { doc } = init(installation(250), '10.44.0.0/24');
    const got = ips(doc);
    expect(new Set(got).size).toBe(250);
    expect(doc.adminoverlay!.nodes!['cn0001.pdc01.example.com']!.ip).toBe('10.44.0.11');
    expect(doc.adminoverlay!.nodes!['cn0244.pdc01.example.com']!.ip).toBe('10.44.0.254');
    expect(doc.adminoverlay!.nodes!['cn0245.pdc01.example.com']!.ip).toBe('10.44.0.1');
    for (const ip of got) expect(ipv4ToInt(ip) & 255).not.toBeOneOf([0, 255]);
    expect(validModel(doc).issues).toEqual([]);
  });

  it('with .1-.10 reserved a /24 holds 244 nodes (.11-.254); the 245th and 246th fail naming the subnet', () => {
    const reserved = parseReserved('10.44.0.1-10.44.0.10');
    expect(ips(init(installation(244), '10.44.0.0/24', { reserved }).doc)).toHaveLength(244);
    for (const n of [245, 246]) {
      const attempt = () => init(installation(n), '10.44.0.0/24', { reserved });
      expect(attempt).toThrow(ConflictError);
      expect(attempt).toThrow(/adminoverlay subnet 10\.44\.0\.0\/24 is full: no free address left for cn0245\.pdc01\.example\.com/);
    }
  });

  it('compares addresses as numbers: with .9 and .100 taken, new nodes get .11, .12 (Danube\'s string compare gave .10/.100 twice)', () => {
    const doc = installation(4);
    const names = Object.keys(doc.nodes!);
    const { doc: d1 } = init(doc, '10.44.0.0/24', { assignments: [{ node: names[0]!, ip: '10.44.0.9' }, { node: names[1]!, ip: '10.44.0.100' }] });
    expect(ips(d1)).toEqual(['10.44.0.9', '10.44.0.100', '10.44.0.11', '10.44.0.12']);
  });

  it('skips addresses held by VM NICs on the adminoverlay, by nodes, and --reserve', () => {
    const doc = installation(3);
    doc.nodes!['cn0001.pdc01.example.com']!.admin_ip = '10.44.0.11';
    const { doc: d1 } = init(doc, '10.44.0.0/24', { reserved: parseReserved('10.44.0.12,10.44.0.13/32') });
    expect(ips(d1)).toEqual(['10.44.0.14', '10.44.0.15', '10.44.0.16']);
    // A VM NIC on the adminoverlay holds .17: a node added later skips it (and --reserve, which is not stored, is given again).
    const d2: StateDoc = {
      ...d1,
      nodes: { ...d1.nodes!, 'cn9.pdc01.example.com': { uuid: '564d0000-0000-4000-8000-00000000ffff', pdc: 'pdc01', admin_ip: '10.100.9.9' } },
      vnics: [{ node: 'cn0002.pdc01.example.com', mac: '52:54:00:00:00:01', ip: '10.44.0.17', nic_tag: 'adminoverlay/2' }],
    };
    const { doc: d3 } = updateAdminOverlay(d2, validModel(d2), { reserved: parseReserved('10.44.0.12-10.44.0.13') });
    expect(d3.adminoverlay!.nodes!['cn9.pdc01.example.com']!.ip).toBe('10.44.0.18');
    // Without --reserve the low reserved address is free again.
    expect(updateAdminOverlay(d2, validModel(d2), {}).doc.adminoverlay!.nodes!['cn9.pdc01.example.com']!.ip).toBe('10.44.0.12');
  });

  it('a pool that is exhausted stays exhausted', () => {
    const pool = new AddressPool(parseAdminSubnet('10.44.0.0/30'), []);
    expect([pool.take('a'), pool.take('b')].map(intToIpv4)).toEqual(['10.44.0.1', '10.44.0.2']);
    expect(() => pool.take('c')).toThrow(/10\.44\.0\.0\/30 is full: no free address left for c \(2 host addresses/);
  });
});

describe('MACs', () => {
  it('are locally administered unicast under 02:e5:dc and come from the random source', () => {
    const { doc } = init(installation(50), '10.44.0.0/24');
    const macs = Object.values(doc.adminoverlay!.nodes!).map((m) => m.mac);
    expect(new Set(macs).size).toBe(50);
    for (const mac of macs) {
      expect(mac).toMatch(/^02:e5:dc:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
      const first = parseInt(mac.slice(0, 2), 16);
      expect(first & 2).toBe(2); // locally administered
      expect(first & 1).toBe(0); // unicast
    }
    expect(ADMIN_OVERLAY_MAC_PREFIX).toBe('02:e5:dc');
  });

  it('are unique among every MAC in the state, VM NICs included', () => {
    const draws = [[1, 2, 3], [1, 2, 3], [4, 5, 6]];
    const random: RandomSource = () => Uint8Array.from(draws.shift()!);
    const taken = new Set(['02:e5:dc:01:02:03']);
    expect(newAdminOverlayMac(taken, random)).toBe('02:e5:dc:04:05:06');
    expect(taken.has('02:e5:dc:04:05:06')).toBe(true);

    const doc = threeNodes({ vnics: [{ node: 'a1', mac: '02:E5:DC:1:2:3', ip: '10.10.0.1', nic_tag: 'net/1' }] });
    const seq = [[1, 2, 3], [7, 7, 7], [8, 8, 8], [9, 9, 9]];
    const { doc: d1 } = initAdminOverlay(doc, validModel(doc), { subnet: '10.44.0.0/24' }, () => Uint8Array.from(seq.shift()!));
    expect(Object.values(d1.adminoverlay!.nodes!).map((m) => m.mac)).toEqual(['02:e5:dc:07:07:07', '02:e5:dc:08:08:08', '02:e5:dc:09:09:09']);
  });

  it('a broken random source is an error, not an endless loop', () => {
    expect(() => newAdminOverlayMac(new Set(['02:e5:dc:00:00:00']), () => new Uint8Array(3))).toThrow(/in 1000 tries/);
  });
});

describe('adminoverlay-init', () => {
  it('creates the adminoverlay rule on all nodes: VNI 2, VLAN 2, MTU 1300, next free port pinned', () => {
    const doc = threeNodes({ overlay_rules: { net: { port: 4795 } } });
    const { doc: d1, result } = init(doc, '10.44.0.0/255.255.255.0');
    expect(d1.adminoverlay).toMatchObject({ subnet: '10.44.0.0/24', port: 4796, vxlan_id: 2, vlan_id: 2, mtu: 1300 });
    expect(result.port).toBe(4796);
    const model = validModel(d1);
    expect(model.ruleByName.get('adminoverlay')).toMatchObject({ port: 4796, mtu: 1300, nodes: ['a1', 'a2', 'b1'] });
  });

  it('refuses an existing adminoverlay, unknown nodes, addresses outside the subnet or in use, a taken port', () => {
    const doc = threeNodes();
    const { doc: d1 } = init(doc, '10.44.0.0/24');
    expect(() => init(d1, '10.45.0.0/24')).toThrow(/exists already \(subnet 10\.44\.0\.0\/24\); change node addresses with adminoverlay-update/);
    expect(() => init(doc, '10.44.0.0/24', { assignments: [{ node: 'zz', ip: '10.44.0.20' }] })).toThrow(/nodes\[0\]: is not a known node/);
    expect(() => init(doc, '10.44.0.0/24', { assignments: [{ node: 'a1', ip: '10.45.0.20' }] })).toThrow(/is outside the adminoverlay subnet 10\.44\.0\.0\/24/);
    expect(() => init(doc, '10.44.0.0/24', { assignments: [{ node: 'a1', ip: '10.44.0.255' }] })).toThrow(/network or broadcast address/);
    expect(() => init(doc, '10.44.0.0/24', { port: 4790 })).toThrow(/port 4790 is already used by rule net/);
  });

  it('parses node=ip lists and refuses duplicates', () => {
    expect(parseAssignments(' a1=10.44.0.20, ,b1=10.44.0.21,')).toEqual([{ node: 'a1', ip: '10.44.0.20' }, { node: 'b1', ip: '10.44.0.21' }]);
    expect(() => parseAssignments('a1=10.44.0.20,a1=10.44.0.21')).toThrow(/names a node twice/);
    expect(() => parseAssignments('a1=10.44.0.20,b1=10.44.0.20')).toThrow(/gives one address to a1 and b1/);
    expect(() => parseAssignments('a1')).toThrow(/must be node=ip/);
    expect(() => parseAssignments('a1=10.44.0')).toThrow(/is not an IPv4 address \(for a1\)/);
  });
});

describe('adminoverlay-update', () => {
  const base = (): StateDoc => init(threeNodes(), '10.44.0.0/24').doc;

  it('changing an address keeps the MAC', () => {
    const d1 = base();
    const before = d1.adminoverlay!.nodes!.a2!;
    const { doc: d2, result } = updateAdminOverlay(d1, validModel(d1), { assignments: [{ node: 'a2', ip: '10.44.0.99' }] });
    expect(d2.adminoverlay!.nodes!.a2).toEqual({ ip: '10.44.0.99', mac: before.mac });
    expect(d2.adminoverlay!.nodes!.a1).toEqual(d1.adminoverlay!.nodes!.a1);
    expect(result.members.find((m) => m.node === 'a2')).toMatchObject({ kind: 'address changed', before: { ip: before.ip } });
  });

  it('two nodes may swap addresses in one update', () => {
    const d1 = base();
    const [a1, a2] = [d1.adminoverlay!.nodes!.a1!, d1.adminoverlay!.nodes!.a2!];
    const { doc: d2 } = updateAdminOverlay(d1, validModel(d1), { assignments: [{ node: 'a1', ip: a2.ip }, { node: 'a2', ip: a1.ip }] });
    expect(d2.adminoverlay!.nodes!.a1).toEqual({ ip: a2.ip, mac: a1.mac });
    expect(validModel(d2).issues).toEqual([]);
  });

  it('refuses an address another node keeps', () => {
    const d1 = base();
    expect(() => updateAdminOverlay(d1, validModel(d1), { assignments: [{ node: 'a1', ip: d1.adminoverlay!.nodes!.b1!.ip }] })).toThrow(
      /is in use: the adminoverlay address of b1/,
    );
  });

  it('gives new nodes an address and a MAC, drops members of nodes no longer known, keeps everyone else', () => {
    const d1 = base();
    const d2: StateDoc = { ...d1, nodes: { ...d1.nodes! } };
    delete d2.nodes!.b1;
    d2.nodes!.c1 = { uuid: '564d0000-0000-4000-8000-0000000000c1', pdc: 'a', admin_ip: '10.100.0.9', external_ip: '198.51.100.9' };
    const { doc: d3, result } = updateAdminOverlay(d2, validModel({ ...d2, adminoverlay: { ...d2.adminoverlay!, nodes: {} } }), {});
    expect(Object.keys(d3.adminoverlay!.nodes!)).toEqual(['a1', 'a2', 'c1']);
    // b1's address (.13) is free once b1 is gone; a1 and a2 keep .11 and .12.
    expect(d3.adminoverlay!.nodes!.c1!.ip).toBe('10.44.0.13');
    expect(d3.adminoverlay!.nodes!.c1!.mac).toMatch(/^02:e5:dc:/);
    expect(d3.adminoverlay!.nodes!.a1).toEqual(d1.adminoverlay!.nodes!.a1);
    expect(result.members.map((m) => [m.node, m.kind])).toEqual([
      ['a1', 'unchanged'],
      ['a2', 'unchanged'],
      ['b1', 'removed (not a known node)'],
      ['c1', 'added'],
    ]);
    expect(validModel(d3).issues).toEqual([]);
  });

  it('without a section says to run adminoverlay-init', () => {
    const doc = threeNodes();
    expect(() => updateAdminOverlay(doc, validModel(doc), {})).toThrow(/adminoverlay-init <subnet>/);
  });
});
