/**
 * Writes the render tree to disk. The tree is built in a sibling temporary
 * directory and renamed into place, so DIR holds a complete render or the
 * previous one, never a mix; an existing non-empty DIR is replaced only with
 * `force`.
 */
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EsdcError } from '../errors.js';
import type { DesiredNode } from '../plan/desired.js';
import { treeFiles, type TreeFile } from './render-tree.js';

export interface WriteTreeResult {
  nodes: number;
  files: number;
  bytes: number;
}

export interface WriteTreeOptions {
  force: boolean;
  /** Called after each node is written, for progress. */
  onNode?: (node: string, index: number) => void;
}

export async function writeRenderTree(
  outDir: string,
  nodes: Iterable<DesiredNode>,
  opts: WriteTreeOptions,
): Promise<WriteTreeResult> {
  return writeTree(outDir, mapNodes(nodes, (d) => ({ node: d.node, files: treeFiles(d) })), opts);
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
  try {
    await writeNodes(tmp, nodes, opts, result);
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

/**
 * Files in flight at once. Writing them one by one left the CPU idle for
 * 41 % of a large render (bench/RESULTS.md, issue 20): each write waited for
 * the thread pool before the next file's text was made. A few files in flight
 * keep the pool's four threads busy while the main thread makes the next
 * text; each holds at most one file's text, so memory stays bounded.
 */
export const FILES_IN_FLIGHT = 8;

/** Chunks are gathered up to this many characters per write call. */
const WRITE_CHUNK = 1 << 20;

/**
 * Writes every node's files under `base` with at most FILES_IN_FLIGHT files
 * open at once. The first failure stops new writes; it is thrown once the
 * ones in flight have settled, so the caller can remove the directory.
 */
async function writeNodes(base: string, nodes: Iterable<NodeTree>, opts: WriteTreeOptions, result: WriteTreeResult): Promise<void> {
  const dirs = new Map<string, Promise<unknown>>();
  const ensureDir = (dir: string): Promise<unknown> => {
    let made = dirs.get(dir);
    if (made === undefined) {
      made = mkdir(dir, { recursive: true, mode: 0o755 });
      dirs.set(dir, made);
    }
    return made;
  };
  const inFlight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  const track = (p: Promise<void>): void => {
    const settled = p.then(
      () => {
        inFlight.delete(settled);
      },
      (err: unknown) => {
        inFlight.delete(settled);
        failure ??= { err };
      },
    );
    inFlight.add(settled);
  };
  const nodesDone: Promise<void>[] = [];
  let index = 0;
  for (const desired of nodes) {
    if (failure) break;
    const nodeDir = join(base, desired.node);
    const writes: Promise<void>[] = [];
    for (const file of desired.files) {
      while (inFlight.size >= FILES_IN_FLIGHT && !failure) await Promise.race(inFlight);
      if (failure) break;
      const path = join(nodeDir, file.path);
      const write = ensureDir(dirname(path)).then(() => writeChunks(path, file.content(), file.mode)).then((bytes) => {
        result.bytes += bytes;
        result.files++;
      });
      writes.push(write);
      track(write);
    }
    const i = index++;
    nodesDone.push(
      Promise.all(writes).then(() => {
        result.nodes++;
        opts.onNode?.(desired.node, i);
      }),
    );
  }
  await Promise.allSettled([...inFlight, ...nodesDone]);
  if (failure) throw failure.err;
}

async function writeChunks(path: string, chunks: Iterable<string>, mode: number): Promise<number> {
  const fh = await open(path, 'wx', mode);
  let bytes = 0;
  try {
    let buf = '';
    for (const chunk of chunks) {
      buf += chunk;
      if (buf.length >= WRITE_CHUNK) {
        bytes += (await fh.write(buf)).bytesWritten;
        buf = '';
      }
    }
    if (buf !== '') bytes += (await fh.write(buf)).bytesWritten;
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
  return bytes;
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
