import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../src/errors.js';
import { buildModel } from '../../src/model/build-model.js';
import { loadStateText } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { grant } from '../../src/ranges/grant.js';
import { RangeSet } from '../../src/syntax/range-set.js';
import { vdcAllowances } from '../../src/model/vdcs.js';
import { allocate, checkId, overlaps, requireVdc, usedIds, usersOf, vdcUsage, vdcWarnings } from '../../src/ranges/vdc.js';

const EXAMPLE = readFileSync(new URL('../../examples/two-sites.yaml', import.meta.url), 'utf8');
const example = (): StateDoc => structuredClone(loadStateText(EXAMPLE, 'two-sites.yaml').doc);

describe('the state rejects bad vDC ranges with their path and value', () => {
  it('fails loading, listing every bad id', () => {
    const text = readFileSync(new URL('../fixtures/vdc/bad-ranges.yaml', import.meta.url), 'utf8');
    let error: unknown;
    try {
      loadStateText(text, 'bad-ranges.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'vdcs.other.vlan_allowed', value: 0, message: 'item 1: VLAN 0 means untagged; it cannot be allowed or allocated (VLAN ids are 1-4094)' },
      { path: 'vdcs.tenant.vxlan_allowed', value: 16777216, message: 'item 2: 16777216 is not a VXLAN id (VXLAN ids are 1-16777215)' },
      { path: 'vdcs.tenant.vlan_allowed[1]', value: '20-4095', message: 'VLAN 4095 is reserved (VLAN ids are 1-4094)' },
    ]);
    expect((error as ValidationError).message).toContain('vdcs.tenant.vlan_allowed[1]: VLAN 4095 is reserved (VLAN ids are 1-4094) (got "20-4095")');
  });
  it('still loads for read-only listings, with the problems as warnings', () => {
    const text = readFileSync(new URL('../fixtures/vdc/bad-ranges.yaml', import.meta.url), 'utf8');
    const loaded = loadStateText(text, 'bad-ranges.yaml', 'warn');
    expect(loaded.warnings.map((w) => w.path)).toEqual(['vdcs.other.vlan_allowed', 'vdcs.tenant.vxlan_allowed', 'vdcs.tenant.vlan_allowed[1]']);
    expect(vdcAllowances(loaded.doc).find((a) => a.name === 'tenant')!.allowed.vxlan.toString()).toBe('100-200');
  });
  it('are parsed once, into the Model, in name order, the problems with them among its issues', () => {
    const model = buildModel(example());
    expect(model.vdcs.map((a) => a.name)).toEqual(['customer-a', 'main']);
    expect(model.vdcs).toEqual(vdcAllowances(example()));
    expect(model.vdcs[0]!.allowed.vxlan.toString()).toBe('1000-1099,2000');
    expect(model.vdcs[1]!.restrict).toEqual({ vxlan: true, vlan: false });
    const bad = example();
    bad.vdcs!.main!.vxlan_allowed = '5-2';
    const broken = buildModel(bad);
    expect(broken.vdcs[1]!.issues.map((i) => i.path)).toEqual(['vdcs.main.vxlan_allowed']);
    expect(broken.issues).toEqual(expect.arrayContaining([...broken.vdcs[1]!.issues]));
  });
  it('the example loads unchanged', () => {
    expect(() => loadStateText(EXAMPLE, 'two-sites.yaml')).not.toThrow();
  });
});

describe('used ids are the VM NICs\' and the adminoverlay\'s', () => {
  it('collects VNIs and VLAN ids over the installation; untagged NICs use no VLAN', () => {
    const used = usedIds(buildModel(example()));
    expect(used.vxlan.toString()).toBe('2,1000-1001');
    expect(used.vlan.toString()).toBe('2,10');
  });
  it('names who holds an id', () => {
    const model = buildModel(example());
    expect(usersOf(model, 'vxlan', 1001).map((u) => u.path)).toEqual(['vnics[4]', 'vnics[5]']);
    expect(usersOf(model, 'vlan', 2)).toEqual([{ path: 'adminoverlay', label: 'adminoverlay/2 vlan 2' }]);
  });
  it('counts allowed, used and free per vDC', () => {
    const doc = example();
    const usage = vdcUsage(vdcAllowances(doc), usedIds(buildModel(doc)));
    expect(usage.map((u) => [u.name, u.kind, u.allowed.size, u.used, u.free])).toEqual([
      ['customer-a', 'vxlan', 101, 2, 99],
      ['customer-a', 'vlan', 90, 1, 89],
      ['main', 'vxlan', 998, 1, 997],
      ['main', 'vlan', 4094, 2, 4092],
    ]);
  });
});

