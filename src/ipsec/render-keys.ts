/**
 * The key each pair has in one render (docs/operations.md#render): the stored key, or,
 * for a pair with none, a fresh random key made once per render so both
 * ends of the pair get the same one. Such keys live only in the render; a
 * warning says how many pairs have one (never the key), and `apply` hands
 * them to `storeRenderedKeys` so the store learns what the nodes got.
 */
import { hkdfSync } from 'node:crypto';
import type { PairKey } from '../model/model.js';
import type { RenderContext } from '../plan/render-context.js';
import { keyUnit, keyUnits, storedUnitKeys } from './keys.js';
import { pairId, pairLabel, type Pair } from './pairs.js';
import { pdcPairOf } from './pdc-pairs.js';
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

export class RenderKeys {
  private readonly ctx: RenderContext;
  private readonly stored: Map<string, string>;
  private readonly random: RandomBytes;
  private secret: Buffer | undefined;
  private warned = false;

  constructor(ctx: RenderContext, random: RandomBytes = systemRandom) {
    this.ctx = ctx;
    this.stored = storedUnitKeys(ctx.model);
    this.random = random;
    this.secret = ctx.options.keySecret;
  }

  /**
   * The key of a mesh pair in this render: its own key under `pair`, its
   * PDC pair's key under `pdc-pair` (the same for every node pair between
   * two PDCs).
   */
  keyOf(pair: Pair): string {
    const unit = this.ctx.model.defaults.ipsec.keys === 'pdc-pair' ? pdcPairOf(this.ctx.model, pair) : pair;
    const id = pairId(unit);
    const stored = this.stored.get(id);
    if (stored !== undefined) return stored;
    this.warnOnce();
    return this.derived(id);
  }

  /**
   * The keys this render makes up (every unit of the scheme without a stored
   * key: node pairs, or PDC pairs under `pdc-pair`, in `nodes`), in unit order.
   */
  renderOnly(): PairKey[] {
    return keyUnits(this.ctx.model)
      .filter((p) => !this.stored.has(pairId(p)))
      .map((p) => ({ nodes: p, key: this.derived(pairId(p)) }))
      .sort((x, y) => (pairId(x.nodes) < pairId(y.nodes) ? -1 : 1));
  }

  /** PDC pairs get a marked HKDF info, so a PDC and a node of one name never share a derived key. */
  private derived(id: string): string {
    this.secret ??= Buffer.from(newPsk(this.random), 'hex');
    const info = this.ctx.model.defaults.ipsec.keys === 'pdc-pair' ? `pdc\u0000${id}` : id;
    return deriveRenderKey(this.secret, info);
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    const missing = keyUnits(this.ctx.model).filter((p) => !this.stored.has(pairId(p)));
    const what = keyUnit(this.ctx.model) === 'PDC pair' ? 'PDC pair(s)' : 'pair(s) of nodes in different PDCs';
    const named = missing.slice(0, NAMED_IN_WARNING).map(pairLabel).join(', ');
    const more = missing.length > NAMED_IN_WARNING ? ` and ${missing.length - NAMED_IN_WARNING} more` : '';
    this.ctx.warn({
      path: 'ipsec.psk',
      message:
        `${missing.length} ${what} have no stored key (${named}${more}); ` +
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

/** For apply: the keys the render made up for pairs without a stored key. */
export function renderOnlyKeys(ctx: RenderContext): PairKey[] {
  return renderKeys(ctx).renderOnly();
}
