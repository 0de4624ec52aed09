/**
 * The one store transaction every state change goes through
 * (docs/architecture.md#operations): under the store's write lock, load,
 * compute the change, show it, ask, do what must succeed before the save
 * (`nodes remove --wipe`: wipe the node), save, and (apply) do the work the
 * saved state stands for, all before the lock is let go.
 */
import { ConflictError, type ValidationIssue } from '../errors.js';
import type { Consistency } from '../model/load.js';
import type { Mutation } from '../model/state.js';
import type { HeldLock, Snapshot, Store } from '../store/store.js';
import { modelWarnings } from './warnings.js';

export type { Mutation };

export interface TransactOptions<T, R> {
  /**
   * Shows what the change would do before anything is asked or written
   * (firewall rules, key pairs, apply's plan). Called for every change
   * computed, one that writes nothing included: the callback decides.
   */
  preview?: (change: Mutation<T>, base: Snapshot) => void | Promise<void>;
  /** Asks before anything is written; throws (NotConfirmed) to refuse, and nothing is. Called like `preview`. */
  confirm?: (change: Mutation<T>, base: Snapshot) => void | Promise<void>;
  /**
   * Work that must succeed before the change is saved, under the same lock,
   * once it is confirmed (`nodes remove --wipe`: the node leaves the state
   * only once it is wiped). Throws to refuse, and nothing is written. Called
   * like `preview`, for every change computed: the callback decides (a dry
   * run does nothing). Gets the state the change was computed on and the
   * lock to check before each step that must not run beside another holder.
   * A change with such work takes `attempts: 1`: a re-run on a newer state
   * would do it a second time.
   */
  before?: (result: T, base: Snapshot, lock: HeldLock | undefined) => Promise<void>;
  /**
   * Work that must run under the same lock once the change is saved (apply:
   * stage and commit on the nodes). Gets the saved snapshot and the lock to
   * check before each step that must not run beside another holder.
   */
  execute?: (result: T, snapshot: Snapshot, lock: HeldLock | undefined) => Promise<R>;
  /** How the state is loaded: 'warn' (default) lets a command repair an inconsistent state; apply requires a consistent one. */
  consistency?: Consistency;
  /** How the new document is checked when saved (default: the store's, a consistent state); 'warn' for store migrate, which copies a state as it is. */
  saveConsistency?: Consistency;
  /** Load with `loadOrEmpty`: a store that holds no state yet is an empty document, not an error (init). */
  orEmpty?: boolean;
  /**
   * How often the change runs on a fresh state when another writer got in
   * first (default 3). 1 for a change whose confirmation covered work that a
   * re-run could not show again (apply).
   */
  attempts?: number;
  /** Told about each such conflict before the retry (default: the store's onConflict). */
  onConflict?: (err: ConflictError, attempt: number) => void;
}

export interface Transacted<T, R> {
  result: T;
  /** The state after the change (the loaded one when nothing was written). */
  snapshot: Snapshot;
  saved: boolean;
  /** The model's warnings of `snapshot`, computed once (src/operations/warnings.ts): the caller shows them. */
  warnings: ValidationIssue[];
  /** What `execute` returned. */
  executed: R | undefined;
}

/**
 * Load, change, preview, confirm, before, save, execute, under the store's lock.
 * `change` is pure apart from what it reads: it gets the snapshot (and the
 * lock) and returns the new document, or throws and nothing is written. When
 * the state changed between load and save (a writer that takes no lock,
 * e.g. Danube's own tool on cfgdb), the change runs again on the new state,
 * as if the command had started later.
 */
export async function transact<T, R = undefined>(
  store: Store,
  change: (base: Snapshot, lock: HeldLock | undefined) => Mutation<T> | Promise<Mutation<T>>,
  opts: TransactOptions<T, R> = {},
): Promise<Transacted<T, R>> {
  const attempts = opts.attempts ?? 3;
  return store.withLock(async (lock) => {
    for (let attempt = 1; ; attempt++) {
      const base = opts.orEmpty ? await store.loadOrEmpty(opts.consistency ?? 'warn') : await store.load(opts.consistency ?? 'warn');
      const computed = await change(base, lock);
      await opts.preview?.(computed, base);
      await opts.confirm?.(computed, base);
      await opts.before?.(computed.result, base, lock);
      let snapshot = base;
      // An edit that changes nothing returns the document it was given: no write, no new mtime.
      if (computed.doc !== base.doc) {
        try {
          snapshot = await store.save(computed.doc, base, opts.saveConsistency);
        } catch (err) {
          if (!(err instanceof ConflictError) || err.code !== 'StateChanged' || attempt >= attempts) throw err;
          (opts.onConflict ?? store.onConflict)?.(err, attempt);
          continue;
        }
      }
      const executed = opts.execute ? await opts.execute(computed.result, snapshot, lock) : undefined;
      let warnings: ValidationIssue[] | undefined;
      return {
        result: computed.result,
        snapshot,
        saved: snapshot !== base,
        // Asked for by commands, not by the daemon's batches: computed on first use, once.
        get warnings() {
          return (warnings ??= modelWarnings(snapshot));
        },
        executed,
      };
    }
  });
}
