/**
 * The render tree's writer (src/io/write-tree.ts, docs/operations.md#render-writes):
 * the bytes and modes the nodes say, every node counted, and on an error
 * neither the tree nor its temporary directory left behind.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTree, type NodeTree } from '../../src/io/write-tree.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'esdc-write-tree-'));
  dirs.push(d);
  return d;
}

/** A deterministic byte pattern of `n` bytes, different for each `seed`. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

describe('writeTree', () => {
  it('on an error while later nodes are made, leaves neither the tree nor its temporary directory', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const big = pattern(8 << 20, 3);
    function* nodes(): Generator<NodeTree> {
      for (let i = 0; i < 6; i++) {
        yield { node: `n${i}`, files: [{ path: 'arp/table', mode: 0o644, content: () => [], bytes: () => [big, big] }] };
      }
      yield {
        node: 'bad',
        files: [
          {
            path: 'x',
            mode: 0o644,
            content: function* () {
              yield 'half';
              throw new Error('made up failure');
            },
          },
        ],
      };
    }
    await expect(writeTree(out, nodes(), { force: false })).rejects.toThrow('made up failure');
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes the same tree as the nodes say, every node counted', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const seen: string[] = [];
    const trees: NodeTree[] = Array.from({ length: 5 }, (_, i) => ({
      node: `n${i}`,
      files: [
        { path: 'a/b/c.txt', mode: 0o400, content: () => [`node ${i}\n`] },
        { path: 'a/d.bin', mode: 0o644, content: () => [], bytes: () => [pattern(1000 + i, i)] },
      ],
    }));
    const result = await writeTree(out, trees, { force: false, onNode: (n) => seen.push(n) });
    expect(result).toEqual({ nodes: 5, files: 10, bytes: trees.reduce((n, _, i) => n + `node ${i}\n`.length + 1000 + i, 0) });
    expect(seen).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect(await readFile(join(out, 'n3/a/b/c.txt'), 'utf8')).toBe('node 3\n');
    expect((await stat(join(out, 'n3/a/b/c.txt'))).mode & 0o777).toBe(0o400);
    expect((await readFile(join(out, 'n2/a/d.bin'))).equals(pattern(1002, 2))).toBe(true);
    expect(await readdir(dir)).toEqual(['out']);
  });
});
