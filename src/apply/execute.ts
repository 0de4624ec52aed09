/**
 * The two-phase executor (docs/operations.md#apply). Stage: every changed file is written
 * beside its target (`.<name>.esdc-new-<run>`, stagedPath) on every node. Only when every node staged
 * everything: commit on each node (the manifest with the refreshes it owes
 * first, then renames and removals), refresh each needed service once,
 * create missing overlays, and record that the refreshes are done. A failed
 * stage removes what was staged everywhere; a failed commit is reported per
 * node with the steps that finish it.
 */
import { hostname } from 'node:os';
import { parseShowOverlay, SHOW_OVERLAY_ARGV } from '../discovery/dladm.js';
import { type NodeWork, MANIFEST_MODE, MANIFEST_PATH, USBKEY_CONFIG } from '../plan/plan.js';
import { AWAIT_ONLINE_SH, ONLINE_WAIT_SECONDS, refreshShellLines, SERVICE_REFRESH, svcsStateArgv } from '../desired/services.js';
import { awaitOnline, parseSvcsState } from './await-online.js';
import { quoteArgv } from '../shell/quote.js';
import { checkExec, stagedPath, TransportError, type Transport } from '../transport/transport.js';
import { EsdcError, InternalError } from '../errors.js';
import { acquireNodeLock, type NodeLock } from './node-lock.js';
import { isOwnedPath } from '../syntax/owned-paths.js';
import { settleLimit } from './pool.js';

export type NodeStatus = 'unchanged' | 'applied' | 'stage-failed' | 'rolled-back' | 'commit-failed';

export interface NodeOutcome {
  node: string;
  status: NodeStatus;
  /** What failed, for stage-failed and commit-failed. */
  error?: string;
  /** Remote commands that finish a failed commit, in order. */
  finish?: string[];
  /** Files written, removed; services refreshed; overlays created. */
  wrote: number;
  removed: number;
  refreshed: string[];
  created: string[];
  ms: number;
}

/**
 * The store lock the run holds, as far as the executor needs it: a lock that
 * can vanish while we work (ZooKeeper's goes with its session) must still be
 * ours before we stage and before we commit, or a second apply may be doing
 * the same beside us. Structural, so the executor need not know the store.
 */
export interface LockCheck {
  /** Resolves when the lock is still ours; rejects, with an error saying why, when it is not or cannot be told. */
  assertHeld(): Promise<void>;
}

export interface ExecuteOptions {
  concurrency: number;
  /** Per operation (one file, one command). */
  timeoutMs: number;
  /** How long a restarted service may take to come online (default ONLINE_WAIT_SECONDS). */
  onlineWaitMs?: number;
  onProgress?: (node: string, line: string) => void;
  /** Checked before staging and before committing; when it fails nothing (more) is staged and nothing is committed. */
  lock?: LockCheck | undefined;
  /**
   * Take each node's lock (src/apply/node-lock.ts) before staging and keep it
   * until its commit is done: apply's default, waiting up to `waitMs` for an
   * agent run to finish. `false` for a caller that holds it already (the agent).
   */
  nodeLock?: false | { waitMs: number };
  /** Test hooks: run between reading and staging, and between the phases. */
  hooks?: { beforeStage?: () => Promise<void>; afterStage?: () => Promise<void> };
}

export interface ExecuteResult {
  /** True when every node with work committed it. */
  ok: boolean;
  phase: 'none' | 'stage' | 'commit';
  outcomes: NodeOutcome[];
}

/** One step of a node's commit, with the command a person runs to do it by hand. */
interface Step {
  what: string;
  command: string;
  run: () => Promise<void>;
}

function stagedTargets(w: NodeWork): string[] {
  const paths = w.stage.map((s) => s.path);
  if (w.usbkey) paths.push(USBKEY_CONFIG);
  if (w.manifest) paths.push(MANIFEST_PATH);
  return paths;
}

