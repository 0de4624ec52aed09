import { mkdtemp, readFile, readdir, rm, stat, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

const EXAMPLE = 'examples/two-sites.yaml';
const GOLDEN = 'test/fixtures/render/two-sites';

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'esdc-arp-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('render of examples/two-sites.yaml', () => {
  it('writes every node\'s ARP tables exactly as the golden files in test/fixtures/render/two-sites', async () => {
    const state = join(tmp, 'state.yaml');
    await copyFile(EXAMPLE, state);
    const r = await cli(['render', '--state', state, '--out', join(tmp, 'out')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const tables = (await walk(join(tmp, 'out'))).filter((p) => p.endsWith('_overlay.json'));
    if (process.env.UPDATE_GOLDEN === '1') {
      for (const t of tables) {
        await mkdir(dirname(join(GOLDEN, t)), { recursive: true });
        await writeFile(join(GOLDEN, t), await readFile(join(tmp, 'out', t)));
      }
    }
    expect(tables).toEqual((await walk(GOLDEN)).filter((p) => p.endsWith('_overlay.json')));
    // cn02, cn04, cn05 do not have rule "lab": no lab table there.
    expect(tables.filter((t) => t.endsWith('lab_overlay.json'))).toEqual([
      'cn01.prg.example.com/opt/custom/networking/lab_overlay.json',
      'cn03.brn.example.com/opt/custom/networking/lab_overlay.json',
    ]);
    for (const t of tables) {
      expect(await readFile(join(tmp, 'out', t), 'utf8'), t).toBe(await readFile(join(GOLDEN, t), 'utf8'));
      expect((await stat(join(tmp, 'out', t))).mode & 0o777, t).toBe(0o400);
    }
  });

  it('lists the files and the varpd restart in commands.sh', async () => {
    const state = join(tmp, 'state.yaml');
    await copyFile(EXAMPLE, state);
    expect((await cli(['render', '--state', state, '--out', join(tmp, 'out')])).status).toBe(0);
    const commands = await readFile(join(tmp, 'out', 'cn02.prg.example.com', 'commands.sh'), 'utf8');
    expect(commands).toContain('svcadm restart network/varpd\n');
  });
});

describe('render refuses a state the old tool silently got wrong, before writing anything', () => {
  const cases: Array<[string, (text: string) => string, RegExp]> = [
    ['a node without external IP in a multi-PDC installation', (t) => t.replace('    external_ip: 192.0.2.15\n', ''), /missing on cn05\.ams\.example\.com/],
    ['two NICs with one MAC', (t) => t.replace('mac: "52:54:00:aa:00:02"', 'mac: "52:54:0:AA:0:1"'), /vnics\[1\]\.mac: is also the MAC of vnics\[0\]\.mac/],
    ['one overlay IP twice on one rule and VNI', (t) => t.replace('ip: 10.10.0.2,', 'ip: 10.10.0.1,'), /vnics\[1\]\.ip: is also the address of vnics\[0\] on customers\/1000/],
  ];
  for (const [what, edit, message] of cases) {
    it(what, async () => {
      const state = join(tmp, 'state.yaml');
      const text = await readFile(EXAMPLE, 'utf8');
      const edited = edit(text);
      expect(edited).not.toBe(text);
      await writeFile(state, edited);
      const out = join(tmp, 'out');
      const r = await cli(['render', '--state', state, '--out', out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      await expect(stat(out)).rejects.toThrow(/ENOENT/);
      expect((await readdir(tmp)).sort()).toEqual(['state.yaml']);
    });
  }
});
