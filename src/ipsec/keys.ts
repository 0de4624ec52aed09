/**
 * Pure edits of the stored keys (`ipsec.psk` under the `pair` scheme,
 * `ipsec.pdc_psk` under `pdc-pair`; docs/ipsec-keys.md): fill in missing
 * keys, rotate keys, record keys that a render made up, and drop keys of
 * units that no longer exist. Every edit returns a new document that holds
 * exactly one key per unit of the scheme in effect that has one, in unit
 * order, and no key of the other scheme; the document given is never touched.
 *
 * There is one key per pair, not one per end: both ends of a pair read the
 * same entry, so no state can hold different keys for the two ends. A
 * rotation replaces the entry; the apply that follows writes it to both
 * ends in one commit phase (see rotateKeys).
 */
import { ConflictError, ValidationError, type ValidationIssue } from '../errors.js';
import { orderedPair, type Model } from '../model/model.js';
import { HOSTNAME, PDC_NAME, matches } from '../syntax/patterns.js';
import type { PdcPskDoc, PskDoc, StateDoc } from '../model/state.js';
import { meshPairs, pairId, type Pair } from './pairs.js';
import { pdcPairs } from './pdc-pairs.js';
import { newPsk, systemRandom, type RandomBytes } from './psk.js';
import { didYouMean } from '../model/suggest.js';

/**
 * What a key is for under the scheme in effect (docs/ipsec-keys.md): a pair
 * of nodes (`pair`) or a pair of PDCs (`pdc-pair`). Edits work on units, so
 * generate, rotate and list read the same for both schemes.
 */
export type KeyUnit = 'node pair' | 'PDC pair';

/** What an edit did, by unit of the scheme in effect; never the keys themselves. */
export interface KeyChange {
  /** What `added`, `rotated` and `pruned` name: node pairs or PDC pairs. */
  unit: KeyUnit;
  /** Units that had no key and got one. */
  added: Pair[];
  /** Units whose key was replaced. */
  rotated: Pair[];
  /** Stored units that no longer exist (node or PDC gone, same PDC, named twice). */
  pruned: Pair[];
  /**
   * Keys of the scheme not in effect that the edit dropped (the per-pair keys
   * after a switch to `pdc-pair`, or the reverse): a count, as there can be
   * hundreds of thousands.
   */
  dropped: number;
}

export interface KeyEdit {
  doc: StateDoc;
  change: KeyChange;
}

/** Which unit the model's scheme keys by. */
export function keyUnit(model: Model): KeyUnit {
  return model.defaults.ipsec.keys === 'pdc-pair' ? 'PDC pair' : 'node pair';
}

/** The units that need a key under the model's scheme: mesh pairs, or PDC pairs. */
export function keyUnits(model: Model): Pair[] {
  return model.defaults.ipsec.keys === 'pdc-pair' ? pdcPairs(model) : meshPairs(model);
}

/** The first stored key of each of `units`, by pair id; stored keys of other pairs are left out. */
function storedKeysOf(units: readonly Pair[], stored: Iterable<{ ends: Pair; key: string }>): Map<string, string> {
  const wanted = new Set(units.map(pairId));
  const out = new Map<string, string>();
  for (const k of stored) {
    const id = pairId(k.ends);
    if (wanted.has(id) && !out.has(id)) out.set(id, k.key);
  }
  return out;
}

/** The stored keys of the mesh pairs, by pair id; keys of other pairs are left out. */
export function storedMeshKeys(model: Model): Map<string, string> {
  return storedKeysOf(meshPairs(model), model.pairKeys.map((k) => ({ ends: k.nodes, key: k.key })));
}

/** The stored keys of the PDC pairs with nodes, by pair id. */
export function storedPdcKeys(model: Model): Map<string, string> {
  return storedKeysOf(pdcPairs(model), model.pdcKeys.map((k) => ({ ends: k.pdcs, key: k.key })));
}

/** The stored keys of the units of the model's scheme, by unit id (`pairId`). */
export function storedUnitKeys(model: Model): Map<string, string> {
  return model.defaults.ipsec.keys === 'pdc-pair' ? storedPdcKeys(model) : storedMeshKeys(model);
}

