/**
 * The node lock: apply and the node's agent never write a node's files at
 * the same time. Both stage beside the targets and rename; an agent run in
 * the middle of an apply's stage once replaced the staged files with its own
 * and committed them, so the rule went live on one end of a pair only.
 *
 * A lock file on the node (NODE_LOCK_PATH) says who holds it. It is created
 * whole or not at all: written under this run's staged name, then hard-linked
 * to the lock's name (link(2) refuses an existing name), so a crash never
 * leaves an empty lock that nobody can judge.
 *
 * A lock is taken over when its holder cannot be running:
 * - it was taken by the same kind of writer. Applies exclude each other by
 *   the store lock, and agent runs by the agent's own lock; so a lock of our
 *   kind is a leftover of a run that died (a killed apply must not keep its
 *   own re-run out);
 * - or it is older than STALE_MS by the node's clock (the lock's mtime
 *   against that of the file this attempt just wrote), whatever the head
 *   node's clock says.
 * A takeover renames the old lock away first, and only the writer whose
 * rename moved the very lock it judged goes on; any other puts it back.
 */
import { EsdcError } from '../errors.js';
import { stagedPath, type Transport } from '../transport/transport.js';

export const NODE_LOCK_PATH = '/opt/custom/esdc-overlay/node.lock';
export const NODE_LOCK_MODE = 0o644;
/** A holder of the other kind counts as gone after this long (an apply's stage and commit take seconds to minutes). */
export const STALE_MS = 15 * 60_000;

export type LockHolder = 'apply' | 'agent';

/** What the lock file says (JSON), for the message of whoever finds it held. */
export interface NodeLockInfo {
  holder: LockHolder;
  /** The holder's run id (its staged names end with it). */
  run: string;
  host: string;
  pid: number;
  /** When taken, by the holder's clock (shown only; staleness uses the node's clock). */
  since: string;
}

/** The node's lock is held by someone else, who may still be running. */
export class NodeLockedError extends EsdcError {
  readonly node: string;
  readonly info: NodeLockInfo | undefined;
  constructor(node: string, info: NodeLockInfo | undefined) {
    const who = info
      ? `${info.holder} (run ${info.run}, pid ${info.pid} on ${info.host}, since ${info.since})`
      : 'a lock file that is not ours to read';
    super(`${node}: ${NODE_LOCK_PATH} is held by ${who}; nothing was changed on this node`, { code: 'NodeLocked' });
    this.node = node;
    this.info = info;
  }
}

export interface NodeLock {
  readonly node: string;
  readonly info: NodeLockInfo;
  /** Removes the lock if it is still ours; never throws (a lost node keeps it until taken over). */
  release(): Promise<void>;
}

export interface AcquireOptions {
  holder: LockHolder;
  host: string;
  pid: number;
  timeoutMs: number;
  /** How long to wait for a live holder (0: give up at once). */
  waitMs: number;
  pollMs?: number;
}

function parseInfo(text: string): NodeLockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<NodeLockInfo>;
    if ((v.holder === 'apply' || v.holder === 'agent') && typeof v.run === 'string' && typeof v.host === 'string' && typeof v.pid === 'number' && typeof v.since === 'string') {
      return v as NodeLockInfo;
    }
  } catch {
    // not JSON: judged by age only
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Takes the node lock for this run, or throws NodeLockedError naming its holder. */
export async function acquireNodeLock(t: Transport, opts: AcquireOptions): Promise<NodeLock> {
  const info: NodeLockInfo = { holder: opts.holder, run: t.runId, host: opts.host, pid: opts.pid, since: new Date().toISOString() };
  const text = `${JSON.stringify(info)}\n`;
  const mine = stagedPath(NODE_LOCK_PATH, t.runId);
  const aside = stagedPath(`${NODE_LOCK_PATH}.stale`, t.runId);
  const deadline = Date.now() + opts.waitMs;
  await t.stage(NODE_LOCK_PATH, text, { mode: NODE_LOCK_MODE }, opts.timeoutMs);
  try {
    for (;;) {
      if (await t.link(mine, NODE_LOCK_PATH, opts.timeoutMs)) {
        return { node: t.node, info, release: () => releaseNodeLock(t, info, opts.timeoutMs) };
      }
      const held = await t.readFile(NODE_LOCK_PATH, opts.timeoutMs, { maxBytes: 4096 });
      if (held === undefined) continue;
      const heldInfo = parseInfo(held.data.toString('utf8'));
      // The node's "now": this attempt's own file, rewritten so its mtime is fresh.
      await t.stage(NODE_LOCK_PATH, text, { mode: NODE_LOCK_MODE }, opts.timeoutMs);
      const now = (await t.readFile(mine, opts.timeoutMs, { maxBytes: 4096 }))!.mtimeMs;
      const stale = (heldInfo !== undefined && heldInfo.holder === opts.holder) || now - held.mtimeMs > STALE_MS;
      if (stale && (await takeOver(t, held.data, aside, opts.timeoutMs))) continue;
      if (Date.now() >= deadline) throw new NodeLockedError(t.node, heldInfo);
      await sleep(opts.pollMs ?? 250);
    }
  } finally {
    await t.remove(mine, opts.timeoutMs).catch(() => undefined);
  }
}

/** Moves the judged lock aside; true when the lock moved was that one (then it is gone), else it is put back. */
async function takeOver(t: Transport, judged: Buffer, aside: string, timeoutMs: number): Promise<boolean> {
  if (!(await t.rename(NODE_LOCK_PATH, aside, timeoutMs))) return true;
  const moved = await t.readFile(aside, timeoutMs, { maxBytes: 4096 });
  if (moved !== undefined && moved.data.equals(judged)) {
    await t.remove(aside, timeoutMs);
    return true;
  }
  // Someone took it meanwhile: give theirs back (unless yet another writer got in first).
  await t.link(aside, NODE_LOCK_PATH, timeoutMs).catch(() => false);
  await t.remove(aside, timeoutMs).catch(() => undefined);
  return false;
}

async function releaseNodeLock(t: Transport, info: NodeLockInfo, timeoutMs: number): Promise<void> {
  try {
    const held = await t.readFile(NODE_LOCK_PATH, timeoutMs, { maxBytes: 4096 });
    if (held !== undefined && parseInfo(held.data.toString('utf8'))?.run === info.run) await t.remove(NODE_LOCK_PATH, timeoutMs);
  } catch {
    // Unreachable node: the next run of our kind takes the lock over.
  }
}
