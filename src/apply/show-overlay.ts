/**
 * `dladm show-overlay -p -o link,property,value` run on a node and read:
 * every overlay and its properties. An overlay whose varpd instance is gone
 * makes dladm warn and exit 1 after listing everything else, that overlay's
 * kernel properties included (docs/smartos-rules.md#overlay-devices-and-dladm);
 * that is no failure of the read: such overlays are listed, without
 * `files/config`, and named in `noInstance`. Any other failure throws.
 */
import { parseShowOverlay, showOverlayLostInstances, SHOW_OVERLAY_ARGV } from '../discovery/dladm.js';
import { checkExec, type ExecResult, type Transport } from '../transport/transport.js';

export interface ShowOverlay {
  overlays: Map<string, Map<string, string>>;
  /** Overlays dladm warned have no varpd instance (so no `files/config` is listed for them). */
  noInstance: ReadonlySet<string>;
  /** The command's standard output, for byte counts. */
  stdout: string;
}

/** Reads an exec result of SHOW_OVERLAY_ARGV on `node`. */
export function readShowOverlayResult(node: string, r: ExecResult): ShowOverlay {
  const lost = r.code === 0 ? [] : showOverlayLostInstances(r.code, r.stderr);
  if (lost === undefined) checkExec(node, SHOW_OVERLAY_ARGV, r);
  const overlays = parseShowOverlay(r.stdout, `${node}: dladm show-overlay`);
  // A warning about a link the listing lacks is not the failure we know: report the command's failure.
  if (lost !== undefined && !lost.every((l) => overlays.has(l))) checkExec(node, SHOW_OVERLAY_ARGV, r);
  return { overlays, noInstance: new Set(lost ?? []), stdout: r.stdout };
}

export async function showOverlay(t: Transport, timeoutMs: number): Promise<ShowOverlay> {
  return readShowOverlayResult(t.node, await t.exec(SHOW_OVERLAY_ARGV, timeoutMs));
}
