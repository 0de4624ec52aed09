/**
 * The model's warnings, the same for every command that loads a state:
 * what the load found (older rule names, nodes without an adminoverlay
 * address...), VM NICs outside their vDC's allowance, and rules above
 * their safe MTU. `validate`, `list`, `render`, `plan`... all show this one
 * list, so no command says "no warnings" while another warns.
 */
import type { ValidationIssue } from '../errors.js';
import type { Consistency } from '../model/load.js';
import type { Model } from '../model/model.js';
import type { Snapshot, Store } from '../store/store.js';
import { mtuWarnings } from '../mtu/mtu-warnings.js';
import { vdcWarnings } from '../ranges/vdc.js';

/** Load warnings plus vDC and MTU warnings, each once, in that order. */
export function modelWarnings(loaded: { model: Model; warnings: readonly ValidationIssue[] }): ValidationIssue[] {
  // An inconsistent model (loaded with "warn") has no sound rules or NICs to check further.
  const derived = loaded.model.issues.length === 0 ? [...vdcWarnings(loaded.model), ...mtuWarnings(loaded.model)] : [];
  return uniqueIssues([...loaded.warnings, ...derived]);
}

/** Issues without repeats (the same path and message), first occurrence kept. */
export function uniqueIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A loaded state with its model's warnings, computed once. */
export interface LoadedSnapshot extends Snapshot {
  modelWarnings: ValidationIssue[];
}

/** Loads the state and hands its model's warnings to `warn` (every command shows the same list). */
export async function loadState(store: Store, consistency: Consistency, warn: (issues: readonly ValidationIssue[]) => void): Promise<LoadedSnapshot> {
  const snap = await store.load(consistency);
  const loaded = Object.assign(snap, { modelWarnings: modelWarnings(snap) });
  warn(loaded.modelWarnings);
  return loaded;
}
