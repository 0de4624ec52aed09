/**
 * discover → plan → apply → verify against simulated SmartOS nodes behind
 * real sshd (test/harness). What a node received is read back from its root
 * directory, the calls its commands recorded, and sshd's SFTP log.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/operations/fleet.js';
import { remoteFrom } from '../../src/cli/remote.js';
import type { StateDoc } from '../../src/model/state.js';
import { GENERATORS } from '../../src/plan/desired-state.js';
import { FileStore } from '../../src/store/file-store.js';
import type { SimCluster, SimVm } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runBuiltCli, runCli as cli } from '../support/cli.js';
import { peersGenerator, secretGenerator } from '../fixtures/test-generators.js';

const GENS = [...GENERATORS, peersGenerator, secretGenerator];

async function readState(c: SimCluster): Promise<StateDoc> {
  return parse(await readFile(c.statePath, 'utf8')) as StateDoc;
}
async function writeState(c: SimCluster, doc: StateDoc): Promise<void> {
  await writeFile(c.statePath, stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
}

async function libPlan(c: SimCluster, only?: Set<string>) {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  return planFleet(snap.model, only, remote.open, { concurrency: 16, timeoutMs: 30_000, generators: GENS });
}

/** Calls and SFTP writes since the last reset, per node. */
async function activity(c: SimCluster): Promise<Record<string, { calls: string[]; writes: string[] }>> {
  const out: Record<string, { calls: string[]; writes: string[] }> = {};
  for (const n of c.nodes) {
    out[n.name] = { calls: (await n.calls()).map((x) => [x.cmd, ...x.args].join(' ')), writes: await n.sftpWrites() };
  }
  return out;
}
async function resetActivity(c: SimCluster): Promise<void> {
  for (const n of c.nodes) {
    await n.clearCalls();
    await writeFile(join(n.dir, 'sshd.log'), '');
    await writeFile(join(n.dir, 'sftp.log'), '');
  }
}

