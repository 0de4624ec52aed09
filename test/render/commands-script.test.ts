/**
 * commands.sh does what its header says (issue 16, defects 5, 6, 8): the steps
 * in apply's order (refreshes first, then overlays), each create-overlay
 * guarded so a node that has the link is left alone, varpd's asynchronous
 * restart waited for, and in.iked told to re-read the keys.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadStateText } from '../../src/model/load.js';
import { desiredNodes } from '../../src/plan/desired-state.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { commandsScript } from '../../src/render/render-tree.js';
import { EXAMPLE } from '../support/paths.js';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { NODE_CANDIDATES } from '../../src/agent/deploy.js';
import { AGENT_BUNDLE_PATH, AGENT_NODE_CANDIDATES, CHECK_VARPD_TABLES } from '../../src/render/varpd-check-sh.js';
import { simFacts, writeNodeRoot, writeSimRoots } from '../harness/sim-cluster.js';

const { model } = loadStateText(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
const scripts = new Map([...desiredNodes(new RenderContext(model))].map((d) => [d.node, { d, lines: commandsScript(d).split('\n') }]));
const cn01 = scripts.get('cn01.prg.example.com')!;

describe('commands.sh', () => {
  it('guards every create-overlay with dladm show-overlay -f of the same link (plain show-overlay exits 1 for an overlay whose varpd instance is gone)', () => {
    const creates = cn01.lines.filter((l) => l.includes('dladm create-overlay'));
    expect(creates.map((l) => l.split(' ').pop())).toEqual(cn01.d.overlays.map((o) => o.link));
    for (const line of creates) {
      const link = line.split(' ').pop()!;
      expect(line.startsWith(`dladm show-overlay -f ${link} >/dev/null 2>&1 || dladm create-overlay `), line).toBe(true);
    }
  });

  it('refreshes the services before it creates overlays, as apply does, and stops at the first failure', () => {
    const lastRefresh = Math.max(...['020-ipsec-restore.sh', '010-ipf-restore.sh', 'svcadm restart', 'net-virtual refresh'].map((c) => cn01.lines.findIndex((l) => l.includes(c))));
    const firstCreate = cn01.lines.findIndex((l) => l.includes('dladm create-overlay'));
    expect(lastRefresh).toBeGreaterThan(0);
    expect(firstCreate).toBeGreaterThan(lastRefresh);
    expect(cn01.lines[1]).toBe('set -e');
  });

  it('waits for varpd to be online after its restart (svcadm restart has no -s)', () => {
    const i = cn01.lines.indexOf('svcadm restart network/varpd');
    expect(cn01.lines[i + 1]).toBe('await_online svc:/network/varpd:default');
    const fn = cn01.lines.find((l) => l.startsWith('await_online() {'));
    expect(fn).toContain('svcs -H -o state,nstate "${f:?}"');
    expect(fn).toContain('"online -"');
  });

  it('has in.iked re-read the keys after the IPsec refresh, when it runs (else it reads them as it starts)', async () => {
    const i = cn01.lines.indexOf('/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh refresh');
    expect(i).toBeGreaterThan(0);
    const line = cn01.lines[i + 1]!;
    expect(line).toBe("if svcs -H -o state,nstate svc:/network/ipsec/ike:default | grep -q '^online '; then ikeadm read preshared; fi");
    // The line under sh, with svcs and ikeadm stand-ins: ikeadm runs only while ike is online.
    const dir = await mkdtemp(join(tmpdir(), 'esdc-ike-'));
    try {
      await writeFile(join(dir, 'svcs'), '#!/bin/sh\ncat "$(dirname "$0")/state"\n', { mode: 0o755 });
      await writeFile(join(dir, 'ikeadm'), '#!/bin/sh\necho "$*" >> "$(dirname "$0")/ikeadm.log"\n', { mode: 0o755 });
      const run = (state: string) =>
        writeFile(join(dir, 'state'), state).then(() => promisify(execFile)('sh', ['-ec', line], { env: { PATH: `${dir}:${process.env.PATH}` } }));
      await run('offline        online\n');
      expect(existsSync(join(dir, 'ikeadm.log'))).toBe(false);
      await run('online         -\n');
      expect(await readFile(join(dir, 'ikeadm.log'), 'utf8')).toBe('read preshared\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * commands.sh restarts varpd only after every overlay's table on the node is
 * checked, as apply, the agent and the daemon do (docs/smartos-rules.md#before-a-restart):
 * through the agent's `agent check-tables`; without an agent it does not
 * restart at all. Run under sh on a simulated node root: the script's lines
 * from `set -e` to varpd's await, with the node's simulated commands on PATH
 * and the built bundle as the agent.
 */