/** Stored entries of the scheme in effect that a rewrite drops. */
function staleUnits(doc: StateDoc, model: Model): Pair[] {
  const live = new Set(keyUnits(model).map(pairId));
  const entries: Array<readonly [string, string]> =
    model.defaults.ipsec.keys === 'pdc-pair' ? (doc.ipsec?.pdc_psk ?? []).map((d) => d.pdcs) : (doc.ipsec?.psk ?? []).map((d) => d.nodes);
  const seen = new Set<string>();
  const stale: Pair[] = [];
  for (const [a, b] of entries) {
    const pair = orderedPair(a, b);
    const id = pairId(pair);
    if (!live.has(id) || seen.has(id)) stale.push(pair);
    seen.add(id);
  }
  return stale;
}

/** How many keys of the other scheme a rewrite drops. */
function otherSchemeKeys(doc: StateDoc, model: Model): number {
  return model.defaults.ipsec.keys === 'pdc-pair' ? (doc.ipsec?.psk?.length ?? 0) : (doc.ipsec?.pdc_psk?.length ?? 0);
}

/**
 * A document whose keys are `keys` (units of the scheme in effect only), in
 * unit order. Keys of the other scheme are dropped: they are never used
 * again, and under `pdc-pair` the per-pair keys of a large mesh are what
 * would not fit in the state.
 */
function withKeys(doc: StateDoc, model: Model, keys: ReadonlyMap<string, string>): StateDoc {
  const pdc = model.defaults.ipsec.keys === 'pdc-pair';
  const list: Array<{ unit: Pair; key: string }> = [];
  for (const unit of keyUnits(model)) {
    const key = keys.get(pairId(unit));
    if (key !== undefined) list.push({ unit, key });
  }
  const next: StateDoc = { ...doc };
  const { psk: _psk, pdc_psk: _pdcPsk, ...restIpsec } = doc.ipsec ?? {};
  const ipsec: NonNullable<StateDoc['ipsec']> = { ...restIpsec };
  if (list.length > 0) {
    if (pdc) ipsec.pdc_psk = list.map(({ unit, key }): PdcPskDoc => ({ pdcs: [unit[0], unit[1]], key }));
    else ipsec.psk = list.map(({ unit, key }): PskDoc => ({ nodes: [unit[0], unit[1]], key }));
  }
  if (Object.keys(ipsec).length > 0) next.ipsec = ipsec;
  else delete next.ipsec;
  return next;
}

function changeOf(doc: StateDoc, model: Model, added: Pair[], rotated: Pair[]): KeyChange {
  return { unit: keyUnit(model), added, rotated, pruned: staleUnits(doc, model), dropped: otherSchemeKeys(doc, model) };
}

/**
 * `keys generate`: a key for every unit of the scheme that has none; stale
 * keys, and keys of the other scheme, dropped. Existing keys stay.
 */
export function generateMissingKeys(doc: StateDoc, model: Model, random: RandomBytes = systemRandom): KeyEdit {
  const keys = storedUnitKeys(model);
  const added: Pair[] = [];
  for (const unit of keyUnits(model)) {
    const id = pairId(unit);
    if (keys.has(id)) continue;
    keys.set(id, newPsk(random));
    added.push(unit);
  }
  return { doc: withKeys(doc, model, keys), change: changeOf(doc, model, added, []) };
}

/**
 * `keys rotate`: a new key for each selected unit (every unit for `all`),
 * and for every other unit that has none; stale keys dropped. Under
 * `pdc-pair` a unit is a PDC pair: its one key changes for every node pair
 * between the two PDCs, and no other key changes.
 *
 * Why there is no window where the two ends disagree in the state: the
 * entry is per pair, so the old key is replaced for both ends at once. On
 * the nodes, illumos in.iked keeps one pre-shared key per (local IP,
 * remote IP) and uses it only to authenticate a new IKE phase 1; phase-1
 * SAs already up (p1_lifetime_secs) and the ESP SAs they rekey keep
 * running when the new key is loaded. The apply stages ike.preshared on
 * every node before it commits any, then renames and refreshes on both
 * ends in the same commit phase, so the ends disagree only for the few
 * seconds between two commits, and only a phase 1 negotiated in exactly
 * that gap fails (in.iked tries again on the next packet). Two keys per
 * pair for a grace period would need in.iked to try a second key for one
 * peer, which it does not.
 */
