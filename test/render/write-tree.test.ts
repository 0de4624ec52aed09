/**
 * The render tree's writer (src/io/write-tree.ts, docs/operations.md#render-writes):
 * the bytes and modes the nodes say, every node counted, and on an error
 * neither the tree nor its temporary directory left behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTree, type NodeTree } from '../../src/io/write-tree.js';
import { REPO } from '../support/paths.js';

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

  // The writer fchmods only files whose mode open() did not give as asked (issue 20): under any umask every
  // file has its exact mode, the first of each mode (looked at) and the later ones (trusted or fixed) alike.
  // Directories are made 0755 less the umask, as before. Each umask in a process of its own: it is process-wide.
  const MODES = [0o644, 0o600, 0o755, 0o400, 0o700, 0o640, 0o444];
  for (const umask of [0o022, 0o077, 0o027, 0o000]) {
    it(`gives every file its exact mode under umask ${umask.toString(8).padStart(3, '0')}`, async () => {
      const dir = await tempDir();
      const out = join(dir, 'out');
      const script = `
        process.umask(${umask});
        const { writeTree } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'src/io/write-tree.ts')).href)});
        const modes = ${JSON.stringify(MODES)};
        const nodes = Array.from({ length: 3 }, (_, n) => ({
          node: 'n' + n,
          files: modes.flatMap((mode, i) => [
            { path: 'text/f' + i, mode, content: () => ['text ' + i] },
            { path: 'bin/sub/f' + i, mode, content: () => [], bytes: () => [Buffer.from('bytes ' + i)] },
          ]),
        }));
        const r = await writeTree(${JSON.stringify(out)}, nodes, { force: false });
        console.log(JSON.stringify(r));
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ nodes: 3, files: 3 * 2 * MODES.length });
      const dirMode = 0o755 & ~umask;
      expect((await stat(out)).mode & 0o7777).toBe(dirMode);
      for (let n = 0; n < 3; n++) {
        for (const sub of ['text', 'bin', 'bin/sub']) expect((await stat(join(out, `n${n}`, sub))).mode & 0o7777).toBe(dirMode);
        for (const [i, mode] of MODES.entries()) {
          for (const [path, body] of [[`text/f${i}`, `text ${i}`], [`bin/sub/f${i}`, `bytes ${i}`]]) {
            const file = join(out, `n${n}`, path!);
            expect((await stat(file)).mode & 0o7777, `${file} under umask ${umask.toString(8)}`).toBe(mode);
            expect(await readFile(file, 'utf8')).toBe(body);
          }
        }
      }
    });
  }
});
