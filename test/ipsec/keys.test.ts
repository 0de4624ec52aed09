import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../src/errors.js';
import { generateMissingKeys, parsePairSelection, rotateKeys, storedMeshKeys } from '../../src/ipsec/keys.js';
import { meshPairs, pairId } from '../../src/ipsec/pairs.js';
import { newPsk, PSK_BYTES, pskFingerprint } from '../../src/ipsec/psk.js';
import { PSK, matches } from '../../src/syntax/patterns.js';
import type { StateDoc } from '../../src/model/state.js';
import { desiredNode } from '../../src/plan/desired-state.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { IKE_PRESHARED_PATH } from '../../src/ipsec/generator.js';
import { meshDoc, modelOf, presharedKeys, seededRandom } from './helpers.js';

describe('a pre-shared key', () => {
  it('is 128 random bytes as 256 lower-case hex characters', () => {
    const key = newPsk();
    expect(key).toMatch(/^[0-9a-f]{256}$/);
    expect(newPsk()).not.toBe(key);
  });

  it('is refused when the random source comes up short', () => {
    expect(() => newPsk((n) => Buffer.alloc(n - 1))).toThrow(/127 bytes, not 128/);
    expect(PSK_BYTES).toBe(128);
  });

  it('has a fingerprint that does not contain it', () => {
    const key = newPsk();
    expect(pskFingerprint(key)).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(key).not.toContain(pskFingerprint(key).slice(7));
  });
});

describe('keys generate: a key for every pair without one, stale keys pruned', () => {
  const doc = meshDoc({ 'cn-1': 'prg', 'cn-2': 'prg', 'cn-3': 'brn', 'cn-4': 'ams' });

  it('stores one key per mesh pair, in pair order, and none for same-PDC pairs', () => {
    const model = modelOf(doc);
    const { doc: next, change } = generateMissingKeys(doc, model, seededRandom('g'));
    expect(change.added).toEqual(meshPairs(model));
    expect(next.ipsec!.psk!.map((p) => p.nodes)).toEqual(meshPairs(model).map((p) => [...p]));
    expect(next.ipsec!.psk!.every((p) => matches(PSK, p.key))).toBe(true);
    expect(next.ipsec!.psk!.some((p) => p.nodes.join() === 'cn-1,cn-2')).toBe(false);
    expect(doc.ipsec).toBeUndefined(); // the input is untouched
  });

  it('keeps existing keys and adds only missing ones', () => {
    const first = generateMissingKeys(doc, modelOf(doc), seededRandom('a')).doc;
    const trimmed: StateDoc = { ...first, ipsec: { psk: first.ipsec!.psk!.slice(1) } };
    const { doc: again, change } = generateMissingKeys(trimmed, modelOf(trimmed), seededRandom('b'));
    expect(change.added).toEqual([first.ipsec!.psk![0]!.nodes]);
    expect(again.ipsec!.psk!.slice(1)).toEqual(first.ipsec!.psk!.slice(1));
  });

  it('drops keys of a node that left, of pairs now in one PDC, and duplicates', () => {
    const withKeys = generateMissingKeys(doc, modelOf(doc), seededRandom('c')).doc;
    const { 'cn-4': _gone, ...nodes } = withKeys.nodes!;
    const moved: StateDoc = { ...withKeys, nodes: { ...nodes, 'cn-3': { ...nodes['cn-3']!, pdc: 'prg' } } };
    // cn-4 gone, cn-3 now in prg: every remaining pair shares a PDC.
    const { doc: next, change } = generateMissingKeys(moved, modelOf(moved), seededRandom('d'));
    expect(change.pruned.length).toBe(withKeys.ipsec!.psk!.length);
    expect(next.ipsec).toBeUndefined();
  });
});

