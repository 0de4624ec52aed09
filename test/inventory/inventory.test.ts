import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEventLine } from '../../src/inventory/events.js';
import { affectedRules, mergeInventory, type MergeInput } from '../../src/inventory/merge.js';
import { parseLookup, parseVmObject, type VmObservation } from '../../src/inventory/observation.js';
import type { VnicDoc } from '../../src/model/state.js';

const VM1 = '0b1e0000-0000-4000-8000-000000000001';
const VM2 = '0b1e0000-0000-4000-8000-000000000002';
const MAC1 = '52:54:00:aa:00:01';

function vmObject(uuid: string, state: string, nics: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { uuid, zonename: uuid, alias: 'web', state, brand: 'joyent', nics, ...extra };
}

function obs(uuid: string, node: string, state: string, nics: Array<{ mac: string; ip: string; tag: string; vlan?: number }>, dni = false): VmObservation {
  return { uuid, node, state, doNotInventory: dni, nics: nics.map((n) => ({ vm: uuid, node, mac: n.mac, ip: n.ip, nicTag: n.tag, vlan: n.vlan ?? 0 })) };
}

function views(...vms: VmObservation[]): Map<string, Map<string, VmObservation>> {
  const out = new Map<string, Map<string, VmObservation>>();
  for (const vm of vms) {
    const m = out.get(vm.node) ?? new Map<string, VmObservation>();
    m.set(vm.uuid, vm);
    out.set(vm.node, m);
  }
  return out;
}

const RULES = new Map([['customers', new Set(['cn01', 'cn02', 'cn03'])], ['lab', new Set(['cn01'])]]);

describe('VM objects', () => {
  it('keeps overlay NICs with a static IPv4, with state and do_not_inventory', () => {
    const r = parseVmObject(
      vmObject(VM1.toUpperCase(), 'running', [
        { mac: '52:54:0:AA:0:1', ip: '10.0.0.1', nic_tag: 'customers/1000', vlan_id: 10 },
        { mac: '52:54:00:aa:00:02', ip: '192.0.2.1', nic_tag: 'external' },
        { mac: '52:54:00:aa:00:03', ip: 'dhcp', nic_tag: 'customers/1000' },
      ], { do_not_inventory: true }),
      'cn01',
    );
    expect(r).toEqual({
      ok: true,
      vm: { uuid: VM1, node: 'cn01', state: 'running', doNotInventory: true, nics: [{ vm: VM1, node: 'cn01', mac: MAC1, ip: '10.0.0.1', nicTag: 'customers/1000', vlan: 10 }] },
    });
  });

  it('names the field of a bad NIC and never throws', () => {
    expect(parseVmObject(vmObject(VM1, 'running', [{ mac: 'zz', ip: '10.0.0.1', nic_tag: 'customers/1000' }]), 'cn01', 'vm')).toEqual({
      ok: false,
      issues: [{ path: 'vm.nics[0].mac', value: 'zz', message: 'is not a MAC address' }],
    });
    expect(parseVmObject('x', 'cn01').ok).toBe(false);
    expect(parseVmObject({ uuid: 'not-a-uuid' }, 'cn01').ok).toBe(false);
    expect(parseVmObject(vmObject(VM1, 'run;ning', []), 'cn01').ok).toBe(false);
  });

  it('fails a whole lookup on one bad VM (a resync must not drop a VM silently)', () => {
    const r = parseLookup([vmObject(VM1, 'running', []), vmObject(VM2, 'running', [{ mac: MAC1, ip: '10.0.0.300', nic_tag: 'customers/1000' }])], 'cn01');
    expect(r).toEqual({ ok: false, issues: [{ path: '[1].nics[0].ip', value: '10.0.0.300', message: 'is not an IPv4 address' }] });
    expect(parseLookup({}, 'cn01').ok).toBe(false);
  });
});

