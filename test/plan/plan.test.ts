import { describe, expect, it } from 'vitest';
import type { DesiredNode } from '../../src/desired/desired.js';
import { textFile } from '../../src/desired/desired.js';
import { MANIFEST_PATH, parseManifest, serializeManifest } from '../../src/plan/manifest.js';
import { planNode, type ActualNode } from '../../src/plan/plan.js';

const arp = textFile({ path: '/opt/custom/networking/c_overlay.json', mode: 0o400, owner: 'netadm', group: 'netadm', secret: false, refresh: 'varpd', text: '{\n  "a": 1\n}\n' });
const psk = textFile({ path: '/opt/custom/etc/ipsec/ike.preshared', mode: 0o400, owner: 'root', group: 'root', secret: true, refresh: 'ipsec', text: 'key 00ff\n' });
const desired: DesiredNode = {
  node: 'cn01',
  usbkey: [{ key: 'overlay_rule_c', value: '-e vxlan -p vxlan/listen_port=4790 -p mtu=1400', properties: { 'vxlan/listen_port': '4790', mtu: '1400' } }],
  overlays: [{ link: 'c1000', rule: 'c', vni: 1000, argv: ['dladm', 'create-overlay', '-e', 'vxlan', '-p', 'vxlan/listen_port=4790', '-p', 'mtu=1400', '-v', '1000', 'c1000'], properties: { 'vxlan/listen_port': '4790', mtu: '1400' } }],
  files: [arp, psk],
};
const finalManifest = serializeManifest({ version: 1, files: { [arp.path]: { refresh: 'varpd' }, [psk.path]: { refresh: 'ipsec' } }, pendingRefresh: [] });

function actual(over: Partial<ActualNode> = {}): ActualNode {
  return {
    node: 'cn01',
    files: new Map([
      [arp.path, { mode: 0o400, text: '{\n  "a": 1\n}\n' }],
      [psk.path, { mode: 0o400, text: 'key 00ff\n' }],
    ]),
    usbkey: { mode: 0o644, text: 'hostname=cn01\noverlay_rule_c="-e vxlan -p vxlan/listen_port=4790 -p mtu=1400"\n' },
    overlays: new Map([['c1000', new Map([['vxlan/listen_port', '4790'], ['mtu', '1400']])]]),
    manifestText: finalManifest,
    ...over,
  };
}

