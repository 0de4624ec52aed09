/** The pure half of agent deploy: which files change and which SMF commands follow. */
import { describe, expect, it } from 'vitest';
import { AGENT_FMRI, chooseNode, desiredAgentFiles, planDeploy } from '../../src/agent/deploy.js';
import type { ActualFile } from '../../src/plan/plan.js';

const NODE = { path: '/opt/tools/bin/node', version: 'v20.11.1' };
const desired = desiredAgentFiles('#!/usr/bin/env node\n// esdc-overlay bundle\n', NODE.path);
const have = (over: Record<string, ActualFile | null> = {}): Map<string, ActualFile | null> =>
  new Map(desired.map((f) => [f.path, f.path in over ? over[f.path]! : { mode: f.mode, text: f.content }]));
const cmds = (files: Map<string, ActualFile | null>, serviceState: string | null): string[] =>
  planDeploy('cn1', desired, { files, serviceState }, NODE).plan.commands.map((c) => c.join(' '));

describe('planDeploy', () => {
  it('a node with everything in place and the service online has nothing to do', () => {
    const { plan, work } = planDeploy('cn1', desired, { files: have(), serviceState: 'online' }, NODE);
    expect(plan.changed).toBe(false);
    expect(work.stage).toEqual([]);
  });

  it('a new node gets the three files, svccfg import and svcadm enable', () => {
    const { plan, work } = planDeploy('cn1', desired, { files: have(Object.fromEntries(desired.map((f) => [f.path, null]))), serviceState: null }, NODE);
    expect(work.stage.map((s) => [s.path, s.mode])).toEqual(desired.map((f) => [f.path, 0o644]));
    expect(plan.commands.map((c) => c.join(' '))).toEqual(['svccfg import /opt/custom/smf/esdc-overlay-agent.xml', `svcadm enable ${AGENT_FMRI}`]);
  });

  it('a new bundle restarts a running agent; a new agent.json only refreshes it (SIGHUP); a mode change alone runs nothing', () => {
    const [bundle, config] = desired;
    expect(cmds(have({ [bundle!.path]: { mode: 0o644, text: 'old' } }), 'online')).toEqual([`svcadm restart ${AGENT_FMRI}`]);
    expect(cmds(have({ [config!.path]: { mode: 0o644, text: '{}' } }), 'online')).toEqual([`svcadm refresh ${AGENT_FMRI}`]);
    expect(cmds(have({ [config!.path]: { mode: 0o600, text: config!.content } }), 'online')).toEqual([]);
  });

  it('a disabled agent is enabled; one in maintenance is cleared first', () => {
    expect(cmds(have(), 'disabled')).toEqual([`svcadm enable ${AGENT_FMRI}`]);
    expect(cmds(have(), 'maintenance')).toEqual([`svcadm clear ${AGENT_FMRI}`, `svcadm enable ${AGENT_FMRI}`]);
  });

  it('chooseNode takes the first new-enough binary and names every one it refused', () => {
    expect(chooseNode([{ path: '/a', version: 'v16.0.0\n' }, { path: '/b', version: 'v18.20.4\n' }])).toEqual({ ok: true, path: '/b', version: 'v18.20.4' });
    const none = chooseNode([{ path: '/a', version: undefined }, { path: '/b', version: 'garbage' }]);
    expect(none.ok).toBe(false);
    expect((none as { message: string }).message).toContain('/a: not found; /b: --version said "garbage"');
  });
});
