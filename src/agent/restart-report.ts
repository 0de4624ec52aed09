/**
 * What the agent and `agent patch-table` need around their own varpd
 * restart, from the bundle apply left on the node (they run without the
 * state): which overlays are ours, to report the ones left DEGRADED after
 * the restart (docs/operations.md#the-agent), and the SHA-256 of our tables,
 * so the check before the restart (src/apply/restart-guard.ts) reads only
 * tables that are not ours as we wrote them.
 */
import type { OverlayStatus } from '../discovery/dladm.js';
import { logDegraded, readWantedHealth } from '../discovery/overlay-health.js';
import type { Logger } from '../log.js';
import type { Transport } from '../transport/transport.js';
import { parseBundleIndex } from './bundle.js';

export interface BundleOverlays {
  /** The overlay links the bundle wants on the node. */
  links: ReadonlySet<string>;
  /** SHA-256 of the bundle's copies of those overlays' tables. */
  knownGood: ReadonlySet<string>;
}

/** The bundle's overlays and table hashes, from its index only; undefined without a bundle or with one that does not parse (the caller's own checks say why). */
export function bundleOverlays(data: Buffer | undefined): BundleOverlays | undefined {
  if (data === undefined) return undefined;
  try {
    const { index } = parseBundleIndex(data);
    const tables = new Set(index.overlays.map((o) => o.properties['files/config']).filter((p): p is string => p !== undefined));
    return { links: new Set(index.overlays.map((o) => o.link)), knownGood: new Set(index.files.filter((f) => tables.has(f.path)).map((f) => f.sha256)) };
  } catch {
    return undefined;
  }
}

/**
 * The wanted overlays `dladm show-overlay -f` shows DEGRADED after our varpd
 * restart (`all` without a bundle: every one), each logged (with `log`) with
 * how to mend it. An unreadable fault state is logged and passed over, as apply does;
 * verify reports it.
 */
export async function degradedAfterRestart(t: Transport, wanted: ReadonlySet<string> | 'all', timeoutMs: number, log?: Logger): Promise<OverlayStatus[]> {
  const health = await readWantedHealth(t, wanted, timeoutMs);
  if (health.status === 'unknown') log?.warn({ node: t.node, reason: health.reason }, 'overlay fault state unreadable after the varpd restart');
  if (log) logDegraded(log, t.node, health.degraded);
  return health.degraded;
}
