/**
 * The daemon's lease in ZooKeeper (docs/daemon.md#one-daemon): the lock
 * recipe of zk-lock.ts (an ephemeral sequential node, the lowest holds, each
 * waiter watches the one before it) on a session kept open for the daemon's
 * whole life, under `<locks>/<role>`.
 *
 * The lease is lost when the session is: ZooKeeper removes the node once it
 * has not heard from us for the session timeout, and then the next waiter
 * leads. The holder must not learn that later than the waiter does, so it
 * checks its node (exists, and is its session's) every third of the session
 * timeout the server granted, each check given a third to answer: a holder
 * cut off learns it within two thirds, before the server can expire it.
 * It checks before every batch too; a disconnect counts as lost, since we
 * can no longer tell.
 */
import { hostname } from 'node:os';
import { assertOwned, bySequence, describeHolder } from './zk-lock.js';
import type { LeadOptions, Lease } from './store.js';
import type { ZkSession } from './zk-session.js';
import { StoreError } from '../errors.js';

const PREFIX = 'lead-';

export interface ZkLeaseOptions extends LeadOptions {
  /** Longest single wait on the node before ours before looking again (default 30 s). */
  waitMs?: number;
}

/** Waits for the lease under `dir` on a session of its own; undefined when aborted first. */
export async function leadByZk(connect: () => Promise<ZkSession>, dir: string, opts: ZkLeaseOptions): Promise<Lease | undefined> {
  const session = await connect();
  try {
    await session.mkdirp(dir);
    const me = await session.createEphemeralSequential(
      `${dir}/${PREFIX}`,
      Buffer.from(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })),
    );
    if (await waitFirst(session, dir, me.slice(dir.length + 1), opts)) return heldZkLease(session, me);
    await session.remove(me).catch(() => undefined);
    session.close();
    return undefined;
  } catch (err) {
    session.close();
    throw err;
  }
}

/** True once our node is the lowest; false when aborted first. */
async function waitFirst(session: ZkSession, dir: string, myName: string, opts: ZkLeaseOptions): Promise<boolean> {
  let told: string | undefined;
  const aborted = new Promise<'aborted'>((r) => opts.signal.addEventListener('abort', () => r('aborted'), { once: true }));
  while (!opts.signal.aborted) {
    const names = ((await session.children(dir)) ?? []).filter((n) => n.startsWith(PREFIX)).sort(bySequence);
    const index = names.indexOf(myName);
    if (index < 0) throw new StoreError(`our lease node ${dir}/${myName} disappeared (the session was lost)`, { code: 'StoreUnavailable' });
    if (index === 0) return true;
    const holder = await describeHolder(session, `${dir}/${names[0]!}`);
    if (holder !== told) opts.onWait((told = holder));
    const gone = session.waitGone(`${dir}/${names[index - 1]!}`, opts.waitMs ?? 30_000);
    gone.catch(() => undefined); // an abort leaves it to end with the session
    if ((await Promise.race([gone, aborted])) === 'aborted') return false;
  }
  return false;
}

function heldZkLease(session: ZkSession, me: string): Lease {
  const thirdMs = Math.max(100, Math.floor(session.sessionTimeoutMs() / 3));
  let released = false;
  let markLost!: (why: string) => void;
  const lost = new Promise<string>((r) => (markLost = r));
  const stopWatching = session.whenLost((err) => {
    if (!released) markLost(err.message);
  });
  const assertHeld = (): Promise<void> => assertOwned(session, me, 'lease', 'LeaseLost');
  const timer = setInterval(() => {
    let bound: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      bound = setTimeout(() => reject(new StoreError(`ZooKeeper did not answer the lease check within ${thirdMs} ms; it may expire our session`, { code: 'StoreUnavailable' })), thirdMs);
    });
    Promise.race([assertHeld(), late]).finally(() => clearTimeout(bound)).catch((err: unknown) => {
      if (released) return;
      clearInterval(timer);
      markLost((err as Error).message);
    });
  }, thirdMs);
  timer.unref();
  return {
    lost,
    assertHeld,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      clearInterval(timer);
      stopWatching();
      await session.remove(me).catch(() => undefined);
      session.close();
    },
  };
}
