/**
 * The key each pair has in one render (docs/operations.md#render): the stored key, or,
 * for a pair with none, a fresh random key made once per render so both
 * ends of the pair get the same one. Such keys live only in the render; a
 * warning says how many pairs have one (never the key). `apply` never
 * sends such keys: it stores the missing keys first (`generateMissingKeys`)
 * and renders from the stored ones.
 */
import { createHmac } from 'node:crypto';
import type { PairKey } from '../model/model.js';
import type { RenderContext } from '../desired/render-context.js';
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
export const PSK_BYTES = 128;

/** HKDF's salt for render-only keys (also the helper's, src/cli/key-prefetch.ts). */
export const HKDF_SALT = 'esdc-overlay render-only psk';

/**
 * HKDF-SHA-512 (RFC 5869) in its two steps, so that the first is done once
 * per secret: extract gives PRK = HMAC(salt, secret), the same for every pair;
 * expand gives T1 = HMAC(PRK, id | 1), T2 = HMAC(PRK, T1 | id | 2), and the
 * key is T1 | T2 (128 bytes). Same bytes as `hkdfSync('sha512', secret, salt,
 * id, PSK_BYTES)` (test/ipsec/render-keys.test.ts), at about half the cost: one
 * hkdfSync per pair end was 10 % of a 200-node render (issue 20).
 */
const prks = new WeakMap<Buffer, Buffer>();

function prkOf(secret: Buffer): Buffer {
  let prk = prks.get(secret);
  if (prk === undefined) {
    prk = createHmac('sha512', HKDF_SALT).update(secret).digest();
    prks.set(secret, prk);
  }
  return prk;
}

/** A random secret for one render's keys (RenderOptions.randomSecret). */
export function newRenderSecret(random: RandomBytes = systemRandom): Buffer {
  return Buffer.from(newPsk(random), 'hex');
}

const ONE = Buffer.of(1);
const TWO = Buffer.of(2);

/** The render-only key of the pair `id` (`pairId`) under `secret`: hex, as stored keys are. */
export function deriveRenderKey(secret: Buffer, id: string): string {
  const prk = prkOf(secret);
  const info = Buffer.from(id, 'utf8');
  const t1 = createHmac('sha512', prk).update(info).update(ONE).digest();
  const t2 = createHmac('sha512', prk).update(t1).update(info).update(TWO).digest();
  return t1.toString('hex') + t2.toString('hex');
}

/**
 * Keys derived at a pair's first end, kept until its second end asks (nodes
 * render in name order, so each pair is asked for twice). Capped, so memory
 * stays bounded however many pairs there are: past the cap a key is simply
 * derived again, which gives the same bytes.
 */
const PENDING_CAP = 32_768;

export class RenderKeys {
  private readonly ctx: RenderContext;
  private readonly stored: Map<string, string>;
  private readonly random: RandomBytes;
  private secret: Buffer | undefined;
  private warned = false;
  private readonly pending = new Map<string, string>();

  constructor(ctx: RenderContext, random: RandomBytes = systemRandom) {
    this.ctx = ctx;
    this.stored = storedUnitKeys(ctx.model);
    this.random = random;
    this.secret = ctx.options.keySecret ?? ctx.options.randomSecret;
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
    return this.derivedForPairEnd(id, unit === pair ? pair : undefined);
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
    this.secret ??= newRenderSecret(this.random);
    const info = this.ctx.model.defaults.ipsec.keys === 'pdc-pair' ? `pdc\u0000${id}` : id;
    return deriveRenderKey(this.secret, info);
  }

  /**
   * `derived`, remembered between the two ends of a pair (see PENDING_CAP);
   * a node pair's key taken from the helper that derives keys ahead, when it
   * has it (RenderOptions.derivedAhead: the same bytes).
   */
  private derivedForPairEnd(id: string, pair: Pair | undefined): string {
    const pending = this.pending.get(id);
    if (pending !== undefined) {
      this.pending.delete(id);
      return pending;
    }
    const ahead = pair === undefined ? undefined : this.ctx.options.derivedAhead?.(pair[0], pair[1]);
    const key = ahead ?? this.derived(id);
    if (this.pending.size < PENDING_CAP) this.pending.set(id, key);
    return key;
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

/** The keys the render made up for units without a stored key. */
export function renderOnlyKeys(ctx: RenderContext): PairKey[] {
  return renderKeys(ctx).renderOnly();
}
