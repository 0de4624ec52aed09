/**
 * `render --out DIR` (docs/operations.md#render): per node, the /usbkey/config lines and
 * the dladm steps, matching reviewed golden files; byte-identical on a
 * second run; never written over a non-empty directory without --force.
 */
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBuiltCli, runCli } from '../support/cli.js';
import { BUNDLE, EXAMPLE, FIXTURES, REPO } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';

const GOLDEN = join(FIXTURES, 'render', 'two-sites');

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

/** Every file of a tree with its mode and bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await walk(dir)) {
    out[relative(dir, f)] = `${((await stat(f)).mode & 0o777).toString(8)} ${(await readFile(f)).toString('base64')}`;
  }
  return out;
}

describe('render of the example', () => {
  it('writes each node\'s rule lines and overlay steps as reviewed', async () => {
    const out = join(await tempDir(), 'out');
    const r = await runCli(['--state', EXAMPLE, 'render', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^rendered 5 node\(s\), \d+ files, \d+ bytes into /);
    for (const golden of await walk(GOLDEN)) {
      const rel = relative(GOLDEN, golden);
      expect(await readFile(join(out, rel), 'utf8'), rel).toBe(await readFile(golden, 'utf8'));
    }
    expect((await readdir(out)).sort()).toEqual([
      'cn01.prg.example.com',
      'cn02.prg.example.com',
      'cn03.brn.example.com',
      'cn04.brn.example.com',
      'cn05.ams.example.com',
    ]);
  });

  it('gives identical bytes and modes on a second run, also from the built CLI under plain node', async () => {
    // With its IPsec keys stored (keys generate): a render never invents what the state holds.
    const dir = await tempDir();
    const state = join(dir, 'state.yaml');
    await copyFile(join(FIXTURES, 'ipsec', 'two-sites-keys.yaml'), state);
    await chmod(state, 0o600);
    const a = runBuiltCli(['--state', state, 'render', '--out', join(dir, 'a')]);
    expect(a.status, a.stderr).toBe(0);
    const b = await runCli(['--state', state, 'render', '--out', join(dir, 'b')]);
    expect(b.status).toBe(0);
    expect(await snapshot(join(dir, 'a'))).toEqual(await snapshot(join(dir, 'b')));
  });

  it('gives the same tree from the parse cache (a miss, then a hit) as without it (docs/operations.md#the-parse-cache)', async () => {
    const dir = await tempDir();
    const state = join(dir, 'state.yaml');
    await copyFile(join(FIXTURES, 'ipsec', 'two-sites-keys.yaml'), state);
    await chmod(state, 0o600);
    const cache = join(dir, 'cache');
    const plain = runBuiltCli(['--state', state, 'render', '--out', join(dir, 'plain')]);
    expect(plain.status, plain.stderr).toBe(0);
    for (const out of ['miss', 'hit']) {
      const r = runBuiltCli(['--state', state, 'render', '--out', join(dir, out)], { ESDC_OVERLAY_PARSE_CACHE: cache });
      expect(r.status, r.stderr).toBe(0);
      expect(await snapshot(join(dir, out))).toEqual(await snapshot(join(dir, 'plain')));
    }
    const entries = await readdir(cache);
    expect(entries).toHaveLength(1);
    expect((await stat(join(cache, entries[0]!))).mode & 0o777).toBe(0o600);
    expect((await stat(cache)).mode & 0o777).toBe(0o700);
  });

  // Runs both builds itself: once is enough (not again in the bundle projects).
  it.skipIf(process.env.ESDC_OVERLAY_CLI_ENTRY !== undefined)('keeps an entry per build: the dist tree and the one-file bundle never serve each other (docs/operations.md#the-parse-cache)', async () => {
    const dir = await tempDir();
    const state = join(dir, 'state.yaml');
    await copyFile(join(FIXTURES, 'ipsec', 'two-sites-keys.yaml'), state);
    await chmod(state, 0o600);
    const cache = join(dir, 'cache');
    const builds = [join(REPO, 'dist', 'esdc-overlay.js'), BUNDLE];
    const render = (entry: string, out: string): void => {
      const r = spawnSync(process.execPath, [entry, '--state', state, 'render', '--out', join(dir, out)], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ESDC_OVERLAY_PARSE_CACHE: cache },
      });
      expect(r.status, r.stderr).toBe(0);
    };
    render(builds[0]!, 'dist-1');
    const afterFirst = await readdir(cache);
    expect(afterFirst).toHaveLength(1);
    render(builds[1]!, 'bundle-1');
    const both = (await readdir(cache)).sort();
    // Same state, same hash: the entries differ only by the build's tag.
    expect(both).toHaveLength(2);
    expect(new Set(both.map((n) => n.split('.')[0])).size).toBe(1);
    // Each build again: each finds its own entry, neither replaces the other's.
    const mtimes = async (): Promise<number[]> => Promise.all(both.map(async (n) => (await stat(join(cache, n))).mtimeMs));
    const before = await mtimes();
    render(builds[0]!, 'dist-2');
    render(builds[1]!, 'bundle-2');
    expect((await readdir(cache)).sort()).toEqual(both);
    expect(await mtimes()).toEqual(before);
    expect(await snapshot(join(dir, 'bundle-2'))).toEqual(await snapshot(join(dir, 'dist-1')));
  });

  it('without stored keys, only the key files differ between renders, and a warning says so', async () => {
    const dir = await tempDir();
    const a = await runCli(['--state', EXAMPLE, 'render', '--out', join(dir, 'a')]);
    const b = await runCli(['--state', EXAMPLE, 'render', '--out', join(dir, 'b')]);
    expect(a.stderr).toContain('keys generate');
    const [sa, sb] = [await snapshot(join(dir, 'a')), await snapshot(join(dir, 'b'))];
    const differing = Object.keys(sa).filter((f) => sa[f] !== sb[f]);
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.every((f) => f.endsWith('opt/custom/etc/ipsec/ike.preshared'))).toBe(true);
  });

  it('without stored keys but with the same --key-secret, two renders are byte-identical, for both targets', async () => {
    const dir = await tempDir();
    const secret = join(dir, 'secret');
    await writeFile(secret, Buffer.alloc(64, 0x5a), { mode: 0o600 });
    const other = join(dir, 'other');
    await writeFile(other, Buffer.alloc(64, 0xa5), { mode: 0o600 });
    for (const target of ['smartos', 'linux']) {
      const render = (out: string, file: string): Promise<{ status: number; stderr: string }> =>
        runCli(['--state', EXAMPLE, 'render', '--target', target, '--key-secret', file, '--out', join(dir, target, out)]);
      for (const [out, file] of [['a', secret], ['b', secret], ['c', other]] as const) expect((await render(out, file)).status).toBe(0);
      const [sa, sb, sc] = await Promise.all(['a', 'b', 'c'].map((o) => snapshot(join(dir, target, o))));
      expect(sb, target).toEqual(sa);
      // Another secret, other keys: the secret is what the keys come from.
      expect(Object.keys(sa!).filter((f) => sa![f] !== sc![f]).length, target).toBeGreaterThan(0);
    }
  });

  it('--key-secret refuses a file others can read, or one too short, and writes nothing', async () => {
    const dir = await tempDir();
    const open = join(dir, 'open');
    await writeFile(open, Buffer.alloc(64, 1), { mode: 0o644 });
    const short = join(dir, 'short');
    await writeFile(short, 'tiny-secret-value', { mode: 0o600 });
    const exposed = await runCli(['--state', EXAMPLE, 'render', '--key-secret', open, '--out', join(dir, 'o1')]);
    expect(exposed.status).toBe(1);
    expect(exposed.stderr).toContain(`--key-secret ${open} is readable by others (mode 0644)`);
    const tooShort = await runCli(['--state', EXAMPLE, 'render', '--key-secret', short, '--out', join(dir, 'o2')]);
    expect(tooShort.status).toBe(64);
    expect(tooShort.stderr).toContain('holds 17 byte(s); at least 32 are needed');
    expect(tooShort.stderr).not.toContain('tiny-secret-value');
    const missing = await runCli(['--state', EXAMPLE, 'render', '--key-secret', join(dir, 'none'), '--out', join(dir, 'o3')]);
    expect(missing.status).toBe(64);
    expect(missing.stderr).toContain('ENOENT');
    expect((await readdir(dir)).sort()).toEqual(['open', 'short']);
  });

  it('a node that has no VM NIC on a rule gets no overlay link for it', async () => {
    const out = join(await tempDir(), 'out');
    await runCli(['--state', EXAMPLE, 'render', '--out', out]);
    const cn04 = await readFile(join(out, 'cn04.brn.example.com', 'commands.sh'), 'utf8');
    expect(cn04).toContain(' -v 2 adminoverlay2\n');
    expect(cn04).not.toContain('customers1000');
    const cn02 = await readFile(join(out, 'cn02.prg.example.com', 'usbkey', 'config.overlay'), 'utf8');
    expect(cn02).not.toContain('overlay_rule_lab=');
  });
});

describe('the output directory', () => {
  it('is not overwritten when it holds anything, unless --force replaces it whole', async () => {
    const out = join(await tempDir(), 'out');
    await mkdir(out);
    await writeFile(join(out, 'precious.txt'), 'keep me');
    const refused = await runCli(['--state', EXAMPLE, 'render', '--out', out]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is not empty; pass --force');
    expect(await readFile(join(out, 'precious.txt'), 'utf8')).toBe('keep me');
    const forced = await runCli(['--state', EXAMPLE, 'render', '--out', out, '--force']);
    expect(forced.status).toBe(0);
    expect(await readdir(out)).not.toContain('precious.txt');
  });

  it('--nodes renders a subset; an unknown node is refused (exit 1, like every unknown name)', async () => {
    const out = join(await tempDir(), 'out');
    const r = await runCli(['--state', EXAMPLE, 'render', '--out', out, '--nodes', 'cn05.ams.example.com']);
    expect(r.status).toBe(0);
    expect(await readdir(out)).toEqual(['cn05.ams.example.com']);
    const bad = await runCli(['--state', EXAMPLE, 'render', '--out', join(out, 'x'), '--nodes', 'cn99.example.com']);
    expect(bad.status).toBe(1);
  });
});
