/** Reads what a node has, for the paths and links its desired state names: the actual half of a plan. */
import { parseShowOverlay, SHOW_OVERLAY_ARGV } from '../discovery/dladm.js';
import type { DesiredNode } from '../plan/desired.js';
import { parseManifest } from '../plan/manifest.js';
import { MANIFEST_PATH, USBKEY_CONFIG, type ActualFile, type ActualNode } from '../plan/plan.js';
import { posix } from 'node:path';
import { checkExec, stagedTarget, type Transport } from '../transport/transport.js';
import { mapLimit } from './pool.js';

async function readOne(t: Transport, path: string, timeoutMs: number, maxBytes?: number): Promise<ActualFile | null> {
  const got = await t.readFile(path, timeoutMs, maxBytes === undefined ? {} : { maxBytes });
  return got ? { mode: got.mode, text: got.data.toString('utf8') } : null;
}

/** `extra`: more paths to read into `files` (the agent's bundle). */
/** `maxBytes`: refuse a larger file (default MAX_READ_BYTES). */
export async function readActual(t: Transport, desired: DesiredNode, timeoutMs: number, extra: readonly string[] = [], maxBytes?: number): Promise<ActualNode> {
  const manifestText = (await t.readFile(MANIFEST_PATH, timeoutMs, maxBytes === undefined ? {} : { maxBytes }))?.data.toString('utf8');
  const managed = Object.keys(parseManifest(manifestText).manifest.files);
  const paths = [...new Set([...desired.files.map((f) => f.path), ...managed, ...extra])].sort();
  const read = await mapLimit(paths, 8, (p) => readOne(t, p, timeoutMs, maxBytes));
  const files = new Map(paths.map((p, i) => [p, read[i]!]));
  const usbkey = await readOne(t, USBKEY_CONFIG, timeoutMs, maxBytes);
  const leftovers = await findLeftovers(t, [...paths, MANIFEST_PATH, USBKEY_CONFIG], timeoutMs);
  const show = checkExec(t.node, SHOW_OVERLAY_ARGV, await t.exec(SHOW_OVERLAY_ARGV, timeoutMs));
  const overlays = parseShowOverlay(show.stdout, `${t.node}: dladm show-overlay`);
  return { node: t.node, files, usbkey, overlays, manifestText, leftovers };
}

/**
 * Staged files an interrupted run left (a killed apply or agent): only names
 * of our staging pattern (stagedTarget), only in the directories of the
 * paths we write. Another tool's files, even in those directories, are never
 * listed.
 */
async function findLeftovers(t: Transport, paths: readonly string[], timeoutMs: number): Promise<string[]> {
  const dirs = [...new Set(paths.map((p) => posix.dirname(p)))].sort();
  const names = await mapLimit(dirs, 8, (d) => t.list(d, timeoutMs));
  return dirs.flatMap((d, i) => (names[i] ?? []).map((n) => posix.join(d, n)).filter((p) => stagedTarget(p) !== undefined)).sort();
}
