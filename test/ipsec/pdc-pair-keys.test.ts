/**
 * The `pdc-pair` key scheme (docs/ipsec-keys.md): one key per pair of PDCs,
 * every node still has one ike.preshared entry per cross-PDC peer; rotation
 * by PDC pair; the switch between schemes; a subset apply that would give a
 * pair different keys at its ends is refused.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { IKE_PRESHARED_PATH } from '../../src/ipsec/generator.js';
import { KeySplitError, keySubsetSplits, refuseKeySplits } from '../../src/ipsec/key-subset.js';
import { generateMissingKeys, parseUnitSelection, rotateKeys, storedPdcKeys } from '../../src/ipsec/keys.js';
import { meshPairs, pairId } from '../../src/ipsec/pairs.js';
import { renderOnlyKeys } from '../../src/ipsec/render-keys.js';
import { validateDoc } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { desiredNode } from '../../src/plan/desired-state.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { decodeState, encodeState } from '../../src/store/cfgdb-layout.js';
import { KEY_ZNODE } from '../../src/store/zk-acl.js';
import { meshDoc, modelOf, presharedKeys, seededRandom } from './helpers.js';

/** Two nodes in prg, two in brn, one in ams: 8 cross-PDC node pairs, 3 PDC pairs. */
const NODES = { 'cn-1': 'prg', 'cn-2': 'prg', 'cn-3': 'brn', 'cn-4': 'brn', 'cn-5': 'ams' };
const IP: Record<string, string> = { 'cn-1': '203.0.113.1', 'cn-2': '203.0.113.2', 'cn-3': '203.0.113.3', 'cn-4': '203.0.113.4', 'cn-5': '203.0.113.5' };

function pdcDoc(extra: Partial<StateDoc> = {}): StateDoc {
  return meshDoc(NODES, { defaults: { ipsec: { keys: 'pdc-pair' } }, ...extra });
}

function preshared(doc: StateDoc, node: string): string {
  const model = modelOf(doc);
  const ctx = new RenderContext(model, { keySecret: Buffer.alloc(32, 7) });
  const file = desiredNode(ctx, model.nodeByName.get(node)!).files.find((f) => f.path === IKE_PRESHARED_PATH)!;
  return fileText(file);
}

