/**
 * Writes the render tree to disk. The tree is built in a sibling temporary
 * directory and renamed into place, so DIR holds a complete render or the
 * previous one, never a mix; an existing non-empty DIR is replaced only with
 * `force`.
 */
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, writeSync, writevSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EsdcError, InternalError } from '../errors.js';
import type { DesiredNode } from '../desired/desired.js';
import { treeFiles, type TreeFile } from '../render/render-tree.js';

export interface WriteTreeResult {
  nodes: number;
  files: number;
  bytes: number;
}

export interface WriteTreeOptions {
  force: boolean;
  /** Called after each node is written, for progress. */
  onNode?: (node: string, index: number) => void;
  /**
   * Other nodes written into the same temporary directory at the same time,
   * by other threads (src/cli/render-threads.ts): started before this
   * thread writes its own nodes, awaited before the rename, so the tree is
   * still renamed into place whole or not at all. Each returns what it wrote.
   */
  alongside?: (tmp: string) => Promise<WriteTreeResult>[];
}

export async function writeRenderTree(
  outDir: string,
  nodes: Iterable<DesiredNode>,
  opts: WriteTreeOptions,
): Promise<WriteTreeResult> {
  return writeTree(outDir, renderNodeTrees(nodes), opts);
}

/** Each node's desired state as its directory of the render tree. */
export function renderNodeTrees(nodes: Iterable<DesiredNode>): Iterable<NodeTree> {
  return mapNodes(nodes, (d) => ({ node: d.node, files: treeFiles(d) }));
}

function* mapNodes<A, B>(items: Iterable<A>, fn: (a: A) => B): Generator<B> {
  for (const a of items) yield fn(a);
}

/** One node's directory of the tree: its files relative to `DIR/<node>/`. */
export interface NodeTree {
  node: string;
  files: readonly TreeFile[];
}

