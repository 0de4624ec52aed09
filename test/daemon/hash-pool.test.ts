/**
 * The daemon's table hashes taken in another thread (src/daemon/hash-pool.ts,
 * docs/arp-deltas.md#hashing-off-the-event-loop) are the hashes taken on the
 * event loop and of the rendered text, for every node's table; the worker is
 * really used; bytes not in shared memory, a closed pool and a worker that
 * ends under its requests still give the right hash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tableSha256, tableSha256Async } from '../../src/daemon/delta.js';
import { HashPool } from '../../src/daemon/hash-pool.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import { validateDoc } from '../../src/model/load.js';
import { sha256Hex } from '../../src/sha256.js';
import { simFacts, simState } from '../harness/sim-cluster.js';

const facts = [0, 1, 2, 3].map((i) => simFacts(i, 4));
const model = validateDoc(structuredClone(simState(facts, facts.map((_, i) => ({ port: 2200 + i, user: 'root' })))), 'test', 'warn').model;
const pools: HashPool[] = [];
const pool = (size: number): HashPool => {
  const p = new HashPool(size);
  pools.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('table hashes off the event loop', () => {
  it('every node\'s table of every rule: the same SHA-256 as on the event loop and as the rendered text, taken by the worker', async () => {
    const ctx = new RenderContext(model);
    const p = pool(2);
    let count = 0;
    for (const rule of model.rules) {
      for (const name of rule.nodes) {
        const node = model.nodeByName.get(name)!;
        const want = sha256Hex(fileText(arpTableFile(ctx, rule, node)));
        expect(tableSha256(ctx, rule, node), `${rule.name} on ${name}`).toBe(want);
        expect(await tableSha256Async(ctx, rule, node, p), `${rule.name} on ${name}`).toBe(want);
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(8);
    expect(p.offThread).toBe(count);
  });

  it('many at once over two workers: each request gets its own table\'s hash', async () => {
    const ctx = new RenderContext(model);
    const p = pool(2);
    const jobs = model.rules.flatMap((rule) => rule.nodes.map((name) => ({ rule, node: model.nodeByName.get(name)! })));
    const many = Array.from({ length: 10 }, () => jobs).flat();
    const got = await Promise.all(many.map((j) => tableSha256Async(ctx, j.rule, j.node, p)));
    expect(got).toEqual(many.map((j) => tableSha256(ctx, j.rule, j.node)));
    expect(new Set(got).size).toBeGreaterThan(1);
  });

  it('slices in shared memory and small copies, in order; bytes not in shared memory beyond the limit are hashed here', async () => {
    const p = pool(1);
    const shared = Buffer.from(new SharedArrayBuffer(300_000)).fill(7);
    shared.write('middle', 150_000);
    const parts = [Buffer.from('{\n'), shared.subarray(10, 200_000), Buffer.from('x'), shared.subarray(200_000), Buffer.from('\n}\n')];
    expect(await p.sha256(parts)).toBe(sha256Hex(Buffer.concat(parts)));
    expect(p.offThread).toBe(1);
    const big = [Buffer.alloc(100_000, 1), Buffer.alloc(10, 2)];
    expect(await p.sha256(big)).toBe(sha256Hex(Buffer.concat(big)));
    expect(p.offThread).toBe(1);
  });

  it('a closed pool, and a worker ended under its requests: the hashes are taken here, right', async () => {
    const text = Buffer.from(new SharedArrayBuffer(1_000_000)).fill(65);
    const parts = [text.subarray(0, 400_000), text.subarray(500_000)];
    const want = sha256Hex(Buffer.concat(parts));
    const p = pool(1);
    const inFlight = Array.from({ length: 20 }, () => p.sha256(parts));
    await p.close();
    expect(await Promise.all(inFlight)).toEqual(Array.from({ length: 20 }, () => want));
    expect(await p.sha256(parts)).toBe(want);
  });
});
