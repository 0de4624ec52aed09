/**
 * `agent --once` on a simulated node (test/harness node root with its
 * recording svcadm, net-virtual, dladm): repairs drift, refreshes exactly the
 * services concerned, touches nothing when in sync, refuses older and
 * damaged bundles.
 */
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { stagedTarget } from '../../src/transport/transport.js';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import { MANIFEST_PATH } from '../../src/plan/manifest.js';
import { cli, runCli } from '../support/cli.js';
import { agentSim, type AgentSim } from './sim-node.js';

const ARP = '/opt/custom/networking/customers_overlay.json';

interface Setup {
  sim: AgentSim;
  dir: string;
  configPath: string;
  statusPath: string;
}

async function setup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'esdc-agent-'));
  const sim = await agentSim(dir);
  const statusPath = join(dir, 'agent-status.json');
  const configPath = join(dir, 'agent.json');
  await writeFile(configPath, JSON.stringify({ status: statusPath, start_delay_max_seconds: 0 }));
  return { sim, dir, configPath, statusPath };
}

async function calls(root: string): Promise<string[]> {
  const text = await readFile(join(root, 'var/sim/calls.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const c = JSON.parse(l) as { cmd: string; args: string[] };
    return [c.cmd, ...c.args].join(' ');
  });
}
const clearCalls = (root: string): Promise<void> => writeFile(join(root, 'var/sim/calls.jsonl'), '');
/** Refreshes and creates: every recorded call but the plan's read of dladm and chown of staged files. */
// Reads (show-overlay, before a varpd restart too, and its fault state after one; svcs, polled while a restarted
// service comes back) and owners are not changes.
const changes = (all: string[]): string[] => all.filter((c) => !c.startsWith('dladm show-overlay ') && !c.startsWith('chown ') && !c.startsWith('svcs '));

async function mtimes(root: string, paths: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of paths) out[p] = (await stat(join(root, p))).mtimeMs;
  return out;
}

function once(s: Setup, ...extra: string[]) {
  return cli(['agent', '--once', '--config', s.configPath, ...extra], s.sim.env);
}

describe('agent --once repairs drift on a simulated node', () => {
  let s: Setup;
  let managed: string[];
  beforeAll(async () => {
    s = await setup();
    await s.sim.writeBundle(s.sim.bundleFor(s.sim.doc));
    const first = await once(s, '--json');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout).result).toBe('repaired');
    managed = Object.keys(JSON.parse(await readFile(join(s.sim.root, MANIFEST_PATH), 'utf8')).files);
  });
  afterAll(async () => {
    await rm(s.dir, { recursive: true, force: true });
  });

  it('a first run writes every file of the bundle with its mode, and the manifest apply would write', async () => {
    expect(managed).toContain(ARP);
    expect((await stat(join(s.sim.root, ARP))).mode & 0o777).toBe(0o400);
    expect((await stat(join(s.sim.root, '/opt/custom/etc/ipsec/ike.preshared'))).mode & 0o777).toBe(0o400);
    const usbkey = await readFile(join(s.sim.root, 'usbkey/config'), 'utf8');
    expect(usbkey).toContain('overlay_rule_customers="-e vxlan');
    expect(usbkey).toContain("root_shadow='$5$simulated$notarealhash'");
  });

  it('a run with nothing to do writes no file and calls no service', async () => {
    await clearCalls(s.sim.root);
    const paths = [...managed, '/usbkey/config', MANIFEST_PATH, BUNDLE_PATH];
    const before = await mtimes(s.sim.root, paths);
    const r = await once(s, '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.result).toBe('in-sync');
    expect(report.refreshed).toEqual([]);
    expect(await mtimes(s.sim.root, paths)).toEqual(before);
    expect(changes(await calls(s.sim.root))).toEqual([]);
  });

  it('a deleted ARP table and an edited /usbkey/config line are restored; only varpd and net-virtual are refreshed', async () => {
    const arpBefore = await readFile(join(s.sim.root, ARP), 'utf8');
    const usbBefore = await readFile(join(s.sim.root, 'usbkey/config'), 'utf8');
    await unlink(join(s.sim.root, ARP));
    await writeFile(join(s.sim.root, 'usbkey/config'), usbBefore.replace('vxlan/listen_port=4791', 'vxlan/listen_port=4999'));
    await clearCalls(s.sim.root);
    const r = await once(s);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('repaired');
    expect(r.stdout).toContain(`file ${ARP}`);
    expect(r.stdout).toContain('/usbkey/config overlay_rule_lab');
    expect(await readFile(join(s.sim.root, ARP), 'utf8')).toBe(arpBefore);
    expect((await stat(join(s.sim.root, ARP))).mode & 0o777).toBe(0o400);
    expect(await readFile(join(s.sim.root, 'usbkey/config'), 'utf8')).toBe(usbBefore);
    const all = await calls(s.sim.root);
    expect(changes(all)).toEqual(['svcadm restart network/varpd', 'net-virtual refresh']);
    expect(all.indexOf('svcs -H -o state,nstate svc:/network/varpd:default')).toBeGreaterThan(all.indexOf('svcadm restart network/varpd'));
    // Every overlay's table checked before the restart (docs/smartos-rules.md#before-a-restart), the fault state read after it.
    expect(all.lastIndexOf('dladm show-overlay -p -o link,property,value')).toBeLessThan(all.indexOf('svcadm restart network/varpd'));
    expect(all.indexOf('dladm show-overlay -f -p -o link,status,details')).toBeGreaterThan(all.indexOf('svcadm restart network/varpd'));
    const chowns = all.filter((c) => c.startsWith('chown '));
    expect(chowns).toHaveLength(1);
    expect(stagedTarget(chowns[0]!.slice('chown netadm:netadm '.length))).toBe(ARP);

    const st = await cli(['agent', 'status', '--json', '--config', s.configPath]);
    const status = JSON.parse(st.stdout);
    expect(status.last_result).toBe('repaired');
    expect(status.last_drift.files).toEqual([ARP]);
    expect(status.last_drift.usbkey).toEqual(['overlay_rule_lab']);
    expect(status.last_drift.services).toEqual(['varpd', 'net-virtual']);
    expect(status.last_error).toBeNull();
    const text = await cli(['agent', 'status', '--config', s.configPath]);
    expect(text.stdout).toMatch(/last result: +repaired/);
    expect(text.stdout).toContain(`file ${ARP}`);
  });

  it('the log has one line per change and one for the run, and never a key', async () => {
    await unlink(join(s.sim.root, '/opt/custom/etc/ipsec/ike.preshared'));
    const r = await runCli(['agent', '--once', '--log-format', 'json', '--config', s.configPath], s.sim.env);
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string; path?: string; service?: string });
    expect(lines.map((l) => l.msg)).toEqual(['file', 'refreshed', 'agent run']);
    expect(lines[0]!.path).toBe('/opt/custom/etc/ipsec/ike.preshared');
    expect(lines[1]!.service).toBe('ipsec');
    const key = s.sim.doc.ipsec!.psk![0]!.key;
    expect(r.stderr).not.toContain(key.slice(0, 16));
    expect(r.stdout).not.toContain(key.slice(0, 16));
  });
});

