/** Reads what a node has, for the paths and links its desired state names: the actual half of a plan. */
import { fileText, type DesiredFile, type DesiredNode } from '../desired/desired.js';
import { parseManifest } from '../plan/manifest.js';
import { MANIFEST_PATH, USBKEY_CONFIG, type ActualFile, type ActualNode } from '../plan/plan.js';
import { posix } from 'node:path';
import { checkExec, MAX_READ_BYTES, stagedTarget, type Transport } from '../transport/transport.js';
import { digestFiles } from './digest.js';
import { mapLimit } from './pool.js';
import { showOverlay } from './show-overlay.js';
import { sha256Hex } from '../sha256.js';

/**
 * The text a path should have, to be checked by hash before it is read. When
 * the node's SHA-256 of the file is that of `text(prefix)`, the file is not
 * read: its mode comes from an lstat, its text is this one (equal hashes,
 * equal bytes). `prefixBytes` first reads that much of the file and hands it
 * to `text` (a bundle's version is at its start).
 */
export interface ExpectedText {
  prefixBytes?: number;
  text: (prefix: string) => string | undefined;
}

/** Bytes read from the node so far: file contents and command output. */
interface Counter {
  bytes: number;
}

async function readOne(t: Transport, path: string, timeoutMs: number, maxBytes: number | undefined, n: Counter): Promise<ActualFile | null> {
  const got = await t.readFile(path, timeoutMs, maxBytes === undefined ? {} : { maxBytes });
  if (got) n.bytes += got.data.length;
  return got ? { mode: got.mode, text: got.data.toString('utf8') } : null;
}


/** The file from its hash when it is the expected one; undefined when it has to be read. */
async function byHash(t: Transport, path: string, hash: string, expected: ExpectedText, timeoutMs: number, maxBytes: number, n: Counter): Promise<ActualFile | undefined> {
  let prefix = '';
  let mode: number | undefined;
  if (expected.prefixBytes !== undefined) {
    const head = await t.readFile(path, timeoutMs, { maxBytes, prefixBytes: expected.prefixBytes });
    if (!head) return undefined;
    n.bytes += head.data.length;
    prefix = head.data.toString('utf8');
    mode = head.mode;
  }
  const text = expected.text(prefix);
  if (text === undefined || sha256Hex(text) !== hash) return undefined;
  if (mode === undefined) {
    // The checks readFile makes before reading: a regular file, within the size limit.
    const info = await t.stat(path, timeoutMs);
    if (!info || !info.isFile || info.size > maxBytes) return undefined;
    mode = info.mode;
  }
  return { mode, text };
}

/**
 * `extra`: more paths to read into `files` (the agent's bundle), with the
 * text each is expected to have in `expected` (by path), if known.
 * `maxBytes`: refuse a larger file (default MAX_READ_BYTES).
 *
 * Hash first: one `digest` on the node for every desired file (and expected
 * extra), then only the files whose hash differs are read (issue 20). A node
 * without digest, or whose output cannot be trusted, has every file read.
 */
