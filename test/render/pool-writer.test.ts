/**
 * The render's writes on libuv's thread pool (src/io/pool-writer.ts,
 * src/io/write-tree.ts): the same bytes and modes as written one by one,
 * bounded memory, and on an error nothing left behind.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IN_FLIGHT_BYTES, IN_FLIGHT_FILES, PoolWriter } from '../../src/io/pool-writer.js';
import { writeTree, type NodeTree } from '../../src/io/write-tree.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'esdc-pool-writer-'));
  dirs.push(d);
  return d;
}

/** A deterministic byte pattern of `n` bytes, different for each `seed`. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

describe('PoolWriter', () => {
  it('writes text and buffer files with their exact bytes and modes, past both in-flight bounds', async () => {
    const dir = await tempDir();
    const w = new PoolWriter();
    // More files than IN_FLIGHT_FILES and more bytes than IN_FLIGHT_BYTES: room() must wait, not lose writes.
    const count = IN_FLIGHT_FILES + 40;
    const big = pattern(IN_FLIGHT_BYTES / 8, 1);
    const expected = new Map<string, { bytes: Buffer; mode: number }>();
    for (let i = 0; i < count; i++) {
      const path = join(dir, `f${i}`);
      const mode = i % 2 === 0 ? 0o400 : 0o644;
      if (i % 3 === 0) {
        // Slices of one buffer, as the ARP tables are written, in more pieces than one pwritev takes.
        const chunks = Array.from({ length: 600 }, (_, k) => big.subarray(k * 97, k * 97 + 50 + (k % 40)));
        if (i % 30 === 0) chunks.push(big);
        w.buffers(path, mode, chunks);
        expected.set(path, { bytes: Buffer.concat(chunks), mode });
      } else {
        const chunks = [`file ${i}\n`, 'é'.repeat(i * 50), '\u{1F600}\n', 'x'.repeat((i % 5) * 300_000)];
        w.text(path, mode, chunks);
        expected.set(path, { bytes: Buffer.from(chunks.join(''), 'utf8'), mode });
      }
      if (w.full) await w.room();
    }
    w.text(join(dir, 'empty'), 0o600, []);
    expected.set(join(dir, 'empty'), { bytes: Buffer.alloc(0), mode: 0o600 });
    await w.settle();
    expect((await readdir(dir)).length).toBe(count + 1);
    for (const [path, e] of expected) {
      expect((await readFile(path)).equals(e.bytes), path).toBe(true);
      expect((await stat(path)).mode & 0o777, path).toBe(e.mode);
    }
  });

  it('refuses a file that exists (exclusive create), at once', async () => {
    const dir = await tempDir();
    const w = new PoolWriter();
    w.text(join(dir, 'a'), 0o644, ['one']);
    expect(() => w.text(join(dir, 'a'), 0o644, ['two'])).toThrow(/EEXIST/);
    await w.settle();
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('one');
  });
});

describe('writeTree with pooled writes', () => {
  it('on an error while later nodes are made, waits for the writes in flight and leaves neither the tree nor its temporary directory', async () => {
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
