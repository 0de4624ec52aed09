/**
 * Around the daemon's own varpd restarts on a node. Before: the hashes of
 * the node's tables it knows (they parse; the check before the restart
 * reads only the others, src/apply/restart-guard.ts). After (a whole table
 * written, or a patch whose node said exit 2): the overlays the state wants
 * there that `dladm show-overlay -f` shows DEGRADED, recorded in the batch's
 * result for the log and `daemon status` (docs/daemon.md#tables). One read,
 * only where varpd restarted; an unreadable fault state records nothing
 * (verify reports it).
 */
import { logDegraded, readOverlayHealth } from '../discovery/overlay-health.js';
import type { Logger } from '../log.js';
import type { Model, Node } from '../model/model.js';
import type { Transport } from '../transport/transport.js';
import { rulesOfNode } from '../rules/usbkey-lines.js';
import type { DeltaState } from './delta.js';
import type { DaemonStatus } from './status.js';
import type { TableResult } from './tables.js';

/** SHA-256 of the node's tables as the daemon last wrote or found them in the state's form: known to parse. */
export function knownTables(delta: DeltaState | undefined, model: Model, node: Node): Set<string> {
  const out = new Set<string>();
  for (const r of rulesOfNode(model, node)) {
    const k = delta?.knownTable(node.name, r.filesConfig);
    if (k) out.add(k.sha256);
  }
  return out;
}

export async function noteDegraded(result: TableResult, t: Transport, model: Model, node: Node, timeoutMs: number): Promise<void> {
  const health = await readOverlayHealth(t, model, node, timeoutMs);
  if (health.status !== 'unknown') result.degraded.set(node.name, health.degraded);
}

/**
 * Puts a write's findings into the daemon's status (`overlays_degraded`, one
 * `node: link (details)` each, a node's entries replaced by its latest
 * read) and logs each as an error with how to mend it.
 */
export function recordDegraded(status: DaemonStatus, r: TableResult, log: Logger): void {
  for (const [node, overlays] of r.degraded) {
    status.overlays_degraded = [...(status.overlays_degraded ?? []).filter((d) => !d.startsWith(`${node}: `)), ...overlays.map((o) => `${node}: ${o.link} (${o.details})`)];
    logDegraded(log, node, overlays);
  }
}
