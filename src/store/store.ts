/**
 * Where the state lives. The file store is the default; the ZooKeeper store
 * (Danube's cfgdb layout) implements the same interface.
 */
import type { ConflictError } from '../errors.js';
import { buildModel } from '../model/build-model.js';
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
  /** Like `load`, but a store that holds nothing yet gives the empty state (for `store migrate`). */
  loadOrEmpty(consistency?: Consistency): Promise<Snapshot>;
  /**
   * Validates `doc` in full and writes it, all or nothing, if the stored
   * revision is still `base.revision`; else throws ConflictError (code
   * StateChanged). `consistency` 'warn' lets `store migrate` copy a state
   * as inconsistent as its source; commands keep the default.
   */
  save(doc: StateDoc, base: Snapshot, consistency?: Consistency): Promise<Snapshot>;
  /**
   * Does the pure part of a later `save(doc, ...)` of this very document
   * (validation, encoding) now, before the lock is taken: a store whose lock
   * lives in a session (ZooKeeper) cannot keep it alive through many seconds
   * of synchronous work. Optional; `save` does it itself otherwise.
   */
  prepare?(doc: StateDoc, consistency?: Consistency, base?: Snapshot): Promise<LoadedState>;
  /** Told when `transact` (src/operations/transact.ts) re-runs a change because another writer got in first (the CLI prints it). */
  onConflict?: ((err: ConflictError, attempt: number) => void) | undefined;
  /**
   * Runs `fn` holding the store's write lock, so concurrent commands never
   * interleave. A lock that can be lost while the process lives (ZooKeeper's
   * vanishes with its session) hands `fn` a HeldLock to check before each
   * step that must not run beside another holder; the file lock passes none.
   */
  withLock<T>(fn: (lock?: HeldLock) => Promise<T>): Promise<T>;
  /**
   * Waits until this process is the one holder of `role` among every process
   * using this store (the daemon: docs/daemon.md#one-daemon), then returns
   * its lease; undefined when `opts.signal` aborted the wait first.
   */
  lead(role: LeaseRole, opts: LeadOptions): Promise<Lease | undefined>;
}

/** What a lease is held for: one daemon per installation. */
export type LeaseRole = 'daemon';

export interface LeadOptions {
  /** Told who holds the role, each time that changes while we wait (a process and its host, or a description). */
  onWait: (holder: string) => void;
  /** Ends the wait (the process was told to stop). */
  signal: AbortSignal;
}

/**
 * Being the one holder of a role. Held until released or lost: a ZooKeeper
 * lease vanishes with its session, a file lease when its file is removed or
 * replaced.
 */
export interface Lease {
  /** Resolves when the lease is still ours; rejects (StoreError LeaseLost or StoreUnavailable) when it is not, or cannot be told. */
  assertHeld(): Promise<void>;
  /** Settles with the reason once the lease is known to be lost; never rejects, and never settles after `release`. */
  readonly lost: Promise<string>;
  /** Gives the lease up; a second call does nothing. */
  release(): Promise<void>;
}

/** A lock being held, as long work sees it. */
export interface HeldLock {
  /** Resolves when the lock is still ours; rejects (StoreError LockLost or StoreUnavailable) when it is not, or cannot be told. */
  assertHeld(): Promise<void>;
}

/** The state of a store that holds nothing yet. */
export function emptySnapshot(revision: string): Snapshot {
  const doc: StateDoc = { version: 1 };
  return { doc, model: buildModel(doc), yaml: undefined, warnings: [], revision };
}

/** True when a document holds nothing but its version. */
export function isEmptyDoc(doc: StateDoc): boolean {
  return Object.keys(doc).every((k) => k === 'version');
}
