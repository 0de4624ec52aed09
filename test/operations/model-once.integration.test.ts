/**
 * apply builds the model once per state document (issue 17 item 3): once
 * for an apply that changes nothing in the state, and once more when it
 * brings keys for pairs without one (the store then writes the text it
 * prepared with that model, without loading it again). Counted by wrapping
 * buildModel, through which every load, validation and save goes.
 */
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ValidationIssue } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { applyNodes, type ApplyOutcome } from '../../src/operations/apply.js';
import type { OperationContext } from '../../src/operations/context.js';
import { transact } from '../../src/operations/transact.js';
import { FileStore } from '../../src/store/file-store.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';

const built = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/model/build-model.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/model/build-model.js')>();
  return {
    ...real,
    buildModel: (...args: Parameters<typeof real.buildModel>) => {
      built.count++;
      return real.buildModel(...args);
    },
  };
});

function contextOf(c: SimCluster): OperationContext & { warnings: ValidationIssue[] } {
  const warnings: ValidationIssue[] = [];
  return {
    store: () => new FileStore(c.statePath),
    env: c.env,
    log: createLogger({ level: 'error', stream: new PassThrough(), format: 'json' }),
    warn: (issues) => warnings.push(...issues),
    progress: () => undefined,
    warnings,
  };
}

async function apply(c: SimCluster): Promise<{ out: ApplyOutcome; models: number }> {
  built.count = 0;
  const out = await applyNodes(contextOf(c), { nodes: [], remote: {} }, { preview: () => undefined, confirm: async () => undefined, skipped: () => undefined });
  return { out, models: built.count };
}

describe('the model, built once per state document in an apply (3 simulated nodes)', () => {
  let c: SimCluster;
  useSimCluster({ count: 3 }, (started) => (c = started));

  beforeAll(async () => {
    // A state without its pair keys: the first apply brings them.
    await transact(new FileStore(c.statePath), (snap) => {
      const { ipsec: _keys, ...doc } = snap.doc;
      return { doc, result: undefined };
    });
  });

  it('an apply that stores new keys builds two: the loaded state and the state with the keys', async () => {
    const { out, models } = await apply(c);
    expect(out.keys?.added.length).toBeGreaterThan(0);
    expect(out.result.ok).toBe(true);
    expect(out.empty).toBe(false);
    expect(models).toBe(2);
    expect((await new FileStore(c.statePath).load()).model.pairKeys.length).toBe(out.keys!.added.length);
  });

  it('an apply with nothing to store builds one', async () => {
    const { out, models } = await apply(c);
    expect(out.keys).toBeUndefined();
    expect(out.empty).toBe(true);
    expect(models).toBe(1);
  });
});
