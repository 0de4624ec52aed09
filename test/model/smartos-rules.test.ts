/**
 * What SmartOS refuses, refused in validation (issue 16, defects 1, 2, 3, 9,
 * 10): each rule's source is in docs/smartos-rules.md. Every case here
 * loaded (or was refused) differently before the fix.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError, type ValidationIssue } from '../../src/errors.js';
import { loadStateText } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';

const CN1 = 'cn01.prg.example.com';
const CN2 = 'cn02.brn.example.com';

function base(): StateDoc {
  return {
    version: 1,
    nodes: {
      [CN1]: { uuid: '564d1a2b-0001-4a6e-9c1e-000000000001', pdc: 'prg', admin_ip: '10.100.0.11', external_ip: '198.51.100.11' },
      [CN2]: { uuid: '564d1a2b-0002-4a6e-9c1e-000000000002', pdc: 'brn', admin_ip: '10.101.0.12', external_ip: '203.0.113.12' },
    },
    overlay_rules: { customers: { port: 4790, nodes: 'all', mtu: 1400 }, lab: { port: 4791, nodes: 'all', mtu: 1400 } },
    adminoverlay: {
      subnet: '10.44.0.0/24',
      port: 4792,
      nodes: { [CN1]: { ip: '10.44.0.11', mac: '02:e5:dc:00:00:11' }, [CN2]: { ip: '10.44.0.12', mac: '02:e5:dc:00:00:12' } },
    },
    vnics: [
      { node: CN1, mac: '52:54:00:aa:00:01', ip: '10.10.0.1', nic_tag: 'customers/1000' },
      { node: CN1, mac: '52:54:00:bb:00:01', ip: '10.20.0.1', nic_tag: 'lab/2000' },
    ],
  } as StateDoc;
}

function load(doc: StateDoc): { warnings: readonly ValidationIssue[] } {
  return loadStateText(stringify(doc), 'state.yaml');
}

function refused(doc: StateDoc): ValidationIssue[] {
  try {
    load(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return [...(e as ValidationError).issues];
  }
  throw new Error('the state loaded');
}

describe('defect 1: the overlay MTU is 576-8900 (OVERLAY_MTU_MAX), not 9000', () => {
  it('refuses mtu 9000 on a rule, naming the rule, the value and the kernel rule', () => {
    const doc = base();
    doc.overlay_rules!.customers!.mtu = 9000;
    const issues = refused(doc);
    expect(issues).toEqual([
      expect.objectContaining({ path: 'overlay_rules.customers.mtu', value: 9000, message: expect.stringMatching(/<= 8900.*OVERLAY_MTU_MAX/) }),
    ]);
  });

  it('refuses mtu=9000 in a rule string', () => {
    const doc = base();
    doc.overlay_rules!.lab = { nodes: 'all', rule: '-e vxlan -s files -p vxlan/listen_port=4791 -p mtu=9000' };
    const issues = refused(doc);
    expect(issues).toEqual([expect.objectContaining({ path: expect.stringMatching(/^overlay_rules\.lab\.rule/), value: '9000', message: expect.stringMatching(/576-8900/) })]);
  });

  it('refuses 575 on the adminoverlay', () => {
    const doc = base();
    doc.adminoverlay!.mtu = 575;
    expect(refused(doc)).toEqual([expect.objectContaining({ path: 'adminoverlay.mtu', value: 575, message: expect.stringMatching(/>= 576.*OVERLAY_MTU_MIN/) })]);
  });

  it('accepts 8900', () => {
    const doc = base();
    doc.overlay_rules!.customers!.mtu = 8900;
    expect(() => load(doc)).not.toThrow();
  });
});

describe('defect 2: one VXLAN overlay per VNI on a host', () => {
  it('refuses two rules whose NICs use one VNI on one node, naming the node, the VNI and both rules', () => {
    const doc = base();
    doc.vnics![1]!.nic_tag = 'lab/1000';
    const issues = refused(doc);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'vnics[1].nic_tag', value: 1000 });
    expect(issues[0]!.message).toContain(CN1);
    expect(issues[0]!.message).toContain('VNI 1000');
    expect(issues[0]!.message).toMatch(/rules customers and lab/);
    expect(issues[0]!.message).toContain('EEXIST');
  });

  it('counts the adminoverlay vxlan_id', () => {
    const doc = base();
    doc.adminoverlay!.vxlan_id = 2000;
    const issues = refused(doc);
    expect(issues).toEqual([
      expect.objectContaining({ path: 'vnics[1].nic_tag', value: 2000, message: expect.stringMatching(/rules adminoverlay and lab/) }),
    ]);
  });

  it('allows one VNI on different nodes, and one rule with one VNI many times', () => {
    const doc = base();
    doc.vnics!.push({ node: CN2, mac: '52:54:00:bb:00:02', ip: '10.20.0.2', nic_tag: 'lab/1000' });
    doc.vnics!.push({ node: CN1, mac: '52:54:00:aa:00:03', ip: '10.10.0.3', nic_tag: 'customers/1000' });
    doc.overlay_rules!.lab!.nodes = [CN2];
    doc.vnics!.splice(1, 1);
    expect(() => load(doc)).not.toThrow();
  });
});

describe('defect 3: rule names', () => {
  it('refuses a leading digit (dladm link names cannot start with one)', () => {
    const doc = base();
    doc.overlay_rules!['1lab'] = doc.overlay_rules!.lab!;
    delete doc.overlay_rules!.lab;
    doc.vnics!.splice(1, 1);
    const issues = refused(doc);
    expect(issues).toEqual([expect.objectContaining({ path: 'overlay_rules["1lab"]', value: '1lab', message: expect.stringMatching(/not starting with a digit/) })]);
  });

  it('loads a Danube name ending in a digit (customer1) with a warning saying what breaks', () => {
    const doc = base();
    doc.overlay_rules!.customer1 = doc.overlay_rules!.customers!;
    delete doc.overlay_rules!.customers;
    doc.vnics![0]!.nic_tag = 'customer1/1000';
    const { warnings } = load(doc);
    const w = warnings.find((x) => x.path === 'overlay_rules.customer1');
    expect(w?.message).toContain('customer11000, the same link name as rule customer with VNI 11000');
  });

  it('warns that a name ending in 0 gives links dladm refuses', () => {
    const doc = base();
    doc.overlay_rules!.lab0 = doc.overlay_rules!.lab!;
    delete doc.overlay_rules!.lab;
    doc.vnics!.splice(1, 1);
    const { warnings } = load(doc);
    expect(warnings.find((x) => x.path === 'overlay_rules.lab0')?.message).toMatch(/leading zero, which dladm refuses/);
  });
});

describe('defect 9: a fixed vxlan/listen_ip', () => {
  it('is refused on a rule with more than one node', () => {
    const doc = base();
    doc.overlay_rules!.lab!.listen_ip = '10.100.0.11';
    const issues = refused(doc);
    expect(issues).toEqual([
      expect.objectContaining({ path: 'overlay_rules.lab.listen_ip', value: '10.100.0.11', message: expect.stringMatching(/has 2 nodes.*every ARP entry/) }),
    ]);
  });

  it('is accepted on a rule with exactly one node', () => {
    const doc = base();
    doc.overlay_rules!.lab!.listen_ip = '10.100.0.11';
    doc.overlay_rules!.lab!.nodes = [CN1];
    expect(() => load(doc)).not.toThrow();
  });
});

describe('defect 10: a node without an adminoverlay address', () => {
  it('is named in a warning with the command that assigns one', () => {
    const doc = base();
    delete doc.adminoverlay!.nodes![CN2];
    const { warnings } = load(doc);
    expect(warnings).toEqual([
      expect.objectContaining({ path: 'adminoverlay.nodes', value: [CN2], message: expect.stringContaining('esdc-overlay apply --assign-adminoverlay') }),
    ]);
  });

  it('gives no warning when every node has one', () => {
    expect(load(base()).warnings).toEqual([]);
  });
});
