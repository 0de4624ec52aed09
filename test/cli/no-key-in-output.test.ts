/**
 * Secrets never reach a terminal or a log: every command runs with pino at
 * trace level, and nothing it prints on stdout or stderr (text or --json)
 * may contain a pre-shared key — stored, rotated, or made up by a render.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, run } from '../../src/cli/program.js';
import { packageRoot } from '../../src/paths.js';
import { captureIo, FIXTURES } from '../ipsec/helpers.js';

const HEX_KEY = /[0-9a-f]{256}/g;

/** Every key in a state file or a rendered ike.preshared. */
function keysIn(text: string): string[] {
  return text.match(HEX_KEY) ?? [];
}

function renderedKeys(dir: string): string[] {
  const out: string[] = [];
  for (const node of readdirSync(dir)) out.push(...keysIn(readFileSync(join(dir, node, 'opt/custom/etc/ipsec/ike.preshared'), 'utf8')));
  return out;
}

/** `a b c` for every command and subcommand of the program. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('no key in the output of any command, at log level trace', () => {
  let dir: string;
  let state: string;
  let bare: string;
  const seenKeys = new Set<string>();
  const transcripts: Array<{ argv: string[]; status: number; out: string; err: string }> = [];
  const ran = new Set<string>();

  const remember = (texts: string[]): void => texts.forEach((k) => seenKeys.add(k));

  async function cli(...argv: string[]): Promise<number> {
    const io = captureIo({});
    const full = [...argv, '--log-level', 'trace', '--log-format', 'json'];
    const status = await run(full, io);
    transcripts.push({ argv: full, status, out: io.out(), err: io.err() });
    // Key commands change the state: collect every key it ever held.
    for (const f of [state, bare]) remember(keysIn(readFileSync(f, 'utf8')));
    const path = argv.filter((a) => /^[a-z][a-z-]*$/.test(a));
    for (let i = 1; i <= path.length; i++) ran.add(path.slice(0, i).join(' '));
    return status;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-keys-'));
    state = join(dir, 'state.yaml');
    bare = join(dir, 'bare.yaml');
    copyFileSync(join(FIXTURES, 'ipsec', 'two-sites-keys.yaml'), state);
    chmodSync(state, 0o600); // a state holding keys must not be readable by others
    copyFileSync(join(packageRoot(), 'examples', 'two-sites.yaml'), bare);
    remember(keysIn(readFileSync(state, 'utf8')));
    const S = ['--state', state];
    const J = '--json';

    expect(await cli('validate', ...S)).toBe(0);
    expect(await cli('validate', ...S, J)).toBe(0);
    expect(await cli('list', ...S)).toBe(0);
    expect(await cli('list', ...S, J)).toBe(0);
    expect(await cli('create', 'extra', 'cn01.prg.example.com,cn05.ams.example.com', '--port', '4800', ...S)).toBe(0);
    expect(await cli('update', 'extra', 'all', ...S, J)).toBe(0);
    expect(await cli('delete', 'extra', '--yes', ...S)).toBe(0);
    expect(await cli('render', '--out', join(dir, 'r1'), ...S)).toBe(0);
    remember(renderedKeys(join(dir, 'r1')));
    expect(await cli('render', '--out', join(dir, 'r1'), ...S, J)).not.toBe(0); // not empty: an error path
    expect(await cli('keys', 'list', ...S)).toBe(0);
    expect(await cli('keys', 'list', ...S, J)).toBe(0);
    expect(await cli('keys', 'generate', ...S)).toBe(0);
    expect(await cli('keys', 'rotate', '--all', '--yes', ...S)).toBe(0);
    expect(await cli('keys', 'rotate', '--pair', 'cn05.ams.example.com,cn01.prg.example.com', '--yes', ...S, J)).toBe(0);
    expect(await cli('keys', 'rotate', '--pair', 'cn01.prg.example.com,cn02.prg.example.com', '--yes', ...S)).toBe(1);
    expect(await cli('keys', 'rotate', '--all', ...S)).toBe(1); // not confirmed, no terminal
    expect(await cli('render', '--out', join(dir, 'r2'), ...S, J)).toBe(0);
    remember(renderedKeys(join(dir, 'r2')));
    expect(await cli('globally-disable-firewall', '--yes', ...S)).toBe(0);
    expect(await cli('globally-enable-firewall', '--yes', ...S, J)).toBe(0);
    expect(await cli('globally-enable-firewall', '', '--yes', ...S)).toBe(1);
    expect(await cli('globally-update-firewall', '192.0.2.10,198.51.100.0/24', '--yes', ...S)).toBe(0);
    expect(await cli('globally-update-firewall', ...S, J)).toBe(0);
    // A state without keys: the render makes keys up; they must not show either.
    expect(await cli('render', '--out', join(dir, 'r3'), '--state', bare)).toBe(0);
    remember(renderedKeys(join(dir, 'r3')));
    expect(await cli('render', '--out', join(dir, 'r4'), '--state', bare, J)).toBe(0);
    remember(renderedKeys(join(dir, 'r4')));
    expect(await cli('keys', 'generate', '--state', bare, J)).toBe(0);
    expect(await cli('keys', 'rotate', '--all', '--yes', '--state', bare)).toBe(0);
    // Every command, including ones added later, at least shows its help.
    for (const path of commandPaths(await buildProgram(captureIo()))) {
      await cli(...path, '--help', ...S);
    }
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ran every command of the program', async () => {
    const all = commandPaths(await buildProgram(captureIo())).map((p) => p.join(' '));
    expect(all).toEqual(expect.arrayContaining(['keys generate', 'keys list', 'keys rotate', 'globally-enable-firewall', 'globally-disable-firewall', 'globally-update-firewall']));
    for (const c of all) expect(ran, c).toContain(c);
  });

  it('saw many distinct keys, and logging was on', () => {
    // 8 stored, 8 rotated by --all, 1 by --pair; 8 + 8 render-only; 8 generated + 8 rotated in bare.
    expect(seenKeys.size).toBeGreaterThanOrEqual(40);
    const logLines = transcripts.flatMap((t) => t.err.split('\n')).filter((l) => l.startsWith('{"level":'));
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.some((l) => l.includes('"level":30'))).toBe(true);
    expect(logLines.some((l) => l.includes('"path":"ipsec.psk"'))).toBe(true); // the render-only warning
  });

  it('printed none of them on stdout or stderr', () => {
    for (const t of transcripts) {
      for (const key of seenKeys) {
        expect(t.out.includes(key), `stdout of ${t.argv.join(' ')}`).toBe(false);
        expect(t.err.includes(key), `stderr of ${t.argv.join(' ')}`).toBe(false);
        // Not even a long piece of one.
        expect(t.out.includes(key.slice(64, 128)) || t.err.includes(key.slice(64, 128))).toBe(false);
      }
      expect(`${t.out}${t.err}`).not.toMatch(/[0-9a-f]{64}/);
    }
  });
});

describe('the built CLI (node dist/esdc-overlay.js) prints no key at trace level', () => {
  const root = packageRoot();
  const entry = join(root, 'dist', 'esdc-overlay.js');

  /** Builds dist/ when it is missing or older than a source file, so the test runs the code under test. */
  function ensureBuilt(): void {
    const newest = (d: string): number =>
      readdirSync(d, { withFileTypes: true }).reduce((m, e) => {
        const p = join(d, e.name);
        return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
      }, 0);
    let built = 0;
    try {
      built = statSync(entry).mtimeMs;
    } catch {
      built = 0;
    }
    if (built < Math.max(newest(join(root, 'src')), statSync(join(root, 'esdc-overlay.ts')).mtimeMs)) {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
    }
  }

  it('keys rotate --all, keys list --json and render', () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'esdc-keys-cli-'));
    try {
      const state = join(dir, 'state.yaml');
      copyFileSync(join(FIXTURES, 'ipsec', 'two-sites-keys.yaml'), state);
      chmodSync(state, 0o600); // a state holding keys must not be readable by others
      const before = keysIn(readFileSync(state, 'utf8'));
      const runs = [
        ['keys', 'rotate', '--all', '--yes'],
        ['keys', 'list', '--json'],
        ['render', '--out', join(dir, 'out')],
      ].map((argv) => spawnSync(process.execPath, [entry, ...argv, '--state', state, '--log-level', 'trace', '--log-format', 'json'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }));
      for (const r of runs) expect(r.status, r.stderr).toBe(0);
      const after = keysIn(readFileSync(state, 'utf8'));
      expect(after).toHaveLength(8);
      for (const k of after) expect(before).not.toContain(k);
      const all = [...before, ...after, ...renderedKeys(join(dir, 'out'))];
      for (const r of runs) {
        for (const k of all) {
          expect(r.stdout.includes(k)).toBe(false);
          expect(r.stderr.includes(k)).toBe(false);
        }
      }
      expect(runs[0]!.stderr).toMatch(/"level":30.*keys rotated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
