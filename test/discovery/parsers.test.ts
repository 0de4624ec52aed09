import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseOverlayStatus, parseShowOverlay, showOverlayLostInstances } from '../../src/discovery/dladm.js';
import { readShowOverlayResult } from '../../src/apply/show-overlay.js';
import { TransportError } from '../../src/transport/transport.js';
import { mergeDiscovery } from '../../src/discovery/merge.js';
import { parseSysinfo } from '../../src/discovery/sysinfo.js';
import { parseVmadmLookup } from '../../src/discovery/vmadm.js';
import { FIXTURES } from '../support/paths.js';

/** A node's `sysinfo` as SmartOS prints it: admin on ixgbe0, external on a VLAN-0 vNIC, the adminoverlay vNIC. */
const SYSINFO = JSON.parse(readFileSync(join(FIXTURES, 'discovery', 'sysinfo-node01.json'), 'utf8')) as Record<string, unknown>;

function issuesOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  throw new Error('no ValidationError');
}

describe('sysinfo', () => {
  it('gives hostname, UUID, PDC, admin and external IPs, MTUs, overlay rules and overlays', () => {
    expect(parseSysinfo(SYSINFO)).toEqual({
      hostname: 'node01.local',
      uuid: '564d1a2b-0001-4a6e-9c1e-000000000001',
      pdc: 'prg',
      adminIp: '10.0.66.11',
      externalIp: '203.0.113.140',
      mtu: { admin: 9000 },
      overlayRules: { adminoverlay: '-e vxlan -p vxlan/listen_port=4792' },
      overlays: ['adminoverlay2'],
    });
  });
  it('names every bad field', () => {
    const bad = { ...SYSINFO, Hostname: 'bad host', 'Datacenter Name': 'prg;reboot', 'Network Interfaces': { e0: { ip4addr: '10.0.0.300', 'NIC Names': ['admin'], MTU: 'big' } } };
    expect(issuesOf(() => parseSysinfo(bad))).toEqual([
      { path: 'Hostname', value: 'bad host', message: 'is not a valid hostname' },
      { path: 'Datacenter Name', value: 'prg;reboot', message: 'is not a valid datacenter name' },
      { path: 'Network Interfaces.e0.ip4addr', value: '10.0.0.300', message: 'is not an IPv4 address' },
    ]);
  });
  it('requires an admin interface', () => {
    expect(issuesOf(() => parseSysinfo({ ...SYSINFO, 'Network Interfaces': {} }))).toEqual([
      expect.objectContaining({ path: 'Network Interfaces', message: expect.stringContaining('admin network') }),
    ]);
  });
});

describe('vmadm lookup -j', () => {
  const vms = [
    { uuid: '0B1E0000-0000-4000-8000-000000000001', nics: [
      { mac: '52:54:0:AA:0:1', ip: '10.10.0.1', nic_tag: 'customers/1000', vlan_id: 10 },
      { mac: '52:54:00:aa:00:02', ip: '10.0.0.5', nic_tag: 'admin' },
      { mac: '52:54:00:aa:00:03', ip: 'dhcp', nic_tag: 'customers/1000' },
    ] },
    { uuid: '0b1e0000-0000-4000-8000-000000000002' },
  ];
  it('keeps NICs on overlay tags with a static IPv4, normalised', () => {
    expect(parseVmadmLookup(vms, 'node01')).toEqual([
      { vm: '0b1e0000-0000-4000-8000-000000000001', node: 'node01', mac: '52:54:00:aa:00:01', ip: '10.10.0.1', nic_tag: 'customers/1000', vlan_id: 10 },
    ]);
  });
  it('names the VM and field of bad input', () => {
    expect(issuesOf(() => parseVmadmLookup([{ uuid: 'x' }, { uuid: vms[1]!.uuid, nics: [{ mac: 'zz', ip: '1.2.3.4', nic_tag: 'a/1' }] }], 'n'))).toEqual([
      { path: '[0].uuid', value: 'x', message: 'is not a UUID' },
      { path: '[1].nics[0].mac', value: 'zz', message: 'is not a MAC address' },
    ]);
    expect(issuesOf(() => parseVmadmLookup({}, 'n'))).toEqual([{ path: '', message: 'is not a JSON array of VMs' }]);
  });
});

describe('dladm show-overlay -f -p', () => {
  it('reads link:status:details, a degraded overlay with its reason (escaped colons included)', () => {
    expect(parseOverlayStatus('customers1000:DEGRADED:no varpd instance exists\nlab2000:ONLINE:-\nx1:DEGRADED:a\\:b\n')).toEqual([
      { link: 'customers1000', status: 'DEGRADED', details: 'no varpd instance exists' },
      { link: 'lab2000', status: 'ONLINE', details: '-' },
      { link: 'x1', status: 'DEGRADED', details: 'a:b' },
    ]);
  });
  it('refuses a status dladm does not print, naming the line', () => {
    expect(() => parseOverlayStatus('c1000:FAULTED:-\n')).toThrow(ValidationError);
    expect(() => parseOverlayStatus('c1000:ONLINE\n')).toThrow(ValidationError);
  });
  it("refuses details with control characters (they would reach the operator's terminal)", () => {
    expect(() => parseOverlayStatus('c1000:DEGRADED:gone\u001b[2Jaway\n')).toThrow(ValidationError);
  });
});

