/**
 * A node's overlays' fault state, read for `verify`: which overlays dladm
 * shows DEGRADED and why (docs/smartos-rules.md#overlay-devices-and-dladm).
 * A node whose state cannot be read is `unknown`, with the reason; that alone
 * does not make verify fail, as with its facts.
 */
import { checkExec, type Transport } from '../transport/transport.js';
import { parseOverlayStatus, SHOW_OVERLAY_FMA_ARGV, type OverlayStatus } from './dladm.js';

export type OverlayHealth =
  | { status: 'ok'; degraded: [] }
  | { status: 'degraded'; degraded: OverlayStatus[] }
  | { status: 'unknown'; degraded: []; reason: string };

export async function readOverlayHealth(t: Transport, timeoutMs: number): Promise<OverlayHealth> {
  try {
    const r = checkExec(t.node, SHOW_OVERLAY_FMA_ARGV, await t.exec(SHOW_OVERLAY_FMA_ARGV, timeoutMs));
    const degraded = parseOverlayStatus(r.stdout, `${t.node}: dladm show-overlay -f`).filter((o) => o.status === 'DEGRADED');
    return degraded.length > 0 ? { status: 'degraded', degraded } : { status: 'ok', degraded: [] };
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter((l) => l !== '').join('; ');
    return { status: 'unknown', degraded: [], reason };
  }
}
