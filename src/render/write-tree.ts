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
import type { DesiredNode } from '../desired/desired.js';
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
    let index = 0;
    for (const desired of nodes) {
      const base = join(tmp, desired.node);
      for (const file of desired.files) {
        const path = join(base, file.path);
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        result.bytes += await writeChunks(path, file.content(), file.mode);
        result.files++;
      }
      result.nodes++;
      opts.onNode?.(desired.node, index++);
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

async function writeChunks(path: string, chunks: Iterable<string>, mode: number): Promise<number> {
  const fh = await open(path, 'wx', mode);
  let bytes = 0;
  try {
    let buf = '';
    for (const chunk of chunks) {
      buf += chunk;
      if (buf.length >= 1 << 16) {
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
