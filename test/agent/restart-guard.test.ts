/**
 * The agent and `agent patch-table` on a simulated node, around their own
 * varpd restart (docs/operations.md#the-agent, docs/arp-deltas.md#on-the-node):
 * before it, every overlay's table on the node must parse as varpd reads it,
 * another tool's too, or the restart is refused naming the node, the overlay
 * and the table (varpd would drop that overlay's instance for good,
 * docs/smartos-rules.md#before-a-restart); after it, an overlay of the bundle
 * left DEGRADED is reported, with exit 2 and how to recreate it, as apply does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH } from '../../src/agent/bundle.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { cli } from '../support/cli.js';
import { agentSim, type AgentSim } from './sim-node.js';
import { customersTable, modelOf, moveOne as moveOneNic, moveWords } from './patch-words.js';

const run = promisify(execFile);
const ARP = '/opt/custom/networking/customers_overlay.json';
const FOREIGN = '/opt/custom/networking/danube_overlay.json';
const GOOD = '{\n  "02:08:20:00:00:99": {"arp": "10.99.0.9", "ip": "10.200.1.9", "port": 4789}\n}\n';
let dir: string;
let sim: AgentSim;
let configPath: string;

const model = modelOf;
const table = (m: Model): string => customersTable(m, sim.node);
const at = (p: string): string => join(sim.root, p);
const dladm = (...args: string[]) => run(at('/usr/sbin/dladm'), args);
const words = (before: StateDoc, after: StateDoc): string[] => moveWords(sim.node, before, after);
const moveOne = (d: StateDoc): StateDoc => moveOneNic(d, sim.node);

async function fault(): Promise<Record<string, string>> {
  const { stdout } = await dladm('show-overlay', '-f', '-p', '-o', 'link,status');
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(':') as [string, string]));
}
async function varpdRestarts(): Promise<number> {
  const text = await readFile(at('/var/sim/calls.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.includes('"cmd":"svcadm"') && l.includes('"network/varpd"')).length;
}
const once = (...extra: string[]) => cli(['agent', '--once', '--config', configPath, ...extra], sim.env);
const patch = (w: string[], ...extra: string[]) => cli(['agent', 'patch-table', '--config', configPath, ...extra, ...w], sim.env);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-guard-'));
  sim = await agentSim(dir);
  configPath = join(dir, 'agent.json');
  await writeFile(configPath, JSON.stringify({ status: join(dir, 'agent-status.json'), start_delay_max_seconds: 0, timeout_seconds: 30 }));
  await sim.writeBundle(sim.bundleFor(sim.doc));
  const first = await once();
  expect(first.status, first.stderr).toBe(0);
  // Another tool's overlay (a Danube rule's) beside ours.
  await writeFile(at(FOREIGN), GOOD);
  await dladm('create-overlay', '-e', 'vxlan', '-s', 'files', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4789', '-p', `files/config=${FOREIGN}`, '-v', '2999', 'danube2999');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the agent and patch-table around their varpd restart', () => {
  it('agent: a foreign table mid-edit: restart refused and named, the overlay stays ONLINE; mended, the next run restarts', async () => {
    await writeFile(at(FOREIGN), GOOD.slice(0, 30));
    await rm(at(ARP));
    await writeFile(at('/var/sim/calls.jsonl'), '');
    const r = await once('--json');
    // Without the check varpd restarts here and danube2999 is DEGRADED for good.
    expect((await fault()).danube2999).toBe('ONLINE');
    expect(await varpdRestarts()).toBe(0);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.result).toBe('failed');
    expect(report.error).toContain(`refusing to restart varpd on ${sim.node}: overlay danube2999: ${FOREIGN} does not parse as varpd reads it: the text ends inside a string (at byte 30)`);
    expect(report.degraded).toEqual([]);
    // Our table is back; the restart it needs is owed (the manifest), so the next run does it.
    expect(await readFile(at(ARP), 'utf8')).toBe(table(model(sim.doc)));

    await writeFile(at(FOREIGN), GOOD);
    const again = await once('--json');
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).result).toBe('repaired');
    expect(await varpdRestarts()).toBe(1);
    expect(await fault()).toMatchObject({ customers1000: 'ONLINE', danube2999: 'ONLINE' });
  });

  it('patch-table: a foreign table mid-edit: refused before anything is renamed; nothing changes', async () => {
    const before = await readFile(at(ARP), 'utf8');
    const bundleBefore = await readFile(at(BUNDLE_PATH));
    await writeFile(at(FOREIGN), '{"02:08:20:00:00:99": {"port": 4789},}\n');
    await writeFile(at('/var/sim/calls.jsonl'), '');
    const r = await patch(words(sim.doc, moveOne(sim.doc)));
    expect((await fault()).danube2999).toBe('ONLINE');
    expect(await varpdRestarts()).toBe(0);
    expect(r.status).toBe(1);
    // "patch of" is what the daemon reads as: send the whole file (which the same check then refuses, and retries).
    expect(r.stderr).toContain(`patch of ${ARP} failed: commit-failed: check every overlay table before restarting varpd: refusing to restart varpd on `);
    expect(r.stderr).toContain(`overlay danube2999: ${FOREIGN} does not parse as varpd reads it: a key expected after ',' (no trailing comma)`);
    expect(await readFile(at(ARP), 'utf8')).toBe(before);
    expect(await readFile(at(BUNDLE_PATH))).toEqual(bundleBefore);
    // This run's staged copies are gone.
    expect((await readdir(at('/opt/custom/networking'))).filter((n) => n.includes('.esdc-new-'))).toEqual([]);
    await writeFile(at(FOREIGN), GOOD);
  });

  it('an overlay of the bundle DEGRADED after the restart: agent and patch-table say so, exit 2, with how to recreate it', async () => {
    // varpd restarted (by someone) while our table was broken: customers1000 lost its instance for good.
    const good = await readFile(at(ARP), 'utf8');
    await rm(at(ARP));
    await writeFile(at(ARP), `${good.trimEnd().slice(0, -1)},}\n`);
    await run(at('/usr/sbin/svcadm'), ['restart', 'network/varpd']);
    expect((await fault()).customers1000).toBe('DEGRADED');

    const r = await once('--json');
    expect(r.status).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.result).toBe('repaired');
    expect(report.refreshed).toContain('varpd');
    expect(report.degraded).toEqual([{ link: 'customers1000', status: 'DEGRADED', details: 'no varpd instance exists' }]);
    const text = await once();
    // In sync now: no restart, so no read of the fault state and nothing to say.
    expect(text.status).toBe(0);

    const after = moveOne(sim.doc);
    const p = await patch(words(sim.doc, after));
    expect(p.status).toBe(2);
    expect(p.stdout).toContain(`overlay customers1000 is DEGRADED after varpd's restart (no varpd instance exists): its VMs reach no one over it.`);
    expect(p.stdout).toContain('run `dladm delete-overlay customers1000` on the node, then esdc-overlay apply');
    expect(await readFile(at(ARP), 'utf8')).toBe(table(model(after)));
    const j = await patch(words(after, moveOne(after)), '--json');
    expect(j.status).toBe(2);
    expect(JSON.parse(j.stdout).degraded).toEqual([{ link: 'customers1000', status: 'DEGRADED', details: 'no varpd instance exists' }]);
  });
});
