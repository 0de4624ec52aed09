/**
 * `keys generate | list | rotate` under `defaults.ipsec.keys: pdc-pair`
 * (docs/ipsec-keys.md), in-process: PDC pairs in, PDC pairs out, never a key.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';
import { meshDoc } from '../ipsec/helpers.js';
import { runCli } from '../support/cli.js';

let dir: string;
let state: string;
const S = (): string[] => ['--state', state];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keys-pdc-'));
  state = join(dir, 'state.yaml');
  const doc = meshDoc({ 'cn-1': 'prg', 'cn-2': 'prg', 'cn-3': 'brn', 'cn-4': 'ams' }, { defaults: { ipsec: { keys: 'pdc-pair' } } });
  await writeFile(state, stringify(doc), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stored = async (): Promise<StateDoc> => parse(await readFile(state, 'utf8')) as StateDoc;

describe('keys under pdc-pair', () => {
  it('generate stores one key per PDC pair; list shows PDC pairs with fingerprints only', async () => {
    const g = await runCli(['keys', 'generate', ...S()]);
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout).toContain('stored new keys for 3 PDC pair(s) that had none');
    expect((await stored()).ipsec?.pdc_psk?.map((k) => k.pdcs)).toEqual([
      ['ams', 'brn'],
      ['ams', 'prg'],
      ['brn', 'prg'],
    ]);
    const l = await runCli(['keys', 'list', ...S(), '--json']);
    expect(l.status, l.stderr).toBe(0);
    const listed = JSON.parse(l.stdout) as { scheme: string; pairs: Array<{ pdcs: string[]; status: string; fingerprint: string }> };
    expect(listed.scheme).toBe('pdc-pair');
    expect(listed.pairs.map((p) => [p.pdcs, p.status])).toEqual([
      [['ams', 'brn'], 'stored'],
      [['ams', 'prg'], 'stored'],
      [['brn', 'prg'], 'stored'],
    ]);
    for (const k of (await stored()).ipsec!.pdc_psk!) expect(l.stdout + l.stderr).not.toContain(k.key.slice(0, 32));
  });

  it('rotate --pair prg,brn replaces that PDC pair\'s key only; node names are refused naming the value', async () => {
    const before = (await stored()).ipsec!.pdc_psk!;
    const r = await runCli(['keys', 'rotate', '--pair', 'prg,brn', '--yes', ...S()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('replaced the keys of 1 PDC pair(s)');
    const after = (await stored()).ipsec!.pdc_psk!;
    expect(after.find((k) => k.pdcs.join() === 'brn,prg')!.key).not.toBe(before.find((k) => k.pdcs.join() === 'brn,prg')!.key);
    expect(after.filter((k) => k.pdcs.join() !== 'brn,prg')).toEqual(before.filter((k) => k.pdcs.join() !== 'brn,prg'));
    const bad = await runCli(['keys', 'rotate', '--pair', 'cn-1,cn-3', '--yes', ...S()]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--pair\[0\].*cn-1.*not a PDC/s);
  });

  it('--help says pdc-pair is unverified on illumos and cert is not built', async () => {
    const h = await runCli(['keys', 'rotate', '--help']);
    expect(h.stdout).toMatch(/UNVERIFIED ON ILLUMOS/);
    expect(h.stdout).toMatch(/cert +refused: per-node certificates are not built/);
  });
});