describe('agent --once refuses bundles it must not apply', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => {
    await rm(s.dir, { recursive: true, force: true });
  });

  it('an older bundle is refused with a message once a newer one was applied; nothing changes', async () => {
    const old = s.sim.bundleFor(s.sim.doc, undefined, 1_000_000);
    const changedDoc = structuredClone(s.sim.doc);
    changedDoc.overlay_rules!.lab!.port = 4795;
    const newer = s.sim.bundleFor(changedDoc, old, 2_000_000);
    expect(parseBundle(newer).version).toBe(2_000_000);
    await s.sim.writeBundle(newer);
    expect((await once(s)).status).toBe(0);

    await s.sim.writeBundle(old);
    const usbBefore = await readFile(join(s.sim.root, 'usbkey/config'), 'utf8');
    await clearCalls(s.sim.root);
    const r = await once(s);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('bundle version 1000000 is older than version 2000000 applied before; refused');
    expect(await readFile(join(s.sim.root, 'usbkey/config'), 'utf8')).toBe(usbBefore);
    expect(usbBefore).toContain('vxlan/listen_port=4795');
    expect(await calls(s.sim.root)).toEqual([]);
    const status = JSON.parse((await cli(['agent', 'status', '--json', '--config', s.configPath])).stdout);
    expect(status.last_result).toBe('refused');
    expect(status.bundle_version).toBe(2_000_000);
  });

  it('a bundle with a bad checksum is refused and nothing changes', async () => {
    const good = s.sim.bundleFor(s.sim.doc, undefined, 3_000_000);
    // Same length, one rule port changed: only the checksum can tell.
    const bad = good.replace('vxlan/listen_port=4790', 'vxlan/listen_port=4799');
    expect(bad).not.toBe(good);
    await s.sim.writeBundle(bad);
    const watched = ['/usbkey/config', MANIFEST_PATH, ARP];
    const before = await mtimes(s.sim.root, watched);
    await clearCalls(s.sim.root);
    const r = await once(s);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('checksum mismatch');
    expect(await mtimes(s.sim.root, watched)).toEqual(before);
    expect(await calls(s.sim.root)).toEqual([]);
  });

  it('never runs while another run holds the lock: it says so and changes nothing', async () => {
    await s.sim.writeBundle(s.sim.bundleFor(s.sim.doc, undefined, 4_000_000));
    const lock = `${s.statusPath}.lock`;
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
    try {
      await clearCalls(s.sim.root);
      const r = await once(s);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('another agent run is in progress');
      expect(await calls(s.sim.root)).toEqual([]);
    } finally {
      await unlink(lock);
    }
    expect((await once(s)).status).toBe(0);
  });

  it('a missing bundle is refused, naming the path', async () => {
    await unlink(join(s.sim.root, BUNDLE_PATH));
    const r = await once(s);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot read the bundle ${BUNDLE_PATH}: ENOENT`);
  });
});
