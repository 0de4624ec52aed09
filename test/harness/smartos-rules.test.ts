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
import { droppedEntries, parseVarpdFilesConfig, proxyArpAnswer, unusableProxyFields } from './smartos-rules.mjs';

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

  it('an overlay that lost its instance: show-overlay lists its kernel properties, not files/config, warns and exits 1; -f exits 0', async () => {
    expect((await create('customers1000', '1000')).code).toBe(0);
    expect((await create('lab2000', '2000')).code).toBe(0);
    await writeFile(join(root, 'opt/custom/networking/customers1000.json'), '{,}');
    await sh('usr/sbin/svcadm', 'restart', 'network/varpd');
    const all = await sh('usr/sbin/dladm', 'show-overlay', '-p', '-o', 'link,property,value');
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/^dladm: warning: failed to get varpd props for overlay customers1000, varpd id \d+: ok\n$/);
    expect(all.stdout).toContain('customers1000:mtu:1400\n');
    expect(all.stdout).not.toContain('customers1000:files/config');
    expect(all.stdout).toContain('lab2000:files/config:/opt/custom/networking/lab2000.json\n');
    expect((await sh('usr/sbin/dladm', 'show-overlay', 'lab2000')).code).toBe(0);
    expect((await sh('usr/sbin/dladm', 'show-overlay', 'customers1000')).code).toBe(1);
    const f = await sh('usr/sbin/dladm', 'show-overlay', '-f', 'customers1000');
    expect(f.code).toBe(0);
    expect(f.stderr).toBe('');
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

  // Per entry, what varpd's lookups take (libvarpd_files.c:290-323) and what its ARP, NDP and DHCP
  // proxies take (:458-569); none of it fails the start.
  const lookups: Array<[string, string, boolean]> = [
    ['an entry as we write it', '{ "arp": "10.10.0.2", "ip": "10.100.0.12", "port": 4790 }', false],
    ['unknown members beside port and ip', '{ "ip": "10.1.1.1", "port": 4790, "vm": "web1", "x": [1] }', false],
    ['an IPv6 ip', '{ "ip": "2001:db8::1", "port": 4790 }', false],
    ['an IPv4-mapped IPv6 ip', '{ "ip": "::ffff:10.1.1.1", "port": 4790 }', false],
    ['leading zeroes in an IPv4 part (inet_pton4 takes them)', '{ "ip": "010.001.1.1", "port": 4790 }', false],
    ['an ip part above 255', '{ "ip": "10.1.1.256", "port": 4790 }', true],
    ['an ip of three parts', '{ "ip": "10.1.1", "port": 4790 }', true],
    ['white space around the ip', '{ "ip": " 10.1.1.1", "port": 4790 }', true],
    ['a host name as ip', '{ "ip": "node1:x", "port": 4790 }', true],
    ['an ip that is an array', '{ "ip": ["10.1.1.1"], "port": 4790 }', true],
    ['port 0', '{ "ip": "10.1.1.1", "port": 0 }', true],
    ['port 65536', '{ "ip": "10.1.1.1", "port": 65536 }', true],
    ['port true', '{ "ip": "10.1.1.1", "port": true }', true],
    ['an entry that is an array', '[ "10.1.1.1", 4790 ]', true],
    ['a \\u0000 cutting the ip short', '{ "ip": "10.1.1.1\\u0000garbage", "port": 4790 }', false],
  ];
  it.each(lookups)('%s: lookups to the MAC %s', (_what, entry, dropped) => {
    const r = parseVarpdFilesConfig(`{ "52:54:00:aa:00:02": ${entry} }`);
    expect(r.error).toBeUndefined();
    expect(droppedEntries(r.table)).toEqual(dropped ? ['52:54:0:aa:0:2'] : []);
  });

  it('an arp that is no IPv4 address, an ndp that is no IPv6 one, a dhcp-proxy that is no MAC: varpd skips that entry for that question', () => {
    const r = parseVarpdFilesConfig(
      '{ "2:0:0:0:0:1": { "arp": "10.0.0.300", "ndp": "10.0.0.1", "dhcp-proxy": "gw" },' +
        ' "2:0:0:0:0:2": { "arp": 167772161, "ndp": "fe80::2", "dhcp-proxy": "2:0:0:0:0:9" },' +
        ' "2:0:0:0:0:3": { "port": 4790 } }',
    );
    expect(r.error).toBeUndefined();
    expect(unusableProxyFields(r.table)).toEqual([
      { mac: '2:0:0:0:0:1', field: 'arp' },
      { mac: '2:0:0:0:0:1', field: 'ndp' },
      { mac: '2:0:0:0:0:1', field: 'dhcp-proxy' },
      { mac: '2:0:0:0:0:2', field: 'arp' },
    ]);
  });

  it('an ARP question is answered by the first entry, in the table order, whose arp matches; a repeated MAC moves to the end', () => {
    const r = parseVarpdFilesConfig('{ "2:0:0:0:0:1": { "arp": "10.0.0.5" }, "2:0:0:0:0:2": { "arp": "010.0.0.5" }, "02:00:00:00:00:01": { "arp": "10.0.0.5" } }');
    expect(Object.keys(r.table)).toEqual(['2:0:0:0:0:2', '2:0:0:0:0:1']);
    expect(proxyArpAnswer(r.table, '10.0.0.5')).toBe('2:0:0:0:0:2');
    expect(proxyArpAnswer(r.table, '10.0.0.6')).toBeUndefined();
  });

  it('a port past 32 bits wraps as illumos atoi does (a reading of atoi.c, not seen on illumos)', () => {
    const r = parseVarpdFilesConfig('{ "2:0:0:0:0:1": { "ip": "10.0.0.1", "port": 4294967297 }, "2:0:0:0:0:2": { "ip": "10.0.0.1", "port": -4294962506 } }');
    expect(r.table['2:0:0:0:0:1'].port).toEqual({ int: 1 });
    expect(r.table['2:0:0:0:0:2'].port).toEqual({ int: 4790 });
    expect(droppedEntries(r.table)).toEqual([]);
  });

  it('an entry that is an array starts (an nvlist to varpd), and its lookups are dropped, at a restart too', async () => {
    expect((await create('customers1000', '1000')).code).toBe(0);
    await writeFile(join(root, 'opt/custom/networking/customers1000.json'), '{ "52:54:00:aa:00:02": [ "10.1.1.1", 4790 ], "52:54:00:aa:00:03": { "arp": "10.9.9.9.9", "ip": "10.1.1.3", "port": 4790 } }');
    expect((await sh('usr/sbin/svcadm', 'restart', 'network/varpd')).code).toBe(0);
    expect(await fma()).toBe('customers1000:ONLINE:-\n');
    expect(JSON.parse(await readFile(join(root, 'var/sim/varpd-errors.json'), 'utf8'))).toEqual({
      customers1000: { dropped: false, lookupsDropped: ['52:54:0:aa:0:2'], proxyFieldsUnusable: [{ mac: '52:54:0:aa:0:3', field: 'arp' }] },
    });
  });
});
