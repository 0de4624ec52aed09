/** `npm run sim-vm` and the simulated vmadm's event file: what they write, and what they refuse. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseEventLine } from '../../src/inventory/events.js';
import { tempDir } from '../support/tmp.js';

const SIM_VM = join(import.meta.dirname, 'sim-vm.mjs');
const SIM_BIN = join(import.meta.dirname, 'sim-bin.mjs');

describe('sim-vm', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await tempDir();
    for (const n of ['cn01', 'cn02']) {
      mkdirSync(join(dir, 'nodes', n, 'root/var/sim'), { recursive: true });
      writeFileSync(join(dir, 'nodes', n, 'root/var/sim/calls.jsonl'), '');
    }
  });

  const simVm = (...args: string[]) => spawnSync(process.execPath, [SIM_VM, '--dir', dir, ...args], { encoding: 'utf8' });
  const events = (n: string): string[] => readFileSync(join(dir, 'nodes', n, 'root/var/sim/events.jsonl'), 'utf8').split('\n').filter((l) => l !== '');

  it('create prints the UUID and emits a create event our parser reads as vmadm prints it; migrate and delete too', () => {
    const r = simVm('create', 'cn01', '--mac', '52:54:00:CC:00:01', '--ip', '10.0.0.1', '--nic-tag', 'customers/1000', '--vlan', '10');
    expect(r.status).toBe(0);
    const uuid = r.stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const ev = parseEventLine(events('cn01')[0]!, 'cn01');
    expect(ev).toMatchObject({ kind: 'upsert', type: 'create', vm: { uuid, state: 'running', nics: [{ mac: '52:54:00:cc:00:01', ip: '10.0.0.1', nicTag: 'customers/1000', vlan: 10 }] } });
    expect(simVm('migrate', uuid, '--to', 'cn02').status).toBe(0);
    expect(events('cn01').map((l) => parseEventLine(l, 'cn01').kind)).toEqual(['upsert', 'upsert', 'delete']);
    expect(events('cn02').map((l) => JSON.parse(l).type)).toEqual(['create', 'modify']);
    expect(JSON.parse(readFileSync(join(dir, 'nodes/cn02/root/var/sim/vms.json'), 'utf8'))[0].state).toBe('running');
    expect(simVm('delete', uuid).status).toBe(0);
    expect(parseEventLine(events('cn02').at(-1)!, 'cn02')).toMatchObject({ kind: 'delete', uuid });
  });

  it('refuses what vmadm refuses, changing nothing', () => {
    for (const args of [
      ['create', 'cn01', '--mac', 'zz:00:00:00:00:01', '--ip', '10.0.0.1', '--nic-tag', 'customers/1000'],
      ['create', 'cn01', '--mac', '52:54:00:cc:00:01', '--ip', '10.0.0.1', '--nic-tag', 'customers/1000', '--vlan', '4096'],
      ['create', 'cn01', '--mac', '52:54:00:cc:00:01', '--ip', '10.0.0.256', '--nic-tag', 'customers/1000'],
      ['create', 'cn09', '--mac', '52:54:00:cc:00:01', '--ip', '10.0.0.1', '--nic-tag', 'customers/1000'],
      ['delete', 'not-a-uuid'],
    ]) {
      const r = simVm(...args);
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^sim-vm: /);
    }
    expect(simVm('create', 'cn01', '--mac', '52:54:00:cc:00:01', '--ip', '10.0.0.1', '--nic-tag', 'customers/1000').status).toBe(0);
    const again = simVm('create', 'cn01', '--mac', '52:54:00:CC:0:1', '--ip', '10.0.0.2', '--nic-tag', 'customers/1000');
    expect(again.stderr).toMatch(/in use on cn01/);
    expect(events('cn01')).toHaveLength(1);
  });

  it('the simulated vmadm events refuses the non-JSON form', () => {
    const r = spawnSync(process.execPath, [SIM_BIN, join(dir, 'nodes/cn01/root'), 'vmadm', 'events', '-r'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/-j only/);
  });
});
