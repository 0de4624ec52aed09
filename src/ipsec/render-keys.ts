/**
 * The key each pair has in one render (docs/operations.md#render): the stored key, or,
 * for a pair with none, a fresh random key made once per render so both
 * ends of the pair get the same one. Such keys live only in the render; a
 * warning says how many pairs have one (never the key). `apply` never
 * sends such keys: it stores the missing keys first (`generateMissingKeys`)
 * and renders from the stored ones.
 */
import { hkdfSync } from 'node:crypto';
import type { RenderContext } from '../desired/render-context.js';
import { storedMeshKeys } from './keys.js';
import { meshPairs, pairId, pairLabel, type Pair } from './pairs.js';
import { newPsk, systemRandom, type RandomBytes } from './psk.js';

/** How many pairs a warning names before it says "and N more". */
const NAMED_IN_WARNING = 5;

/**
 * Render-only keys are derived, not remembered: HKDF-SHA-512 of one random
 * secret per render and the pair's id gives each pair 128 bytes that both
 * ends compute alike, with no per-pair memory. Keeping one random key per pair
 * until its other end was rendered cost ~1.4 KiB a pair: 600 MiB of a
 * 1,000-node render (bench/RESULTS.md). The secret is never stored or shown,
 * so the keys are as unpredictable as independent random ones. An operator's
 * secret (`render --key-secret`) replaces the random one: the same secret
 * gives the same keys, so two renders can be compared byte for byte.
 */
const PSK_BYTES = 128;

/** The render-only key of the pair `id` (`pairId`) under `secret`: hex, as stored keys are. */
export function deriveRenderKey(secret: Buffer, id: string): string {
  return Buffer.from(hkdfSync('sha512', secret, 'esdc-overlay render-only psk', id, PSK_BYTES)).toString('hex');
}

class RenderKeys {
  private readonly ctx: RenderContext;
  private readonly stored: Map<string, string>;
  private readonly random: RandomBytes;
  private secret: Buffer | undefined;
  private warned = false;

  constructor(ctx: RenderContext, random: RandomBytes = systemRandom) {
    this.ctx = ctx;
    this.stored = storedMeshKeys(ctx.model);
    this.random = random;
    this.secret = ctx.options.keySecret;
  }

  /** The key of a mesh pair in this render. */
  keyOf(pair: Pair): string {
    const id = pairId(pair);
    const stored = this.stored.get(id);
    if (stored !== undefined) return stored;
    this.warnOnce();
    return this.derived(id);
  }

  private derived(id: string): string {
    this.secret ??= Buffer.from(newPsk(this.random), 'hex');
    return deriveRenderKey(this.secret, id);
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    const missing = meshPairs(this.ctx.model).filter((p) => !this.stored.has(pairId(p)));
    const named = missing.slice(0, NAMED_IN_WARNING).map(pairLabel).join(', ');
    const more = missing.length > NAMED_IN_WARNING ? ` and ${missing.length - NAMED_IN_WARNING} more` : '';
    this.ctx.warn({
      path: 'ipsec.psk',
      message:
        `${missing.length} pair(s) of nodes in different PDCs have no stored key (${named}${more}); ` +
        (this.ctx.options.keySecret === undefined
          ? 'this render gives them fresh random keys that are not stored: '
          : 'this render derives their keys from the --key-secret file; they are not stored: ') +
        'run "esdc-overlay keys generate" ' +
        '(or apply, which stores them) so that every render and every node agrees',
    });
  }
}

const MEMO_KEY = 'ipsec.render-keys';

/** The render's key source, one per RenderContext. */
export function renderKeys(ctx: RenderContext): RenderKeys {
  return ctx.shared(MEMO_KEY, () => new RenderKeys(ctx));
}
