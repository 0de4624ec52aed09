/**
 * What `nodes discover`, `nodes add` and `init --discover` say about what
 * discovery found (src/operations/discover.ts reads and merges it).
 */
import type { Discovered } from '../discovery/merge.js';
import { snakeJson } from './json-style.js';

export type { DiscoverOptions } from '../operations/discover.js';

/** Per node: its changes, or "unchanged". */
export function changesText(changes: Record<string, string[]>): string {
  return Object.entries(changes)
    .map(([node, lines]) => (lines.length === 0 ? `${node}: unchanged` : [`${node}:`, ...lines.map((l) => `  ${l}`)].join('\n')))
    .join('\n');
}

/** The nodes part of the --json output: snake_case keys; the rule names under overlay_rules are data and pass as they are. */
export function discoveredJson(found: readonly Discovered[], changes: Record<string, string[]>): unknown[] {
  return found.map((f) => ({
    node: f.facts.hostname,
    changes: changes[f.facts.hostname] ?? [],
    facts: { ...(snakeJson({ ...f.facts, overlayRules: undefined }) as object), overlay_rules: f.facts.overlayRules },
    vnics: f.vnics,
  }));
}
