/**
 * MACs of adminoverlay vNICs (docs/file-formats.md#danube-defects, items 2, 3). Danube drew 24
 * bits from bash `$RANDOM` behind 00:e5:dc, a universally administered
 * prefix (someone's OUI space), checked uniqueness only among adminoverlay
 * MACs, wrote empty MACs on init and new ones on every update.
 *
 * Here: 02:e5:dc (Danube's prefix with the locally-administered bit set and
 * the group bit clear, so recognisably ours and outside the 02:08:20 range
 * illumos uses for random VNIC MACs), 24 bits from the OS CSPRNG, unique
 * among every MAC in the state, and kept for as long as the node is a member.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.js';

export const ADMIN_OVERLAY_MAC_PREFIX = '02:e5:dc';

/** A source of random bytes; tests pass a deterministic one. */
export type RandomSource = (n: number) => Uint8Array;

export const cryptoRandom: RandomSource = (n) => randomBytes(n);

/** Draws are bounded: with 2^24 MACs, running out means the state is absurd or the source is broken. */
const MAX_DRAWS = 1000;

/** A new MAC not in `taken` (lower-case, zero padded); adds it to `taken`. */
export function newAdminOverlayMac(taken: Set<string>, random: RandomSource = cryptoRandom): string {
  for (let i = 0; i < MAX_DRAWS; i++) {
    const b = random(3);
    if (b.length !== 3) throw new ConflictError('the random source returned too few bytes');
    const mac = `${ADMIN_OVERLAY_MAC_PREFIX}:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
    if (!taken.has(mac)) {
      taken.add(mac);
      return mac;
    }
  }
  throw new ConflictError(`could not draw an unused adminoverlay MAC in ${MAX_DRAWS} tries`, { code: 'MacExhausted' });
}
