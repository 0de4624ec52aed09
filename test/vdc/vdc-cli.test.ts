/** `esdc-overlay vdc ...` through `run()`, against copies of the example state in a temporary directory. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';
import { runCli } from '../support/cli.js';

const EXAMPLE = new URL('../../examples/two-sites.yaml', import.meta.url);
let dir: string;
let state: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'esdc-vdc-'));
  state = join(dir, 'state.yaml');
  copyFileSync(EXAMPLE, state);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const vdc = (...args: string[]) => runCli(['vdc', ...args, '--state', state]);

describe('vdc list', () => {
  it('shows allowed, used and free counts per vDC', async () => {
    const r = await vdc('list');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'VDC         KIND   RESTRICT  ALLOWED         COUNT  USED  FREE',
        'customer-a  VXLAN  yes       1000-1099,2000  101    2     99',
        'customer-a  VLAN   yes       10-99           90     1     89',
        'main        VXLAN  yes       2-999           998    1     997',
        'main        VLAN   no        1-4094          4094   2     4092',
        '',
      ].join('\n'),
    );
  });
  it('as JSON', async () => {
    const r = await vdc('list', '--json');
    expect(JSON.parse(r.stdout).vdcs[0]).toEqual({
      name: 'customer-a',
      vxlan: { allowed: '1000-1099,2000', restrict: true, count: 101, used: 2, free: 99 },
      vlan: { allowed: '10-99', restrict: true, count: 90, used: 1, free: 89 },
    });
  });
  it('works on a state with bad ranges, warning about them', async () => {
    copyFileSync(new URL('../fixtures/vdc/bad-ranges.yaml', import.meta.url), state);
    const r = await vdc('list');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('tenant  VXLAN  yes       100-200  101');
    expect(r.stderr).toContain('vdcs.tenant.vxlan_allowed: item 2: 16777216 is not a VXLAN id');
  });
});

describe('vdc overlaps', () => {
  it('reports exactly the overlapping grants of the example', async () => {
    const r = await vdc('overlaps', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ overlaps: [{ kind: 'vlan', vdcs: ['customer-a', 'main'], ids: '10-99', count: 90 }] });
    const text = await vdc('overlaps');
    expect(text.stdout).toBe('KIND  VDC         VDC   COUNT  IDS\nVLAN  customer-a  main  90     10-99\n');
  });
});

describe('vdc check', () => {
  it('refuses an id outside a restricted range: exit 1, naming the vDC and the allowed ranges', async () => {
    const r = await vdc('check', 'customer-a', '--vxlan', '5000');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('refused: VXLAN 5000 is not allowed in vDC customer-a (allowed VXLAN ids: 1000-1099,2000)\n');
    // stderr holds only the model's warnings (the same for every command), not the refusal.
    expect(r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warn: '))).toEqual([]);
  });
  it('exit 0 for allowed ids, saying who uses them', async () => {
    const r = await vdc('check', 'customer-a', '--vxlan', '1000', '--vlan', '10');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ok: VXLAN 1000 is allowed in vDC customer-a (allowed VXLAN ids: 1000-1099,2000); in use by 4 (vnics[0], vnics[1], vnics[2], vnics[3])');
    expect(r.stdout).toContain('ok: VLAN 10 is allowed in vDC customer-a (allowed VLAN ids: 10-99)');
  });
  it('honours *_restrict: main does not restrict VLANs', async () => {
    const r = await vdc('check', 'main', '--vlan', '4000');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('not restricted (vlan_restrict: false)');
  });
  it('exit 1 when any of the ids is refused, with the result as JSON', async () => {
    const r = await vdc('check', 'customer-a', '--vxlan', '1000', '--vlan', '100', '--json');
    expect(r.status).toBe(1);
    const body = JSON.parse(r.stdout);
    expect(body.allowed).toBe(false);
    expect(body.checks.map((c: { kind: string; allowed: boolean }) => [c.kind, c.allowed])).toEqual([['vxlan', true], ['vlan', false]]);
    expect(body.checks[1].reason).toBe('VLAN 100 is not allowed in vDC customer-a (allowed VLAN ids: 10-99)');
  });
  it('an id that is no id at all is an error naming the option and value', async () => {
    const r = await vdc('check', 'main', '--vlan', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--vlan: VLAN 0 means untagged');
  });
  it('usage errors exit 64', async () => {
    expect((await vdc('check', 'main')).status).toBe(64);
    expect((await vdc('check', 'main', '--vxlan', 'abc')).status).toBe(64);
  });
  it('an unknown vDC is a failure naming the known ones', async () => {
    const r = await vdc('check', 'nope', '--vxlan', '5');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown vDC "nope" (known: customer-a, main)');
  });
});

describe('vdc allocate', () => {
  it('proposes the lowest ids not used anywhere, and records nothing', async () => {
    const before = readFileSync(state, 'utf8');
    const r = await vdc('allocate', 'customer-a', '--vxlan', '--vlan', '--count', '3', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      vdc: 'customer-a',
      vxlan: { ids: [1002, 1003, 1004], ranges: '1002-1004', free: 99, pool: '1000-1099,2000' },
      vlan: { ids: [11, 12, 13], ranges: '11-13', free: 89, pool: '10-99' },
    });
    expect(readFileSync(state, 'utf8')).toBe(before);
  });
  it('skips the adminoverlay VNI', async () => {
    const r = await vdc('allocate', 'main', '--vxlan');
    expect(r.stdout).toBe('vDC main: VXLAN 3 (997 free of 998 in 2-999; proposal only, nothing recorded)\n');
  });
  it('fails when the range has too few free ids', async () => {
    const r = await vdc('allocate', 'customer-a', '--vxlan', '--count', '100');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('vDC customer-a has 99 free VXLAN ids of 101 allowed');
  });
  it('needs a kind', async () => {
    expect((await vdc('allocate', 'customer-a')).status).toBe(64);
  });
});

describe('vdc grant', () => {
  const load = (): StateDoc => parse(readFileSync(state, 'utf8')) as StateDoc;

  it('writes the state, creating the vDC, keeping the file 0600', async () => {
    const r = await vdc('grant', 'customer-b', '--vxlan', '3000-3099, 3100', '--vlan', '100-199', '--shared', '--create');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('created vDC customer-b\nvDC customer-b: granted VXLAN 3000-3100 (allowed now: 3000-3100)\nvDC customer-b: granted VLAN 100-199 (allowed now: 100-199)\n');
    expect(r.stderr).toContain('shares VLAN 100-199 with vDC main');
    expect(load().vdcs!['customer-b']).toEqual({ vxlan_allowed: '3000-3100', vlan_allowed: '100-199' });
    expect(statSync(state).mode & 0o777).toBe(0o600);
    const listed = await vdc('list', '--json');
    expect(JSON.parse(listed.stdout).vdcs.map((v: { name: string }) => v.name)).toEqual(['customer-a', 'customer-b', 'main']);
  });
  it('keeps the comments of the state file', async () => {
    await vdc('grant', 'customer-a', '--vxlan', '1100-1109');
    const text = readFileSync(state, 'utf8');
    expect(text).toContain('# Two physical datacenters (prg, brn)');
    expect(load().vdcs!['customer-a']!.vxlan_allowed).toBe('1000-1109,2000');
  });
  it('refuses a range overlapping another vDC and changes nothing', async () => {
    const before = readFileSync(state, 'utf8');
    const r = await vdc('grant', 'customer-b', '--vxlan', '1050-1200', '--create');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('VXLAN 1050-1099 is already allowed to vDC customer-a. Pass --shared to grant them anyway');
    expect(readFileSync(state, 'utf8')).toBe(before);
  });
  it('refuses an invalid range with the option and value, as JSON too', async () => {
    const r = await vdc('grant', 'customer-b', '--vlan', '4000-4095', '--json', '--create');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.issues).toEqual([{ path: '--vlan', value: '4000-4095', message: 'item 1: VLAN 4095 is reserved (VLAN ids are 1-4094)' }]);
  });
});

describe('vdc help', () => {
  it('every subcommand has --help', async () => {
    for (const sub of ['list', 'check', 'allocate', 'grant', 'overlaps']) {
      const r = await runCli(['vdc', sub, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: esdc-overlay vdc ${sub}`);
      expect(r.stdout).toContain('--json');
    }
  });
});

describe('render warns about NICs outside their vDC allowance', () => {
  it('names the NIC, the vDC and the allowed ranges', async () => {
    const doc = parse(readFileSync(state, 'utf8')) as StateDoc;
    doc.vnics![5]!.vdc = 'main'; // lab/1001 is outside main's 2-999
    writeFileSync(state, stringify(doc));
    const r = await runCli(['render', '--out', join(dir, 'out'), '--state', state, '--json']);
    expect(r.status).toBe(0);
    // Other generators may warn too (e.g. IPsec keys not yet stored); this one must be among them.
    expect(JSON.parse(r.stdout).warnings).toContainEqual({
      path: 'vnics[5].nic_tag',
      value: 'lab/1001',
      message: "VM 0b1e0000-0000-4000-8000-000000000006's NIC is on VXLAN 1001, outside vDC main's allowed VXLAN ids (2-999)",
    });
    expect(r.stderr).toContain("outside vDC main's allowed VXLAN ids (2-999)");
  });
});
