/**
 * `store migrate --from A --to B` (docs/architecture.md#operations): copies
 * the state between stores (state files and zk:// cfgdb trees) in one store
 * transaction on B, then loads B back and compares the models, so a
 * migration that lost anything says so.
 */
import { StoreError } from '../errors.js';
import type { Model } from '../model/model.js';
import { modelDifferences } from '../store/compare.js';
import { isEmptyDoc, type Snapshot, type Store } from '../store/store.js';
import { redact } from '../store/zk-url.js';
import type { OperationContext } from './context.js';
import { transact } from './transact.js';

export interface Migration {
  /** The state copied, as loaded from the source. */
  source: Snapshot;
  /** Whether B held a state that was replaced. */
  replaced: boolean;
}

/**
 * Copies `from` to `to`. `replacing` is asked (shown what is replaced, then
 * confirms or throws) only when `to` holds a state; nothing is written when
 * it refuses.
 */
export async function migrateStore(
  ctx: Pick<OperationContext, 'warn'>,
  from: Store,
  to: Store,
  replacing: (target: Model, source: Model) => Promise<void>,
): Promise<Migration> {
  if (from.location === to.location) throw new StoreError(`--from and --to are the same store (${redact(from.location)})`, { code: 'SameStore' });
  // A cfgdb tree may name nodes not yet discovered: copy it as it is, with the problems as warnings.
  const source = await from.load('warn');
  ctx.warn(source.warnings);
  // Validation and encoding of a large state take seconds of CPU: done before the lock, whose
  // ZooKeeper session would otherwise go without pings and expire (bench/RESULTS.md, 2,000 nodes).
  await to.prepare?.(source.doc, 'warn');
  const { result: replaced } = await transact(
    to,
    (target) => ({ doc: source.doc, result: !isEmptyDoc(target.doc) }),
    {
      orEmpty: true,
      consistency: 'warn',
      saveConsistency: 'warn',
      // As before transact: a writer that got in first is reported, not written over.
      attempts: 1,
      confirm: async ({ result }, target) => {
        if (result) await replacing(target.model, source.model);
      },
    },
  );
  // The write is done; if the store drops now, say so, or an operator would take it for a failed copy.
  const copy = await to.load('warn').catch((err: unknown) => {
    if (!(err instanceof StoreError)) throw err;
    throw new StoreError(`wrote the state to ${redact(to.location)} but could not read it back to verify it: ${err.message}`, {
      code: err.code,
      cause: err,
    });
  });
  const differences = modelDifferences(source.model, copy.model);
  if (differences.length > 0) {
    throw new StoreError(`the copy in ${to.location} differs from ${from.location} in: ${differences.join(', ')}`, { code: 'MigrationMismatch' });
  }
  return { source, replaced };
}
