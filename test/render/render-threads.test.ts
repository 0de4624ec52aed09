/**
 * `render --threads N` (docs/operations.md#render-threads): the tree a render split over
 * worker threads writes is the one a single thread writes, byte for byte and
 * mode for mode, with the same warnings; without --key-secret both ends of a
 * pair rendered by different threads still get one key. Runs the built CLI
 * (dist/): the workers are its JavaScript modules.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateInstallation, serialize } from '../../bench/generate-installation.js';
import { splitNodes } from '../../src/cli/render-threads.js';
import { REPO } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';

const DIST_CLI = join(REPO, 'dist', 'esdc-overlay.js');

function render(argv: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [DIST_CLI, ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out.sort();
}

/** Every entry of a tree with its mode, and each file's bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of await walk(dir)) {
    const st = await stat(p);
    const mode = (st.mode & 0o7777).toString(8);
    out.set(relative(dir, p), st.isDirectory() ? `dir ${mode}` : `${mode} ${(await readFile(p)).toString('base64')}`);
  }
  return out;
}

/** 70 nodes over 3 PDCs, with a few NICs per node. */
async function state(dir: string): Promise<string> {
  const path = join(dir, 'state.yaml');
  await writeFile(path, serialize(generateInstallation({ nodes: 70, pdcs: 3, rules: 3, nics: 700, seed: 3 }), path), { mode: 0o600 });
  return path;
}

describe('splitNodes', () => {
  it('cuts the names into consecutive parts, the main thread\'s 1.3 times an even share, the rest even', () => {
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
    expect(splitNodes(names, 1)).toEqual([names]);
    expect(splitNodes(names, 2)).toEqual([names.slice(0, 13), names.slice(13)]);
    expect(splitNodes(names, 4)).toEqual([names.slice(0, 7), names.slice(7, 11), names.slice(11, 15), names.slice(15)]);
    expect(splitNodes(names.slice(0, 2), 4)).toEqual([['n0'], ['n1']]);
    expect(splitNodes(['n0'], 2)).toEqual([['n0']]);
  });
});

describe('render split over threads', () => {
  it('writes the same tree, modes and warnings as one thread (the default), with --threads 2, 3 or 8', async () => {
    const dir = await tempDir();
    const path = await state(dir);
    const secret = join(dir, 'key-secret');
    await writeFile(secret, Buffer.alloc(64, 0x5a), { mode: 0o600 });
    const one = render(['--state', path, '--json', 'render', '--key-secret', secret, '--threads', '1', '--out', join(dir, 'one')]);
    expect(one.status, one.stderr).toBe(0);
    const reference = await snapshot(join(dir, 'one'));
    expect(reference.size).toBeGreaterThan(70 * 5);
    for (const threads of [undefined, '2', '3', '8']) {
      const out = join(dir, `t${threads ?? 'default'}`);
      const r = render(['--state', path, '--json', 'render', '--key-secret', secret, ...(threads ? ['--threads', threads] : []), '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      const tree = await snapshot(out);
      expect([...tree.keys()], `threads ${threads}`).toEqual([...reference.keys()]);
      for (const [rel, entry] of reference) expect(tree.get(rel), `${rel}, threads ${threads}`).toBe(entry);
      expect(JSON.parse(r.stdout.replace(out, join(dir, 'one')))).toEqual(JSON.parse(one.stdout));
    }
  });

  it('without --key-secret, a pair whose ends are rendered by different threads has one key', async () => {
    const dir = await tempDir();
    const path = await state(dir);
    const out = join(dir, 'out');
    const r = render(['--state', path, 'render', '--threads', '2', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const nodes = (await readdir(out)).sort();
    // The first node (main thread) and one of the last (the worker's), in another PDC.
    const pdc = (n: string): string => n.split('.')[1]!;
    const a = nodes[0]!;
    const b = nodes.findLast((n) => pdc(n) !== pdc(a))!;
    expect(nodes.indexOf(b)).toBeGreaterThan(nodes.length * 0.9);
    const keyFor = async (node: string, peer: string): Promise<string> => {
      const text = await readFile(join(out, node, 'opt/custom/etc/ipsec/ike.preshared'), 'utf8');
      const block = text.split('\n# ').find((s) => s.startsWith(`${node} <-> ${peer}\n`));
      expect(block, `${node} lists ${peer}`).toBeDefined();
      return /key "([0-9a-f]+)"/.exec(block!)![1]!;
    };
    expect(await keyFor(a, b)).toBe(await keyFor(b, a));
  });

  it('refuses a --threads that is not a whole number from 1 to 64, and writes nothing', async () => {
    const dir = await tempDir();
    const path = await state(dir);
    for (const bad of ['0', '1.5', 'two', '65']) {
      const r = render(['--state', path, 'render', '--threads', bad, '--out', join(dir, 'out')]);
      expect(r.status, bad).toBe(64);
      expect(r.stderr).toContain('--threads must be a whole number from 1 to 64');
    }
    expect(await readdir(dir)).toEqual(['state.yaml']);
  });
});
