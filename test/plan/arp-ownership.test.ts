/**
 * defaults.arp_tables: danube — Danube's management server writes the ARP
 * tables; we create `{}` where one is missing and never change, repair or
 * remove one; apply's plan and the agent's (from the bundle) agree.
 */
import { describe, expect, it } from 'vitest';
import { buildBundle, desiredFromBundle, parseBundle } from '../../src/agent/bundle.js';
import { MANIFEST_PATH, parseManifest } from '../../src/plan/manifest.js';
import { desiredNode } from '../../src/plan/desired-state.js';
import { planNode, type ActualFile, type ActualNode } from '../../src/plan/plan.js';
import { RenderContext } from '../../src/desired/render-context.js';
import type { ArpTableOwner } from '../../src/model/state.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

const TABLE = '/opt/custom/networking/net_overlay.json';
const DANUBE_TABLE = '{\n  "52:54:00:aa:00:09": {"arp": "10.9.0.9", "ip": "10.100.0.2", "port": 4790}\n}\n';

function desired(owner: ArpTableOwner | undefined) {
  const doc = threeNodes({
    vnics: [{ node: 'a2', mac: '52:54:00:aa:00:02', ip: '10.9.0.2', nic_tag: 'net/100', vm: '0b1e0000-0000-4000-8000-000000000002' }],
  });
  if (owner) doc.defaults = { arp_tables: owner };
  const model = validModel(doc);
  return desiredNode(new RenderContext(model), model.nodeByName.get('a1')!);
}

function actual(files: Record<string, ActualFile | null>, manifestText?: string): ActualNode {
  return { node: 'a1', files: new Map(Object.entries(files)), usbkey: null, overlays: new Map(), manifestText };
}

describe('ARP table ownership', () => {
  it('esdc-overlay (the default): the table is ours: written, repaired, in the manifest', () => {
    const d = desired(undefined);
    const { plan, work } = planNode(d, actual({ [TABLE]: { mode: 0o400, text: DANUBE_TABLE } }));
    expect(plan.files.find((f) => f.path === TABLE)?.action).toBe('change');
    expect(work.services).toContain('varpd');
    expect(Object.keys(parseManifest(work.manifest!.final).manifest.files)).toContain(TABLE);
  });

  it('danube: a table Danube wrote is left alone, whatever it holds; no varpd restart; not in our manifest', () => {
    const d = desired('danube');
    const { plan, work } = planNode(d, actual({ [TABLE]: { mode: 0o644, text: DANUBE_TABLE } }));
    expect(plan.files.filter((f) => f.path === TABLE)).toEqual([]);
    expect(work.stage.filter((s) => s.path === TABLE)).toEqual([]);
    expect(work.services).not.toContain('varpd');
    expect(Object.keys(parseManifest(work.manifest?.final).manifest.files)).not.toContain(TABLE);
  });

  it('danube: a missing table is created as {} (what Danube itself creates)', () => {
    const { work } = planNode(desired('danube'), actual({ [TABLE]: null }));
    expect(work.stage.find((s) => s.path === TABLE)).toMatchObject({ content: '{}\n', mode: 0o400, owner: 'netadm' });
  });

  it('switching to danube: a table the old manifest listed as ours is not removed', () => {
    const before = planNode(desired(undefined), actual({ [TABLE]: null }));
    const manifest = before.work.manifest!.final;
    expect(Object.keys(parseManifest(manifest).manifest.files)).toContain(TABLE);
    const { work } = planNode(desired('danube'), actual({ [TABLE]: { mode: 0o400, text: DANUBE_TABLE }, [MANIFEST_PATH]: { mode: 0o600, text: manifest } }, manifest));
    expect(work.remove).not.toContain(TABLE);
    expect(work.stage.filter((s) => s.path === TABLE)).toEqual([]);
  });

  it('the agent, from the bundle, leaves a Danube table alone too', () => {
    const d = desired('danube');
    const bundle = parseBundle(buildBundle(d, 'a', undefined, 1000));
    expect(bundle.files.find((f) => f.path === TABLE)).toMatchObject({ only_if_missing: true, content: '{}\n' });
    const fromBundle = desiredFromBundle(bundle);
    const { work } = planNode(fromBundle, actual({ [TABLE]: { mode: 0o644, text: DANUBE_TABLE } }));
    expect(work.stage.filter((s) => s.path === TABLE)).toEqual([]);
    expect(work.services).not.toContain('varpd');
  });

  it('the schema takes only the two owners, naming the field', () => {
    const doc = threeNodes();
    doc.defaults = { arp_tables: 'nobody' as ArpTableOwner };
    expect(() => validModel(doc)).toThrow(/defaults.arp_tables/);
  });
});
