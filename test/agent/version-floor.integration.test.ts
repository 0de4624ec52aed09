/**
 * apply reads the version floor the node's agent recorded (its status file)
 * and writes a bundle above it, over real sshd to a simulated node: a head
 * node whose clock was once far ahead does not lock the agent out for good.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import { AGENT_STATUS_PATH, EMPTY_STATUS } from '../../src/agent/status.js';
import { writeSimRoots, type SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

describe('the agent\'s version floor', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('apply reads it from the node and writes the next bundle above it; the agent accepts that bundle', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const n = c.nodes[0]!;
    const ahead = Date.now() + 10 * 365 * 86_400_000;
    // What the agent recorded after applying a bundle from a head node whose clock was ten years ahead.
    await writeFile(n.path(AGENT_STATUS_PATH), `${JSON.stringify({ ...EMPTY_STATUS, bundle_version: ahead, bundle_sha256: 'f'.repeat(64) }, null, 2)}\n`);
    // That bundle is gone (a reinstalled /opt/custom, a damaged file): the next one starts from the head node's clock.
    await rm(n.path(BUNDLE_PATH));
    const plan = await cli(['plan'], c.env);
    expect(plan.stdout).toContain(`+ ${BUNDLE_PATH}  (new, mode 0400; refresh nothing)`);
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    expect(parseBundle(await readFile(n.path(BUNDLE_PATH), 'utf8')).version).toBe(ahead + 1);

    const config = join(c.dir, 'agent.json');
    await writeFile(config, JSON.stringify({ status: n.path(AGENT_STATUS_PATH) }));
    // The agent runs on the node itself: its root comes from the harness's seam, like the cluster's.
    await mkdir(join(c.dir, 'agent'), { recursive: true });
    const local = { ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(join(c.dir, 'agent'), { local: n.root }) };
    const r = await cli(['agent', '--once', '--json', '--config', config], local);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: 'in-sync', bundle_version: ahead + 1 });
  }, 120_000);
});
