/**
 * The simulated SmartOS commands refuse what illumos refuses (issue 16):
 * each case runs the node's own command script (as the tool would over SSH)
 * in a node root laid out by writeNodeRoot, no sshd needed. The rules and
 * their sources are in smartos-rules.mjs and docs/smartos-rules.md.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { simFacts, writeNodeRoot } from './sim-cluster.js';
// @ts-expect-error: a plain .mjs module of the harness, without types
import { droppedEntries, parseVarpdFilesConfig } from './smartos-rules.mjs';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

let root: string;
beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'esdc-smartos-rules-'));
  dirs.push(dir);
  root = join(dir, 'root');
  await writeNodeRoot(root, simFacts(0, 1), []);
});

async function sh(cmd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(join(root, cmd), args);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
const overlays = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(root, 'var/sim/overlays.json'), 'utf8')) as Record<string, unknown>;
/** An overlay as apply creates it: its ARP table (here empty) is written first, since varpd's start reads it. */
const create = async (link: string, vni: string, ...props: string[]): Promise<{ code: number; stderr: string }> => {
  await mkdir(join(root, 'opt/custom/networking'), { recursive: true });
  await writeFile(join(root, `opt/custom/networking/${link}.json`), '{}\n');
  return createBare(link, vni, ...props);
};
const createBare = (link: string, vni: string, ...props: string[]): Promise<{ code: number; stderr: string }> =>
  sh('usr/sbin/dladm', 'create-overlay', '-e', 'vxlan', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4790', '-s', 'files', '-p', `files/config=/opt/custom/networking/${link}.json`, ...props, '-v', vni, link);
const fma = async (): Promise<string> => (await sh('usr/sbin/dladm', 'show-overlay', '-f', '-p', '-o', 'link,status,details')).stdout;

describe('simulated dladm create-overlay', () => {
  it('accepts an overlay MTU of 576-8900 and refuses 9000 and 575 (OVERLAY_MTU_MAX / MIN)', async () => {
    expect((await create('a8900', '1', '-p', 'mtu=8900')).code).toBe(0);
    expect((await create('a576', '2', '-p', 'mtu=576')).code).toBe(0);
    const big = await create('b9000', '3', '-p', 'mtu=9000');
    expect(big.code).toBe(1);
    expect(big.stderr).toContain('invalid mtu value 9000');
    expect((await create('b575', '4', '-p', 'mtu=575')).code).toBe(1);
    expect(Object.keys(await overlays()).sort()).toEqual(['a576', 'a8900']);
  });

  it('refuses a second overlay with a VNI in use on the node, whatever its name or port', async () => {
    expect((await create('customers1000', '1000')).code).toBe(0);
    const second = await create('lab1000', '1000');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('object already exists (vnetid 1000 is used by customers1000)');
    expect(Object.keys(await overlays())).toEqual(['customers1000']);
  });

  it('refuses link names dladm refuses, and accepts one with a "."', async () => {
    for (const bad of ['1lab1000', 'lab01000', 'lab', `${'a'.repeat(28)}1000`, 'la-b1000']) {
      expect((await create(bad, '7')).code, bad).toBe(1);
    }
    expect((await create('vx.lab7', '7')).code).toBe(0);
  });

  it('refuses "," or "=" inside a -p value, and unknown properties', async () => {
    expect((await create('a1', '1', '-p', 'mtu=1400,9000')).code).toBe(1);
    expect((await create('a2', '2', '-p', 'mtu=1400=1')).code).toBe(1);
    expect((await create('a3', '3', '-p', 'color=blue')).code).toBe(1);
    expect((await create('a4', '4', '-p', 'mtu=1400,vxlan/listen_port=4791')).code).toBe(0);
  });
});

describe('simulated dladm delete-overlay', () => {
  const vms = (list: unknown[]): Promise<void> => writeFile(join(root, 'var/sim/vms.json'), JSON.stringify(list));
  const nic = (tag: string) => [{ mac: '52:54:00:aa:00:01', ip: '10.210.0.1', nic_tag: tag }];

  it('refuses a link a running VM has a vNIC on ("link busy"), deletes it once the VM is stopped', async () => {
    expect((await create('customers1000', '1000')).code).toBe(0);
    await vms([{ uuid: '0b1e0000-0000-4000-8000-000000000001', nics: nic('customers/1000') }]);
    const busy = await sh('usr/sbin/dladm', 'delete-overlay', 'customers1000');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe('dladm: failed to delete customers1000: link busy\n');
    expect(Object.keys(await overlays())).toEqual(['customers1000']);
    await vms([{ uuid: '0b1e0000-0000-4000-8000-000000000001', state: 'stopped', nics: nic('customers/1000') }]);
    expect((await sh('usr/sbin/dladm', 'delete-overlay', 'customers1000')).code).toBe(0);
    expect(await overlays()).toEqual({});
  });

  it('a VM on another VNI of the same rule does not hold the link; an unknown link and a missing name fail as dladm does', async () => {
    expect((await create('customers1000', '1000')).code).toBe(0);
    await vms([{ uuid: '0b1e0000-0000-4000-8000-000000000002', nics: nic('customers/100') }]);
    const missing = await sh('usr/sbin/dladm', 'delete-overlay', 'lab2000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('dladm: failed to delete lab2000: object not found\n');
    expect((await sh('usr/sbin/dladm', 'delete-overlay')).code).toBe(1);
    expect((await sh('usr/sbin/dladm', 'delete-overlay', 'customers1000', 'extra')).code).toBe(1);
    expect((await sh('usr/sbin/dladm', 'delete-overlay', 'customers1000')).code).toBe(0);
  });
});

describe('simulated svcadm restart and svcs', () => {
  it('restart returns at once; svcs shows offline/online until the delay passed, then online/-', async () => {
    await writeFile(join(root, 'var/sim/svc-delay-ms'), '1500');
    expect((await sh('usr/sbin/svcadm', 'restart', 'network/varpd')).code).toBe(0);
    expect((await sh('usr/bin/svcs', '-H', '-o', 'state,nstate', 'svc:/network/varpd:default')).stdout.split(/\s+/).slice(0, 2)).toEqual(['offline', 'online']);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await sh('usr/bin/svcs', '-H', '-o', 'state,nstate', 'svc:/network/varpd:default')).stdout.split(/\s+/).slice(0, 2)).toEqual(['online', '-']);
  });

  it('ikeadm accepts read preshared and records it', async () => {
    expect((await sh('usr/sbin/ikeadm', 'read', 'preshared')).code).toBe(0);
    expect((await sh('usr/sbin/ikeadm', 'flush', 'preshared')).code).toBe(1);
    expect(await readFile(join(root, 'var/sim/calls.jsonl'), 'utf8')).toContain('"cmd":"ikeadm","args":["read","preshared"]');
  });
});

