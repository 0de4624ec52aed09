/**
 * Pure edits of the stored keys (`ipsec.psk`): fill in missing keys, rotate
 * keys, record keys that a render made up, and drop keys of pairs that no
 * longer exist. Every edit returns a new document whose `ipsec.psk` holds
 * exactly one key per mesh pair that has one, in pair order; the document
 * given is never touched.
 *
 * There is one key per pair, not one per end: both ends of a pair read the
 * same entry, so no state can hold different keys for the two ends. A
 * rotation replaces the entry; the apply that follows writes it to both
 * ends in one commit phase (see rotateKeys).
 */
import { ConflictError, ValidationError, type ValidationIssue } from '../errors.js';
import { orderedPair, type Model } from '../model/model.js';
import { HOSTNAME, matches } from '../syntax/patterns.js';
import type { PskDoc, StateDoc } from '../model/state.js';
import { meshPairs, pairId, type Pair } from './pairs.js';
import { newPsk, systemRandom, type RandomBytes } from './psk.js';

/** What an edit did, by pair; never the keys themselves. */
export interface KeyChange {
  /** Pairs that had no key and got one. */
  added: Pair[];
  /** Pairs whose key was replaced. */
  rotated: Pair[];
  /** Stored pairs that are no longer in the mesh (node gone, same PDC, named twice). */
  pruned: Pair[];
}

export interface KeyEdit {
  doc: StateDoc;
  change: KeyChange;
}

/** The stored keys of the mesh pairs, by pair id; keys of other pairs are left out. */
export function storedMeshKeys(model: Model): Map<string, string> {
  const mesh = new Set(meshPairs(model).map(pairId));
  const out = new Map<string, string>();
  for (const k of model.pairKeys) {
    const id = pairId(k.nodes);
    if (mesh.has(id) && !out.has(id)) out.set(id, k.key);
  }
  return out;
}

/** Stored entries that a rewrite drops. */
function stalePairs(doc: StateDoc, model: Model): Pair[] {
  const mesh = new Set(meshPairs(model).map(pairId));
  const seen = new Set<string>();
  const stale: Pair[] = [];
  for (const d of doc.ipsec?.psk ?? []) {
    const pair = orderedPair(d.nodes[0], d.nodes[1]);
    const id = pairId(pair);
    if (!mesh.has(id) || seen.has(id)) stale.push(pair);
    seen.add(id);
  }
  return stale;
}

/** A document whose `ipsec.psk` is `keys` (mesh pairs only), in pair order. */
function withKeys(doc: StateDoc, model: Model, keys: ReadonlyMap<string, string>): StateDoc {
  const psk: PskDoc[] = [];
  for (const pair of meshPairs(model)) {
    const key = keys.get(pairId(pair));
    if (key !== undefined) psk.push({ nodes: [pair[0], pair[1]], key });
  }
  const next: StateDoc = { ...doc };
  const { psk: _old, ...restIpsec } = doc.ipsec ?? {};
  if (psk.length > 0) next.ipsec = { ...restIpsec, psk };
  else if (Object.keys(restIpsec).length > 0) next.ipsec = restIpsec;
  else delete next.ipsec;
  return next;
}

/** `keys generate`: a key for every mesh pair that has none; stale keys dropped. Existing keys stay. */
export function generateMissingKeys(doc: StateDoc, model: Model, random: RandomBytes = systemRandom): KeyEdit {
  const keys = storedMeshKeys(model);
  const added: Pair[] = [];
  for (const pair of meshPairs(model)) {
    const id = pairId(pair);
    if (keys.has(id)) continue;
    keys.set(id, newPsk(random));
    added.push(pair);
  }
  return { doc: withKeys(doc, model, keys), change: { added, rotated: [], pruned: stalePairs(doc, model) } };
}

/**
 * `keys rotate`: a new key for each selected pair (every mesh pair for
 * `all`), and for every other pair that has none; stale keys dropped.
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
  const keys = storedMeshKeys(model);
  const mesh = meshPairs(model);
  const chosen = new Set(selection === 'all' ? mesh.map(pairId) : selection.map(pairId));
  const added: Pair[] = [];
  const rotated: Pair[] = [];
  for (const pair of mesh) {
    const id = pairId(pair);
    const had = keys.get(id);
    if (had !== undefined && !chosen.has(id)) continue;
    let key = newPsk(random);
    // A repeat from a broken random source must not pass for a rotation.
    if (key === had) key = newPsk(random);
    if (key === had) throw new ConflictError('the random source returned the same key twice; no key was changed');
    keys.set(id, key);
    (had === undefined ? added : rotated).push(pair);
  }
  return { doc: withKeys(doc, model, keys), change: { added, rotated, pruned: stalePairs(doc, model) } };
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
        issues.push({ path, value: n, message: 'is not a known node' });
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
