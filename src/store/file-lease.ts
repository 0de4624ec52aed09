/**
 * The daemon's lease on a state file: `<state>.daemon.lock`, made and taken
 * over exactly like the write lock beside it (src/store/file-lock.ts: born
 * whole by link(), a dead holder on this host taken over under a guard), but
 * held for the daemon's whole life instead of one command's
 * (docs/daemon.md#one-daemon).
 *
 * A file lease cannot vanish by itself the way a ZooKeeper session does; it
 * is lost only when someone removes or replaces the file (an operator, or a
 * takeover that judged us dead: only possible from another PID namespace on
 * the same hostname). The holder reads it back every `checkMs` and before
 * every batch, and steps down when it is no longer its own.
 */
import { readFile } from 'node:fs/promises';
import { StoreError } from '../errors.js';
import { createWhole, describeHolder, inspect, newInfo, parseHolder, release, takeOver } from './file-lock.js';
import type { LeadOptions, Lease } from './store.js';

export interface FileLeaseOptions extends LeadOptions {
  /** How often a waiter looks again (default 1000 ms). */
  pollMs?: number;
  /** How often the holder checks the file is still its own (default 5000 ms). */
  checkMs?: number;
}

/** Waits for the lease at `path`; undefined when aborted first. */
export async function leadByFile(path: string, opts: FileLeaseOptions): Promise<Lease | undefined> {
  const info = newInfo();
  const lockOpts = { timeoutMs: 0 };
  let told: string | undefined;
  while (!opts.signal.aborted) {
    if (await createWhole(path, info)) return heldFileLease(path, info.token, opts.checkMs ?? 5000);
    const seen = await inspect(path, lockOpts);
    if (seen.stale) {
      await takeOver(path, seen.ino, lockOpts);
      continue;
    }
    if (seen.gone) continue;
    const holder = describeHolder(seen.holder);
    if (holder !== told) opts.onWait((told = holder));
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
  return undefined;
}

function heldFileLease(path: string, token: string, checkMs: number): Lease {
  let released = false;
  let markLost!: (why: string) => void;
  const lost = new Promise<string>((r) => (markLost = r));
  /** Why the lease is not ours any more, or undefined while it is. */
  const why = async (): Promise<string | undefined> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return `the lease file ${path} was removed`;
    }
    const h = parseHolder(text);
    return h?.token === token ? undefined : `the lease file ${path} now names ${describeHolder(h)}`;
  };
  const timer = setInterval(() => {
    void why().then((w) => {
      if (w === undefined || released) return;
      clearInterval(timer);
      markLost(w);
    });
  }, checkMs);
  timer.unref();
  return {
    lost,
    async assertHeld(): Promise<void> {
      const w = await why();
      if (w !== undefined) throw new StoreError(`${w}; this daemon is no longer the one that writes`, { code: 'LeaseLost' });
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      clearInterval(timer);
      await release(path, token);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