describe('keys rotate', () => {
  const doc = generateMissingKeys(
    meshDoc({ 'cn-1': 'prg', 'cn-2': 'brn', 'cn-3': 'ams' }),
    modelOf(meshDoc({ 'cn-1': 'prg', 'cn-2': 'brn', 'cn-3': 'ams' })),
    seededRandom('r'),
  ).doc;

  it('--all replaces every key', () => {
    const model = modelOf(doc);
    const { doc: next, change } = rotateKeys(doc, model, 'all', seededRandom('r2'));
    expect(change.rotated).toEqual(meshPairs(model));
    const before = storedMeshKeys(model);
    const after = storedMeshKeys(modelOf(next));
    for (const [id, key] of before) expect(after.get(id)).not.toBe(key);
  });

  it('--pair replaces only that pair, given in either order', () => {
    const model = modelOf(doc);
    const pairs = parsePairSelection(model, ['cn-3,cn-1']);
    expect(pairs).toEqual([['cn-1', 'cn-3']]);
    const { doc: next, change } = rotateKeys(doc, model, pairs, seededRandom('r3'));
    expect(change.rotated).toEqual([['cn-1', 'cn-3']]);
    const before = storedMeshKeys(model);
    const after = storedMeshKeys(modelOf(next));
    for (const [id, key] of before) {
      if (id === pairId(['cn-1', 'cn-3'])) expect(after.get(id)).not.toBe(key);
      else expect(after.get(id)).toBe(key);
    }
  });

  it('refuses a random source that repeats the old key', () => {
    const model = modelOf(doc);
    const old = Buffer.from(doc.ipsec!.psk![0]!.key, 'hex');
    expect(() => rotateKeys(doc, model, [doc.ipsec!.psk![0]!.nodes], () => old)).toThrow(ConflictError);
  });

  it('rejects bad --pair values, naming each', () => {
    const model = modelOf(meshDoc({ 'cn-1': 'prg', 'cn-2': 'prg', 'cn-3': 'brn' }));
    const err = (() => {
      try {
        parsePairSelection(model, ['cn-1,cn-2', 'cn-1', 'cn-1,nope', 'cn-1,cn-1', 'bad_name,cn-3']);
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues.map((i) => [i.path, i.message])).toEqual([
      ['--pair[0]', 'names two nodes of PDC prg, which talk without IPsec and have no key'],
      ['--pair[1]', 'must be two hostnames separated by a comma'],
      ['--pair[2]', 'is not a known node'],
      ['--pair[3]', 'names one node twice'],
      ['--pair[4]', 'is not a valid hostname'],
    ]);
  });
});

describe('no state ever holds different keys for the two ends of a pair', () => {
  type Op =
    | { kind: 'generate' }
    | { kind: 'rotate-all' }
    | { kind: 'rotate-one'; index: number }
    | { kind: 'move'; node: number; pdc: string }
    | { kind: 'remove'; node: number };
  const NAMES = ['cn-1', 'cn-1-2', 'cn-12', 'cn', 'x-cn-1'];
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant<Op>({ kind: 'generate' }),
    fc.constant<Op>({ kind: 'rotate-all' }),
    fc.nat(20).map<Op>((index) => ({ kind: 'rotate-one', index })),
    fc.record({ node: fc.nat(NAMES.length - 1), pdc: fc.constantFrom('p1', 'p2', 'p3') }).map<Op>((r) => ({ kind: 'move', ...r })),
    fc.nat(NAMES.length - 1).map<Op>((node) => ({ kind: 'remove', node })),
  );

  /** Renders every node and checks, for every mesh pair, that both ends' ike.preshared name one key. */
  function checkBothEnds(doc: StateDoc): void {
    const model = modelOf(doc);
    const ctx = new RenderContext(model);
    const byNode = new Map(
      model.nodes.map((n) => [
        n.name,
        presharedKeys(fileText(desiredNode(ctx, n).files.find((f) => f.path === IKE_PRESHARED_PATH)!)),
      ]),
    );
    const stored = storedMeshKeys(model);
    for (const [a, b] of meshPairs(model)) {
      const na = model.nodeByName.get(a)!;
      const nb = model.nodeByName.get(b)!;
      const atA = byNode.get(a)!.get(nb.externalIp!);
      const atB = byNode.get(b)!.get(na.externalIp!);
      expect(atA).toMatch(/^[0-9a-f]{256}$/);
      expect(atA).toBe(atB);
      const s = stored.get(pairId([a, b]));
      if (s !== undefined) expect(atA).toBe(s);
    }
    // And nothing for same-PDC pairs.
    for (const n of model.nodes) expect(byNode.get(n.name)!.size).toBe(model.nodes.filter((m) => m.pdc !== n.pdc).length);
  }

  it('holds over any sequence of generate, rotate, PDC moves and node removals', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 8 }), fc.string({ maxLength: 8 }), (ops, seed) => {
        const random = seededRandom(seed);
        let doc = meshDoc(Object.fromEntries(NAMES.map((n, i) => [n, `p${(i % 3) + 1}`])));
        checkBothEnds(doc);
        for (const o of ops) {
          const model = modelOf(doc);
          if (o.kind === 'generate') doc = generateMissingKeys(doc, model, random).doc;
          else if (o.kind === 'rotate-all') {
            const before = storedMeshKeys(model);
            doc = rotateKeys(doc, model, 'all', random).doc;
            const after = storedMeshKeys(modelOf(doc));
            for (const [id, key] of before) expect(after.get(id)).not.toBe(key);
          } else if (o.kind === 'rotate-one') {
            const pairs = meshPairs(model);
            if (pairs.length > 0) doc = rotateKeys(doc, model, [pairs[o.index % pairs.length]!], random).doc;
          } else {
            const name = NAMES[o.node]!;
            if (!doc.nodes?.[name]) continue;
            const nodes = { ...doc.nodes };
            if (o.kind === 'remove') delete nodes[name];
            else nodes[name] = { ...nodes[name]!, pdc: o.pdc };
            doc = { ...doc, nodes };
            // The operator's next key command prunes what the change left stale.
            doc = generateMissingKeys(doc, modelOf(doc), random).doc;
          }
          checkBothEnds(doc);
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
