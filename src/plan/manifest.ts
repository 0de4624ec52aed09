/**
 * The record of what we manage on a node, kept on the node itself: the files
 * we created (so a file the desired state no longer has is removed, and a
 * file we did not create never is), and the refreshes a commit still owes
 * (so a run that died between rename and refresh is finished by the next).
 * Pure: parse and serialise.
 */
import { isOwnedPath } from '../syntax/owned-paths.js';
import type { ServiceName } from '../desired/services.js';
import { SERVICE_ORDER, sortServices } from '../desired/services.js';

export const MANIFEST_PATH = '/opt/custom/esdc-overlay/managed.json';
export const MANIFEST_MODE = 0o644;

export interface Manifest {
  version: 1;
  /** Path → the service refreshed when it changes. */
  files: Readonly<Record<string, { refresh: ServiceName }>>;
  /** Refreshes committed files still need. */
  pendingRefresh: readonly ServiceName[];
  /** The node's PDC when last applied: a change is a PDC rename, which is disruptive. */
  pdc?: string;
}

export const EMPTY_MANIFEST: Manifest = { version: 1, files: {}, pendingRefresh: [] };

export function serializeManifest(m: Manifest): string {
  const files: Record<string, { refresh: ServiceName }> = {};
  for (const path of Object.keys(m.files).sort()) files[path] = { refresh: m.files[path]!.refresh };
  const body: Record<string, unknown> = { version: 1, files, pending_refresh: sortServices(m.pendingRefresh) };
  if (m.pdc !== undefined) body.pdc = m.pdc;
  return `${JSON.stringify(body, null, 2)}\n`;
}

/**
 * A path the manifest may hand to `remove`: anything listed is deleted once
 * the desired state drops it, so a damaged or edited manifest must not reach
 * /usbkey/config, /etc, a file in /opt/custom we do not own (restore
 * scripts, SMF manifests), or out of our directories by `..` or `.` segments.
 */
function mayRemove(path: string): boolean {
  return path !== MANIFEST_PATH && isOwnedPath(path);
}

/**
 * Reads a manifest; an unreadable one counts as empty (we then remove
 * nothing), and says why.
 */
export function parseManifest(text: string | undefined): { manifest: Manifest; problem?: string } {
  if (text === undefined) return { manifest: EMPTY_MANIFEST };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { manifest: EMPTY_MANIFEST, problem: `${MANIFEST_PATH} is not JSON (${(err as Error).message}); treated as empty` };
  }
  const r = raw as { version?: unknown; files?: unknown; pending_refresh?: unknown; pdc?: unknown };
  if (typeof raw !== 'object' || raw === null || r.version !== 1 || typeof r.files !== 'object' || r.files === null) {
    return { manifest: EMPTY_MANIFEST, problem: `${MANIFEST_PATH} is not a version 1 manifest; treated as empty` };
  }
  const files: Record<string, { refresh: ServiceName }> = {};
  for (const [path, v] of Object.entries(r.files as Record<string, unknown>)) {
    const refresh = (v as { refresh?: unknown })?.refresh;
    if (mayRemove(path) && typeof refresh === 'string' && (SERVICE_ORDER as readonly string[]).includes(refresh)) {
      files[path] = { refresh: refresh as ServiceName };
    }
  }
  const pending = Array.isArray(r.pending_refresh)
    ? r.pending_refresh.filter((s): s is ServiceName => typeof s === 'string' && (SERVICE_ORDER as readonly string[]).includes(s))
    : [];
  const manifest: Manifest = { version: 1, files, pendingRefresh: sortServices(pending) };
  if (typeof r.pdc === 'string') manifest.pdc = r.pdc;
  return { manifest };
}
