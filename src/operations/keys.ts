/**
 * `keys generate | list | rotate` (docs/architecture.md#operations,
 * docs/ipsec-keys.md): the IPsec pre-shared keys of the mesh. Keys are
 * handed back by fingerprint only (src/ipsec/psk.ts); the edits are one
 * store transaction each (src/operations/state-edits.ts).
 */
import { generateMissingKeys, keyUnit, keyUnits, parseUnitSelection, rotateKeys, storedUnitKeys, type KeyChange } from '../ipsec/keys.js';
import { pairId, type Pair } from '../ipsec/pairs.js';
import { pskFingerprint } from '../ipsec/psk.js';
import type { ValidationIssue } from '../errors.js';
import type { KeyScheme } from '../model/model.js';
import type { OperationContext } from './context.js';
import { editKeys } from './state-edits.js';
import type { TransactOptions } from './transact.js';
import { loadState } from './warnings.js';

/** What a key edit did, and the state after it. */
export interface KeysEdited {
  change: KeyChange;
  saved: boolean;
  warnings: ValidationIssue[];
  /** defaults.ipsec.keys of the state after. */
  scheme: KeyScheme;
}

/** `keys generate`: a key for every pair that has none, keys of pairs that are gone dropped; `total`: the pairs of the mesh after. */
export async function generateKeys(ctx: OperationContext): Promise<KeysEdited & { total: number }> {
  const { result: change, snapshot, saved, warnings } = await editKeys(ctx.store(), (snap) => generateMissingKeys(snap.doc, snap.model));
  return { change, saved, warnings, scheme: snapshot.model.defaults.ipsec.keys, total: keyUnits(snapshot.model).length };
}

/** One pair of the mesh (nodes, or PDCs under pdc-pair) and its key's fingerprint. */
export interface KeyRow {
  nodes: Pair;
  fingerprint: string | null;
  status: 'missing' | 'stored';
}

/** `keys list`: the pairs of the mesh with their keys, and stored keys of pairs no longer in it. */
export async function listKeys(ctx: OperationContext): Promise<{ scheme: KeyScheme; pdc: boolean; rows: KeyRow[]; stale: Array<{ nodes: Pair; fingerprint: string }> }> {
  const snap = await loadState(ctx.store(), 'warn', (w) => ctx.warn(w));
  const pdc = keyUnit(snap.model) === 'PDC pair';
  const stored = storedUnitKeys(snap.model);
  const rows = keyUnits(snap.model).map((p): KeyRow => {
    const key = stored.get(pairId(p));
    return { nodes: p, fingerprint: key === undefined ? null : pskFingerprint(key), status: key === undefined ? 'missing' : 'stored' };
  });
  const live = new Set(rows.map((r) => pairId(r.nodes)));
  const entries = pdc ? snap.model.pdcKeys.map((k) => ({ nodes: k.pdcs, key: k.key })) : snap.model.pairKeys;
  const stale = entries.filter((k) => !live.has(pairId(k.nodes))).map((k) => ({ nodes: k.nodes, fingerprint: pskFingerprint(k.key) }));
  return { scheme: snap.model.defaults.ipsec.keys, pdc, rows, stale };
}

/** A rotated or added pair with the fingerprints of its key before and after. */
export interface RotatedKey {
  nodes: string[];
  old: string | null;
  new: string | null;
}

/** The pairs a rotation gives a new key: those rotated and those that had none. */
export function affectedPairs(change: KeyChange): Pair[] {
  return [...change.rotated, ...change.added];
}

/** `keys rotate`: new keys for `selection` ('all', or `--pair a,b` values), shown and asked for by `ask`. */
export async function rotateKeysInStore(
  ctx: OperationContext,
  selection: 'all' | string[],
  ask: Pick<TransactOptions<KeyChange, undefined>, 'preview' | 'confirm'>,
): Promise<KeysEdited & { rotated: RotatedKey[]; added: RotatedKey[] }> {
  const before = new Map<string, string>();
  const { result: change, snapshot, saved, warnings } = await editKeys(
    ctx.store(),
    (snap) => {
      const units = selection === 'all' ? 'all' : parseUnitSelection(snap.model, selection);
      for (const [id, key] of storedUnitKeys(snap.model)) before.set(id, pskFingerprint(key));
      return rotateKeys(snap.doc, snap.model, units);
    },
    ask,
  );
  const after = storedUnitKeys(snapshot.model);
  const fp = (p: Pair): RotatedKey => ({
    nodes: [p[0], p[1]],
    old: before.get(pairId(p)) ?? null,
    new: after.has(pairId(p)) ? pskFingerprint(after.get(pairId(p))!) : null,
  });
  return { change, saved, warnings, scheme: snapshot.model.defaults.ipsec.keys, rotated: change.rotated.map(fp), added: change.added.map(fp) };
}