export function rotateKeys(
  doc: StateDoc,
  model: Model,
  selection: 'all' | readonly Pair[],
  random: RandomBytes = systemRandom,
): KeyEdit {
  const keys = storedUnitKeys(model);
  const units = keyUnits(model);
  const chosen = new Set(selection === 'all' ? units.map(pairId) : selection.map(pairId));
  const added: Pair[] = [];
  const rotated: Pair[] = [];
  for (const unit of units) {
    const id = pairId(unit);
    const had = keys.get(id);
    // Only the pairs asked for: a pair with no key yet is keys generate's (or apply's) business, not a rotation of A-B.
    if (!chosen.has(id)) continue;
    let key = newPsk(random);
    // A repeat from a broken random source must not pass for a rotation.
    if (key === had) key = newPsk(random);
    if (key === had) throw new ConflictError('the random source returned the same key twice; no key was changed');
    keys.set(id, key);
    (had === undefined ? added : rotated).push(unit);
  }
  return { doc: withKeys(doc, model, keys), change: changeOf(doc, model, added, rotated) };
}

/**
 * Parses `--pair` values into units of the model's scheme: two node names
 * (`pair`) or two PDC names (`pdc-pair`).
 */
export function parseUnitSelection(model: Model, values: readonly string[]): Pair[] {
  return model.defaults.ipsec.keys === 'pdc-pair' ? parsePdcPairSelection(model, values) : parsePairSelection(model, values);
}

/** Parses `--pair pdcA,pdcB` values into PDC pairs that have nodes; all problems at once, naming the value. */
export function parsePdcPairSelection(model: Model, values: readonly string[]): Pair[] {
  const issues: ValidationIssue[] = [];
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  const known = new Set(model.pdcs);
  values.forEach((value, i) => {
    const path = `--pair[${i}]`;
    const names = value.split(',').map((s) => s.trim());
    if (names.length !== 2 || names.some((n) => n === '')) {
      issues.push({ path, value, message: 'must be two PDC names separated by a comma (defaults.ipsec.keys is pdc-pair)' });
      return;
    }
    let ok = true;
    for (const n of names) {
      if (!matches(PDC_NAME, n)) {
        issues.push({ path, value: n, message: 'is not a valid PDC name' });
        ok = false;
      } else if (!known.has(n)) {
        issues.push({ path, value: n, message: `is not a PDC that any node is in${didYouMean(n, model.pdcs)}` });
        ok = false;
      }
    }
    if (!ok) return;
    if (names[0] === names[1]) {
      issues.push({ path, value, message: 'names one PDC twice; nodes of one PDC talk without IPsec and have no key' });
      return;
    }
    const pair = orderedPair(names[0]!, names[1]!);
    if (!seen.has(pairId(pair))) pairs.push(pair);
    seen.add(pairId(pair));
  });
  if (issues.length > 0) throw new ValidationError(issues, 'the PDC pair selection');
  return pairs;
}

/**
 * Parses `--pair a,b` values into mesh pairs. Every problem is reported at
 * once, naming the value; nothing is rotated when one is wrong.
 */
export function parsePairSelection(model: Model, values: readonly string[]): Pair[] {
  const issues: ValidationIssue[] = [];
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  values.forEach((value, i) => {
    const path = `--pair[${i}]`;
    const names = value.split(',').map((s) => s.trim());
    if (names.length !== 2 || names.some((n) => n === '')) {
      issues.push({ path, value, message: 'must be two hostnames separated by a comma' });
      return;
    }
    const [a, b] = names as [string, string];
    let ok = true;
    for (const n of [a, b]) {
      if (!matches(HOSTNAME, n)) {
        issues.push({ path, value: n, message: 'is not a valid hostname' });
        ok = false;
      } else if (!model.nodeByName.has(n)) {
        issues.push({ path, value: n, message: `is not a known node${didYouMean(n, model.nodes.map((x) => x.name))}` });
        ok = false;
      }
    }
    if (!ok) return;
    if (a === b) {
      issues.push({ path, value, message: 'names one node twice' });
      return;
    }
    if (model.nodeByName.get(a)!.pdc === model.nodeByName.get(b)!.pdc) {
      issues.push({ path, value, message: `names two nodes of PDC ${model.nodeByName.get(a)!.pdc}, which talk without IPsec and have no key` });
      return;
    }
    const pair = orderedPair(a, b);
    if (!seen.has(pairId(pair))) pairs.push(pair);
    seen.add(pairId(pair));
  });
  if (issues.length > 0) throw new ValidationError(issues, 'the pair selection');
  return pairs;
}
