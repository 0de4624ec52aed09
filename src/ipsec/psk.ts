/**
 * Pre-shared keys: how one is made, and how it is named without being
 * shown. A key is 128 random bytes as 256 lower-case hex characters, the
 * size Danube used (`openssl rand -hex 128`), written quoted into
 * ike.preshared as Danube writes it (docs/file-formats.md#ike-preshared; generator.ts says why).
 */
import { randomBytes } from 'node:crypto';
import { InternalError } from '../errors.js';
import { sha256Hex } from '../sha256.js';
import { PSK, matches } from '../syntax/patterns.js';

export const PSK_BYTES = 128;

/** Where key material comes from; tests pass a deterministic source. */
export type RandomBytes = (size: number) => Buffer;

export const systemRandom: RandomBytes = (size) => randomBytes(size);

export function newPsk(random: RandomBytes = systemRandom): string {
  const key = random(PSK_BYTES).toString('hex');
  // A short or broken source must never produce a weak key silently.
  if (!matches(PSK, key)) throw new InternalError(`the random source returned ${key.length / 2} bytes, not ${PSK_BYTES}`);
  return key;
}

/**
 * A short name for a key that reveals nothing usable about it: operators
 * compare fingerprints (both ends of a pair, before and after a rotation)
 * instead of keys.
 */
export function pskFingerprint(key: string): string {
  return `sha256:${sha256Hex(`esdc-overlay psk\u0000${key}`).slice(0, 16)}`;
}
