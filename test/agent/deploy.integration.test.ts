/**
 * `agent deploy` on simulated SmartOS nodes behind real sshd (test/harness):
 * the bundle, agent.json and the SMF manifest land with their modes, svccfg
 * import and svcadm enable run once, a second deploy changes nothing, a node
 * without a usable Node refuses the whole run, --node names another binary;
 * `agent status --all` and `verify` report each node's agent.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AGENT_FMRI } from '../../src/agent/deploy.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli } from '../support/cli.js';
import { BUNDLE, OLD_NODE } from '../support/paths.js';

const CLI = '/opt/custom/esdc-overlay/esdc-overlay.mjs';
const CONFIG = '/opt/custom/esdc-overlay/agent.json';
const MANIFEST = '/opt/custom/smf/esdc-overlay-agent.xml';

async function calls(c: SimCluster): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const n of c.nodes) out[n.name] = (await n.calls()).map((x) => [x.cmd, ...x.args].join(' '));
  return out;
}
/** The calls that change something: not the reads (node --version, svcs, the version check of status). */
const changes = (all: string[]): string[] => all.filter((l) => !/^(node |svcs )/.test(l));

async function reset(c: SimCluster): Promise<void> {
  for (const n of c.nodes) {
    await n.clearCalls();
    await writeFile(join(n.dir, 'sftp.log'), '');
  }
}

describe('agent deploy on 2 simulated nodes', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));
  let bundle: string;
  beforeAll(async () => {
    bundle = await readFile(BUNDLE, 'utf8');
  });

  it('places the bundle, agent.json and the manifest with their modes, then imports and enables the service once', async () => {
    await reset(c);
    const r = await cli(['agent', 'deploy', '--yes'], c.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`+ ${CLI} mode 0644`);
    expect(r.stdout).toContain(`run svccfg import ${MANIFEST}`);
    const all = await calls(c);
    for (const n of c.nodes) {
      expect(await readFile(n.path(CLI), 'utf8')).toBe(bundle);
      for (const p of [CLI, CONFIG, MANIFEST]) expect((await stat(n.path(p))).mode & 0o777, p).toBe(0o644);
      const xml = await readFile(n.path(MANIFEST), 'utf8');
      expect(xml).toContain(`exec="/opt/tools/bin/node ${CLI} agent --log-format json --config ${CONFIG} &amp;"`);
      expect(JSON.parse(await readFile(n.path(CONFIG), 'utf8'))).toMatchObject({ schedule: '*/5 * * * *', bundle: '/opt/custom/esdc-overlay/bundle.json' });
      expect(changes(all[n.name]!)).toEqual([`svccfg import ${MANIFEST}`, `svcadm enable ${AGENT_FMRI}`]);
      // Nothing left staged.
      await expect(stat(n.path(`${CLI}.esdc-new`))).rejects.toThrow();
    }
  });

  it('a second deploy writes nothing and runs nothing', async () => {
    await reset(c);
    const r = await cli(['agent', 'deploy', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('The agent is up to date on every node.');
    for (const n of c.nodes) {
      expect(changes((await calls(c))[n.name]!)).toEqual([]);
      expect(await n.sftpWrites()).toEqual([]);
    }
  });

  const deployAsBundle = (node: string): void => {
    const r = spawnSync(node, [BUNDLE, 'agent', 'deploy'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ESDC_OVERLAY_LOG_LEVEL: 'silent', ...c.env }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('The agent is up to date on every node.');
  };
  it('run as the bundle itself (SSH included), deploy takes its own file: the nodes are up to date', () => deployAsBundle(process.execPath));
  it.skipIf(!OLD_NODE)('the same under the oldest supported Node (ESDC_OVERLAY_OLD_NODE)', () => deployAsBundle(OLD_NODE!));

  it('agent status --all and verify report each node\'s agent version, Node and SMF state', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const s = await cli(['agent', 'status', '--all', '--json'], c.env);
    expect(s.status, s.stderr).toBe(0);
    const agents = JSON.parse(s.stdout) as Array<{ node: string; installed: boolean; version: string; node_version: string; service: string }>;
    expect(agents.map((a) => a.node)).toEqual(c.nodes.map((n) => n.name));
    // The simulated node runs the deployed bundle with this machine's Node.
    for (const a of agents) expect(a).toMatchObject({ installed: true, version: pkg.version, node_version: process.version, service: 'online' });
    const v = await cli(['verify'], c.env);
    for (const n of c.nodes) expect(v.stdout).toMatch(new RegExp(`${n.name.replace(/\./g, '\\.')}\\s.*agent ${pkg.version.replace(/\./g, '\\.')} on ${process.version.replace(/\./g, '\\.')}, online`));
  });

  it('a node without a usable Node is refused, with what to install and where, and no node is touched', async () => {
    const [a, b] = c.nodes;
    await rename(a!.path('/opt/tools/bin/node'), a!.path('/opt/node-hidden'));
    await writeFile(b!.path('/var/sim/node-version'), 'v0.10.26\n');
    await writeFile(b!.path(CONFIG), '{}\n', { mode: 0o644 });
    await reset(c);
    const r = await cli(['agent', 'deploy', '--yes'], c.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('agent deploy refused on 2 node(s); nothing was changed');
    expect(r.stderr).toContain(`${a!.name}: no usable Node.js (/opt/tools/bin/node: not found; /opt/local/bin/node: not found)`);
    expect(r.stderr).toContain(`${b!.name}: no usable Node.js (/opt/tools/bin/node: v0.10.26, below v18.20.0; /opt/local/bin/node: not found)`);
    expect(r.stderr).toContain('install Node.js v18.20.0 or later under /opt');
    expect(r.stderr).toContain('--node PATH');
    for (const n of c.nodes) {
      expect(changes((await calls(c))[n.name]!)).toEqual([]);
      expect(await n.sftpWrites()).toEqual([]);
    }
    expect(await readFile(b!.path(CONFIG), 'utf8')).toBe('{}\n');
  });

  it('--node PATH names the binary: the manifest changes, so it is imported again and the running agent restarted', async () => {
    const [a, b] = c.nodes;
    // The node binary the previous test hid, now under /opt/local (the harness's script keeps this node's root).
    await mkdir(a!.path('/opt/local/bin'), { recursive: true });
    await rename(a!.path('/opt/node-hidden'), a!.path('/opt/local/bin/node'));
    await writeFile(b!.path('/var/sim/node-version'), 'v22.1.0\n');
    await writeFile(a!.path('/var/sim/node-version'), 'v18.20.4\n');
    await reset(c);
    const r = await cli(['agent', 'deploy', '--yes', '--node', '/opt/local/bin/node', a!.name], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(await readFile(a!.path(MANIFEST), 'utf8')).toContain(`exec="/opt/local/bin/node ${CLI} agent`);
    expect(changes((await calls(c))[a!.name]!)).toEqual([`svccfg import ${MANIFEST}`, `svcadm restart ${AGENT_FMRI}`]);
    expect((await calls(c))[b!.name]).toEqual([]);
  });

  it('refuses a --node that is not a plain absolute path, before connecting', async () => {
    const r = await cli(['agent', 'deploy', '--yes', '--node', '/opt/x;rm -rf /'], c.env);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('--node "/opt/x;rm -rf /" must be an absolute path');
  });
});
