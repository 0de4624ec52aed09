/**
 * Render-only keys derived ahead on a helper thread (src/cli/key-prefetch.ts,
 * docs/operations.md#keys-derived-ahead): every key it serves is the key
 * deriveRenderKey gives, and it serves the pairs in the order a render asks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { generateInstallation } from '../../bench/generate-installation.js';
import { KeyPrefetch } from '../../src/cli/key-prefetch.js';
import { deriveRenderKey } from '../../src/ipsec/render-keys.js';
import { meshPairs, pairId } from '../../src/ipsec/pairs.js';
import { buildModel } from '../../src/model/build-model.js';

describe('keys derived ahead', () => {
  it('serves, pair by pair in render order, exactly the keys deriveRenderKey gives', async () => {
    const model = buildModel(generateInstallation({ nodes: 40, pdcs: 3, rules: 2, nics: 10, seed: 11, adminoverlay: false }));
    const secret = Buffer.alloc(48, 7);
    const prefetch = new KeyPrefetch();
    try {
      prefetch.begin(model, secret);
      const pairs = meshPairs(model);
      expect(pairs.length).toBeGreaterThan(400);
      let waited = 0;
      for (const [a, b] of pairs) {
        let key = prefetch.keyOf(a, b);
        // The helper may not have it yet: a render would derive it itself; here we wait, to see every key it gives.
        while (key === undefined && waited < 2000) {
          await sleep(1);
          waited++;
          key = prefetch.keyOf(a, b);
        }
        expect(key, pairId([a, b])).toBe(deriveRenderKey(secret, pairId([a, b])));
      }
      expect(prefetch.served).toBe(pairs.length);
      // Not a pair of the mesh, or a node it does not know: nothing (the render derives or has a stored key).
      const samePdc = model.nodes.find((n) => n.pdc === model.nodes[0]!.pdc && n.name !== model.nodes[0]!.name)!;
      expect(prefetch.keyOf(model.nodes[0]!.name, samePdc.name)).toBeUndefined();
      expect(prefetch.keyOf('nope', 'zzz')).toBeUndefined();
    } finally {
      prefetch.close();
    }
  });

  it('after close, or before begin, has no key and never waits', () => {
    const model = buildModel(generateInstallation({ nodes: 4, pdcs: 2, rules: 1, nics: 2, seed: 1, adminoverlay: false }));
    const [a, b] = meshPairs(model)[0]!;
    const prefetch = new KeyPrefetch();
    expect(prefetch.keyOf(a, b)).toBeUndefined();
    prefetch.begin(model, Buffer.alloc(32, 1));
    prefetch.close();
    expect(prefetch.keyOf(a, b)).toBeUndefined();
  });
});
