/**
 * Render-only keys: the two-step HMAC form gives the bytes of one HKDF call
 * (so renders with one --key-secret stay byte-identical across versions),
 * and remembering a key between a pair's two ends changes no key.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveRenderKey, PSK_BYTES, RenderKeys } from '../../src/ipsec/render-keys.js';
import { orderedPair } from '../../src/model/model.js';
import { meshPairs, pairId } from '../../src/ipsec/pairs.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { generateInstallation } from '../../bench/generate-installation.js';
import { validModel } from '../support/state-fixtures.js';
import { FUZZ } from '../fuzz/fuzz-config.js';

const hkdf = (secret: Buffer, id: string): string =>
  Buffer.from(hkdfSync('sha512', secret, 'esdc-overlay render-only psk', id, PSK_BYTES)).toString('hex');

describe('render-only keys', () => {
  it('are HKDF-SHA-512 of the secret and the pair id, byte for byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 96 }), fc.string({ unit: 'binary', maxLength: 200 }), (secret, id) => {
        const buf = Buffer.from(secret);
        expect(deriveRenderKey(buf, id)).toBe(hkdf(buf, id));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns },
    );
    expect(deriveRenderKey(Buffer.alloc(64, 1), 'a\u0000b')).toHaveLength(2 * PSK_BYTES);
  });

  it('are the same from both ends of every pair, with the pending cache in play', () => {
    const model = validModel(generateInstallation({ nodes: 9, pdcs: 3, rules: 2, nics: 20, seed: 3 }));
    const secret = randomBytes(64);
    const keys = new RenderKeys(new RenderContext(model, { keySecret: secret }));
    for (const node of model.nodes) {
      for (const peer of model.nodes) {
        if (peer.pdc === node.pdc) continue;
        const pair = orderedPair(node.name, peer.name);
        expect(keys.keyOf(pair)).toBe(hkdf(secret, pairId(pair)));
      }
    }
    expect(keys.renderOnly().map((k) => k.key)).toEqual(meshPairs(model).map((p) => hkdf(secret, pairId(p))));
  });
});
