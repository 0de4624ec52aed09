/**
 * `nodes remove <host> --wipe`: take off one node everything esdc-overlay
 * manages there before the node leaves the state (docs/operator.md#wipe).
 * Danube's `wipe` empties the configuration database and lets its next
 * playbook run drop the rule and adminoverlay lines; ours works on the one
 * node being removed, with the machinery apply uses:
 *
 * - the node is planned against an empty desired state (no generators): the
 *   plan removes every file our manifest lists and our /usbkey/config lines,
 *   and owes the refreshes those changes need; executeWork stages, commits
 *   and refreshes it as it would any plan, under the node's lock;
 * - then the overlay links our rules made (`<rule><vni>`, dladm
 *   delete-overlay) go, unless a VM NIC of the state still uses one, and the
 *   files we keep beside the manifest (the agent's bundle and status) and the
 *   manifest itself are removed.
 *
 * What cannot be taken off now is said, never hidden: the adminoverlay link
 * and its vNIC (net-virtual made them at boot from the lines removed; they go
 * at the next reboot), an overlay a delete was refused for, the agent's
 * service if it was installed.
 */
import { AGENT_STATUS_PATH } from '../agent/status.js';
import { BUNDLE_PATH } from '../agent/bundle.js';
import { AGENT_LAYOUT } from '../agent/layout.js';
import type { Model } from '../model/model.js';
import { overlaysOfNode } from '../rules/overlays.js';
import { MANIFEST_PATH, type NodePlan, type NodeWork } from '../plan/plan.js';
import { checkExec, type Transport } from '../transport/transport.js';
import { executeWork, type ExecuteResult, type LockCheck } from '../apply/execute.js';
import type { Opener } from '../apply/fleet.js';
import { planFleet, type FleetRun } from './fleet.js';

/** An overlay link on the node and what the wipe does with it. */
export interface WipeOverlay {
  link: string;
  action: 'delete' | 'keep';
  /** Why it is kept. */
  reason?: string;
}

export interface WipePlan {
  node: string;
  /** The plan against an empty desired state: files and /usbkey/config lines to remove, refreshes. */
  plan: NodePlan;
  work: NodeWork;
  overlays: WipeOverlay[];
  /** Files removed after the commit: the agent's bundle and status, then the manifest. */
  after: string[];
  /** What stays on the node whatever happens (agent service files). */
  stays: string[];
}

/** `<rule><vni>`: rule names end in a letter or `_`, so the digits at the end are the VNI. */
function ruleOfLink(link: string): string | undefined {
  const m = /^(.*[A-Za-z_])(\d+)$/.exec(link);
  return m?.[1];
}

/**
 * Plans the wipe of `host`: connects (its host key checked), reads what it
 * has, and plans the removal. The caller closes the run.
 */
export async function planWipe(
  model: Model,
  host: string,
  open: Opener,
  opts: { concurrency: number; timeoutMs: number; maxReadBytes?: number; onProgress?: (node: string, line: string) => void },
): Promise<{ fleet: FleetRun; wipe: WipePlan }> {
  const fleet = await planFleet(model, new Set([host]), open, { ...opts, generators: [], bundle: false });
  try {
    const run = fleet.nodes[0]!;
    const t = fleet.transports.get(host)!;
    const node = model.nodeByName.get(host)!;
    // Links a VM NIC of the state is on (with --force they may still be running): deleting them is refused by the node.
    const inUse = new Set(overlaysOfNode(model, node).filter((o) => model.ruleByName.get(o.rule)?.adminOverlay !== true).map((o) => o.link));
    const ours = new Set(model.rules.filter((r) => !r.adminOverlay).map((r) => r.name));
    const overlays: WipeOverlay[] = [];
    for (const link of [...run.actual.overlays.keys()].sort()) {
      const rule = ruleOfLink(link);
      if (rule === undefined) continue;
      if (rule === 'adminoverlay' || model.ruleByName.get(rule)?.adminOverlay === true) {
        overlays.push({ link, action: 'keep', reason: 'net-virtual made it and its vNIC at boot from the lines removed; without them and its ARP table it carries nothing, and it is gone after the next reboot' });
      } else if (ours.has(rule)) {
        overlays.push(inUse.has(link) ? { link, action: 'keep', reason: 'VM NICs of the state are on it; it goes at the next reboot once they are gone' } : { link, action: 'delete' });
      }
    }
    const after: string[] = [];
    for (const p of [BUNDLE_PATH, AGENT_STATUS_PATH]) if ((await t.stat(p, opts.timeoutMs)) !== undefined) after.push(p);
    if (run.actual.manifestText !== undefined || run.work.manifest !== undefined) after.push(MANIFEST_PATH);
    const stays: string[] = [];
    const layout = AGENT_LAYOUT.smartos;
    for (const p of [layout.service, layout.config, layout.cli]) if ((await t.stat(p, opts.timeoutMs)) !== undefined) stays.push(p);
    return { fleet, wipe: { node: host, plan: run.plan, work: run.work, overlays, after, stays } };
  } catch (err) {
    await fleet.close();
    throw err;
  }
}

/** True when the wipe has nothing to do on the node. */
export function wipeIsEmpty(w: WipePlan): boolean {
  return !w.plan.changed && w.overlays.every((o) => o.action === 'keep') && w.after.length === 0;
}

export interface WipeResult {
  ok: boolean;
  execute: ExecuteResult;
  deleted: string[];
  /** Overlays that were to be deleted but the node refused, with its reason. */
  refused: Array<{ link: string; error: string }>;
  removed: string[];
  error?: string;
}

/**
 * Runs the wipe: the plan's commit first (files, /usbkey/config lines,
 * refreshes, by executeWork), then overlay deletes (best effort: a refused
 * one is reported and goes at reboot), then the files kept beside the
 * manifest and the manifest last, so an interrupted wipe still knows what
 * it owns and can be run again.
 */
export async function executeWipe(
  t: Transport,
  w: WipePlan,
  opts: { timeoutMs: number; lock?: LockCheck | undefined; onProgress?: (node: string, line: string) => void },
): Promise<WipeResult> {
  const execute = await executeWork(new Map([[w.node, t]]), [w.work], { concurrency: 1, timeoutMs: opts.timeoutMs, lock: opts.lock, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const result: WipeResult = { ok: execute.ok, execute, deleted: [], refused: [], removed: [] };
  if (!execute.ok) return result;
  for (const o of w.overlays.filter((x) => x.action === 'delete')) {
    const argv = ['dladm', 'delete-overlay', o.link];
    try {
      checkExec(t.node, argv, await t.exec(argv, opts.timeoutMs));
      result.deleted.push(o.link);
    } catch (err) {
      result.refused.push({ link: o.link, error: (err as Error).message });
    }
  }
  try {
    for (const p of w.after) {
      await t.remove(p, opts.timeoutMs);
      result.removed.push(p);
    }
  } catch (err) {
    result.ok = false;
    result.error = `removing ${w.after[result.removed.length]}: ${(err as Error).message}`;
  }
  return result;
}
