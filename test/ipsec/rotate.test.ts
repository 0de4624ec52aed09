import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { loadStateText } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import { captureIo, FIXTURES, presharedKeys } from './helpers.js';

/** For each pair a<->b: the key a's file holds for b and the one b's holds for a. */
function keysAtBothEnds(model: Model, out: string): Map<string, [string | undefined, string | undefined]> {
  const file = (n: string): Map<string, string> =>
    presharedKeys(readFileSync(join(out, n, 'opt/custom/etc/ipsec/ike.preshared'), 'utf8'));
  const result = new Map<string, [string | undefined, string | undefined]>();
  for (const k of model.pairKeys) {
    const [a, b] = k.nodes.map((n) => model.nodeByName.get(n)!);
    result.set(k.nodes.join(' '), [file(a!.name).get(b!.externalIp!), file(b!.name).get(a!.externalIp!)]);
  }
  return result;
}

describe('keys rotate --all on the example', { timeout: 30_000 }, () => {
  let dir: string;
  let state: string;
  const load = (): Model => loadStateText(readFileSync(state, 'utf8'), state).model;
  const cli = async (...argv: string[]): Promise<void> => {
    const io = captureIo();
    const status = await run([...argv, '--state', state], io);
    expect(status, io.err()).toBe(0);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-rotate-'));
    state = join(dir, 'state.yaml');
    copyFileSync(join(FIXTURES, 'ipsec', 'two-sites-keys.yaml'), state);
    chmodSync(state, 0o600); // a state holding keys must not be readable by others
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('changes every key, and the next render has the new key at both ends of every pair', async () => {
    const before = load();
    await cli('render', '--out', join(dir, 'before'));
    await cli('keys', 'rotate', '--all', '--yes');
    const after = load();
    await cli('render', '--out', join(dir, 'after'));

    expect(after.pairKeys.map((k) => k.nodes)).toEqual(before.pairKeys.map((k) => k.nodes));
    expect(after.pairKeys).toHaveLength(8);
    const old = new Map(before.pairKeys.map((k) => [k.nodes.join(' '), k.key]));
    const ends0 = keysAtBothEnds(before, join(dir, 'before'));
    const ends1 = keysAtBothEnds(after, join(dir, 'after'));
    for (const k of after.pairKeys) {
      const id = k.nodes.join(' ');
      expect(k.key).not.toBe(old.get(id));
      expect(ends0.get(id)).toEqual([old.get(id), old.get(id)]);
      expect(ends1.get(id)).toEqual([k.key, k.key]);
    }
    // Nothing else in the state changed.
    expect({ ...after.doc, ipsec: undefined }).toEqual({ ...before.doc, ipsec: undefined });
  });

  it('--pair changes that pair only; the others render as before', async () => {
    const before = load();
    await cli('keys', 'rotate', '--pair', 'cn05.ams.example.com,cn03.brn.example.com', '--yes');
    const after = load();
    await cli('render', '--out', join(dir, 'after'));
    const ends = keysAtBothEnds(after, join(dir, 'after'));
    for (const [i, k] of after.pairKeys.entries()) {
      const id = k.nodes.join(' ');
      const changed = id === 'cn03.brn.example.com cn05.ams.example.com';
      expect(k.key !== before.pairKeys[i]!.key).toBe(changed);
      expect(ends.get(id)).toEqual([k.key, k.key]);
    }
  });
});
