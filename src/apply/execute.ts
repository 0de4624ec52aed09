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
import { type NodeWork, MANIFEST_MODE, MANIFEST_PATH, USBKEY_CONFIG } from '../plan/plan.js';
import { AWAIT_ONLINE_SH, ONLINE_WAIT_SECONDS, refreshShellLines, SERVICE_REFRESH, svcsStateArgv, type ServiceName } from '../desired/services.js';
import { awaitOnline, parseSvcsState } from './await-online.js';
import { quoteArgv } from '../shell/quote.js';
import { checkExec, stagedPath, TransportError, type Transport } from '../transport/transport.js';
import { EsdcError, InternalError } from '../errors.js';
import { acquireNodeLock, type NodeLock } from './node-lock.js';
import { isOwnedPath } from '../syntax/owned-paths.js';
import { settleLimit } from './pool.js';
import { checkTablesBeforeRestart, RestartRefusedError } from './restart-guard.js';
import { showOverlay } from './show-overlay.js';

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
  /**
   * SHA-256 of table contents known to parse (tables the caller rendered):
   * before a varpd restart, a node's table with one of these hashes is not
   * read (src/apply/restart-guard.ts).
   */
  knownGoodTables?: ReadonlySet<string>;
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

/**
 * What a staged file's content becomes once it is on the node: the commit
 * renames by path, so the text (megabytes a node at scale, the agent bundle
 * carrying every file again) need not live until the whole fleet committed.
 */
const RELEASED = '';

/** Work items whose contents staging released: executing one again would stage emptied files. */
const spent = new WeakSet<NodeWork>();

