/**
 * The ZooKeeper lock recipe: an ephemeral sequential node under the lock
 * directory; the lowest sequence number holds the lock, the others each
 * watch their predecessor (no herd). Ephemeral nodes vanish with the session,
 * so a command that dies never leaves the state locked. The lock only makes
 * our own writers queue instead of retrying; correctness does not depend on
 * it (every save is a version-checked transaction).
 */
import { hostname } from 'node:os';
import { StoreError } from '../errors.js';
import type { ZkSession } from './zk-session.js';

const PREFIX = 'lock-';

interface Holder {
  pid?: number;
  host?: string;
  since?: string;
}

export async function withZkLock<T>(session: ZkSession, dir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await session.mkdirp(dir);
  const me = await session.createEphemeralSequential(
    `${dir}/${PREFIX}`,
    Buffer.from(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })),
  );
  const myName = me.slice(dir.length + 1);
  try {
    await waitTurn(session, dir, myName, Date.now() + timeoutMs);
    return await fn();
  } finally {
    await session.remove(me).catch(() => undefined); // gone with the session anyway
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

function bySequence(a: string, b: string): number {
  return Number(a.slice(PREFIX.length)) - Number(b.slice(PREFIX.length));
}

async function describeHolder(session: ZkSession, path: string): Promise<string> {
  try {
    const node = await session.get(path);
    const h = JSON.parse(node?.data.toString('utf8') ?? '{}') as Holder;
    if (typeof h.pid === 'number') return `process ${h.pid} on ${h.host ?? '?'} since ${h.since ?? '?'}`;
  } catch {
    // fall through
  }
  return 'another esdc-overlay';
}
