/**
 * The ZooKeeper lock recipe: an ephemeral sequential node under the lock
 * directory; the lowest sequence number holds the lock, the others each
 * watch their predecessor (no herd). Ephemeral nodes vanish with the session,
 * so a command that dies never leaves the state locked. For saves the lock
 * only makes our writers queue instead of retrying (every save is a
 * version-checked transaction); `apply` depends on it more, since its work on
 * the nodes is no transaction. The same property that frees a dead command's
 * lock frees a live one's when its session expires (a network partition, a
 * paused process): so long work checks `assertHeld` before each step that
 * must not run beside another holder.
 */
import { hostname } from 'node:os';
import { StoreError } from '../errors.js';
import type { HeldLock } from './store.js';
import type { ZkSession } from './zk-session.js';

const PREFIX = 'lock-';

interface Holder {
  pid?: number;
  host?: string;
  since?: string;
}

export async function withZkLock<T>(session: ZkSession, dir: string, timeoutMs: number, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  await session.mkdirp(dir);
  const me = await session.createEphemeralSequential(
    `${dir}/${PREFIX}`,
    Buffer.from(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })),
  );
  const myName = me.slice(dir.length + 1);
  try {
    await waitTurn(session, dir, myName, Date.now() + timeoutMs);
    return await fn({ assertHeld: () => assertOwned(session, me, 'lock', 'LockLost') });
  } finally {
    await session.remove(me).catch(() => undefined); // gone with the session anyway
  }
}

/**
 * A lock (or lease) is ours while our node exists and belongs to our session. A round
 * trip, not a flag: a client that was paused or cut off learns that its
 * session expired only when it next talks to the server, and by then another
 * command may hold the lock. A lost session fails here (the session refuses
 * every call after a disconnect or expiry); so does a server that does not
 * answer within the timeout, since then nobody can tell.
 */
export async function assertOwned(session: ZkSession, me: string, what: 'lock' | 'lease', code: 'LockLost' | 'LeaseLost'): Promise<void> {
  const node = await session.get(me);
  if (node === undefined) {
    throw new StoreError(`our ${what} ${me} is gone (the ZooKeeper session was lost or the node was removed); stopping before another step`, { code });
  }
  const owner = node.stat.ephemeralOwner.toString('hex');
  if (owner !== session.sessionId()) {
    throw new StoreError(`our ${what} ${me} now belongs to another ZooKeeper session (${owner}); stopping before another step`, { code });
  }
}

async function waitTurn(session: ZkSession, dir: string, myName: string, deadline: number): Promise<void> {
  for (;;) {
    const names = ((await session.children(dir)) ?? []).filter((n) => n.startsWith(PREFIX)).sort(bySequence);
    const index = names.indexOf(myName);
    if (index < 0) throw new StoreError(`our lock node ${dir}/${myName} disappeared (the session was lost)`, { code: 'StoreUnavailable' });
    if (index === 0) return;
    const before = `${dir}/${names[index - 1]!}`;
    const left = deadline - Date.now();
    if (left <= 0 || !(await session.waitGone(before, left))) {
      const holder = await describeHolder(session, `${dir}/${names[0]!}`);
      throw new StoreError(`the state is locked by ${holder} (${dir}); try again when it has finished`, { code: 'StateLocked' });
    }
  }
}

/** Orders sequential nodes by the 10-digit counter ZooKeeper appends to their names. */
export function bySequence(a: string, b: string): number {
  return Number(a.slice(-10)) - Number(b.slice(-10));
}

export async function describeHolder(session: ZkSession, path: string): Promise<string> {
  try {
    const node = await session.get(path);
    const h = JSON.parse(node?.data.toString('utf8') ?? '{}') as Holder;
    if (typeof h.pid === 'number') return `process ${h.pid} on ${h.host ?? '?'} since ${h.since ?? '?'}`;
  } catch {
    // fall through
  }
  return 'another esdc-overlay';
}
