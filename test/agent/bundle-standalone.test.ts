/**
 * The one-file bundle as a compute node has it: dist/esdc-overlay.mjs copied
 * alone into an empty directory (no node_modules, no templates/, no
 * package.json anywhere above it), running `agent --once` against a
 * simulated node's root. Under this Node and under the oldest supported one
 * (ESDC_OVERLAY_OLD_NODE, from scripts/old-node.sh; .ci/run sets it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, OLD_NODE } from '../support/paths.js';
import { agentSim } from './sim-node.js';

const ARP = '/opt/custom/networking/customers_overlay.json';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const NODES: Array<[string, string | undefined]> = [
  ['this Node', process.execPath],
  ['the oldest supported Node (ESDC_OVERLAY_OLD_NODE)', OLD_NODE],
];

describe.each(NODES)('the bundle alone in an empty directory, under %s', (_label, node) => {
  let dir: string;
  let run: string;
  let bundle: string;
  let config: string;
  let root: string;
  /** The harness's seam that gives the agent the simulated node's root (never the config file). */
  let simEnv: Record<string, string>;
  const exec = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run => {
    // A bare environment: nothing that could point the bundle at this checkout.
    const r = spawnSync(node!, [bundle, ...args], { cwd: run, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extraEnv }, timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    if (!node) return;
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build:bundle (npm test does)`);
    dir = await mkdtemp(join(tmpdir(), 'esdc-bundle-alone-'));
    run = join(dir, 'run');
    await mkdir(run);
    bundle = join(run, 'esdc-overlay.mjs');
    await copyFile(BUNDLE, bundle);
    const sim = await agentSim(join(dir, 'node'));
    root = sim.root;
    simEnv = sim.env;
    await sim.writeBundle(sim.bundleFor(sim.doc));
    config = join(dir, 'agent.json');
    await writeFile(config, JSON.stringify({ status: join(dir, 'agent-status.json'), start_delay_max_seconds: 0 }));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!node)('the directory holds the bundle and nothing else; --version names the package and the Node it runs on', async () => {
    expect(await readdir(run)).toEqual(['esdc-overlay.mjs']);
    const v = exec(['--version']);
    expect(v.stderr).toBe('');
    const nodeVersion = spawnSync(node!, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(v.stdout).toBe(`esdc-overlay ${pkg.version} (node ${nodeVersion})\n`);
  });

  it.skipIf(!node)('agent --once repairs the simulated node, logging JSON lines on stderr', async () => {
    const r = exec(['agent', '--once', '--json', '--config', config, '--log-level', 'info', '--log-format', 'json'], simEnv);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { result: string; drift: { files: string[] } };
    expect(report.result).toBe('repaired');
    expect(report.drift.files).toContain(ARP);
    expect((await stat(join(root, ARP))).mode & 0o777).toBe(0o400);
    // The templates came from inside the bundle: the IPsec config is rendered from one.
    expect(await readFile(join(root, '/opt/custom/etc/ipsec/ipsecinit.conf'), 'utf8').catch(() => '')).not.toBe('');
    const logs = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string });
    expect(logs.map((l) => l.msg)).toContain('agent run');
    // A second run has nothing to do.
    const again = exec(['agent', '--once', '--json', '--config', config], simEnv);
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { result: string }).result).toBe('in-sync');
  });

  it.skipIf(!node || !existsSync('/usr/bin/script'))('on a terminal it logs through pino-pretty, which is inside the bundle', () => {
    // script(1) gives the run a pseudo-terminal, so the logger takes its readable form.
    const cmd = [node!, bundle, 'agent', '--once', '--config', config, '--log-level', 'info'].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { cwd: run, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'dumb', ...simEnv }, timeout: 60_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/INFO.*agent run/);
    expect(r.stdout).not.toContain('"msg":"agent run"');
  });
});