describe('defaults.ipsec.keys', () => {
  it('refuses cert, saying it is not built, naming the path', () => {
    const doc = meshDoc(NODES, { defaults: { ipsec: { keys: 'cert' } } });
    const err = (() => {
      try {
        validateDoc(doc, 'test', 'require');
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('cert was accepted');
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues).toContainEqual(expect.objectContaining({ path: 'defaults.ipsec.keys', value: 'cert', message: expect.stringMatching(/not built/) }));
  });

  it('refuses a value no scheme has, naming the path', () => {
    const doc = meshDoc(NODES, { defaults: { ipsec: { keys: 'node' as never } } });
    expect(() => validateDoc(doc, 'test', 'require')).toThrow(/defaults\.ipsec\.keys/);
  });

  it('is pair by default; pdc-pair warns that it is unverified on illumos', () => {
    expect(modelOf(meshDoc(NODES)).defaults.ipsec.keys).toBe('pair');
    const model = modelOf(pdcDoc());
    expect(model.defaults.ipsec.keys).toBe('pdc-pair');
    expect(model.warnings).toContainEqual(expect.objectContaining({ path: 'defaults.ipsec.keys', message: expect.stringMatching(/unverified on illumos/) }));
  });

  it('refuses a PDC pair naming one PDC twice, or the same pair twice, naming the entry', () => {
    const key = 'a'.repeat(256);
    const doc = pdcDoc({ ipsec: { pdc_psk: [{ pdcs: ['prg', 'prg'], key }, { pdcs: ['prg', 'brn'], key }, { pdcs: ['brn', 'prg'], key }] } });
    expect(() => validateDoc(doc, 'test', 'require')).toThrow(/ipsec\.pdc_psk\[0\]\.pdcs[\s\S]*ipsec\.pdc_psk\[2\]\.pdcs/);
  });
});

describe('pdc-pair keys', () => {
  const generated = generateMissingKeys(pdcDoc(), modelOf(pdcDoc()), seededRandom('pdc')).doc;

  it('generate stores one key per PDC pair, none per node pair', () => {
    expect(generated.ipsec?.psk).toBeUndefined();
    expect(generated.ipsec?.pdc_psk?.map((k) => k.pdcs)).toEqual([
      ['ams', 'brn'],
      ['ams', 'prg'],
      ['brn', 'prg'],
    ]);
  });

  it("render: each node's ike.preshared has one entry per cross-PDC peer, with its PDC pair's key", () => {
    const keys = storedPdcKeys(modelOf(generated));
    const pdcKey = (a: string, b: string): string => keys.get(pairId(a < b ? [a, b] : [b, a]))!;
    for (const [node, pdc] of Object.entries(NODES)) {
      const entries = presharedKeys(preshared(generated, node));
      const peers = Object.entries(NODES).filter(([, p]) => p !== pdc);
      expect([...entries.keys()].sort()).toEqual(peers.map(([peer]) => IP[peer]!).sort());
      for (const [peer, peerPdc] of peers) expect(entries.get(IP[peer]!)).toBe(pdcKey(pdc, peerPdc));
    }
    // Both ends of a pair hold the same secret; node pairs of different PDC pairs do not.
    expect(presharedKeys(preshared(generated, 'cn-1')).get(IP['cn-3']!)).toBe(presharedKeys(preshared(generated, 'cn-4')).get(IP['cn-2']!));
    expect(presharedKeys(preshared(generated, 'cn-1')).get(IP['cn-3']!)).not.toBe(presharedKeys(preshared(generated, 'cn-1')).get(IP['cn-5']!));
  });

  it('a render with no stored key gives every node pair of a PDC pair one derived key, and reports PDC pairs', () => {
    const model = modelOf(pdcDoc());
    const ctx = new RenderContext(model, { keySecret: Buffer.alloc(32, 3) });
    const texts = ['cn-1', 'cn-2', 'cn-3'].map((n) => presharedKeys(fileText(desiredNode(ctx, model.nodeByName.get(n)!).files.find((f) => f.path === IKE_PRESHARED_PATH)!)));
    expect(texts[0]!.get(IP['cn-3']!)).toBe(texts[1]!.get(IP['cn-3']!));
    expect(texts[2]!.get(IP['cn-1']!)).toBe(texts[0]!.get(IP['cn-3']!));
    expect(renderOnlyKeys(ctx).map((k) => k.nodes)).toEqual([
      ['ams', 'brn'],
      ['ams', 'prg'],
      ['brn', 'prg'],
    ]);
    expect(ctx.warnings).toContainEqual(expect.objectContaining({ path: 'ipsec.psk', message: expect.stringMatching(/^3 PDC pair\(s\) have no stored key/) }));
  });

  it('rotate --pair brn,prg changes only that PDC pair: those node pairs get a new key, every other entry stays', () => {
    const model = modelOf(generated);
    const selection = parseUnitSelection(model, ['prg,brn']);
    const { doc: next, change } = rotateKeys(generated, model, selection, seededRandom('rot'));
    expect(change.unit).toBe('PDC pair');
    expect(change.rotated).toEqual([['brn', 'prg']]);
    expect(change.added).toEqual([]);
    const before = storedPdcKeys(model);
    const after = storedPdcKeys(modelOf(next));
    expect(after.get(pairId(['brn', 'prg']))).not.toBe(before.get(pairId(['brn', 'prg'])));
    expect(after.get(pairId(['ams', 'prg']))).toBe(before.get(pairId(['ams', 'prg'])));
    expect(after.get(pairId(['ams', 'brn']))).toBe(before.get(pairId(['ams', 'brn'])));
    // On a node: the entries of brn peers changed, the ams entry did not.
    const old1 = presharedKeys(preshared(generated, 'cn-1'));
    const new1 = presharedKeys(preshared(next, 'cn-1'));
    expect(new1.get(IP['cn-3']!)).not.toBe(old1.get(IP['cn-3']!));
    expect(new1.get(IP['cn-4']!)).not.toBe(old1.get(IP['cn-4']!));
    expect(new1.get(IP['cn-5']!)).toBe(old1.get(IP['cn-5']!));
    expect(presharedKeys(preshared(next, 'cn-5'))).toEqual(presharedKeys(preshared(generated, 'cn-5')));
  });

  it('--pair takes PDC names under pdc-pair; node names, one PDC twice or an unknown PDC are refused naming the value', () => {
    const model = modelOf(generated);
    expect(() => parseUnitSelection(model, ['cn-1,cn-3'])).toThrow(/--pair\[0\].*cn-1.*not a PDC/s);
    expect(() => parseUnitSelection(model, ['prg,prg'])).toThrow(/one PDC twice/);
    expect(() => parseUnitSelection(model, ['prg'])).toThrow(/two PDC names/);
    expect(parseUnitSelection(model, ['prg,ams', 'ams,prg'])).toEqual([['ams', 'prg']]);
  });

  it('stores under esdc_overlay/pdc_psk in cfgdb, never under Danube\'s ipsec/psk, and reads back equal', () => {
    const model = modelOf(generated);
    const tree = encodeState(generated, model);
    expect([...tree.keys()].filter((k) => k.startsWith('ipsec/psk/'))).toEqual([]);
    expect([...tree.keys()].filter((k) => k.startsWith('esdc_overlay/pdc_psk/'))).toEqual([
      'esdc_overlay/pdc_psk/ams,brn',
      'esdc_overlay/pdc_psk/ams,prg',
      'esdc_overlay/pdc_psk/brn,prg',
    ]);
    const back = decodeState(tree, (r) => `/x/${r}`, 'test').doc;
    expect(back.ipsec?.pdc_psk).toEqual(generated.ipsec?.pdc_psk);
    expect(back.defaults?.ipsec?.keys).toBe('pdc-pair');
  });

  it('their znodes count as key znodes: made creator-only before a save, warned about on load when world-readable', () => {
    expect(KEY_ZNODE.test('esdc_overlay/pdc_psk/brn,prg')).toBe(true);
    expect(KEY_ZNODE.test('ipsec/psk/cn-1-cn-3')).toBe(true);
    expect(KEY_ZNODE.test('esdc_overlay/defaults')).toBe(false);
  });
});

describe('switching schemes: one two-phase apply', () => {
  const pairDoc = generateMissingKeys(meshDoc(NODES), modelOf(meshDoc(NODES)), seededRandom('pair')).doc;
  const switched = { ...pairDoc, defaults: { ipsec: { keys: 'pdc-pair' as const } } };
  const migrated = generateMissingKeys(switched, modelOf(switched), seededRandom('mig'));

  it('pair -> pdc-pair: the generate that apply runs stores the PDC keys and drops every per-pair key', () => {
    expect(migrated.change.added).toHaveLength(3);
    expect(migrated.change.dropped).toBe(meshPairs(modelOf(pairDoc)).length);
    expect(migrated.doc.ipsec?.psk).toBeUndefined();
    expect(migrated.doc.ipsec?.pdc_psk).toHaveLength(3);
  });

  it('pdc-pair -> pair: per-pair keys come back, PDC keys are dropped', () => {
    const back = { ...migrated.doc, defaults: {} };
    const { doc, change } = generateMissingKeys(back, modelOf(back), seededRandom('back'));
    expect(change.unit).toBe('node pair');
    expect(change.added).toHaveLength(8);
    expect(change.dropped).toBe(3);
    expect(doc.ipsec?.pdc_psk).toBeUndefined();
  });

  // The plan: every node's ike.preshared changes, so a run naming some nodes would cut the pairs to the others.
  const current = (node: string): string => preshared(pairDoc, node);
  const desired = (node: string): string => preshared(migrated.doc, node);
  const model = modelOf(migrated.doc);

  it('changes the key of every cross-PDC entry of every node', () => {
    for (const node of Object.keys(NODES)) {
      const now = presharedKeys(current(node));
      const next = presharedKeys(desired(node));
      expect([...next.keys()].sort()).toEqual([...now.keys()].sort());
      for (const [ip, key] of next) expect(key).not.toBe(now.get(ip));
    }
  });

  it('refuses a subset, naming each pair it would cut and the nodes to add; nothing of the keys is shown', () => {
    const only = new Set(['cn-1']);
    let error: unknown;
    try {
      refuseKeySplits(model, only, current, desired);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeySplitError);
    const e = error as KeySplitError;
    expect(e.splits.map((s) => s.peer)).toEqual(['cn-3', 'cn-4', 'cn-5']);
    expect(e.add).toEqual(['cn-3', 'cn-4', 'cn-5']);
    expect(e.message).toMatch(/cn-1 <-> cn-3: cn-1 would get a new key, cn-3 would keep the old one/);
    for (const key of presharedKeys(desired('cn-1')).values()) expect(e.message).not.toContain(key.slice(0, 32));
  });

  it('passes with no node named, with every peer in the run, or on a node without ike.preshared', () => {
    expect(keySubsetSplits(model, undefined, current, desired)).toEqual([]);
    expect(keySubsetSplits(model, new Set(Object.keys(NODES)), current, desired)).toEqual([]);
    expect(keySubsetSplits(model, new Set(['cn-1']), () => null, desired)).toEqual([]);
    // cn-1 and cn-2 share a PDC: their peers are the others, so both alone still split.
    expect(keySubsetSplits(model, new Set(['cn-1', 'cn-3', 'cn-4', 'cn-5']), current, desired)).toEqual([
      { pair: ['cn-2', 'cn-3'], node: 'cn-3', peer: 'cn-2' },
      { pair: ['cn-2', 'cn-4'], node: 'cn-4', peer: 'cn-2' },
      { pair: ['cn-2', 'cn-5'], node: 'cn-5', peer: 'cn-2' },
    ]);
  });

  it('refuses a subset after a pair-scheme rotation too (the same cut)', () => {
    const m = modelOf(pairDoc);
    const { doc: rotated } = rotateKeys(pairDoc, m, [['cn-1', 'cn-3']], seededRandom('r'));
    const splits = keySubsetSplits(modelOf(rotated), new Set(['cn-1']), current, (n) => preshared(rotated, n));
    expect(splits).toEqual([{ pair: ['cn-1', 'cn-3'], node: 'cn-1', peer: 'cn-3' }]);
  });
});