describe('vmadm events -jr lines', () => {
  const date = '2026-11-30T21:00:00.000Z';
  it('reads ready, create, modify and delete as vmadm prints them', () => {
    expect(parseEventLine(JSON.stringify({ type: 'ready', date, uuid: 'e2b0b1c8-0000-4000-8000-000000000000', vms: {} }), 'cn01')).toEqual({ kind: 'ready', date });
    const vm = vmObject(VM1, 'running', [{ mac: MAC1, ip: '10.0.0.1', nic_tag: 'customers/1000' }]);
    const created = parseEventLine(JSON.stringify({ type: 'create', date, zonename: VM1, uuid: VM1, vm }), 'cn01');
    expect(created).toMatchObject({ kind: 'upsert', type: 'create', vm: { uuid: VM1, state: 'running', nics: [{ mac: MAC1 }] } });
    const modified = parseEventLine(JSON.stringify({ type: 'modify', date, zonename: VM1, uuid: VM1, vm: { ...vm, state: 'stopped' }, changes: [{ path: ['state'] }] }), 'cn01');
    expect(modified).toMatchObject({ kind: 'upsert', type: 'modify', vm: { state: 'stopped' } });
    expect(parseEventLine(JSON.stringify({ type: 'delete', date, zonename: VM1, uuid: VM1 }), 'cn01')).toEqual({ kind: 'delete', date, uuid: VM1 });
  });

  it('gives malformed and unknown lines as results, never a throw', () => {
    expect(parseEventLine('{"type":"create"', 'cn01').kind).toBe('malformed');
    expect(parseEventLine('[]', 'cn01').kind).toBe('malformed');
    expect(parseEventLine(JSON.stringify({ type: 'create', date, zonename: VM1 }), 'cn01').kind).toBe('malformed');
    expect(parseEventLine(JSON.stringify({ type: 'create', date: 'yesterday', zonename: VM1, vm: vmObject(VM1, 'running', []) }), 'cn01').kind).toBe('malformed');
    // The event's zonename and its VM's uuid disagree: whose NICs would they be?
    expect(parseEventLine(JSON.stringify({ type: 'create', date, zonename: VM2, vm: vmObject(VM1, 'running', []) }), 'cn01').kind).toBe('malformed');
    expect(parseEventLine(JSON.stringify({ type: 'rename', date, zonename: VM1 }), 'cn01')).toEqual({ kind: 'unknown', type: 'rename' });
  });

  it('never throws on any string', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseEventLine(s, 'cn01')), { numRuns: 500 });
    fc.assert(fc.property(fc.json(), (s) => void parseEventLine(s, 'cn01')), { numRuns: 500 });
  });
});

