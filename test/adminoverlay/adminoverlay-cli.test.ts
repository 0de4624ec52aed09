import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateInstallation } from '../../bench/generate-installation.js';
import { cli } from '../support/cli.js';

let tmp: string;
let state: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'esdc-ao-'));
  state = join(tmp, 'state.yaml');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const write = (nodes: number) => writeFile(state, stringify(generateInstallation({ nodes, pdcs: 2, rules: 1, nics: 0, seed: 3 })));

describe('adminoverlay commands through the CLI', () => {
  it('init, info (table and --json), update keeps the MAC, render writes the usbkey lines', async () => {
    await write(3);
    const r = await cli(['adminoverlay-init', '10.44.0.0/255.255.255.0', 'cn0002.pdc02.example.com=10.44.0.50', '--state', state]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/initialised: adminoverlay 10\.44\.0\.0\/24, port 4791/);

    const info = await cli(['adminoverlay-info', '--json', '--state', state]);
    const ao = JSON.parse(info.stdout).adminoverlay;
    expect(ao).toMatchObject({ subnet: '10.44.0.0/24', netmask: '255.255.255.0', vxlan_id: 2, vlan_id: 2, mtu: 1300, port: 4791, port_pinned: true });
    expect(ao.nodes.map((n: { ip: string }) => n.ip)).toEqual(['10.44.0.11', '10.44.0.50', '10.44.0.12']);
    const mac = ao.nodes[0].mac as string;

    const text = await cli(['adminoverlay-info', '--state', state]);
    expect(text.stdout).toContain(`cn0001.pdc01.example.com  10.44.0.11  ${mac}`);

    // Moving an address asks first; without a terminal and --yes that is a refusal, and nothing changes.
    const before = await readFile(state, 'utf8');
    const refused = await cli(['adminoverlay-update', 'cn0001.pdc01.example.com=10.44.0.77', '--state', state]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/pass --yes/);
    expect(await readFile(state, 'utf8')).toBe(before);

    const upd = await cli(['adminoverlay-update', 'cn0001.pdc01.example.com=10.44.0.77', '--yes', '--state', state]);
    expect(upd.status).toBe(0);
    expect(upd.stdout).toContain('address 10.44.0.11 -> 10.44.0.77');
    const after = JSON.parse((await cli(['adminoverlay-info', '--json', '--state', state])).stdout).adminoverlay;
    expect(after.nodes[0]).toEqual({ node: 'cn0001.pdc01.example.com', ip: '10.44.0.77', mac });

    expect((await cli(['render', '--out', join(tmp, 'out'), '--state', state])).status).toBe(0);
    const lines = await readFile(join(tmp, 'out', 'cn0001.pdc01.example.com', 'usbkey', 'config.overlay'), 'utf8');
    expect(lines).toContain(
      [
        'adminoverlay_0_vxlan_id="2"',
        'adminoverlay_0_vlan_id="2"',
        'adminoverlay_0_ip="10.44.0.77"',
        'adminoverlay_0_netmask="255.255.255.0"',
        `adminoverlay_0_mac="${mac}"`,
        'vnc_listen_address="10.44.0.77"',
      ].join('\n'),
    );
    expect(lines).toContain('overlay_rule_adminoverlay="-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4791 -s files -p files/config=/opt/custom/networking/adminoverlay_overlay.json -p mtu=1300"');
    const table = JSON.parse(await readFile(join(tmp, 'out', 'cn0002.pdc02.example.com', 'opt/custom/networking/adminoverlay_overlay.json'), 'utf8'));
    // cn0001 is in pdc01, cn0002 in pdc02: the entry points at cn0001's external IP.
    expect(table[mac]).toEqual({ arp: '10.44.0.77', ip: '198.18.0.1', port: 4791 });
  });

  it('a full subnet is refused naming it, and the state is left as it was', async () => {
    await write(246);
    const before = await readFile(state, 'utf8');
    const r = await cli(['adminoverlay-init', '10.44.0.0/24', '--reserve', '10.44.0.1-10.44.0.10', '--state', state]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/adminoverlay subnet 10\.44\.0\.0\/24 is full: no free address left for cn0245/);
    expect(await readFile(state, 'utf8')).toBe(before);
  });

  it('--dry-run shows the assignment and writes nothing; info without an adminoverlay says how to make one', async () => {
    await write(2);
    const before = await readFile(state, 'utf8');
    const r = await cli(['adminoverlay-init', '10.44.0.0/24', '--dry-run', '--json', '--state', state]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, subnet: '10.44.0.0/24', changes: [{ ip: '10.44.0.11' }, { ip: '10.44.0.12' }] });
    expect(await readFile(state, 'utf8')).toBe(before);
    expect((await cli(['adminoverlay-info', '--state', state])).stdout).toMatch(/adminoverlay-init <subnet>/);
    expect(JSON.parse((await cli(['adminoverlay-info', '--json', '--state', state])).stdout)).toEqual({ adminoverlay: null });
  });

  it('a malformed subnet is a usage-level error that names the value', async () => {
    await write(2);
    const r = await cli(['adminoverlay-init', '10.44.0.5/24', '--state', state]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/subnet: has host bits set: the network of 10\.44\.0\.5\/24 is 10\.44\.0\.0\/24 \(got "10\.44\.0\.5\/24"\)/);
  });
});