describe("commands.sh's check before varpd's restart", () => {
  const BUNDLE = join(process.cwd(), 'dist/esdc-overlay.mjs');
  const FOREIGN = '/opt/custom/networking/danube_overlay.json';
  const OURS = '/opt/custom/networking/customers_overlay.json';
  const GOOD = '{\n  "02:08:20:00:00:99": {"arp": "10.99.0.9", "ip": "10.200.1.9", "port": 4789}\n}\n';
  const dirs: string[] = [];
  let dir: string;
  let root: string;
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-commands-'));
    dirs.push(dir);
    root = join(dir, 'root');
    await writeNodeRoot(root, simFacts(0, 1), []);
    await mkdir(join(root, 'opt/custom/networking'), { recursive: true });
    await writeFile(join(root, OURS), GOOD);
    await writeFile(join(root, FOREIGN), GOOD);
    const dladm = (...a: string[]) => promisify(execFile)(join(root, 'usr/sbin/dladm'), a);
    await dladm('create-overlay', '-e', 'vxlan', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4790', '-s', 'files', '-p', `files/config=${OURS}`, '-v', '1000', 'customers1000');
    await dladm('create-overlay', '-e', 'vxlan', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4789', '-s', 'files', '-p', `files/config=${FOREIGN}`, '-v', '2999', 'danube2999');
    await writeFile(join(dir, 'agent.json'), '{}\n');
  });

  /** The script's lines from `set -e` through varpd's await (the rest names paths only a node has). */
  const varpdPart = (): string => {
    const from = cn01.lines.indexOf('set -e');
    const to = cn01.lines.indexOf('await_online svc:/network/varpd:default');
    return `${cn01.lines.slice(from, to + 1).filter((l) => !l.startsWith('/opt/') && !l.startsWith('if svcs ')).join('\n')}\n`;
  };
  const runScript = async (env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> => {
    const script = join(dir, 'varpd-part.sh');
    await writeFile(script, varpdPart());
    const base = {
      PATH: `${join(root, 'usr/sbin')}:${join(root, 'usr/bin')}:${process.env.PATH}`,
      ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(dir, { local: root }),
      ESDC_OVERLAY_AGENT_CONFIG: join(dir, 'agent.json'),
      ESDC_OVERLAY_NODE: process.execPath,
      ESDC_OVERLAY_BUNDLE: BUNDLE,
    };
    try {
      const r = await promisify(execFile)('sh', [script], { env: { ...base, ...env } });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  };
  const varpdRestarts = async (): Promise<number> =>
    (await readFile(join(root, 'var/sim/calls.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"cmd":"svcadm"') && l.includes('network/varpd')).length;
  const fault = async (): Promise<string> => (await promisify(execFile)(join(root, 'usr/sbin/dladm'), ['show-overlay', '-f', '-p', '-o', 'link,status'])).stdout;

  it('checks right before the restart, with the bundle and the Node agent deploy uses', () => {
    const i = cn01.lines.indexOf('svcadm restart network/varpd');
    expect(cn01.lines[i - 1]).toBe(CHECK_VARPD_TABLES);
    expect(AGENT_BUNDLE_PATH).toBe(AGENT_LAYOUT.smartos.cli);
    expect(AGENT_NODE_CANDIDATES).toEqual(NODE_CANDIDATES);
  });

  it('a broken foreign table: the agent names it, varpd is not restarted, the script stops there', async () => {
    await writeFile(join(root, FOREIGN), GOOD.slice(0, 30));
    const r = await runScript({});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`refusing to restart varpd on`);
    expect(r.stderr).toContain(`overlay danube2999: ${FOREIGN} does not parse as varpd reads it: the text ends inside a string (at byte 30)`);
    expect(r.stderr).toContain('commands.sh: not restarting varpd');
    expect(await varpdRestarts()).toBe(0);
    expect(await fault()).toBe('customers1000:ONLINE\ndanube2999:ONLINE\n');
  });

  it('every table parses: the agent says so and varpd restarts', async () => {
    const r = await runScript({});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: 2 overlay table\(s\), 2 read: each parses as varpd reads it; varpd may restart\n/);
    expect(await varpdRestarts()).toBe(1);
  });

  it('no agent to check with: no restart, and what to do instead', async () => {
    await writeFile(join(root, FOREIGN), GOOD.slice(0, 30));
    const r = await runScript({ ESDC_OVERLAY_NODE: join(dir, 'no-node') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("commands.sh: not restarting varpd: cannot check the overlays' tables first");
    expect(r.stderr).toContain('ESDC_OVERLAY_UNCHECKED_VARPD_RESTART=yes');
    expect(await varpdRestarts()).toBe(0);
    // A bundle that this Node cannot run (here: not a bundle) is no check either.
    await writeFile(join(dir, 'not-a-bundle.mjs'), 'process.exit(3)\n');
    const s = await runScript({ ESDC_OVERLAY_BUNDLE: join(dir, 'not-a-bundle.mjs') });
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('cannot check');
    expect(await varpdRestarts()).toBe(0);
  });

  it('the opt-in restarts unchecked, saying so (and a broken table then costs its overlay the instance)', async () => {
    await writeFile(join(root, FOREIGN), GOOD.slice(0, 30));
    const r = await runScript({ ESDC_OVERLAY_NODE: join(dir, 'no-node'), ESDC_OVERLAY_UNCHECKED_VARPD_RESTART: 'yes' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('restarting varpd without checking');
    expect(await varpdRestarts()).toBe(1);
    expect(await fault()).toBe('customers1000:ONLINE\ndanube2999:DEGRADED\n');
  });
});
