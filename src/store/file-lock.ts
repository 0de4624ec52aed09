/**
 * An advisory lock beside the state file (`<state>.lock`, created with
 * O_EXCL) so two commands never interleave their read-change-write. A lock
 * left by a process that died is taken over.
 */
import { hostname } from 'node:os';
import { open, readFile, unlink } from 'node:fs/promises';
import { StoreError } from '../errors.js';

export interface LockOptions {
  /** How long to wait for another command to finish, in ms. */
  timeoutMs: number;
  pollMs?: number;
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

export async function withFileLock<T>(lockPath: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(lockPath: string, opts: LockOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      await fh.writeFile(JSON.stringify(info));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`cannot create the lock ${lockPath}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = await readHolder(lockPath);
    if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
      await unlink(lockPath).catch(() => undefined); // left by a process that died
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `process ${holder.pid} on ${holder.host} since ${holder.since}` : 'another process';
      throw new StoreError(`the state is locked by ${who} (${lockPath}); try again when it has finished`, {
        code: 'StateLocked',
      });
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 50));
  }
}

async function readHolder(lockPath: string): Promise<LockInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '?') };
    }
  } catch {
    // Being written right now, or gone: treat as held and poll again.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