async function stageNode(t: Transport, w: NodeWork, timeoutMs: number): Promise<void> {
  spent.add(w);
  if (w.manifest) {
    await t.stage(MANIFEST_PATH, w.manifest.atCommit, { mode: MANIFEST_MODE }, timeoutMs);
  }
  const byOwner = new Map<string, string[]>();
  for (const f of w.stage) {
    await t.stage(f.path, f.content, { mode: f.mode }, timeoutMs);
    f.content = RELEASED;
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

/** What a node's commit steps need beside its work: where they run and where they count what they did. */
interface CommitContext {
  t: Transport;
  timeoutMs: number;
  out: NodeOutcome;
  onlineWaitMs: number;
  knownGoodTables?: ReadonlySet<string> | undefined;
}

/**
 * A node's commit, in order: the manifest first (from then on the node itself
 * records which refreshes it is owed), the other renames, removals, refreshes,
 * missing overlays, and the manifest recording the refreshes as done.
 */
function commitSteps(cx: CommitContext, w: NodeWork): Step[] {
  const steps: Step[] = [];
  // Every overlay's table is checked before varpd restarts (restart-guard.ts): right before the restart when
  // the manifest records it as owed (the next run does it), else before anything is renamed, so a refusal
  // leaves the node as it was and the next run writes and restarts again (the daemon's writes).
  const guard = w.services.includes('varpd') ? tablesStep(cx, w) : undefined;
  if (guard && !w.manifest) steps.push(guard);
  if (w.manifest) steps.push(renameStep(cx, MANIFEST_PATH, false));
  for (const f of w.stage) steps.push(renameStep(cx, f.path));
  if (w.usbkey) steps.push(renameStep(cx, USBKEY_CONFIG));
  for (const path of w.remove) steps.push(removeStep(cx, path, true));
  for (const path of w.leftovers) steps.push(removeStep(cx, path, false));
  for (const s of w.services) {
    if (s === 'varpd' && guard && w.manifest) steps.push(guard);
    steps.push(refreshStep(cx, s));
  }
  if (w.createOverlays.length > 0) steps.push(createOverlaysStep(cx, w.createOverlays));
  if (w.manifest && w.manifest.final !== w.manifest.atCommit) steps.push(recordRefreshesStep(cx, w.manifest.final));
  return steps;
}

/** Renames the staged copy over `path`; `counted`: a file the plan shows (the manifest is bookkeeping, src/plan/counts.ts). */
function renameStep({ t, timeoutMs, out }: CommitContext, path: string, counted = true): Step {
  return {
    what: `rename ${stagedPath(path, t.runId)}`,
    command: quoteArgv(['mv', '-f', stagedPath(path, t.runId), path]),
    run: async () => {
      await t.commit(path, timeoutMs);
      if (counted) out.wrote++;
    },
  };
}

/** Removes a file the state no longer has (`owned`: checked to be ours first) or a leftover staged copy. */
function removeStep({ t, timeoutMs, out }: CommitContext, path: string, owned: boolean): Step {
  return {
    what: `remove ${path}`,
    command: quoteArgv(['rm', '-f', path]),
    run: async () => {
      // The manifest parser already drops such paths; this is the last line before a file is gone.
      if (owned && !isOwnedPath(path)) throw new InternalError(`refusing to remove ${path}: not a file in a directory esdc-overlay owns`);
      await t.remove(path, timeoutMs);
      out.removed++;
    },
  };
}

/** Checks that varpd can start on every overlay's table on the node but the ones this commit writes; refuses the restart if not. */
function tablesStep({ t, timeoutMs, knownGoodTables }: CommitContext, w: NodeWork): Step {
  return {
    what: 'check every overlay table before restarting varpd',
    command: '# first mend or remove each files/config table named above (docs/smartos-rules.md#before-a-restart)',
    run: async () => {
      // Ours to skip: the tables this commit writes, those it removes (a rule the state no longer has: its
      // overlay loses its instance at this restart, as the plan says), and those the plan knows as ours.
      const ours = new Set([...w.stage.map((f) => f.path), ...w.remove, ...(w.ourTables ?? [])]);
      await checkTablesBeforeRestart(t, { timeoutMs, ours, ...(knownGoodTables ? { knownGood: knownGoodTables } : {}) });
    },
  };
}

/** Refreshes one service, waits for it where it must come online, and runs its follow-up when it is online. */
function refreshStep({ t, timeoutMs, out, onlineWaitMs }: CommitContext, s: ServiceName): Step {
  const r = SERVICE_REFRESH[s];
  return {
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
  };
}

/** Creates the overlays the node still lacks. */
function createOverlaysStep({ t, timeoutMs, out }: CommitContext, overlays: NodeWork['createOverlays']): Step {
  return {
    what: `create overlay(s) ${overlays.map((o) => o.link).join(', ')}`,
    command: overlays.map((o) => `dladm show-overlay -f ${quoteArgv([o.link])} >/dev/null 2>&1 || ${quoteArgv(o.argv)}`).join('; '),
    run: async () => {
      // net-virtual refresh may just have created some (the adminoverlay link): look again, once.
      const live = (await showOverlay(t, timeoutMs)).overlays;
      for (const o of overlays) {
        // Absent when planned, there now: this run's refresh made it (src/plan/counts.ts).
        if (live.has(o.link)) {
          out.created.push(o.link);
          continue;
        }
        checkExec(t.node, o.argv, await t.exec(o.argv, timeoutMs));
        out.created.push(o.link);
      }
    },
  };
}

/** Writes the manifest that no longer owes the refreshes just done. */
function recordRefreshesStep({ t, timeoutMs }: CommitContext, final: string): Step {
  return {
    what: 'record the refreshes as done',
    command: `esdc-overlay apply ${t.node}`,
    run: async () => {
      await t.stage(MANIFEST_PATH, final, { mode: MANIFEST_MODE }, timeoutMs);
      await t.commit(MANIFEST_PATH, timeoutMs);
    },
  };
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

/** An outcome before anything ran. */
function blankOutcome(node: string, status: NodeStatus): NodeOutcome {
  return { node, status, wrote: 0, removed: 0, refreshed: [], created: [], ms: 0 };
}

/** Whether a node has anything to stage, commit, refresh or create. */
function isBusy(w: NodeWork): boolean {
  return w.stage.length + w.remove.length + w.leftovers.length + w.createOverlays.length + w.services.length > 0 || w.usbkey !== undefined || w.manifest !== undefined;
}

/** One executeWork call: what every phase reads, and where the outcomes go. */
interface Run {
  transports: ReadonlyMap<string, Transport>;
  /** The nodes with something to do, in the caller's order. */
  busy: readonly NodeWork[];
  opts: ExecuteOptions;
  outcomes: Map<string, NodeOutcome>;
  /** The outcomes in the caller's order of work items. */
  ordered: () => NodeOutcome[];
}

type Failures = Array<{ w: NodeWork; error: unknown }>;

/** Runs `fn` on every busy node (opts.concurrency at a time); the nodes where it failed, with why. */
async function eachBusy(run: Run, fn: (w: NodeWork, t: Transport) => Promise<void>): Promise<Failures> {
  const results = await settleLimit(run.busy, run.opts.concurrency, (w) => fn(w, run.transports.get(w.node)!));
  return results.flatMap((r, i) => (r.ok ? [] : [{ w: run.busy[i]!, error: r.error }]));
}

/**
 * Stages every busy node's files, then commits them node by node (the module
 * comment says how). A work item is executed once: staging releases its file
 * contents as each one reaches its node (RELEASED), so plan again to rerun.
 */
export async function executeWork(
  transports: ReadonlyMap<string, Transport>,
  works: readonly NodeWork[],
  opts: ExecuteOptions,
): Promise<ExecuteResult> {
  const again = works.find((w) => spent.has(w));
  if (again) throw new InternalError(`the work for ${again.node} was executed before and its staged contents released; plan again`);
  const outcomes = new Map<string, NodeOutcome>();
  for (const w of works) outcomes.set(w.node, blankOutcome(w.node, 'unchanged'));
  const run: Run = { transports, busy: works.filter(isBusy), opts, outcomes, ordered: () => works.map((w) => outcomes.get(w.node)!) };
  if (run.busy.length === 0) return { ok: true, phase: 'none', outcomes: run.ordered() };

  await opts.hooks?.beforeStage?.();
  await checkLock(opts.lock, 'before staging', 'nothing was staged or committed');
  // Phase 0: every busy node's lock, so no agent run on it writes while we stage and commit.
  const locks = new Map<string, NodeLock>();
  const releaseAll = async (): Promise<void> => {
    await Promise.all([...locks.values()].map((l) => l.release()));
  };
  const lockFailures = await lockNodes(run, locks);
  if (lockFailures.length > 0) {
    await releaseAll();
    markStageFailed(run, lockFailures, 'not staged');
    return { ok: false, phase: 'stage', outcomes: run.ordered() };
  }
  try {
    return await stageAndCommit(run);
  } finally {
    await releaseAll();
  }
}

/** Takes each busy node's lock into `locks` (unless the caller holds them); the nodes where that failed. */
async function lockNodes(run: Run, locks: Map<string, NodeLock>): Promise<Failures> {
  const { opts } = run;
  if (opts.nodeLock === false) return [];
  const waitMs = opts.nodeLock?.waitMs ?? 10_000;
  return eachBusy(run, async (w, t) => {
    locks.set(w.node, await acquireNodeLock(t, { holder: 'apply', host: hostname(), pid: process.pid, timeoutMs: opts.timeoutMs, waitMs }));
  });
}

/** Removes this run's staged files on every busy node (best effort: a lost node keeps them for the next plan). */
async function removeStaged(run: Run): Promise<void> {
  await eachBusy(run, async (w, t) => {
    await Promise.all(stagedTargets(w).map((p) => t.remove(stagedPath(p, t.runId), run.opts.timeoutMs).catch(() => undefined)));
  });
}

/** A stage that failed somewhere: every busy node is rolled back, the failed ones say why. */
function markStageFailed(run: Run, failures: Failures, verb: string): void {
  for (const w of run.busy) run.outcomes.get(w.node)!.status = 'rolled-back';
  for (const f of failures) {
    const o = run.outcomes.get(f.w.node)!;
    o.status = 'stage-failed';
    o.error = message(f.error);
    run.opts.onProgress?.(f.w.node, `${verb}: ${o.error}`);
  }
}

/** Phase 1 then 2: all staged or all taken back; then each node commits on its own. */
async function stageAndCommit(run: Run): Promise<ExecuteResult> {
  const { opts, outcomes } = run;
  // Phase 1: stage everywhere.
  const stageFailures = await eachBusy(run, async (w, t) => {
    const started = performance.now();
    await stageNode(t, w, opts.timeoutMs);
    outcomes.get(w.node)!.ms += performance.now() - started;
    opts.onProgress?.(w.node, `staged ${stagedTargets(w).length} file(s)`);
  });
  if (stageFailures.length > 0) {
    // Take back what was staged, everywhere; targets were never touched.
    await removeStaged(run);
    markStageFailed(run, stageFailures, 'stage failed');
    return { ok: false, phase: 'stage', outcomes: run.ordered() };
  }

  await opts.hooks?.afterStage?.();
  // Commit nothing once the lock is not ours. Staged names are this run's own (stagedPath), so what
  // we staged can be taken back without touching what another apply, now holding the lock, staged.
  try {
    await checkLock(opts.lock, 'before committing', "nothing was committed and this run's staged files were removed");
  } catch (err) {
    await removeStaged(run);
    throw err;
  }
  // Phase 2: commit and refresh, node by node.
  const onlineWaitMs = opts.onlineWaitMs ?? ONLINE_WAIT_SECONDS * 1000;
  await eachBusy(run, (w, t) => commitNode({ t, timeoutMs: opts.timeoutMs, out: outcomes.get(w.node)!, onlineWaitMs, knownGoodTables: opts.knownGoodTables }, w, opts));
  const ok = [...outcomes.values()].every((o) => o.status === 'applied' || o.status === 'unchanged');
  return { ok, phase: 'commit', outcomes: run.ordered() };
}

/** Runs one node's commit steps in order; the first that fails stops it, and the outcome lists the steps that finish it by hand. */
async function commitNode(cx: CommitContext, w: NodeWork, opts: ExecuteOptions): Promise<void> {
  const { out } = cx;
  const started = performance.now();
  const steps = commitSteps(cx, w);
  for (let i = 0; i < steps.length; i++) {
    try {
      await steps[i]!.run();
    } catch (err) {
      out.status = 'commit-failed';
      out.error = `${steps[i]!.what}: ${message(err)}`;
      out.finish = steps.slice(i).map((s) => s.command);
      if (err instanceof RestartRefusedError && i === 0) {
        // Refused before anything was renamed: the node is as it was; this run's staged copies go, and the next run starts over.
        await Promise.all(stagedTargets(w).map((p) => cx.t.remove(stagedPath(p, cx.t.runId), cx.timeoutMs).catch(() => undefined)));
        out.finish = [];
      }
      out.ms += performance.now() - started;
      opts.onProgress?.(w.node, `commit failed at ${steps[i]!.what}`);
      return;
    }
  }
  out.status = 'applied';
  out.ms += performance.now() - started;
  opts.onProgress?.(w.node, `applied: ${out.wrote} written, ${out.removed} removed, refreshed ${out.refreshed.join(', ') || 'nothing'}`);
}
