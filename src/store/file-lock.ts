/**
 * An advisory lock beside the state file (`<state>.lock`) so two commands
 * never interleave their read-change-write. A lock left by a process that
 * died is taken over.
 *
 * Why this shape (issue 15): the lock used to be created empty with O_EXCL
 * and filled afterwards, so a crash or ENOSPC between the two left an empty
 * lock nobody ever took over; and two waiters could each judge a dead
 * holder's lock stale, each delete "it" (the second deleting the first's new
 * lock) and both go on holding. Now:
 *
 * - a lock is born whole: its contents are written to a unique temporary
 *   file, which is then link()ed to the lock's name (link fails with EEXIST
 *   if the name is taken, atomically), so a lock file is never seen half
 *   written by our own code;
 * - a stale lock (holder on this host and dead, or a file that holds no
 *   holder and is older than `staleEmptyMs`, left by an older version or a
 *   full disk) is removed only under a second, short-lived guard lock
 *   (`<lock>.takeover`, made the same way), after checking again under the
 *   guard that the file is still the same stale one (same inode): of two
 *   waiters, one removes it; the other finds the winner's live lock;
 * - a release removes the lock only if it still holds our token.
 *
 * Node has no flock(2) in its core, and a native module is not worth a lock
 * file; link() and rename() are atomic on every local POSIX filesystem.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { StoreError } from '../errors.js';

export interface LockOptions {
  /** How long to wait for another command to finish, in ms. */
  timeoutMs: number;
  pollMs?: number;
  /** A lock file that names no holder (empty, or not ours) counts as stale once older than this (default 10 s). */
  staleEmptyMs?: number;
}

export interface LockInfo {
  pid: number;
  host: string;
  since: string;
  /** Unique per acquisition: a release removes only its own lock. */
  token: string;
}

const DEFAULT_STALE_EMPTY_MS = 10_000;

export async function withFileLock<T>(lockPath: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const token = await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    await release(lockPath, token);
  }
}

export function newInfo(): LockInfo {
  return { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomBytes(12).toString('hex') };
}

/** Creates `path` holding `info`, whole, or returns false when it exists. */
export async function createWhole(path: string, info: LockInfo): Promise<boolean> {
  const tmp = `${path}.${info.pid}.${info.token}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(info), { mode: 0o600, flag: 'wx' });
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOSPC' ? 'no space left on the device' : e.message;
    throw new StoreError(`cannot create the lock ${path}: ${why}; nothing was changed`, { cause: err, code: 'LockFailed' });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function acquire(lockPath: string, opts: LockOptions): Promise<string> {
  const deadline = Date.now() + opts.timeoutMs;
  const info = newInfo();
  for (;;) {
    if (await createWhole(lockPath, info)) return info.token;
    const seen = await inspect(lockPath, opts);
    if (seen.stale) {
      await takeOver(lockPath, seen.ino, opts);
      continue;
    }
    if (seen.gone) continue;
    if (Date.now() >= deadline) {
      throw new StoreError(`the state is locked by ${describeHolder(seen.holder)} (${lockPath}); try again when it has finished`, {
        code: 'StateLocked',
      });
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 50));
  }
}

/** Who holds a lock, for messages. */
export function describeHolder(h: LockInfo | undefined): string {
  return h ? `process ${h.pid} on ${h.host} since ${h.since}` : 'another process';
}

export interface Seen {
  gone: boolean;
  stale: boolean;
  ino: number;
  holder: LockInfo | undefined;
}

/** What is at `path` now, and whether it may be taken over. */
export async function inspect(path: string, opts: LockOptions): Promise<Seen> {
  let ino: number;
  let mtimeMs: number;
  let text: string;
  try {
    ({ ino, mtimeMs } = await stat(path));
    text = await readFile(path, 'utf8');
  } catch {
    return { gone: true, stale: false, ino: -1, holder: undefined };
  }
  const holder = parseHolder(text);
  const stale = holder
    ? holder.host === hostname() && !isAlive(holder.pid)
    : Date.now() - mtimeMs > (opts.staleEmptyMs ?? DEFAULT_STALE_EMPTY_MS);
  return { gone: false, stale, ino, holder };
}

/**
 * Removes the stale lock `ino` at `lockPath`, if it is still there, under the
 * takeover guard; returns without waiting when another waiter holds the guard.
 */
export async function takeOver(lockPath: string, ino: number, opts: LockOptions): Promise<void> {
  const guard = `${lockPath}.takeover`;
  const info = newInfo();
  if (!(await createWhole(guard, info))) {
    // Held for microseconds by a live waiter; a guard whose holder died is removed like a stale lock.
    const g = await inspect(guard, opts);
    if (g.stale) await unlinkIfSame(guard, g.ino);
    await new Promise((r) => setTimeout(r, 5));
    return;
  }
  try {
    const now = await inspect(lockPath, opts);
    if (!now.gone && now.stale && now.ino === ino) await unlinkIfSame(lockPath, ino);
  } finally {
    await release(guard, info.token);
  }
}

async function unlinkIfSame(path: string, ino: number): Promise<void> {
  try {
    if ((await stat(path)).ino === ino) await unlink(path);
  } catch {
    // Already gone.
  }
}

/** Removes the lock only if it is still ours. */
export async function release(lockPath: string, token: string): Promise<void> {
  try {
    if (parseHolder(await readFile(lockPath, 'utf8'))?.token === token) await unlink(lockPath);
  } catch {
    // Gone already.
  }
}

export function parseHolder(text: string): LockInfo | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockInfo>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '?'), token: String(parsed.token ?? '') };
    }
  } catch {
    // Empty, or not a lock of ours.
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