describe('planning one node', () => {
  it('is empty, with nothing to do, when the node matches', () => {
    const { plan, work } = planNode(desired, actual());
    expect(plan.changed).toBe(false);
    expect(plan.reboot).toEqual([]);
    expect(work.stage).toEqual([]);
    expect(work.manifest).toBeUndefined();
  });

  it('stages a changed file, refreshes its service once, and never shows a secret', () => {
    const files = new Map(actual().files);
    files.set(arp.path, { mode: 0o444, text: '{\n  "a": 2\n}\n' });
    files.set(psk.path, { mode: 0o400, text: 'key 1234\n' });
    const { plan, work } = planNode(desired, actual({ files }));
    expect(plan.files.map((f) => [f.path, f.action, f.contentChanged, f.oldMode, f.mode])).toEqual([
      [psk.path, 'change', true, 0o400, 0o400],
      [arp.path, 'change', true, 0o444, 0o400],
    ]);
    expect(plan.files[1]!.diff).toEqual(['@@ line 1', ' {', '-  "a": 2', '+  "a": 1', ' }']);
    expect(plan.files[0]!.diff).toEqual([]);
    expect(JSON.stringify(plan)).not.toContain('00ff');
    expect(plan.services).toEqual(['ipsec', 'varpd']);
    expect(work.stage.map((s) => [s.path, s.owner])).toEqual([[arp.path, 'netadm'], [psk.path, 'root']]);
    // The manifest committed first owes the refreshes; the final one does not.
    expect(parseManifest(work.manifest!.atCommit).manifest.pendingRefresh).toEqual(['ipsec', 'varpd']);
    expect(work.manifest!.final).toBe(finalManifest);
  });

  it('removes a file it created and no longer wants, and only such a file', () => {
    const extra = '/opt/custom/networking/gone_overlay.json';
    const manifest = serializeManifest({ version: 1, files: { ...parseManifest(finalManifest).manifest.files, [extra]: { refresh: 'varpd' } }, pendingRefresh: [] });
    const files = new Map(actual().files);
    files.set(extra, { mode: 0o400, text: '{}\n' });
    files.set('/opt/custom/networking/foreign.json', { mode: 0o644, text: '{}\n' });
    const { plan, work } = planNode(desired, actual({ files, manifestText: manifest }));
    expect(plan.files).toEqual([expect.objectContaining({ path: extra, action: 'remove' })]);
    expect(work.remove).toEqual([extra]);
    expect(Object.keys(parseManifest(work.manifest!.atCommit).manifest.files)).toContain(extra);
    expect(Object.keys(parseManifest(work.manifest!.final).manifest.files)).not.toContain(extra);
  });

  it('finishes refreshes a previous run committed but did not run', () => {
    const owed = serializeManifest({ ...parseManifest(finalManifest).manifest, pendingRefresh: ['varpd'] });
    const { plan, work } = planNode(desired, actual({ manifestText: owed }));
    expect(plan.changed).toBe(true);
    expect(plan.services).toEqual(['varpd']);
    expect(work.manifest!.final).toBe(finalManifest);
  });

  it('says what changes in a rule from the properties its desired line carries, never by parsing that line back', () => {
    const d: DesiredNode = { ...desired, usbkey: [{ key: 'overlay_rule_c', value: 'words we wrote', properties: { 'vxlan/listen_port': '4795', mtu: '1400' } }] };
    const { plan } = planNode(d, actual());
    expect(plan.reboot[0]).toContain('rule c: vxlan/listen_port 4790 → 4795');
    expect(plan.disruptive[0]).toContain('rule c: port 4790 → 4795');
  });

  it('marks a changed rule port as taking effect at reboot and disruptive, and a live overlay with the old port as pending', () => {
    const d: DesiredNode = {
      ...desired,
      usbkey: [{ key: 'overlay_rule_c', value: '-e vxlan -p vxlan/listen_port=4795 -p mtu=1400', properties: { 'vxlan/listen_port': '4795', mtu: '1400' } }],
      overlays: [
        {
          ...desired.overlays[0]!,
          argv: desired.overlays[0]!.argv.map((a) => a.replace('4790', '4795')),
          properties: { ...desired.overlays[0]!.properties, 'vxlan/listen_port': '4795' },
        },
      ],
    };
    const { plan, work } = planNode(d, actual());
    expect(plan.usbkey).toEqual([expect.objectContaining({ key: 'overlay_rule_c', action: 'change' })]);
    expect(plan.reboot[0]).toContain('rule c: vxlan/listen_port 4790 → 4795');
    expect(plan.disruptive[0]).toContain('rule c: port 4790 → 4795');
    expect(plan.overlays).toEqual([expect.objectContaining({ link: 'c1000', action: 'pending', differences: ['vxlan/listen_port: 4790 → 4795'] })]);
    expect(work.createOverlays).toEqual([]);
    expect(work.services).toEqual(['net-virtual']);
  });

  it('creates a missing overlay, and writes the manifest once when only it is missing', () => {
    const { plan, work } = planNode(desired, actual({ overlays: new Map(), manifestText: undefined }));
    expect(plan.overlays.map((o) => [o.link, o.action])).toEqual([['c1000', 'create']]);
    expect(work.createOverlays.map((o) => o.link)).toEqual(['c1000']);
    expect(work.manifest).toEqual({ atCommit: finalManifest, final: finalManifest });
    expect(MANIFEST_PATH).toBe('/opt/custom/esdc-overlay/managed.json');
  });
});

describe('a node whose PDC changed since the last apply', () => {
  it('is flagged disruptive, and the manifest records the new PDC', () => {
    const before = serializeManifest({ ...parseManifest(finalManifest).manifest, pdc: 'prg' });
    const { plan, work } = planNode(desired, actual({ manifestText: before }), { pdc: 'brn' });
    expect(plan.disruptive).toEqual([expect.stringContaining('PDC prg → brn')]);
    expect(parseManifest(work.manifest!.final).manifest.pdc).toBe('brn');
    expect(planNode(desired, actual({ manifestText: before }), { pdc: 'prg' }).plan.disruptive).toEqual([]);
  });
});