describe('checking an id against a vDC', () => {
  const doc = example();
  it('refuses an id outside a restricted range, naming the vDC and the allowed ranges', () => {
    const c = checkId(requireVdc(buildModel(doc).vdcs, 'customer-a'), 'vxlan', 5000, '--vxlan');
    expect(c.allowed).toBe(false);
    expect(c.reason).toBe('VXLAN 5000 is not allowed in vDC customer-a (allowed VXLAN ids: 1000-1099,2000)');
  });
  it('cuts a very long allowance in the message', () => {
    const d: StateDoc = { version: 1, vdcs: { many: { vxlan_allowed: Array.from({ length: 1000 }, (_, i) => 10 * i + 1) } } };
    const reason = checkId(requireVdc(buildModel(d).vdcs, 'many'), 'vxlan', 2, '--vxlan').reason;
    expect(reason).toMatch(/^VXLAN 2 is not allowed in vDC many \(allowed VXLAN ids: 1,11,21,.*,\.\.\. \(1000 ranges in all\)\)$/);
    expect(reason.length).toBeLessThan(300);
  });
  it('allows an id inside the range', () => {
    expect(checkId(requireVdc(buildModel(doc).vdcs, 'customer-a'), 'vxlan', 2000, '--vxlan').allowed).toBe(true);
  });
  it('allows any valid id when the kind is not restricted', () => {
    const d = example();
    d.vdcs!['customer-a']!.vxlan_restrict = false;
    const c = checkId(requireVdc(buildModel(d).vdcs, 'customer-a'), 'vxlan', 5000, '--vxlan');
    expect(c).toMatchObject({ allowed: true, restricted: false });
    expect(c.reason).toContain('not restricted (vxlan_restrict: false)');
  });
  it('treats an id that is no id at all as a validation error with the path', () => {
    expect(() => checkId(requireVdc(buildModel(doc).vdcs, 'main'), 'vlan', 4095, '--vlan')).toThrow(/--vlan: VLAN 4095 is reserved/);
    expect(() => checkId(requireVdc(buildModel(doc).vdcs, 'main'), 'vxlan', 16_777_216, '--vxlan')).toThrow(ValidationError);
  });
  it('names the known vDCs when the vDC is unknown', () => {
    expect(() => requireVdc(buildModel(doc).vdcs, 'nope')).toThrow('unknown vDC "nope" (known: customer-a, main)');
  });
});

describe('allocating ids', () => {
  it('proposes the lowest ids of the range that nothing uses', () => {
    const doc = example();
    const used = usedIds(buildModel(doc));
    expect(allocate(requireVdc(buildModel(doc).vdcs, 'customer-a'), used.vxlan, 'vxlan', 3).ids).toEqual([1002, 1003, 1004]);
    expect(allocate(requireVdc(buildModel(doc).vdcs, 'main'), used.vxlan, 'vxlan', 1).ids).toEqual([3]);
    expect(allocate(requireVdc(buildModel(doc).vdcs, 'main'), used.vlan, 'vlan', 2).ids).toEqual([1, 3]);
  });
  it('says how many are free when too few are', () => {
    const doc = example();
    const used = usedIds(buildModel(doc));
    expect(() => allocate(requireVdc(buildModel(doc).vdcs, 'customer-a'), used.vxlan, 'vxlan', 100)).toThrow(
      'vDC customer-a has 99 free VXLAN ids of 101 allowed (1000-1099,2000); 100 asked',
    );
  });
  it('draws from the whole id space for an unrestricted vDC without a list', () => {
    const doc = example();
    doc.vdcs!.open = { vlan_restrict: false };
    expect(allocate(requireVdc(buildModel(doc).vdcs, 'open'), RangeSet.fromIds([1, 2]), 'vlan', 1).ids).toEqual([3]);
    expect(() => allocate(requireVdc(buildModel(doc).vdcs, 'open'), RangeSet.EMPTY, 'vxlan', 1)).toThrow('vDC open is allowed no VXLAN ids');
  });
});