export async function readActual(
  t: Transport,
  desired: DesiredNode,
  timeoutMs: number,
  extra: readonly string[] = [],
  maxBytes?: number,
  expected: ReadonlyMap<string, ExpectedText> = new Map(),
  hashFromBytes: number = HASH_FROM_BYTES,
): Promise<ActualNode> {
  const n: Counter = { bytes: 0 };
  const want = new Map<string, ExpectedText>(expected);
  for (const f of desired.files) want.set(f.path, expectedFile(f));
  // Small nodes are read as before: hashing costs a command, reading them a few round trips.
  if (desiredBytes(desired) < hashFromBytes) want.clear();
  const digested = digestFiles(t, [...want.keys()].sort(), timeoutMs);
  const readPath = async (p: string): Promise<ActualFile | null> => {
    const hash = want.has(p) ? (await digested).hashes.get(p) : undefined;
    const known = hash === undefined ? undefined : await byHash(t, p, hash, want.get(p)!, timeoutMs, maxBytes ?? MAX_READ_BYTES, n);
    return known ?? readOne(t, p, timeoutMs, maxBytes, n);
  };
  // The desired paths and the extra ones are known before the manifest is: they are read, and their
  // directories listed, together with the manifest, the hashes, /usbkey/config and the live overlays,
  // over the one connection. Only what the manifest alone names (files we stopped writing) waits for
  // it: a node is read in one read's round trips less than when every path waited (issue 20).
  const first = [...new Set([...desired.files.map((f) => f.path), ...extra])].sort();
  const firstDirs = dirsOf([...first, MANIFEST_PATH, USBKEY_CONFIG]);
  const firstRead = mapLimit(first, 8, readPath);
  const firstListed = findLeftovers(t, firstDirs, timeoutMs);
  // Awaited below; until then a failure elsewhere must not leave them rejected with no one listening.
  firstRead.catch(() => undefined);
  firstListed.catch(() => undefined);
  const [manifest, digest, usbkey, show] = await Promise.all([
    t.readFile(MANIFEST_PATH, timeoutMs, maxBytes === undefined ? {} : { maxBytes }),
    digested,
    readOne(t, USBKEY_CONFIG, timeoutMs, maxBytes, n),
    showOverlay(t, timeoutMs),
  ]);
  n.bytes += (manifest?.data.length ?? 0) + digest.bytesRead + Buffer.byteLength(show.stdout);
  const manifestText = manifest?.data.toString('utf8');
  const firstSet = new Set(first);
  const later = [...new Set(Object.keys(parseManifest(manifestText).manifest.files))].filter((p) => !firstSet.has(p)).sort();
  const laterDirs = dirsOf(later).filter((d) => !firstDirs.includes(d));
  const [read, readLater, listed, listedLater] = await Promise.all([firstRead, mapLimit(later, 8, readPath), firstListed, findLeftovers(t, laterDirs, timeoutMs)]);
  const got = new Map<string, ActualFile | null>();
  first.forEach((p, i) => got.set(p, read[i]!));
  later.forEach((p, i) => got.set(p, readLater[i]!));
  const files = new Map([...first, ...later].sort().map((p) => [p, got.get(p)!]));
  const overlays = show.overlays;
  return { node: t.node, files, usbkey, overlays, manifestText, leftovers: [...listed, ...listedLater].sort(), bytesRead: n.bytes };
}

/**
 * Below this many bytes of desired files (the bundle carries as many again),
 * a node's files are read rather than hashed first: the digest command costs
 * about what reading that much does (measured on 50 simulated nodes with
 * small tables, bench/RESULTS.md), and what is read stays bounded by it.
 */
export const HASH_FROM_BYTES = 256 * 1024;

function desiredBytes(desired: DesiredNode): number {
  let total = 0;
  for (const f of desired.files) {
    for (const chunk of f.content()) total += chunk.length;
    if (total >= HASH_FROM_BYTES) break;
  }
  return total;
}

function expectedFile(f: DesiredFile): ExpectedText {
  let text: string | undefined;
  return { text: () => (text ??= fileText(f)) };
}

/** The directories of `paths`, each once, sorted. */
function dirsOf(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => posix.dirname(p)))].sort();
}

/**
 * Staged files an interrupted run left (a killed apply or agent): only names
 * of our staging pattern (stagedTarget), only in the directories of the
 * paths we write (`dirs`). Another tool's files, even in those directories,
 * are never listed.
 */
async function findLeftovers(t: Transport, dirs: readonly string[], timeoutMs: number): Promise<string[]> {
  const names = await mapLimit(dirs, 8, (d) => t.list(d, timeoutMs));
  return dirs.flatMap((d, i) => (names[i] ?? []).map((n) => posix.join(d, n)).filter((p) => stagedTarget(p) !== undefined)).sort();
}
