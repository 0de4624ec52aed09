/**
 * The agent's bundle is one more desired file (docs/architecture.md#the-bundle-is-a-desired-file):
 * planned like the others, 0400, secret, refreshing nothing, never in the
 * manifest, and left alone when the node has it.
 */
import { describe, expect, it } from 'vitest';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import { AGENT_STATUS_PATH } from '../../src/agent/status.js';
import { withFiles } from '../../src/apply/node-plan.js';
import { textFile, type DesiredNode } from '../../src/desired/desired.js';
import { bundleFile, bundleReads } from '../../src/operations/bundle.js';
import { planNode, type ActualFile, type ActualNode } from '../../src/plan/plan.js';
import { parseManifest } from '../../src/plan/manifest.js';

const desired: DesiredNode = {
  node: 'cn1',
  usbkey: [],
  overlays: [],
  files: [textFile({ path: '/opt/custom/networking/r_1.arp', mode: 0o400, owner: 'root', group: 'root', secret: false, refresh: 'varpd', text: 'a\n' })],
};

function actual(files: Record<string, ActualFile | null>, manifestText?: string): ActualNode {
  return { node: 'cn1', files: new Map(Object.entries(files)), usbkey: null, overlays: new Map(), manifestText };
}

function plan(files: Record<string, ActualFile | null>, manifestText?: string) {
  const a = actual(files, manifestText);
  const d = withFiles(desired, [bundleFile(desired, 'prg', a, 1_000)]);
  return { d, ...planNode(d, a, { pdc: 'prg' }) };
}

describe('the bundle as a desired file', () => {
  it('a node without one gets it, 0400, shown as a secret, with no refresh and not in the manifest', () => {
    const { plan: p, work } = plan({});
    const b = p.files.find((f) => f.path === BUNDLE_PATH);
    expect(b).toEqual({ path: BUNDLE_PATH, action: 'add', mode: 0o400, contentChanged: true, secret: true, refresh: null, diff: [] });
    const staged = work.stage.find((s) => s.path === BUNDLE_PATH)!;
    expect(staged.mode).toBe(0o400);
    expect(parseBundle(staged.content as string).files.map((f) => f.path)).toEqual(['/opt/custom/networking/r_1.arp']);
    expect(p.services).not.toContain(null);
    expect(Object.keys(parseManifest(work.manifest!.final).manifest.files)).toEqual(['/opt/custom/networking/r_1.arp']);
  });

  it('a node with the same bundle and mode gets nothing for it', () => {
    const first = plan({}).work.stage.find((s) => s.path === BUNDLE_PATH)!.content as string;
    const { plan: p, work } = plan({ [BUNDLE_PATH]: { mode: 0o400, text: first } });
    expect(p.files.map((f) => f.path)).not.toContain(BUNDLE_PATH);
    expect(work.stage.map((s) => s.path)).not.toContain(BUNDLE_PATH);
  });

  it('another bundle, or a wider mode, is replaced; a version above the agent floor', () => {
    const a = plan({ [BUNDLE_PATH]: { mode: 0o400, text: 'B1' }, [AGENT_STATUS_PATH]: { mode: 0o644, text: JSON.stringify({ bundle_version: 5_000, bundle_sha256: null }) } });
    expect(a.plan.files.find((f) => f.path === BUNDLE_PATH)).toMatchObject({ action: 'change', contentChanged: true });
    expect(parseBundle(a.work.stage.find((s) => s.path === BUNDLE_PATH)!.content as string).version).toBe(5_001);
    const text = plan({}).work.stage.find((s) => s.path === BUNDLE_PATH)!.content as string;
    const b = plan({ [BUNDLE_PATH]: { mode: 0o644, text } });
    expect(b.plan.files.find((f) => f.path === BUNDLE_PATH)).toMatchObject({ action: 'change', contentChanged: false, oldMode: 0o644, mode: 0o400 });
    expect(b.work.stage.map((s) => s.path)).toContain(BUNDLE_PATH);
  });

  it('a manifest that lists no bundle never has it removed, and the bundle stays in path order', () => {
    const { d } = plan({});
    expect(d.files.map((f) => f.path)).toEqual([BUNDLE_PATH, '/opt/custom/networking/r_1.arp'].sort());
    expect(bundleReads(desired, 'prg').extra).toEqual([BUNDLE_PATH, AGENT_STATUS_PATH]);
  });
});
