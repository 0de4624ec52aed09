/**
 * One agent run on the node it runs on (docs/operations.md#the-agent): load
 * the bundle, refuse it if it is damaged or older than the one last applied,
 * plan against the local files, apply through the local transport with the
 * executor apply uses (staged files, atomic renames, each owed refresh once),
 * and record the outcome in the status file. Only the services whose inputs
 * changed are refreshed; a node in sync gets no write and no call.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { EsdcError } from '../errors.js';
import type { Logger } from '../log.js';
import { executeWork } from '../apply/execute.js';
import type { OverlayStatus } from '../discovery/dladm.js';
import { acquireNodeLock, NodeLockedError } from '../apply/node-lock.js';
import { readAndPlan } from '../apply/node-plan.js';
import { workIsEmpty, type NodePlan } from '../plan/plan.js';
import { LocalTransport } from '../transport/local-transport.js';
import { RootedTransport } from '../transport/rooted-transport.js';
import type { Transport } from '../transport/transport.js';
import { withFileLock } from '../store/file-lock.js';
import { MAX_READ_BYTES } from '../transport/transport.js';
import { degradedAfterRestart } from './restart-report.js';
import { BUNDLE_MODE, desiredFromBundle, parseBundle, type Bundle } from './bundle.js';
import { onNode, type AgentConfig } from './config.js';
import { EMPTY_STATUS, readStatus, writeStatus, type AgentStatus, type Drift, type RunResult } from './status.js';

export interface RunReport {
  result: RunResult;
  node: string | null;
  bundle_version: number | null;
  drift: Drift;
  refreshed: string[];
  /** Overlays whose live properties differ: they change only at reboot. */
  pending_reboot: string[];
  /**
   * Overlays of the bundle that `dladm show-overlay -f` shows DEGRADED after
   * this run restarted varpd (read only then): their VMs reach no one until
   * each is deleted and created again (docs/operations.md#the-agent).
   */
  degraded: OverlayStatus[];
  error: string | null;
  duration_ms: number;
}

export interface RunOptions {
  log: Logger;
  /** Asked between steps: true stops before the next one (SIGTERM). */
  shouldStop?: () => boolean;
  /** The `state` recorded in the status file. */
  state: AgentStatus['state'];
  now?: () => Date;
}

/** The bundle is older than the one last applied (a node that was offline never goes back). */
export class BundleOutdatedError extends EsdcError {}

const NO_DRIFT: Drift = { files: [], usbkey: [], overlays: [], services: [] };

function driftOf(plan: NodePlan): Drift {
  return {
    files: plan.files.map((f) => f.path),
    usbkey: plan.usbkey.map((c) => c.key),
    overlays: plan.overlays.filter((o) => o.action === 'create').map((o) => o.link),
    services: [...plan.services],
  };
}

/**
 * Reads the bundle, if it is what apply leaves: a regular file owned by root
 * (config.bundle_owner_uid) with mode 0400. Anyone else who could write it
 * could hand root a bundle whose checksum they computed themselves.
 */
async function loadBundle(config: AgentConfig): Promise<Bundle> {
  const path = onNode(config, config.bundle);
  const refuse = (why: string): never => {
    throw new EsdcError(`${config.bundle} ${why}; refused (apply writes it root-owned, mode 0400)`, { code: 'BadBundle' });
  };
  let data: Buffer;
  try {
    // No symlink followed, and a FIFO cannot block the open.
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile()) refuse('is not a regular file');
      if (st.uid !== config.bundle_owner_uid) refuse(`is owned by uid ${st.uid}, not ${config.bundle_owner_uid}`);
      if ((st.mode & 0o7777) !== BUNDLE_MODE) refuse(`has mode 0${(st.mode & 0o7777).toString(8)}, not 0${BUNDLE_MODE.toString(8)}`);
      if (st.size > MAX_READ_BYTES) refuse(`is ${st.size} bytes, above the limit of ${MAX_READ_BYTES}`);
      // Bytes: the contents' lengths and hashes in the index are of bytes (src/agent/bundle.ts).
      data = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof EsdcError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') refuse('is a symbolic link');
    throw new EsdcError(`cannot read the bundle ${config.bundle}: ${code ?? (err as Error).message}`, { code: 'NoBundle' });
  }
  return parseBundle(data!, config.bundle);
}

