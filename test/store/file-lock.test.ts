/**
 * The state file lock (issue 15): an empty lock file, left by a crash between
 * create and write or by a full disk, is taken over once stale; and two
 * waiters over the lock of a holder killed with SIGKILL never both hold it
 * (real processes through the built module).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/store/file-lock.js';
import { REPO } from '../support/paths.js';

const MODULE = join(REPO, 'dist', 'src', 'store', 'file-lock.js');
const HOLDER = join(REPO, 'test', 'support', 'lock-holder.mjs');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an empty lock file', () => {
  it('is taken over once older than the stale limit, and waited for while young', async () => {
    const lock = join(dir, 'empty.lock');
    await writeFile(lock, '');
    await expect(withFileLock(lock, { timeoutMs: 200, staleEmptyMs: 5_000 }, async () => 'no')).rejects.toThrow(/locked by another process/);
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect(await withFileLock(lock, { timeoutMs: 200, staleEmptyMs: 5_000 }, async () => 'yes')).toBe('yes');
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock that is no longer ours (replaced under us) is left alone at release', async () => {
    const lock = join(dir, 'replaced.lock');
    await withFileLock(lock, { timeoutMs: 200 }, async () => {
      await writeFile(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', since: 'now', token: 'theirs' }));
    });
    expect(JSON.parse(await readFile(lock, 'utf8')).token).toBe('theirs');
  });
});

function start(args: string[]): { pid: number; stdout: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [HOLDER, MODULE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { pid: child.pid!, stdout: () => out, exit };
}

async function trial(n: number): Promise<string[]> {
  const lock = join(dir, `t${n}.lock`);
  const log = join(dir, `t${n}.log`);
  await writeFile(log, '');
  const stale = start([lock, log, '0', 'forever']);
  for (let i = 0; i < 400 && !stale.stdout().includes('held'); i++) await new Promise((r) => setTimeout(r, 25));
  expect(stale.stdout()).toContain('held');
  process.kill(stale.pid, 'SIGKILL');
  await stale.exit;
  const a = start([lock, log, '150', 'once']);
  const b = start([lock, log, '150', 'once']);
  const codes = await Promise.all([a.exit, b.exit]);
  expect(codes, a.stdout() + b.stdout()).toEqual([0, 0]);
  expect(existsSync(lock)).toBe(false);
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').slice(1);
}

describe('two waiters over a stale lock (holder killed with SIGKILL)', () => {
  it('never both hold it: 20 trials', async () => {
    const results: string[][] = [];
    for (let round = 0; round < 5; round++) results.push(...(await Promise.all([0, 1, 2, 3].map((i) => trial(round * 4 + i)))));
    for (const lines of results) {
      expect(lines).toHaveLength(4);
      const [e1, x1, e2, x2] = lines.map((l) => l.split(' '));
      expect([e1![0], x1![0], e2![0], x2![0]]).toEqual(['enter', 'exit', 'enter', 'exit']);
      expect(x1![1]).toBe(e1![1]);
      expect(x2![1]).toBe(e2![1]);
    }
  }, 120_000);
});
