/**
 * apply leaves each node its bundle (staged and committed with the rest,
 * mode 0400), and the agent on that node then finds nothing to do; after a
 * state change the next apply's bundle has a higher version.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import type { StateDoc } from '../../src/model/state.js';
import { writeSimRoots, type SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli } from '../support/cli.js';

describe('apply writes the agent bundle', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('on every node, 0400, checksummed, for that node; the agent there is then in sync', async () => {
    const plan = await cli(['plan'], c.env);
    expect(plan.stdout).toContain(`+ ${BUNDLE_PATH}  (new, mode 0400; refresh nothing)`);
    const apply = await cli(['apply', '--yes'], c.env);
    expect(apply.stderr).toBe('');
    expect(apply.status).toBe(0);
    for (const n of c.nodes) {
      const st = await stat(n.path(BUNDLE_PATH));
      expect(st.mode & 0o777).toBe(0o400);
      const b = parseBundle(await readFile(n.path(BUNDLE_PATH), 'utf8'));
      expect(b.node).toBe(n.name);
      // The staged copy was renamed in the same commit as the files (sshd's SFTP log).
      // sshd's log reaches the file a little after the session ends: wait for it, a bounded while.
      let renamed = false;
      for (let i = 0; i < 40 && !renamed; i++) {
        renamed = (await n.sftpWrites()).some((l) => l.includes('/opt/custom/esdc-overlay/.bundle.json.esdc-new-') && /rename/.test(l));
        if (!renamed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(renamed).toBe(true);
    }
    const n1 = c.nodes[0]!;
    await n1.clearCalls();
    const statusPath = join(c.dir, 'agent-status.json');
    await writeFile(join(c.dir, 'agent.json'), JSON.stringify({ status: statusPath }));
    const agentDir = join(c.dir, 'agent');
    await mkdir(agentDir, { recursive: true });
    const once = await cli(['agent', '--once', '--json', '--config', join(c.dir, 'agent.json')], { ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(agentDir, { local: n1.root }) });
    expect(once.status).toBe(0);
    expect(JSON.parse(once.stdout).result).toBe('in-sync');
    expect((await n1.calls()).map((x) => x.cmd)).toEqual(['dladm']);
  }, 240_000);

  it('a second apply leaves the bundle alone; a state change gives a higher version', async () => {
    const n1 = c.nodes[0]!;
    const before = await stat(n1.path(BUNDLE_PATH));
    const v1 = parseBundle(await readFile(n1.path(BUNDLE_PATH), 'utf8')).version;
    expect((await cli(['apply', '--yes'], c.env)).stdout).toContain('No changes');
    expect((await stat(n1.path(BUNDLE_PATH))).mtimeMs).toBe(before.mtimeMs);

    const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
    doc.overlay_rules!.customers!.mtu = 1300;
    await writeFile(c.statePath, stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const v2 = parseBundle(await readFile(n1.path(BUNDLE_PATH), 'utf8')).version;
    expect(v2).toBeGreaterThan(v1);
  }, 240_000);
});
