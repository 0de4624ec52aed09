/**
 * The sshd simulated nodes' `node` (test/harness/sim-cluster.ts): a script
 * on the node runs with this machine's Node and no root mapping, so only
 * `<script> --version` is run; the agent bundle's patch-table (or anything
 * else) is refused, else it would act on this machine's /opt and /usbkey.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { lightFacts } from './light-nodes.js';
import { simVms, writeNodeRoot } from './sim-cluster.js';

let dir: string;
let root: string;
let marker: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-sim-node-'));
  root = join(dir, 'root');
  marker = join(dir, 'ran');
  await writeNodeRoot(root, lightFacts(1)(0, 1), simVms(0, []));
  // Stands in for the agent bundle: it leaves a mark on this machine when it runs.
  const cli = join(root, AGENT_LAYOUT.smartos.cli);
  await mkdir(join(cli, '..'), { recursive: true });
  await writeFile(cli, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, process.argv.slice(2).join(' '));\nconsole.log('v0.1.0');\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const node = (args: string[]) => spawnSync(join(root, '/opt/tools/bin/node'), args, { encoding: 'utf8', timeout: 30_000 });

describe('the sshd simulated node runs no agent command', () => {
  it('refuses the bundle\'s patch-table (exit 9) and the script never runs', () => {
    const r = node([AGENT_LAYOUT.smartos.cli, 'agent', 'patch-table', '/opt/custom/networking/x.json']);
    expect(r.status).toBe(9);
    expect(r.stderr).toContain('no root mapping');
    expect(existsSync(marker)).toBe(false);
  });

  it('runs <script> --version (what agent status reads)', () => {
    const r = node([AGENT_LAYOUT.smartos.cli, '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('v0.1.0\n');
  });
});
