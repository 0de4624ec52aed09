import { describe, expect, it } from 'vitest';
import { orderedPair } from '../../src/model/model.js';
import { meshPairs, meshPeers, pairId, pairLabel } from '../../src/ipsec/pairs.js';
import { meshDoc, modelOf } from './helpers.js';

describe('mesh pairs: every unordered pair of nodes whose PDCs differ', () => {
  it('has no pair when every node is in one PDC', () => {
    const model = modelOf(meshDoc({ 'a-1': 'prg', 'a-2': 'prg', b: 'prg' }));
    expect(meshPairs(model)).toEqual([]);
    for (const n of model.nodes) expect(meshPeers(model, n)).toEqual([]);
  });

  it('pairs each node of one PDC with each node of the other, for two PDCs', () => {
    const model = modelOf(meshDoc({ 'cn-1.prg': 'prg', 'cn-2.prg': 'prg', 'cn-3.brn': 'brn' }));
    expect(meshPairs(model)).toEqual([
      ['cn-1.prg', 'cn-3.brn'],
      ['cn-2.prg', 'cn-3.brn'],
    ]);
  });

  it('pairs across all three PDCs and never within one, for three PDCs', () => {
    const model = modelOf(meshDoc({ 'x-a': 'p1', 'x-b': 'p1', 'y-a': 'p2', 'y-b': 'p2', z: 'p3' }));
    const pairs = meshPairs(model);
    // 5 nodes: 10 pairs, minus 2 same-PDC pairs.
    expect(pairs).toHaveLength(8);
    expect(pairs).not.toContainEqual(['x-a', 'x-b']);
    expect(pairs).not.toContainEqual(['y-a', 'y-b']);
    for (const [a, b] of pairs) {
      expect(model.nodeByName.get(a)!.pdc).not.toBe(model.nodeByName.get(b)!.pdc);
      expect(a < b).toBe(true);
    }
    expect(meshPeers(model, model.nodeByName.get('z')!).map((n) => n.name)).toEqual(['x-a', 'x-b', 'y-a', 'y-b']);
  });

  it('keeps hostnames with "-" apart: pair ids cannot collide the way "a-b" strings do', () => {
    // "a-b" + "c" and "a" + "b-c" are both "a-b-c" in Danube's naming.
    const model = modelOf(meshDoc({ 'a-b': 'p1', c: 'p2', a: 'p3', 'b-c': 'p4' }));
    const ids = meshPairs(model).map(pairId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(pairId(['a-b', 'c']));
    expect(ids).toContain(pairId(['a', 'b-c']));
    expect(pairId(['a-b', 'c'])).not.toBe(pairId(['a', 'b-c']));
    expect(pairLabel(['a-b', 'c'])).toBe('a-b <-> c');
  });

  it('orders a pair by code point, not by locale', () => {
    expect(orderedPair('b', 'B')).toEqual(['B', 'b']);
    expect(orderedPair('cn10', 'cn9')).toEqual(['cn10', 'cn9']);
  });
});