async function stageNode(t: Transport, w: NodeWork, timeoutMs: number): Promise<void> {
  if (w.manifest) {
    await t.stage(MANIFEST_PATH, w.manifest.atCommit, { mode: MANIFEST_MODE }, timeoutMs);
  }
  const byOwner = new Map<string, string[]>();
  for (const f of w.stage) {
    await t.stage(f.path, f.content, { mode: f.mode }, timeoutMs);
    if (f.owner !== undefined) {
      const spec = `${f.owner}${f.group !== undefined ? `:${f.group}` : ''}`;
      byOwner.set(spec, [...(byOwner.get(spec) ?? []), stagedPath(f.path, t.runId)]);
    }
  }
  // Owners by the node's own chown (netadm exists only there), one call per owner, on the staged copies.
  for (const [spec, paths] of byOwner) {
    const argv = ['chown', spec, ...paths];
    checkExec(t.node, argv, await t.exec(argv, timeoutMs));
  }
  if (w.usbkey) {
    // Other tools edit /usbkey/config too: our edit is only valid on the text it was computed from.
    const now = (await t.readFile(USBKEY_CONFIG, timeoutMs))?.data.toString('utf8') ?? '';
    if (now !== w.usbkey.base) {
      throw new TransportError(t.node, `${USBKEY_CONFIG} changed on the node since it was read; run apply again`, { code: 'ChangedMeanwhile' });
    }
    await t.stage(USBKEY_CONFIG, w.usbkey.content, { mode: w.usbkey.mode }, timeoutMs);
  }
}

function commitSteps(t: Transport, w: NodeWork, timeoutMs: number, out: NodeOutcome, onlineWaitMs: number): Step[] {
  const steps: Step[] = [];
  // `counted`: files the plan shows; the manifest is bookkeeping (src/plan/counts.ts).
  const rename = (path: string, counted = true): Step => ({
    what: `rename ${stagedPath(path, t.runId)}`,
    command: quoteArgv(['mv', '-f', stagedPath(path, t.runId), path]),
    run: async () => {
      await t.commit(path, timeoutMs);
      if (counted) out.wrote++;
    },
  });
  // The manifest goes first: from then on the node itself records which refreshes it is owed.
  if (w.manifest) steps.push(rename(MANIFEST_PATH, false));
  for (const f of w.stage) steps.push(rename(f.path));
  if (w.usbkey) steps.push(rename(USBKEY_CONFIG));
  for (const path of w.remove) {
    steps.push({
      what: `remove ${path}`,
      command: quoteArgv(['rm', '-f', path]),
      run: async () => {
        // The manifest parser already drops such paths; this is the last line before a file is gone.
        if (!isOwnedPath(path)) throw new InternalError(`refusing to remove ${path}: not a file in a directory esdc-overlay owns`);
        await t.remove(path, timeoutMs);
        out.removed++;
      },
    });
  }
  for (const path of w.leftovers) {
    steps.push({
      what: `remove ${path}`,
      command: quoteArgv(['rm', '-f', path]),
      run: async () => {
        await t.remove(path, timeoutMs);
        out.removed++;
      },
    });
  }
  for (const s of w.services) {
    const r = SERVICE_REFRESH[s];
    steps.push({
      what: `refresh ${s}`,
      command: `${r.awaitOnline ? `${AWAIT_ONLINE_SH}; ` : ''}${refreshShellLines(s, quoteArgv).join(' && ')}`,
      run: async () => {
        checkExec(t.node, r.argv, await t.exec(r.argv, timeoutMs));
        if (r.awaitOnline) await awaitOnline(t, r.awaitOnline, { timeoutMs, boundMs: onlineWaitMs });
        if (r.then) {
          const svcs = svcsStateArgv(r.then.ifOnline);
          const state = parseSvcsState(checkExec(t.node, svcs, await t.exec(svcs, timeoutMs)).stdout);
          if (state?.[0] === 'online') checkExec(t.node, r.then.argv, await t.exec(r.then.argv, timeoutMs));
        }
        out.refreshed.push(s);
      },
    });
  }
  if (w.createOverlays.length > 0) {
    steps.push({
      what: `create overlay(s) ${w.createOverlays.map((o) => o.link).join(', ')}`,
      command: w.createOverlays.map((o) => `dladm show-overlay ${quoteArgv([o.link])} >/dev/null 2>&1 || ${quoteArgv(o.argv)}`).join('; '),
      run: async () => {
        // net-virtual refresh may just have created some (the adminoverlay link): look again, once.
        const show = checkExec(t.node, SHOW_OVERLAY_ARGV, await t.exec(SHOW_OVERLAY_ARGV, timeoutMs));
        const live = parseShowOverlay(show.stdout, `${t.node}: dladm show-overlay`);
        for (const o of w.createOverlays) {
          // Absent when planned, there now: this run's refresh made it (src/plan/counts.ts).
          if (live.has(o.link)) {
            out.created.push(o.link);
            continue;
          }
          checkExec(t.node, o.argv, await t.exec(o.argv, timeoutMs));
          out.created.push(o.link);
        }
      },
    });
  }
  if (w.manifest && w.manifest.final !== w.manifest.atCommit) {
    const final = w.manifest.final;
    steps.push({
      what: 'record the refreshes as done',
      command: `esdc-overlay apply ${t.node}`,
      run: async () => {
        await t.stage(MANIFEST_PATH, final, { mode: MANIFEST_MODE }, timeoutMs);
        await t.commit(MANIFEST_PATH, timeoutMs);
      },
    });
  }
  return steps;
}