describe("varpd's restart reads every files/config with the files plugin's parser", () => {
  const cases: Array<[string, string, boolean]> = [
    ['an empty table', '{}', true],
    ['a table as we write it', '{\n  "52:54:00:aa:00:02": { "arp": "10.10.0.2", "ip": "10.100.0.12", "port": 4790 }\n}\n', true],
    ['an empty file', '', false],
    ['a trailing comma', '{ "52:54:00:aa:00:02": { "ip": "10.1.1.1", "port": 4790 }, }', false],
    ['a float', '{ "52:54:00:aa:00:02": { "ip": "10.1.1.1", "port": 4790.0 } }', false],
    ['a key that is no MAC', '{ "web1": { "ip": "10.1.1.1", "port": 4790 } }', false],
    ['a top-level array', '[]', false],
    ['True in capitals', '{ "52:54:00:aa:00:02": { "ip": "10.1.1.1", "port": 4790, "x": True } }', false],
  ];
  for (const [what, text, kept] of cases) {
    it(`${what}: the overlay ${kept ? 'stays online' : 'loses its varpd instance and stays, degraded'}`, async () => {
      expect((await create('customers1000', '1000')).code).toBe(0);
      const file = join(root, 'opt/custom/networking/customers1000.json');
      await writeFile(file, text);
      expect((await sh('usr/sbin/svcadm', 'restart', 'network/varpd')).code).toBe(0);
      expect(Object.keys(await overlays())).toEqual(['customers1000']);
      expect(await fma()).toBe(kept ? 'customers1000:ONLINE:-\n' : 'customers1000:DEGRADED:no varpd instance exists\n');
    });
  }

  it('an instance lost at a restart does not come back when the file is mended; deleting and creating the link does', async () => {
    expect((await create('customers1000', '1000')).code).toBe(0);
    await writeFile(join(root, 'opt/custom/networking/customers1000.json'), '{,}');
    await sh('usr/sbin/svcadm', 'restart', 'network/varpd');
    await writeFile(join(root, 'opt/custom/networking/customers1000.json'), '{}\n');
    await sh('usr/sbin/svcadm', 'restart', 'network/varpd');
    expect(await fma()).toBe('customers1000:DEGRADED:no varpd instance exists\n');
    expect((await sh('usr/sbin/dladm', 'delete-overlay', 'customers1000')).code).toBe(0);
    expect((await createBare('customers1000', '1000')).code).toBe(0);
    expect(await fma()).toBe('customers1000:ONLINE:-\n');
  });

  it('dladm create-overlay fails, and keeps no link, when the files/config it names is missing or refused', async () => {
    const missing = await createBare('lab2000', '2000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('overlay creation failed: failed to activate varpd instance: /opt/custom/networking/lab2000.json: ENOENT');
    await mkdir(join(root, 'opt/custom/networking'), { recursive: true });
    await writeFile(join(root, 'opt/custom/networking/lab2000.json'), '');
    expect((await createBare('lab2000', '2000')).code).toBe(1);
    expect(await overlays()).toEqual({});
  });

  it('a string port or a missing ip keeps the overlay but drops lookups to that MAC', () => {
    const r = parseVarpdFilesConfig('{ "52:54:00:aa:00:02": { "ip": "10.1.1.1", "port": "4790" } }');
    expect(r.error).toBeUndefined();
    expect(droppedEntries(r.table)).toEqual(['52:54:0:aa:0:2']);
    const noIp = parseVarpdFilesConfig('{ "52:54:00:aa:00:03": { "port": 4790 } }');
    expect(droppedEntries(noIp.table)).toEqual(['52:54:0:aa:0:3']);
  });
});