describe('dladm show-overlay -p', () => {
  it('reads link:property:value with escaped colons', () => {
    const m = parseShowOverlay('c1000:vxlan/listen_port:4790\nc1000:files/config:/a\\:b\nadminoverlay2:mtu:1300\n');
    expect([...m.keys()]).toEqual(['c1000', 'adminoverlay2']);
    expect(m.get('c1000')!.get('files/config')).toBe('/a:b');
  });
  it('refuses lines it does not understand', () => {
    expect(() => parseShowOverlay('garbage\n')).toThrow(ValidationError);
  });
  it('reads every link name dladm allows, a "." included (dladm_valid_linkname)', () => {
    const m = parseShowOverlay('vx.lab7:mtu:1400\nc1000:mtu:1388\n');
    expect([...m.keys()]).toEqual(['vx.lab7', 'c1000']);
  });
  it('refuses link names dladm refuses: a leading digit, a leading zero in the number, 32 characters', () => {
    for (const bad of ['1lab7', 'lab07', `${'a'.repeat(30)}10`]) {
      expect(() => parseShowOverlay(`${bad}:mtu:1400\n`), bad).toThrow(ValidationError);
    }
  });
});

describe('dladm show-overlay with an overlay whose varpd instance is gone (exit 1, a warning each)', () => {
  const warn = (l: string, id = 3): string => `dladm: warning: failed to get varpd props for overlay ${l}, varpd id ${id}: ok\n`;
  it('names the overlays warned about when every stderr line is that warning', () => {
    expect(showOverlayLostInstances(1, warn('danube2999') + warn('vx.lab7', 12))).toEqual(['danube2999', 'vx.lab7']);
    expect(showOverlayLostInstances(1, warn('c1000').replace('dladm', '/usr/sbin/dladm'))).toEqual(['c1000']);
  });
  it('is no such case otherwise: exit 0 or 2, another message beside it, no message, a link dladm would refuse', () => {
    expect(showOverlayLostInstances(0, '')).toBeUndefined();
    expect(showOverlayLostInstances(2, warn('c1000'))).toBeUndefined();
    expect(showOverlayLostInstances(1, '')).toBeUndefined();
    expect(showOverlayLostInstances(1, `${warn('c1000')}dladm: failed to find x: object not found\n`)).toBeUndefined();
    expect(showOverlayLostInstances(1, warn('1lab7'))).toBeUndefined();
    expect(showOverlayLostInstances(1, 'dladm: warning: failed to get overlay properties for overlay c1000: Bad file number\n')).toBeUndefined();
  });
  it('the read keeps the listing (the lost overlay without files/config) and names the overlay; anything else fails as before', () => {
    const stdout = 'c1000:files/config:/a.json\nc1000:mtu:1400\ndanube2999:mtu:1400\n';
    const r = readShowOverlayResult('n1', { code: 1, stdout, stderr: warn('danube2999') });
    expect([...r.overlays.keys()]).toEqual(['c1000', 'danube2999']);
    expect(r.overlays.get('danube2999')!.has('files/config')).toBe(false);
    expect([...r.noInstance]).toEqual(['danube2999']);
    expect(() => readShowOverlayResult('n1', { code: 1, stdout, stderr: warn('other3') })).toThrow(TransportError);
    expect(() => readShowOverlayResult('n1', { code: 1, stdout, stderr: 'dladm: something else\n' })).toThrow(/exit 1/);
    expect([...readShowOverlayResult('n1', { code: 0, stdout, stderr: '' }).noInstance]).toEqual([]);
  });
});

describe('recording discovered facts in the state', () => {
  const doc = {
    version: 1 as const,
    nodes: { 'node01.local': { uuid: '564d1a2b-0001-4a6e-9c1e-000000000001', pdc: 'prg', admin_ip: '10.0.66.1', ssh: { port: 2222 } } },
    overlay_rules: { customers: {} },
    vnics: [
      { node: 'node02.local', mac: '52:54:00:aa:00:01', ip: '10.10.0.1', nic_tag: 'customers/1000' },
      { node: 'node01.local', mac: '52:54:00:aa:00:09', ip: '10.10.0.9', nic_tag: 'customers/1000' },
    ],
  };
  it('updates facts, keeps ssh settings, replaces the node\'s NICs, and drops a moved VM from its old node', () => {
    const facts = parseSysinfo(SYSINFO);
    const vnics = [{ node: 'node01.local', mac: '52:54:00:aa:00:01', ip: '10.10.0.1', nic_tag: 'customers/1000' }, { node: 'node01.local', mac: '52:54:00:cc:00:01', ip: '10.9.0.1', nic_tag: 'other/5' }];
    const { doc: next, changes } = mergeDiscovery(doc, [{ facts, vnics, ssh: undefined }]);
    expect(next.nodes!['node01.local']).toEqual({ uuid: '564d1a2b-0001-4a6e-9c1e-000000000001', pdc: 'prg', admin_ip: '10.0.66.11', external_ip: '203.0.113.140', underlay_mtu: { admin: 9000, external: 1500 }, ssh: { port: 2222 } });
    expect(next.vnics).toEqual([{ node: 'node01.local', mac: '52:54:00:aa:00:01', ip: '10.10.0.1', nic_tag: 'customers/1000' }]);
    expect(changes['node01.local']).toEqual([
      'admin_ip: 10.0.66.1 → 10.0.66.11',
      'external_ip: (none) → 203.0.113.140',
      'underlay_mtu: 1500 → {"admin":9000,"external":1500}',
      'skipped NIC 52:54:00:cc:00:01 10.9.0.1 on other/5: the state has no rule other',
      '- vnic 52:54:00:aa:00:09 10.10.0.9 on customers/1000',
      '+ vnic 52:54:00:aa:00:01 10.10.0.1 on customers/1000',
      'note: the node has overlay rule adminoverlay, which the state does not',
    ]);
    expect(changes['node02.local']).toEqual(['- vnic 52:54:00:aa:00:01 10.10.0.1 on customers/1000 (now on node01.local)']);
    expect(doc.nodes['node01.local'].admin_ip).toBe('10.0.66.1');
  });
});
