/**
 * Where the state lives. The file store is the default; the ZooKeeper store
 * (Danube's cfgdb layout) implements the same interface.
 */
import type { Consistency, LoadedState } from '../model/load.js';
import type { StateDoc } from '../model/state.js';

/** A loaded state and the revision it was read at (for optimistic concurrency). */
export interface Snapshot extends LoadedState {
  /** Opaque token; `save` refuses when the stored state no longer has it. */
  revision: string;
}

export interface Store {
  /** For messages: the path or URL of the store. */
  readonly location: string;
  load(consistency?: Consistency): Promise<Snapshot>;
  /**
   * Validates `doc` in full and writes it, all or nothing, if the stored
   * revision is still `base.revision`; else throws ConflictError.
   */
  save(doc: StateDoc, base: Snapshot): Promise<Snapshot>;
  /** Runs `fn` holding the store's write lock, so concurrent commands never interleave. */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

/** What a mutating command computes from the current state. */
export interface Mutation<T> {
  doc: StateDoc;
  result: T;
}

/**
 * Load, change, validate, save under the lock. `change` is pure: it gets the
 * snapshot and returns the new document (or throws, and nothing is written).
 */
export async function mutate<T>(
  store: Store,
  change: (snap: Snapshot) => Mutation<T> | Promise<Mutation<T>>,
): Promise<{ result: T; snapshot: Snapshot }> {
  return store.withLock(async () => {
    // A state that is inconsistent may still be repaired by a command; what is saved must be consistent.
    const base = await store.load('warn');
    const { doc, result } = await change(base);
    // An edit that changes nothing returns the document it was given: no write, no new mtime.
    const snapshot = doc === base.doc ? base : await store.save(doc, base);
    return { result, snapshot };
  });
}