describe('discover, plan, apply, verify on 4 simulated nodes', () => {
  let c: SimCluster;
  useSimCluster({ count: 4 }, (started) => (c = started));

  it('nodes discover records what sysinfo and vmadm say, and shows the changes', async () => {
    const doc = await readState(c);
    const truth = structuredClone(doc);
    doc.vnics = [];
    doc.nodes!['cn02.sim.test']!.admin_ip = '10.200.9.9';
    // cn04 is new to the state: it is found by its address.
    delete doc.nodes!['cn04.sim.test'];
    await writeState(c, doc);
    const n4 = c.node('cn04.sim.test');
    const user = userInfo().username;
    const r = await cli(
      ['nodes', 'discover', 'cn01.sim.test', 'cn02.sim.test', 'cn03.sim.test', `${user}@127.0.0.1:${n4.port}`],
      c.env,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cn02.sim.test:\n  admin_ip: 10.200.9.9 → 10.200.1.2');
    expect(r.stdout).toContain('+ vnic 52:54:00:aa:00:01 10.210.0.1 on customers/1000 vlan 10');
    expect(r.stdout).toContain('cn04.sim.test:\n  new node: uuid 564d0000-0000-4000-8000-000000000004, pdc brn, admin 10.200.2.4, external 203.0.113.4');
    const after = await readState(c);
    expect(after.nodes!['cn04.sim.test']!.ssh).toEqual({ host: '127.0.0.1', port: n4.port, ...(user === 'root' ? {} : { user }) });
    after.nodes!['cn04.sim.test']!.ssh = truth.nodes!['cn04.sim.test']!.ssh!;
    expect(after.nodes).toEqual(truth.nodes);
    const key = (v: { mac: string }) => v.mac;
    expect([...after.vnics!].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...truth.vnics!].sort((a, b) => key(a).localeCompare(key(b))),
    );
    const again = await cli(['nodes', 'discover', 'cn01.sim.test'], c.env);
    expect(again.stdout.trim()).toBe('cn01.sim.test: unchanged');
  });

  it('plan lists the changes and exits 2 with --exit-code; apply commits them; verify is clean', async () => {
    const usbkeyBefore = await readFile(c.nodes[0]!.path('/usbkey/config'), 'utf8');
    const plan = await cli(['plan', '--exit-code'], c.env);
    expect(plan.status).toBe(2);
    expect(plan.stdout).toContain('+ /usbkey/config overlay_rule_customers="-e vxlan');
    expect(plan.stdout).toContain('+ overlay customers1000');
    const json = JSON.parse((await cli(['plan', '--json'], c.env)).stdout) as { changed: string[] };
    expect(json.changed).toEqual(c.nodes.map((n) => n.name));

    await resetActivity(c);
    const apply = await cli(['apply', '--yes'], c.env);
    expect(apply.stderr).toBe('');
    expect(apply.status).toBe(0);
    expect(apply.stdout).toMatch(/cn01\.sim\.test\s+applied/);
    const usbkey = await readFile(c.nodes[0]!.path('/usbkey/config'), 'utf8');
    // Lines that are not ours stay, in place, byte for byte.
    expect(usbkey.startsWith(usbkeyBefore)).toBe(true);
    expect(usbkey).toContain('overlay_rule_lab="-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4791');
    expect(usbkey).toContain('adminoverlay_0_ip="10.200.250.1"');
    const act = await activity(c);
    for (const n of c.nodes) {
      expect(act[n.name]!.calls.filter((x) => x === 'net-virtual refresh')).toHaveLength(1);
      expect((await readdir(n.path('/usbkey'))).filter((f) => f.includes('.esdc-new'))).toEqual([]);
    }
    // net-virtual made adminoverlay2; apply created the VM overlays it lacked.
    const overlays = await c.nodes[0]!.simJson<Record<string, Record<string, string>>>('overlays.json', {});
    expect(Object.keys(overlays).sort()).toEqual(['adminoverlay2', 'customers1000', 'lab2000']);
    expect(overlays.customers1000!['vxlan/listen_port']).toBe('4790');

    const verify = await cli(['verify'], c.env);
    expect(verify.stdout).toContain('In sync.');
    expect(verify.status).toBe(0);
  });

  it('a second apply writes nothing and calls no service', async () => {
    await resetActivity(c);
    const apply = await cli(['apply', '--yes'], c.env);
    expect(apply.status).toBe(0);
    expect(apply.stdout).toContain('No changes');
    const act = await activity(c);
    for (const n of c.nodes) {
      expect(act[n.name]!.calls).toEqual(['dladm show-overlay -p -o link,property,value']);
      expect(act[n.name]!.writes).toEqual([]);
    }
  });

  it('files of every kind: added with mode and owner, secrets never shown, then in sync', async () => {
    const fleet = await libPlan(c);
    try {
      for (const n of fleet.plan.nodes) {
        expect(n.files.map((f) => f.path)).toContain('/opt/custom/esdc-overlay/test/customers_peers.json');
        const secret = n.files.find((f) => f.path.endsWith('keys.secret'))!;
        expect(secret.secret).toBe(true);
        expect(secret.diff).toEqual([]);
        expect(secret.sha256).toBeUndefined();
      }
      const text = JSON.stringify(fleet.plan);
      for (const k of (await readState(c)).ipsec!.psk!) expect(text).not.toContain(k.key.slice(0, 32));
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), { concurrency: 4, timeoutMs: 30_000 });
      expect(result.ok).toBe(true);
    } finally {
      await fleet.close();
    }
    const n1 = c.nodes[0]!;
    const owners = await n1.owners();
    expect(owners['/opt/custom/esdc-overlay/test/customers_peers.json']).toBe('netadm:netadm');
    const { statSync } = await import('node:fs');
    expect(statSync(n1.path('/opt/custom/esdc-overlay/test/keys.secret')).mode & 0o777).toBe(0o400);
    const manifest = JSON.parse(await readFile(n1.path('/opt/custom/esdc-overlay/managed.json'), 'utf8'));
    expect(manifest.pending_refresh).toEqual([]);
    expect(Object.keys(manifest.files)).toContain('/opt/custom/esdc-overlay/test/keys.secret');
    const again = await libPlan(c);
    await again.close();
    expect(again.plan.nodes.filter((n) => n.changed)).toEqual([]);
  });

  it('a VM that moves changes exactly its entry in every other node\'s table, and nothing else there', async () => {
    // The VM of cn01 on customers moves to cn02 (vmadm on both nodes says so), and discovery records it.
    const n1 = c.node('cn01.sim.test');
    const n2 = c.node('cn02.sim.test');
    const vms1 = await n1.simJson<SimVm[]>('vms.json', []);
    const moved = vms1.find((v) => v.alias === 'web1')!;
    await n1.writeSimJson('vms.json', vms1.filter((v) => v !== moved));
    await n2.writeSimJson('vms.json', [...(await n2.simJson<SimVm[]>('vms.json', [])), moved]);
    const disc = await cli(['nodes', 'discover', 'cn01.sim.test', 'cn02.sim.test'], c.env);
    expect(disc.status).toBe(0);
    const mac = moved.nics[0]!.mac;

    const fleet = await libPlan(c);
    try {
      for (const n of fleet.plan.nodes) {
        expect(n.usbkey).toEqual([]);
        if (n.node === n1.name || n.node === n2.name) continue;
        // Every other node: one entry of the customers table, the underlay IP of the moved VM.
        const tables = n.files.filter((f) => f.refresh === 'varpd');
        expect(tables.map((f) => f.path).sort()).toEqual(['/opt/custom/esdc-overlay/test/customers_peers.json', '/opt/custom/networking/customers_overlay.json']);
        for (const t of tables) {
          expect(t.action).toBe('change');
          const changed = t.diff.filter((l) => l.startsWith('-') || l.startsWith('+'));
          expect(changed).toHaveLength(2);
          expect(changed[0]).toMatch(/^-\s+"ip": "(10\.200\.1\.1|198\.51\.100\.1)",$/);
          expect(changed[1]).toMatch(/^\+\s+"ip": "(10\.200\.1\.2|198\.51\.100\.2)",$/);
          expect(t.diff.join('\n')).toContain(mac);
        }
        expect(n.services).toEqual(['varpd']);
      }
      await resetActivity(c);
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), { concurrency: 4, timeoutMs: 30_000 });
      expect(result.ok).toBe(true);
    } finally {
      await fleet.close();
    }
    const act = await activity(c);
    for (const n of c.nodes) expect(act[n.name]!.calls.filter((x) => x === 'svcadm restart network/varpd')).toHaveLength(1);
    const verify = await libPlan(c);
    await verify.close();
    expect(verify.plan.nodes.filter((n) => n.changed)).toEqual([]);
  });

  it('a rule that goes away takes its files and lines with it, never a file we did not create', async () => {
    const foreign = c.nodes[0]!.path('/opt/custom/esdc-overlay/test/not-ours.json');
    await writeFile(foreign, '{}\n');
    const doc = await readState(c);
    delete doc.overlay_rules!.lab;
    doc.vnics = doc.vnics!.filter((v) => !v.nic_tag.startsWith('lab/'));
    await writeState(c, doc);
    const fleet = await libPlan(c);
    try {
      const n1 = fleet.plan.nodes.find((n) => n.node === 'cn01.sim.test')!;
      // Every file of the rule goes: ours, and the ARP table the real generator made for it.
      const removed = n1.files.filter((f) => f.action === 'remove').map((f) => f.path);
      expect(removed).toContain('/opt/custom/esdc-overlay/test/lab_peers.json');
      expect(removed).toContain('/opt/custom/networking/lab_overlay.json');
      expect(removed.every((p) => p.includes('lab_'))).toBe(true);
      expect(n1.usbkey).toEqual([expect.objectContaining({ key: 'overlay_rule_lab', action: 'remove' })]);
      expect(n1.reboot.join('\n')).toContain('rule lab removed');
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), { concurrency: 4, timeoutMs: 30_000 });
      expect(result.ok).toBe(true);
    } finally {
      await fleet.close();
    }
    expect(existsSync(c.nodes[0]!.path('/opt/custom/esdc-overlay/test/lab_peers.json'))).toBe(false);
    expect(existsSync(c.nodes[0]!.path('/opt/custom/networking/lab_overlay.json'))).toBe(false);
    expect(existsSync(c.nodes[0]!.path('/opt/custom/networking/customers_overlay.json'))).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    expect(await readFile(c.nodes[0]!.path('/usbkey/config'), 'utf8')).not.toContain('overlay_rule_lab');
  });

  it('a changed port is written, flagged disruptive and pending until reboot, and verify does not call it drift', async () => {
    const doc = await readState(c);
    doc.overlay_rules!.customers!.port = 4795;
    await writeState(c, doc);
    const plan = await cli(['plan'], c.env);
    expect(plan.stdout).toContain('takes effect at reboot: rule customers: vxlan/listen_port 4790 → 4795');
    expect(plan.stdout).toContain('DISRUPTIVE: rule customers: port 4790 → 4795');
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const verify = await cli(['verify', '--json'], c.env);
    expect(verify.status).toBe(0);
    const body = JSON.parse(verify.stdout) as { in_sync: boolean; nodes: Array<{ status: string; pending: string[] }> };
    expect(body.in_sync).toBe(true);
    expect(body.nodes.map((n) => n.status)).not.toContain('drift');
    // Every node still running a customers overlay (cn01's VM moved away, so not cn01) waits for a reboot.
    const pending = body.nodes.filter((n) => n.status === 'pending-reboot');
    expect(pending.map((n) => (n as unknown as { node: string }).node)).toEqual(['cn02.sim.test', 'cn03.sim.test', 'cn04.sim.test']);
    expect(pending[0]!.pending.join('\n')).toContain('overlay customers1000: vxlan/listen_port: 4790 → 4795');
    // The lab rule went away (above): its overlay lost its table and so its varpd instance, and stays until
    // reboot; verify lists it apart and does not fail for it.
    const withLab = body.nodes.find((n) => (n as unknown as { node: string }).node === 'cn01.sim.test') as unknown as { overlays: { status: string; unwanted: Array<{ link: string }> } };
    expect(withLab.overlays.status).toBe('ok');
    expect(withLab.overlays.unwanted.map((o) => o.link)).toEqual(['lab2000']);
  });

  it('the built CLI under plain node (where ssh2 is imported as CommonJS) verifies the same nodes', () => {
    const r = runBuiltCli(['verify', '--json'], c.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { in_sync: boolean }).in_sync).toBe(true);
  });
});
