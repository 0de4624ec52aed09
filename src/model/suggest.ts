/**
 * "Did you mean": the known names closest to a name the operator typed, so
 * that a typo is refused with the fix rather than taken for a new name.
 * One helper for every kind of name (vDCs, rules, nodes, PDCs), pure.
 */
import { EsdcError, EXIT } from '../errors.js';

/** Kinds of names the commands take; used in messages. */
export type NameKind = 'vDC' | 'rule' | 'node' | 'PDC';

/**
 * Optimal-string-alignment distance (Damerau-Levenshtein where a
 * transposition of two neighbours costs 1): "custmer" → "customer" is 1,
 * "pgr" → "prg" is 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Names are compared as typed, but a hostname also matches by its first label (`cn01` → `cn01.prg.example.com`). */
function score(typed: string, known: string): number | undefined {
  const t = typed.toLowerCase();
  const k = known.toLowerCase();
  if (t === k) return 0;
  const label = k.split('.')[0]!;
  // `cn01` for `cn01.prg.example.com`: the short name itself, better than any near miss.
  if (t === label) return 0.5;
  if (t.length >= 2 && (k.startsWith(t) || t.startsWith(k))) return 1;
  const dist = Math.min(editDistance(t, k), label !== k ? editDistance(t, label) : Infinity);
  // Short names: one edit at most, else every 3-letter name would "mean" every other.
  const limit = t.length <= 4 ? 1 : 2;
  return dist <= limit ? dist : undefined;
}

/** The known names closest to `typed` (those sharing the best score, at most three, in the order given). */
export function closestNames(typed: string, known: Iterable<string>): string[] {
  const scored: Array<{ name: string; s: number; i: number }> = [];
  let i = 0;
  for (const name of known) {
    const s = score(typed, name);
    if (s !== undefined) scored.push({ name, s, i });
    i++;
  }
  const best = Math.min(...scored.map((x) => x.s));
  return scored.filter((x) => x.s === best).sort((x, y) => x.i - y.i).slice(0, 3).map((x) => x.name);
}

/** `" (did you mean customer-a?)"`, or `""` when nothing is close. */
export function didYouMean(typed: string, known: Iterable<string>): string {
  const close = closestNames(typed, known);
  if (close.length === 0) return '';
  const last = close[close.length - 1]!;
  const list = close.length === 1 ? last : `${close.slice(0, -1).join(', ')} or ${last}`;
  return ` (did you mean ${list}?)`;
}

/** The message for a name that is not in the state: `unknown rule "custmers" (did you mean customers?)`. */
export function unknownName(kind: NameKind, typed: string, known: Iterable<string>): string {
  const all = [...known];
  // Nothing close: a short list of what exists still helps; a long one would bury the message.
  const hint = didYouMean(typed, all) || (all.length <= 10 ? ` (known: ${all.join(', ') || 'none'})` : '');
  return `unknown ${kind} ${JSON.stringify(typed)}${hint}`;
}

/**
 * The error for a name that is not in the state. A name that does not exist
 * is refused input, not a malformed command line: exit 1 everywhere (the
 * README's exit-code table), with the closest names and, when given, what
 * to run instead.
 */
export function unknownNameError(kind: NameKind, typed: string, known: Iterable<string>, then?: string): EsdcError {
  const code = `Unknown${kind === 'vDC' ? 'Vdc' : kind === 'PDC' ? 'Pdc' : kind[0]!.toUpperCase() + kind.slice(1)}`;
  return new EsdcError(`${unknownName(kind, typed, known)}${then !== undefined ? `; ${then}` : ''}`, { code, exitStatus: EXIT.failure });
}
