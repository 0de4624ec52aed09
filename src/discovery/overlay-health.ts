/**
 * A node's overlays' fault state, read by `verify` and by `apply` where it
 * restarted varpd: which overlays dladm shows DEGRADED and why (docs/smartos-rules.md#overlay-devices-and-dladm).
 * Only an overlay the state wants on the node counts: one of a rule the state
 * no longer has loses its table, and so its varpd instance, at the next varpd
 * restart, and stays until the node reboots, as the plan says; it is listed
 * apart. A node whose state cannot be read is `unknown`, with the reason;
 * that alone does not make verify fail, as with its facts.
 */
import type { Logger } from '../log.js';
import type { Model, Node } from '../model/model.js';
import { overlaysOfNode } from '../rules/overlays.js';
import { checkExec, type Transport } from '../transport/transport.js';
import { parseOverlayStatus, SHOW_OVERLAY_FMA_ARGV, type OverlayStatus } from './dladm.js';

/** What mends an overlay whose varpd instance is gone: only a new link gets a new instance. */
export const RECREATE_DEGRADED =
  'To recreate it: stop the VMs with a NIC on it (or reboot the node), run `dladm delete-overlay LINK` on the node, then esdc-overlay apply.';

/** Logs each overlay left DEGRADED by our varpd restart on `node` as an error, with how to mend it (the agent, patch-table and the daemon). */
export function logDegraded(log: Logger, node: string, overlays: readonly OverlayStatus[]): void {
  for (const o of overlays) log.error({ node, link: o.link, details: o.details }, `overlay DEGRADED after varpd's restart: ${RECREATE_DEGRADED.replace('LINK', o.link)}`);
}

/** The lines that name a degraded overlay and how to mend it. */
export function degradedLines(node: string, o: OverlayStatus, when = ''): string[] {
  return [`${node}: overlay ${o.link} is DEGRADED${when} (${o.details}): its VMs reach no one over it.`, `  ${RECREATE_DEGRADED.replace('LINK', o.link)}`];
}

export type OverlayHealth =
  | { status: 'ok' | 'degraded'; degraded: OverlayStatus[]; unwanted: OverlayStatus[] }
  | { status: 'unknown'; degraded: []; unwanted: []; reason: string };

/** Reads the fault state of `node`'s overlays over `t`, and sorts the degraded ones by whether `model` wants them there. */
export async function readOverlayHealth(t: Transport, model: Model, node: Node, timeoutMs: number): Promise<OverlayHealth> {
  return readWantedHealth(t, new Set(overlaysOfNode(model, node).map((o) => o.link)), timeoutMs);
}

/**
 * The same, with the wanted links given (`all`: every link): the agent and
 * `agent patch-table` run on the node without the state, and know them from
 * the bundle (after their own varpd restart, docs/operations.md#the-agent).
 */
export async function readWantedHealth(t: Transport, wanted: ReadonlySet<string> | 'all', timeoutMs: number): Promise<OverlayHealth> {
  try {
    const r = checkExec(t.node, SHOW_OVERLAY_FMA_ARGV, await t.exec(SHOW_OVERLAY_FMA_ARGV, timeoutMs));
    const all = parseOverlayStatus(r.stdout, `${t.node}: dladm show-overlay -f`).filter((o) => o.status === 'DEGRADED');
    const wants = (link: string): boolean => wanted === 'all' || wanted.has(link);
    const degraded = all.filter((o) => wants(o.link));
    return { status: degraded.length > 0 ? 'degraded' : 'ok', degraded, unwanted: all.filter((o) => !wants(o.link)) };
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter((l) => l !== '').join('; ');
    return { status: 'unknown', degraded: [], unwanted: [], reason };
  }
}
