/** The one comparison of a node's sysinfo facts with the state (daemon status and verify). */
import { describe, expect, it } from 'vitest';
import { compareFacts, describeFactChange, recordFactsCommand } from '../../src/discovery/facts.js';
import type { NodeFacts } from '../../src/discovery/sysinfo.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

const model = validModel(threeNodes());
const a1 = model.nodeByName.get('a1')!;
const same: NodeFacts = { hostname: 'a1', uuid: a1.uuid.toUpperCase(), pdc: a1.pdc, adminIp: a1.adminIp, externalIp: a1.externalIp, mtu: {}, overlayRules: {}, overlays: [] };

describe('compareFacts', () => {
  it('finds nothing when sysinfo matches (UUIDs compared without case)', () => {
    expect(compareFacts(a1, same)).toEqual([]);
  });

  it('names each changed fact with the state and node values, in a fixed order', () => {
    const facts: NodeFacts = { ...same, hostname: 'a9', pdc: 'z', externalIp: '198.51.100.99', mtu: { admin: 9000, external: a1.underlayMtu.external } };
    expect(compareFacts(a1, facts)).toEqual([
      { field: 'hostname', state: 'a1', node: 'a9' },
      { field: 'pdc', state: a1.pdc, node: 'z' },
      { field: 'external_ip', state: a1.externalIp ?? '(none)', node: '198.51.100.99' },
      { field: 'admin_mtu', state: String(a1.underlayMtu.admin), node: '9000' },
    ]);
  });

  it('does not compare what sysinfo does not give (no external interface, no MTU)', () => {
    expect(compareFacts(a1, { ...same, externalIp: undefined, mtu: {} })).toEqual([]);
  });

  it('says how to record the change, with --replace only for a new UUID', () => {
    const ip = compareFacts(a1, { ...same, adminIp: '10.100.0.77' });
    expect(ip.map(describeFactChange)).toEqual([`admin_ip ${a1.adminIp} → 10.100.0.77`]);
    expect(recordFactsCommand('a1', ip)).toBe('esdc-overlay nodes discover a1');
    const uuid = compareFacts(a1, { ...same, uuid: '564d0000-0000-4000-8000-0000000000ff' });
    expect(recordFactsCommand('a1', uuid)).toBe('esdc-overlay nodes discover a1 --replace');
  });
});
