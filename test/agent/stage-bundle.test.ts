/** apply's small part: the bundle joins a node's staged files, refreshes nothing, and is left alone when the node has it. */
import { describe, expect, it } from 'vitest';
import { BUNDLE_PATH } from '../../src/agent/bundle.js';
import { stageBundle } from '../../src/agent/stage-bundle.js';
import type { NodePlan, NodeWork } from '../../src/plan/plan.js';

function empty(): { plan: NodePlan; work: NodeWork } {
  return {
    plan: { node: 'cn1', files: [], usbkey: [], overlays: [], services: [], reboot: [], disruptive: [], warnings: [], changed: false },
    work: { node: 'cn1', stage: [], remove: [], leftovers: [], usbkey: undefined, createOverlays: [], services: [], manifest: undefined },
  };
}

describe('staging the bundle with apply', () => {
  it('a node without one gets it, 0400, shown as a secret, with no refresh', () => {
    const { plan, work } = empty();
    stageBundle(plan, work, 'B1', null);
    expect(plan.changed).toBe(true);
    expect(plan.files).toEqual([{ path: BUNDLE_PATH, action: 'add', mode: 0o400, contentChanged: true, secret: true, refresh: null, diff: [] }]);
    expect(work.stage).toEqual([{ path: BUNDLE_PATH, content: 'B1', mode: 0o400 }]);
    expect(work.services).toEqual([]);
    expect(plan.services).toEqual([]);
  });

  it('a node with the same bundle and mode gets nothing', () => {
    const { plan, work } = empty();
    stageBundle(plan, work, 'B1', { mode: 0o400, text: 'B1' });
    expect(plan.changed).toBe(false);
    expect(plan.files).toEqual([]);
    expect(work.stage).toEqual([]);
  });

  it('another bundle, or a wider mode, is replaced', () => {
    const a = empty();
    stageBundle(a.plan, a.work, 'B2', { mode: 0o400, text: 'B1' });
    expect(a.plan.files[0]).toMatchObject({ action: 'change', contentChanged: true });
    const b = empty();
    stageBundle(b.plan, b.work, 'B1', { mode: 0o644, text: 'B1' });
    expect(b.plan.files[0]).toMatchObject({ action: 'change', contentChanged: false, oldMode: 0o644, mode: 0o400 });
    expect(b.work.stage).toHaveLength(1);
  });
});