describe('merge', () => {
  const entry = (node: string, mac: string, ip: string, vm: string | undefined, tag = 'customers/1000'): VnicDoc => ({ node, mac, ip, nic_tag: tag, ...(vm ? { vm } : {}) });
  const input = (vnics: VnicDoc[], v: Map<string, Map<string, VmObservation>>, nodes = ['cn01', 'cn02', 'cn03']): MergeInput => {
    for (const n of nodes) if (!v.has(n)) v.set(n, new Map());
    return { vnics, views: v, rules: RULES };
  };

  it('adds a new VM NIC and names its rule as affected', () => {
    const r = mergeInventory(input([], views(obs(VM1, 'cn01', 'running', [{ mac: MAC1, ip: '10.0.0.1', tag: 'customers/1000', vlan: 10 }]))));
    expect(r.vnics).toEqual([{ node: 'cn01', mac: MAC1, ip: '10.0.0.1', nic_tag: 'customers/1000', vlan_id: 10, vm: VM1 }]);
    expect(r.report.added).toHaveLength(1);
    expect([...affectedRules(r.report)]).toEqual(['customers']);
  });

  it('removes the entry of a deleted VM on a node it knows, keeps it on a node it does not', () => {
    const vnics = [entry('cn01', MAC1, '10.0.0.1', VM1), entry('cn02', '52:54:00:aa:00:02', '10.0.0.2', VM2)];
    const v = new Map([['cn01', new Map<string, VmObservation>()]]);
    const r = mergeInventory({ vnics, views: v, rules: RULES });
    expect(r.vnics).toEqual([vnics[1]]);
    expect(r.report.removed).toEqual([vnics[0]]);
  });

  it('migration: the running copy owns the MAC; neither or both running: the previous owner keeps it', () => {
    const cur = [entry('cn01', MAC1, '10.0.0.1', VM1)];
    const nic = [{ mac: MAC1, ip: '10.0.0.1', tag: 'customers/1000' }];
    // Source stopped, target running: it moves.
    let r = mergeInventory(input(cur, views(obs(VM1, 'cn01', 'stopped', nic), obs(VM1, 'cn02', 'running', nic))));
    expect(r.vnics[0]!.node).toBe('cn02');
    expect(r.report.moved).toMatchObject([{ mac: MAC1, vm: VM1, from: 'cn01', to: 'cn02' }]);
    expect([...affectedRules(r.report)]).toEqual(['customers']);
    expect(r.report.migrating).toEqual([{ mac: MAC1, vm: VM1, nodes: ['cn01', 'cn02'], owner: 'cn02' }]);
    // Both running (the moment of switch-over): cn01 keeps it.
    r = mergeInventory(input(cur, views(obs(VM1, 'cn01', 'running', nic), obs(VM1, 'cn02', 'running', nic))));
    expect(r.changed).toBe(false);
    expect(r.report.migrating[0]!.owner).toBe('cn01');
    // Neither running: cn01 keeps it.
    r = mergeInventory(input(cur, views(obs(VM1, 'cn01', 'stopped', nic), obs(VM1, 'cn02', 'provisioning', nic))));
    expect(r.changed).toBe(false);
    // The target marked do_not_inventory (vmadm migrate) does not count as running.
    r = mergeInventory(input(cur, views(obs(VM1, 'cn01', 'stopped', nic), obs(VM1, 'cn02', 'running', nic, true))));
    expect(r.changed).toBe(false);
    // The source is gone: the target has it, whatever its state.
    r = mergeInventory(input(cur, views(obs(VM1, 'cn02', 'stopped', nic))));
    expect(r.vnics[0]!.node).toBe('cn02');
    expect(r.report.migrating).toEqual([]);
  });

  it('a MAC claimed by two VMs is reported, the state keeps its entry and adds none', () => {
    const cur = [entry('cn01', MAC1, '10.0.0.1', VM1)];
    const r = mergeInventory(input(cur, views(
      obs(VM1, 'cn01', 'running', [{ mac: MAC1, ip: '10.0.0.1', tag: 'customers/1000' }]),
      obs(VM2, 'cn02', 'running', [{ mac: MAC1, ip: '10.0.0.9', tag: 'customers/1000' }]),
    )));
    expect(r.changed).toBe(false);
    expect(r.report.conflicts).toEqual([{ mac: MAC1, claims: [`vm ${VM1} on cn01`, `vm ${VM2} on cn02`], kept: 'cn01' }]);
    const fresh = mergeInventory(input([], views(
      obs(VM1, 'cn01', 'running', [{ mac: MAC1, ip: '10.0.0.1', tag: 'customers/1000' }]),
      obs(VM2, 'cn02', 'running', [{ mac: MAC1, ip: '10.0.0.9', tag: 'customers/1000' }]),
    )));
    expect(fresh.vnics).toEqual([]);
    expect(fresh.report.conflicts[0]!.kept).toBeUndefined();
  });

  it("never touches the operator's entries (no vm) and reports a VM claiming one", () => {
    const cur = [entry('cn01', MAC1, '10.0.0.1', undefined)];
    const r = mergeInventory(input(cur, views(obs(VM2, 'cn02', 'running', [{ mac: MAC1, ip: '10.0.0.5', tag: 'customers/1000' }]))));
    expect(r.changed).toBe(false);
    expect(r.report.conflicts).toHaveLength(1);
  });

  it('ignores and counts NICs on unknown rules and on rules the node lacks', () => {
    const r = mergeInventory(input([], views(obs(VM1, 'cn02', 'running', [
      { mac: MAC1, ip: '10.0.0.1', tag: 'nosuch/5' },
      { mac: '52:54:00:aa:00:02', ip: '10.0.0.2', tag: 'lab/2000' },
    ]))));
    expect(r.vnics).toEqual([]);
    expect(r.report.ignored).toEqual({ noRule: 1, ruleNotOnNode: 1 });
  });

  it('leaves out a newcomer on an address another entry holds', () => {
    const cur = [entry('cn01', MAC1, '10.0.0.1', VM1)];
    const r = mergeInventory(input(cur, views(
      obs(VM1, 'cn01', 'running', [{ mac: MAC1, ip: '10.0.0.1', tag: 'customers/1000' }]),
      obs(VM2, 'cn02', 'running', [{ mac: '52:54:00:aa:00:02', ip: '10.0.0.1', tag: 'customers/1000' }]),
    )));
    expect(r.changed).toBe(false);
    expect(r.report.addressConflicts).toEqual([{ mac: '52:54:00:aa:00:02', node: 'cn02', nicTag: 'customers/1000', ip: '10.0.0.1', heldBy: MAC1 }]);
  });

  it('keeps vdc and ip6 the node does not report', () => {
    const cur = [{ ...entry('cn01', MAC1, '10.0.0.1', VM1), vdc: 'acme', ip6: 'fd00::1' }];
    const r = mergeInventory(input(cur, views(obs(VM1, 'cn01', 'running', [{ mac: MAC1, ip: '10.0.0.1', tag: 'customers/1000' }]))));
    expect(r.changed).toBe(false);
  });

  // Properties over random single-owner fleets: the result is exactly the observations, and a second merge changes nothing.
  const arbFleet = fc.uniqueArray(fc.record({ n: fc.integer({ min: 1, max: 254 }), node: fc.constantFrom('cn01', 'cn02', 'cn03'), running: fc.boolean() }), {
    selector: (x) => x.n,
    maxLength: 30,
  });
  it('property: every observed NIC is in the result on its node; merging again changes nothing', () => {
    fc.assert(
      fc.property(arbFleet, fc.array(fc.integer({ min: 1, max: 254 }), { maxLength: 10 }), (fleet, stale) => {
        const hex = (n: number): string => n.toString(16).padStart(2, '0');
        const vmOf = (n: number): string => `0b1e0000-0000-4000-8000-0000000000${hex(n)}`;
        const vms = fleet.map((f) => obs(vmOf(f.n), f.node, f.running ? 'running' : 'stopped', [{ mac: `52:54:00:aa:00:${hex(f.n)}`, ip: `10.0.0.${f.n}`, tag: 'customers/1000' }]));
        const old = [...new Set(stale)].map((n) => entry('cn03', `52:54:00:aa:00:${hex(n)}`, `10.0.0.${n}`, vmOf(n)));
        const first = mergeInventory(input(old, views(...vms)));
        const want = vms.map((v) => `${v.nics[0]!.mac}@${v.node}`).sort();
        expect(first.vnics.map((v) => `${v.mac}@${v.node}`).sort()).toEqual(want);
        const again = mergeInventory(input(first.vnics, views(...vms)));
        expect(again.changed).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