/** Writes any per-node tree (the SmartOS render, the Linux target) with the same all-or-nothing rename. */
export async function writeTree(
  outDir: string,
  nodes: Iterable<NodeTree>,
  opts: WriteTreeOptions,
): Promise<WriteTreeResult> {
  const existing = await dirState(outDir);
  if (existing === 'file') throw new EsdcError(`${outDir} exists and is not a directory`, { code: 'OutputNotDirectory' });
  if (existing === 'nonempty' && !opts.force) {
    throw new EsdcError(`${outDir} is not empty; pass --force to replace it with the new render`, { code: 'OutputNotEmpty' });
  }
  await mkdir(dirname(outDir), { recursive: true });
  const tmp = join(dirname(outDir), `.${basename(outDir)}.render-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { mode: 0o755 });
  const result: WriteTreeResult = { nodes: 0, files: 0, bytes: 0 };
  let others: Promise<WriteTreeResult>[] = [];
  try {
    try {
      others = opts.alongside?.(tmp) ?? [];
      writeNodes(tmp, nodes, opts, result);
    } finally {
      // Even when this thread failed, the others are waited for: none may still write into tmp once it is removed.
      const settled = await Promise.allSettled(others);
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      for (const s of settled) if (s.status === 'fulfilled') addResult(result, s.value);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (existing === 'nonempty') {
    const old = `${tmp}.old`;
    await rename(outDir, old);
    await rename(tmp, outDir);
    await rm(old, { recursive: true, force: true });
  } else {
    if (existing === 'empty') await rmdir(outDir);
    await rename(tmp, outDir);
  }
  return result;
}

function addResult(into: WriteTreeResult, part: WriteTreeResult): void {
  into.nodes += part.nodes;
  into.files += part.files;
  into.bytes += part.bytes;
}

/**
 * One part of a tree, written by a helper thread into the directory another
 * thread's writeTree made (`alongside`): the same writes, no directory checks
 * and no rename of its own.
 */
export function writeNodesInto(tmp: string, nodes: Iterable<NodeTree>): WriteTreeResult {
  const result: WriteTreeResult = { nodes: 0, files: 0, bytes: 0 };
  writeNodes(tmp, nodes, {}, result);
  return result;
}

/** Chunks are gathered up to this many characters per write call. */
const WRITE_CHUNK = 1 << 20;

/** Makes each missing directory under `base` once, parents first, as `cp -r` does. */
function dirMaker(base: string): (dir: string) => void {
  const made = new Set<string>([base]);
  const ensureDir = (dir: string): void => {
    if (made.has(dir)) return;
    // Every path is base/<node>/<relative path>; one that leaves base would be a bug upstream.
    if (!dir.startsWith(`${base}/`)) throw new InternalError(`render path ${dir} is outside ${base}`);
    ensureDir(dirname(dir));
    mkdirSync(dir, { mode: 0o755 });
    made.add(dir);
  };
  return ensureDir;
}

/**
 * Gives each file the exact mode its TreeFile says, whatever the umask.
 * open() creates a file with the asked mode less the umask (or, under a
 * default ACL, less the ACL's mask); an fchmod per file put the bits back
 * but was one more system call for every file of a render (~1,900 for 200
 * nodes, issue 20) that, under the usual umask 022 and modes 0644, 0755 and
 * 0600, changed nothing. So the first file opened with each mode is looked
 * at (fstat): when open() gave that mode exactly, later files with it, in
 * the same tree (made by this writer, so under the same umask and default
 * ACL), need no fchmod; otherwise every file with it gets one, as before.
 * Not process.umask(): reading it sets it twice, racing other threads.
 */
function modeSetter(): (fd: number, mode: number) => void {
  const exact = new Map<number, boolean>();
  return (fd, mode) => {
    let asked = exact.get(mode);
    if (asked === undefined) {
      asked = (fstatSync(fd).mode & 0o7777) === mode;
      exact.set(mode, asked);
    }
    if (!asked) fchmodSync(fd, mode);
  };
}

/**
 * Writes every node's files under `base`, one file after another, with
 * synchronous calls (docs/operations.md#render-writes). Why not asynchronous
 * ones awaited one by one: each open, write, chmod and close is then a
 * hand-off to libuv's thread pool and back, four or more per file; that left
 * the CPU idle 41 % of a 1,907-file render (issue 20), and with 8 files in
 * flight still 49 %. Nor writes handed to the pool without waiting (issue 20,
 * fifth pass): the main thread's CPU went down ~40 ms, the wall time did not.
 * Each file's text is made, written in chunks of at most WRITE_CHUNK and
 * dropped, so memory holds one file at a time.
 */
function writeNodes(base: string, nodes: Iterable<NodeTree>, opts: Pick<WriteTreeOptions, 'onNode'>, result: WriteTreeResult): void {
  const ensureDir = dirMaker(base);
  const setMode = modeSetter();
  let index = 0;
  for (const desired of nodes) {
    const nodeDir = join(base, desired.node);
    for (const file of desired.files) {
      const path = join(nodeDir, file.path);
      ensureDir(dirname(path));
      result.bytes += file.bytes ? writeBuffers(path, file.bytes(), file.mode, setMode) : writeChunks(path, file.content(), file.mode, setMode);
      result.files++;
    }
    result.nodes++;
    opts.onNode?.(desired.node, index++);
  }
}

function writeChunks(path: string, chunks: Iterable<string>, mode: number, setMode: (fd: number, mode: number) => void): number {
  const fd = openSync(path, 'wx', mode);
  let bytes = 0;
  try {
    let buf = '';
    for (const chunk of chunks) {
      buf += chunk;
      if (buf.length >= WRITE_CHUNK) {
        bytes += writeAll(fd, buf);
        buf = '';
      }
    }
    if (buf !== '') bytes += writeAll(fd, buf);
    setMode(fd, mode);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Buffers in one writev call: well under IOV_MAX (1024 on Linux and illumos). */
const IOV_BATCH = 512;

function writeBuffers(path: string, chunks: Iterable<Uint8Array>, mode: number, setMode: (fd: number, mode: number) => void): number {
  const fd = openSync(path, 'wx', mode);
  let bytes = 0;
  try {
    let batch: Uint8Array[] = [];
    for (const chunk of chunks) {
      batch.push(chunk);
      if (batch.length >= IOV_BATCH) {
        bytes += writevAll(fd, batch);
        batch = [];
      }
    }
    if (batch.length > 0) bytes += writevAll(fd, batch);
    setMode(fd, mode);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** writevSync may write less than asked; the rest follows. */
function writevAll(fd: number, buffers: Uint8Array[]): number {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  let done = writevSync(fd, buffers);
  while (done < total) {
    // Rare (a signal, a full disk): finish byte-exactly from where the kernel stopped.
    let skip = done;
    const rest: Uint8Array[] = [];
    for (const b of buffers) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    done += writevSync(fd, rest);
  }
  return total;
}

/**
 * writeSync may write less than asked; the rest follows. The text goes to
 * writeSync as a string: Node encodes it into memory of its own and frees it,
 * where a Buffer.from per chunk made 30 MB of short-lived external memory per
 * 200-node render for the collector to track (issue 20).
 */
function writeAll(fd: number, text: string): number {
  const total = Buffer.byteLength(text, 'utf8');
  const written = writeSync(fd, text, null, 'utf8');
  if (written < total) {
    // Rare (a signal, a full disk): finish byte-exactly from where the kernel stopped.
    const data = Buffer.from(text, 'utf8');
    let off = written;
    while (off < total) off += writeSync(fd, data, off, total - off);
  }
  return total;
}

async function dirState(dir: string): Promise<'absent' | 'empty' | 'nonempty' | 'file'> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return 'file';
    return (await readdir(dir)).length === 0 ? 'empty' : 'nonempty';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}
