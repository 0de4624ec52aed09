/**
 * The simulated nodes' roots come from the test harness's environment only
 * (ESDC_OVERLAY_SIM_ROOTS), and are checked: absolute, normalized, existing
 * directories, a known layout. Unset, there are none.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { SIM_ROOTS_ENV, simRootsFrom } from '../../src/transport/sim-roots.js';

describe('ESDC_OVERLAY_SIM_ROOTS', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-simroots-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, value: unknown): Promise<Record<string, string>> => {
    const p = join(dir, name);
    await writeFile(p, typeof value === 'string' ? value : JSON.stringify(value));
    return { [SIM_ROOTS_ENV]: p };
  };

  it('unset or empty: no roots', () => {
    expect(simRootsFrom({})).toBeUndefined();
    expect(simRootsFrom({ [SIM_ROOTS_ENV]: '' })).toBeUndefined();
  });

  it('gives the roots of SSH endpoints and of the agent', async () => {
    const roots = simRootsFrom(await file('good.json', { ssh: { '127.0.0.1:2222': dir }, local: dir }));
    expect(roots?.ssh.get('127.0.0.1:2222')).toBe(dir);
    expect(roots?.local).toBe(dir);
  });

  it('refuses a relative, unnormalized, missing or non-directory root, an unknown key and a relative file, naming each', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ssh: { '127.0.0.1:22': 'rel/root' } }, /ssh\.127\.0\.0\.1:22 must be an absolute/],
      [{ ssh: { '127.0.0.1:22': `${dir}/../x` } }, /must be an absolute, normalized/],
      [{ ssh: { '127.0.0.1:22': join(dir, 'missing') } }, /is not an existing directory/],
      [{ local: join(dir, 'good.json') }, /local: .* is not an existing directory/],
      [{ local: '/' }, /other than \//],
      [{ ssh: { 'a b': dir } }, /is not host:port/],
      [{ nodes: {} }, /unknown key "nodes"/],
      ['not json', /cannot be read as JSON/],
    ];
    for (const [i, [value, want]] of cases.entries()) {
      const env = await file(`bad${i}.json`, value);
      expect(() => simRootsFrom(env), JSON.stringify(value)).toThrow(UsageError);
      expect(() => simRootsFrom(env)).toThrow(want);
      expect(() => simRootsFrom(env)).toThrow(SIM_ROOTS_ENV);
    }
    expect(() => simRootsFrom({ [SIM_ROOTS_ENV]: 'roots.json' })).toThrow(/must be an absolute path/);
  });
});