/** Refuses a bundle below the applied floor, or another bundle with the applied version. */
export function checkVersion(bundle: Bundle, status: AgentStatus): void {
  const floor = status.bundle_version;
  if (floor === null) return;
  if (bundle.version < floor) {
    throw new BundleOutdatedError(
      `bundle version ${bundle.version} is older than version ${floor} applied before; refused (run apply from the head node: it writes a version ` +
        `above this floor; if the floor came from a head node whose clock was ahead, \`esdc-overlay agent reset\` on this node clears it)`,
      { code: 'BundleOutdated' },
    );
  }
  if (bundle.version === floor && status.bundle_sha256 !== null && bundle.sha256 !== status.bundle_sha256) {
    throw new BundleOutdatedError(
      `bundle version ${bundle.version} differs from the one applied with that version; refused (run apply from the head node, or \`esdc-overlay agent reset\` on this node)`,
      { code: 'BundleOutdated' },
    );
  }
}

function transportFor(config: AgentConfig, node: string): Transport {
  const local = new LocalTransport(node);
  return config.root === undefined ? local : new RootedTransport(local, config.root);
}

async function reconcile(config: AgentConfig, status: AgentStatus, opts: RunOptions): Promise<{ report: RunReport; bundle?: Bundle }> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  const timeoutMs = config.timeout_seconds * 1000;
  const bundle = await loadBundle(config);
  checkVersion(bundle, status);
  const t = transportFor(config, bundle.node);
  try {
    // apply holds the node while it stages and commits: this run then stands aside (the next one repairs).
    const lock = await acquireNodeLock(t, { holder: 'agent', host: hostname(), pid: process.pid, timeoutMs, waitMs: 0 });
    try {
      return await reconcileLocked(t, bundle, opts, timeoutMs, ms);
    } finally {
      await lock.release();
    }
  } catch (err) {
    if (!(err instanceof NodeLockedError)) throw err;
    opts.log.warn({ node: bundle.node, holder: err.info?.holder ?? null, run: err.info?.run ?? null }, 'node lock held; run skipped');
    return {
      report: {
        result: 'skipped',
        node: bundle.node,
        bundle_version: null,
        drift: NO_DRIFT,
        refreshed: [],
        pending_reboot: [],
        degraded: [],
        error: `${err.message}; this run is skipped`,
        duration_ms: ms(),
      },
    };
  } finally {
    await t.close();
  }
}

async function reconcileLocked(t: Transport, bundle: Bundle, opts: RunOptions, timeoutMs: number, ms: () => number): Promise<{ report: RunReport; bundle?: Bundle }> {
  {
    // The same steps as apply's, with the bundle as the desired state: desired → read actual → plan → execute.
    const { plan, work } = await readAndPlan(t, desiredFromBundle(bundle), { timeoutMs, node: bundle.pdc !== undefined ? { pdc: bundle.pdc } : {} });
    for (const w of plan.warnings) opts.log.warn({ node: bundle.node }, w);
    const pending = plan.overlays.filter((o) => o.action === 'pending').map((o) => o.link);
    const base = { node: bundle.node, bundle_version: bundle.version, pending_reboot: pending, degraded: [] as OverlayStatus[], error: null };
    if (workIsEmpty(work)) return { report: { ...base, result: 'in-sync', drift: NO_DRIFT, refreshed: [], duration_ms: ms() }, bundle };
    const drift = driftOf(plan);
    if (opts.shouldStop?.()) {
      throw new EsdcError('stopping: drift found but not repaired', { code: 'Stopped' });
    }
    for (const f of plan.files) opts.log.info({ node: bundle.node, path: f.path, action: f.action, mode: f.mode?.toString(8) }, 'file');
    for (const c of plan.usbkey) opts.log.info({ node: bundle.node, key: c.key, action: c.action }, '/usbkey/config line');
    for (const o of plan.overlays.filter((x) => x.action === 'create')) opts.log.info({ node: bundle.node, link: o.link }, 'overlay missing');
    const result = await executeWork(new Map([[bundle.node, t]]), [work], { concurrency: 1, timeoutMs, nodeLock: false });
    const out = result.outcomes[0]!;
    for (const s of out.refreshed) opts.log.info({ node: bundle.node, service: s }, 'refreshed');
    const degraded = out.refreshed.includes('varpd') ? await degradedAfterRestart(t, new Set(bundle.overlays.map((o) => o.link)), timeoutMs, opts.log) : [];
    if (!result.ok) {
      const finish = out.finish?.length ? `; to finish by hand: ${out.finish.join('; ')}` : '';
      return { report: { ...base, result: 'failed', drift, refreshed: out.refreshed, degraded, error: `${out.status}: ${out.error}${finish}`, duration_ms: ms() } };
    }
    return { report: { ...base, result: 'repaired', drift, refreshed: out.refreshed, degraded, duration_ms: ms() }, bundle };
  }
}

