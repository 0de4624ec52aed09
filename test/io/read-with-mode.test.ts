/** Secret files are judged by the mode of the bytes read, by one rule (io/read-with-mode.ts). */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { octalMode, readFileWithMode, readFileWithModeSync, secretExposed } from '../../src/io/read-with-mode.js';
import { sha256Hex } from '../../src/sha256.js';

const dir = mkdtempSync(join(tmpdir(), 'esdc-read-mode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a secret file', () => {
  it('is exposed when its group or others have any permission bit, as ssh judges a private key', () => {
    for (const m of [0o600, 0o400, 0o700, 0o4600]) expect(secretExposed(m), octalMode(m)).toBe(false);
    for (const m of [0o640, 0o604, 0o644, 0o610, 0o601]) expect(secretExposed(m), octalMode(m)).toBe(true);
    expect(octalMode(0o100644)).toBe('0644');
  });

  it('is read with its mode from one open, synchronously as asynchronously', async () => {
    const path = join(dir, 'auth');
    writeFileSync(path, 'user:pw\n');
    chmodSync(path, 0o640);
    expect(readFileWithModeSync(path)).toEqual({ data: Buffer.from('user:pw\n'), mode: 0o640 });
    expect(await readFileWithMode(path)).toEqual(readFileWithModeSync(path));
    expect(() => readFileWithModeSync(join(dir, 'absent'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('sha256Hex', () => {
  it('is the FIPS 180-2 digest of the UTF-8 text, in lower-case hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('\u00e9')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c'); // the bytes c3 a9, not e9
  });
});