/** Fails with LockLost, saying at which point and what was left, when the lock is not ours any more. */
async function checkLock(lock: LockCheck | undefined, when: string, left: string): Promise<void> {
  if (!lock) return;
  try {
    await lock.assertHeld();
  } catch (err) {
    throw new EsdcError(`apply stopped ${when}: the store lock may no longer be ours (${message(err)}); ${left}. Run apply again`, {
      code: 'LockLost',
      cause: err,
    });
  }
}

function message(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

export async function executeWork(
  transports: ReadonlyMap<string, Transport>,
  works: readonly NodeWork[],
  opts: ExecuteOptions,
): Promise<ExecuteResult> {
  const outcomes = new Map<string, NodeOutcome>();
  const blank = (node: string, status: NodeStatus): NodeOutcome => ({
    node,
    status,
    wrote: 0,
    removed: 0,
    refreshed: [],
    created: [],
    ms: 0,
  });
  for (const w of works) outcomes.set(w.node, blank(w.node, 'unchanged'));
  const busy = works.filter(
    (w) => w.stage.length + w.remove.length + w.leftovers.length + w.createOverlays.length + w.services.length > 0 || w.usbkey || w.manifest,
  );
  const ordered = (): NodeOutcome[] => works.map((w) => outcomes.get(w.node)!);
  if (busy.length === 0) return { ok: true, phase: 'none', outcomes: ordered() };

  await opts.hooks?.beforeStage?.();
  await checkLock(opts.lock, 'before staging', 'nothing was staged or committed');
  // Phase 0: every busy node's lock, so no agent run on it writes while we stage and commit.
  const locks = new Map<string, NodeLock>();
  const releaseAll = async (): Promise<void> => {
    await Promise.all([...locks.values()].map((l) => l.release()));
  };
  if (opts.nodeLock !== false) {
    const waitMs = opts.nodeLock?.waitMs ?? 10_000;
    const lockResults = await settleLimit(busy, opts.concurrency, async (w) => {
      const lock = await acquireNodeLock(transports.get(w.node)!, { holder: 'apply', host: hostname(), pid: process.pid, timeoutMs: opts.timeoutMs, waitMs });
      locks.set(w.node, lock);
    });
    const lockFailures = lockResults.flatMap((r, i) => (r.ok ? [] : [{ w: busy[i]!, error: r.error }]));
    if (lockFailures.length > 0) {
      await releaseAll();
      markStageFailed(busy, lockFailures, outcomes, opts, 'not staged');
      return { ok: false, phase: 'stage', outcomes: ordered() };
    }
  }
  try {
    return await stageAndCommit(transports, busy, opts, outcomes, ordered);
  } finally {
    await releaseAll();
  }
}

/** Removes this run's staged files on every busy node (best effort: a lost node keeps them for the next plan). */
async function removeStaged(transports: ReadonlyMap<string, Transport>, busy: readonly NodeWork[], opts: ExecuteOptions): Promise<void> {
  await settleLimit(busy, opts.concurrency, async (w) => {
    const t = transports.get(w.node)!;
    await Promise.all(stagedTargets(w).map((p) => t.remove(stagedPath(p, t.runId), opts.timeoutMs).catch(() => undefined)));
  });
}

/** A stage that failed somewhere: every busy node is rolled back, the failed ones say why. */
function markStageFailed(
  busy: readonly NodeWork[],
  failures: ReadonlyArray<{ w: NodeWork; error: unknown }>,
  outcomes: Map<string, NodeOutcome>,
  opts: ExecuteOptions,
  verb: string,
): void {
  for (const w of busy) outcomes.get(w.node)!.status = 'rolled-back';
  for (const f of failures) {
    const o = outcomes.get(f.w.node)!;
    o.status = 'stage-failed';
    o.error = message(f.error);
    opts.onProgress?.(f.w.node, `${verb}: ${o.error}`);
  }
}

async function stageAndCommit(
  transports: ReadonlyMap<string, Transport>,
  busy: readonly NodeWork[],
  opts: ExecuteOptions,
  outcomes: Map<string, NodeOutcome>,
  ordered: () => NodeOutcome[],
): Promise<ExecuteResult> {
  // Phase 1: stage everywhere.
  const stageResults = await settleLimit(busy, opts.concurrency, async (w) => {
    const started = performance.now();
    await stageNode(transports.get(w.node)!, w, opts.timeoutMs);
    outcomes.get(w.node)!.ms += performance.now() - started;
    opts.onProgress?.(w.node, `staged ${stagedTargets(w).length} file(s)`);
  });
  const stageFailures = stageResults.flatMap((r, i) => (r.ok ? [] : [{ w: busy[i]!, error: r.error }]));
  if (stageFailures.length > 0) {
    // Take back what was staged, everywhere; targets were never touched.
    await removeStaged(transports, busy, opts);
    markStageFailed(busy, stageFailures, outcomes, opts, 'stage failed');
    return { ok: false, phase: 'stage', outcomes: ordered() };
  }

  await opts.hooks?.afterStage?.();
  // Commit nothing once the lock is not ours. Staged names are this run's own (stagedPath), so what
  // we staged can be taken back without touching what another apply, now holding the lock, staged.
  try {
    await checkLock(opts.lock, 'before committing', "nothing was committed and this run's staged files were removed");
  } catch (err) {
    await removeStaged(transports, busy, opts);
    throw err;
  }
  // Phase 2: commit and refresh, node by node.
  await settleLimit(busy, opts.concurrency, async (w) => {
    const out = outcomes.get(w.node)!;
    const started = performance.now();
    const steps = commitSteps(transports.get(w.node)!, w, opts.timeoutMs, out, opts.onlineWaitMs ?? ONLINE_WAIT_SECONDS * 1000);
    for (let i = 0; i < steps.length; i++) {
      try {
        await steps[i]!.run();
      } catch (err) {
        out.status = 'commit-failed';
        out.error = `${steps[i]!.what}: ${message(err)}`;
        out.finish = steps.slice(i).map((s) => s.command);
        out.ms += performance.now() - started;
        opts.onProgress?.(w.node, `commit failed at ${steps[i]!.what}`);
        return;
      }
    }
    out.status = 'applied';
    out.ms += performance.now() - started;
    opts.onProgress?.(w.node, `applied: ${out.wrote} written, ${out.removed} removed, refreshed ${out.refreshed.join(', ') || 'nothing'}`);
  });
  const ok = [...outcomes.values()].every((o) => o.status === 'applied' || o.status === 'unchanged');
  return { ok, phase: 'commit', outcomes: ordered() };
}