/**
 * Clears the version floor (`agent reset`), under the run lock so no run is
 * in the middle of recording one. Returns the floor that was there. For a
 * floor a head node with a clock ahead left: apply goes above the floor it
 * reads, but an operator may want the node back at once.
 */
export async function resetFloor(config: AgentConfig): Promise<number | null> {
  return withFileLock(`${config.status}.lock`, { timeoutMs: 10_000 }, async () => {
    const status = await readStatus(config.status);
    if (!status) return null;
    const was = status.bundle_version;
    await writeStatus(config.status, { ...status, bundle_version: null, bundle_sha256: null });
    return was;
  });
}

/**
 * One run, under a lock beside the status file so that `agent --once` and
 * the daemon never run at the same time. Never throws for a failed run: the
 * report says what happened, and the status file records it.
 */
export async function runOnce(config: AgentConfig, opts: RunOptions): Promise<RunReport> {
  const now = opts.now ?? (() => new Date());
  const started = performance.now();
  const failed = (result: RunResult, err: unknown, node: string | null = null): RunReport => ({
    result,
    node,
    bundle_version: null,
    drift: NO_DRIFT,
    refreshed: [],
    pending_reboot: [],
    degraded: [],
    error: (err as Error)?.message ?? String(err),
    duration_ms: Math.round(performance.now() - started),
  });
  let report: RunReport;
  try {
    report = await withFileLock(`${config.status}.lock`, { timeoutMs: 2000 }, async () => {
      const status = (await readStatus(config.status)) ?? { ...EMPTY_STATUS };
      let r: RunReport;
      let bundle: Bundle | undefined;
      try {
        ({ report: r, bundle } = await reconcile(config, status, opts));
      } catch (err) {
        const refused = (err as EsdcError).code;
        r = failed(refused === 'BundleOutdated' || refused === 'BadBundle' || refused === 'BundleChecksum' || refused === 'NoBundle' ? 'refused' : 'failed', err);
      }
      const next: AgentStatus = {
        ...status,
        state: opts.state,
        pid: opts.state === 'running' ? process.pid : status.pid,
        last_run: now().toISOString(),
        last_result: r.result,
        last_duration_ms: r.duration_ms,
        last_drift: r.drift,
        last_error: r.error,
        runs: status.runs + 1,
        repairs: status.repairs + (r.result === 'repaired' ? 1 : 0),
      };
      if (bundle) {
        next.bundle_version = bundle.version;
        next.bundle_sha256 = bundle.sha256;
      }
      await writeStatus(config.status, next);
      return r;
    });
  } catch (err) {
    // The lock or the status file itself: nothing was changed on the node.
    const busy = (err as EsdcError).code === 'StateLocked';
    report = failed('failed', busy ? new Error(`another agent run is in progress (${config.status}.lock); this one is skipped`) : err);
  }
  const line = { node: report.node, result: report.result, version: report.bundle_version, changes: report.drift.files.length + report.drift.usbkey.length + report.drift.overlays.length, refreshed: report.refreshed, ms: report.duration_ms };
  if (report.result === 'failed' || report.result === 'refused') opts.log.error({ ...line, error: report.error }, 'agent run');
  else opts.log.info(line, 'agent run');
  return report;
}
