/**
 * Danube's cfgdb names a key `/esdc/settings/ipsec/psk/<a>-<b>`
 * (docs/file-formats.md#cfgdb-layout). `-` also occurs inside hostnames, so `<a>-<b>` alone does not say
 * where one name ends: it is read back against the known node names, and
 * only here, where the cfgdb layout needs it. Danube ordered the two names
 * by bash's locale collation when it created a key but looked it up in
 * code-point order (§9 item 8), so both orders are read; the code-point one
 * wins, as it is the one Danube's nodes were actually given. Pure; the
 * ZooKeeper store does the I/O.
 */
import type { ValidationIssue } from '../errors.js';
import type { PairKey } from '../model/model.js';
import { PSK, matches } from '../syntax/patterns.js';
import { makePair, pairId } from './pairs.js';

export const CFGDB_PSK_PATH = '/esdc/settings/ipsec/psk';

/** Keys → cfgdb child names (`<a>-<b>`, code-point order) and values. */
export function pskToCfgdb(keys: readonly PairKey[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keys) {
    const [a, b] = makePair(k.nodes[0], k.nodes[1]);
    out.set(`${a}-${b}`, k.key);
  }
  return out;
}

export interface CfgdbKeysRead {
  keys: PairKey[];
  /** Children that could not be read; `value` names the child, never the key. */
  issues: ValidationIssue[];
}

/**
 * cfgdb children of the psk node (name → value) → keys, given the names of
 * the known nodes. A name that splits into known nodes in more than one way,
 * or in none, is reported and skipped.
 */
export function pskFromCfgdb(children: ReadonlyMap<string, string>, nodeNames: Iterable<string>): CfgdbKeysRead {
  const known = new Set(nodeNames);
  const issues: ValidationIssue[] = [];
  const found = new Map<string, { key: PairKey; canonical: boolean; child: string }>();
  for (const [child, raw] of [...children.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const path = `${CFGDB_PSK_PATH}/${child}`;
    const splits: Array<[string, string]> = [];
    for (let i = child.indexOf('-'); i !== -1; i = child.indexOf('-', i + 1)) {
      const a = child.slice(0, i);
      const b = child.slice(i + 1);
      if (known.has(a) && known.has(b) && a !== b) splits.push([a, b]);
    }
    if (splits.length === 0) {
      issues.push({ path, value: child, message: 'does not name two known nodes; the key is skipped' });
      continue;
    }
    if (splits.length > 1) {
      issues.push({
        path,
        value: child,
        message: `splits into known nodes in ${splits.length} ways (${splits.map(([a, b]) => `${a} + ${b}`).join(', ')}); the key is skipped`,
      });
      continue;
    }
    const key = raw.trim().toLowerCase();
    if (!matches(PSK, key)) {
      issues.push({ path, value: child, message: 'does not hold 256 hex characters; the key is skipped' });
      continue;
    }
    const [a, b] = splits[0]!;
    const pair = makePair(a, b);
    const canonical = pair[0] === a;
    const id = pairId(pair);
    const prior = found.get(id);
    if (prior) {
      if (prior.key.key !== key) {
        const winner = canonical ? child : prior.child;
        issues.push({
          path,
          value: child,
          message: `and ${prior.child} hold different keys for one pair; ${winner} (code-point order, the one Danube's nodes use) is kept`,
        });
      }
      if (!canonical) continue;
    }
    found.set(id, { key: { nodes: pair, key }, canonical, child });
  }
  const keys = [...found.values()].map((f) => f.key);
  keys.sort((x, y) => (pairId(x.nodes) < pairId(y.nodes) ? -1 : pairId(x.nodes) > pairId(y.nodes) ? 1 : 0));
  return { keys, issues };
}