describe('overlapping allowances', () => {
  it('reports exactly the overlapping grants of the example', () => {
    const found = overlaps(vdcAllowances(example()));
    expect(found.map((o) => ({ kind: o.kind, vdcs: o.vdcs, ids: o.ids.toString() }))).toEqual([
      { kind: 'vlan', vdcs: ['customer-a', 'main'], ids: '10-99' },
    ]);
  });
  it('reports every intersecting pair once, with the intersection', () => {
    const doc: StateDoc = {
      version: 1,
      vdcs: { c: { vxlan_allowed: '5-7,50' }, a: { vxlan_allowed: '1-10' }, b: { vxlan_allowed: [10, '11-20', 50] } },
    };
    expect(overlaps(vdcAllowances(doc)).map((o) => `${o.vdcs.join('/')}:${o.ids.toString()}`)).toEqual(['a/b:10', 'a/c:5-7', 'b/c:50']);
  });
});

describe('granting ranges', () => {
  it('adds to an existing string list, in canonical form', () => {
    const { doc, result } = grant(example(), { vdc: 'customer-a', ranges: { vxlan: '1100-1199, 2001' }, shared: false });
    expect(doc.vdcs!['customer-a']!.vxlan_allowed).toBe('1000-1199,2000-2001');
    expect(result.changes[0]!.added.toString()).toBe('1100-1199,2001');
    expect(result.created).toBe(false);
  });
  it('keeps a Danube-style list a list', () => {
    const base: StateDoc = { version: 1, vdcs: { d: { vlan_allowed: [5, 6, 7] } } };
    expect(grant(base, { vdc: 'd', ranges: { vlan: '9' }, shared: false }).doc.vdcs!.d!.vlan_allowed).toEqual(['5-7', 9]);
    expect(base.vdcs!.d!.vlan_allowed).toEqual([5, 6, 7]);
  });
  it('creates the vDC when missing', () => {
    const { doc, result } = grant(example(), { vdc: 'customer-b', ranges: { vxlan: '3000-3999' }, shared: false, create: true });
    expect(doc.vdcs!['customer-b']).toEqual({ vxlan_allowed: '3000-3999' });
    expect(result.created).toBe(true);
  });
  it('refuses a range that overlaps another vDC, naming it and the shared ids', () => {
    expect(() => grant(example(), { vdc: 'customer-b', ranges: { vxlan: '990-1005' }, shared: false, create: true })).toThrow(ConflictError);
    expect(() => grant(example(), { vdc: 'customer-b', ranges: { vxlan: '990-1005' }, shared: false, create: true })).toThrow(
      'VXLAN 1000-1005 is already allowed to vDC customer-a; VXLAN 990-999 is already allowed to vDC main. Pass --shared',
    );
  });
  it('grants an overlapping range with shared, and says what is shared', () => {
    const { result } = grant(example(), { vdc: 'customer-b', ranges: { vxlan: '990-1005' }, shared: true, create: true });
    expect(result.shared.map((o) => `${o.vdcs[1]}:${o.ids.toString()}`)).toEqual(['customer-a:1000-1005', 'main:990-999']);
  });
  it('refuses bad ranges and names, every problem at once', () => {
    let error: unknown;
    try {
      grant(example(), { vdc: '-bad', ranges: { vlan: '4095', vxlan: '0' }, shared: false });
    } catch (err) {
      error = err;
    }
    expect((error as ValidationError).issues.map((i) => [i.path, i.value])).toEqual([
      ['vdc', '-bad'],
      ['--vxlan', 0],
      ['--vlan', 4095],
    ]);
  });
});

describe('the plan warns about NICs outside their vDC allowance', () => {
  it('flags a VNI or VLAN outside a restricted allowance, and nothing else', () => {
    const doc = example();
    doc.vnics![0]!.vdc = 'customer-a'; // customers/1000 vlan 10: inside
    doc.vnics![4]!.vdc = 'customer-a'; // lab/1001, untagged: inside
    doc.vnics![5]!.vdc = 'main'; // lab/1001: outside main's 2-999
    doc.vnics![5]!.vlan_id = 4000; // main does not restrict VLANs
    doc.vnics![1]!.vdc = 'customer-a';
    doc.vnics![1]!.vlan_id = 100; // outside 10-99
    expect(vdcWarnings(buildModel(doc))).toEqual([
      {
        path: 'vnics[1].vlan_id',
        value: 100,
        message: "VM 0b1e0000-0000-4000-8000-000000000002's NIC is on VLAN 100, outside vDC customer-a's allowed VLAN ids (10-99)",
      },
      {
        path: 'vnics[5].nic_tag',
        value: 'lab/1001',
        message: "VM 0b1e0000-0000-4000-8000-000000000006's NIC is on VXLAN 1001, outside vDC main's allowed VXLAN ids (2-999)",
      },
    ]);
  });
  it('says nothing for NICs without a vDC', () => {
    expect(vdcWarnings(buildModel(example()))).toEqual([]);
  });
});
