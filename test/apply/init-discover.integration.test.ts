/**
 * `init --discover` (issue 19): a new state holding the nodes named, read as
 * `nodes discover` reads them (src/operations/discover.ts), written once; a
 * node that cannot be read, or a store that holds a state, writes nothing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runBuiltCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

let c: SimCluster;
useSimCluster({ count: 2 }, (started) => (c = started));

describe('init --discover', () => {
  it('writes a valid state with the discovered nodes and the head PDC; refuses an existing state and an unreadable node', async () => {
    const dir = await tempDir();
    const state = join(dir, 'new.yaml');
    const env = { ...c.env, ESDC_OVERLAY_STATE: state };
    const user = userInfo().username;
    const [a, b] = c.nodes.map((n) => `${user}@127.0.0.1:${n.port}`) as [string, string];
    const r = runBuiltCli(['init', '--discover', `${a},${b}`, '--head', a], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote a new state to ${state} with 2 node(s)`);
    const doc = parse(await readFile(state, 'utf8')) as { version: number; defaults?: { head_pdc?: string }; nodes: Record<string, { pdc: string; ssh?: { port?: number } }> };
    expect(Object.keys(doc.nodes).sort()).toEqual(c.nodes.map((n) => n.name).sort());
    expect(doc.nodes[c.nodes[0]!.name]!.ssh?.port).toBe(c.nodes[0]!.port);
    expect(doc.defaults?.head_pdc).toBe(doc.nodes[c.nodes[0]!.name]!.pdc);
    const valid = runBuiltCli(['validate'], env);
    expect(valid.status, valid.stderr).toBe(0);
    // Once a state is there, init refuses before any node is contacted.
    const again = runBuiltCli(['init', '--discover', a], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already holds a state');

    const state2 = join(dir, 'two.yaml');
    await c.nodes[1]!.drop();
    const down = runBuiltCli(['init', '--discover', `${a},${b}`, '--connect-timeout', '3'], { ...c.env, ESDC_OVERLAY_STATE: state2 });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('nothing was changed');
    expect(existsSync(state2)).toBe(false);
  });
});
