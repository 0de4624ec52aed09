/**
 * The four numbers plan promises and apply reports, with one meaning on
 * both sides (docs/operations.md#counts), so a run's plan and its report can be
 * compared line for line:
 *
 * - files written: files added or changed, the agent's bundle among them,
 *   and /usbkey/config once however many of our lines in it change (it is
 *   one file written); our manifest is bookkeeping and not counted;
 * - files removed: files of ours no longer wanted, and staged copies an
 *   interrupted run left;
 * - overlays created: links absent when planned, present after the run
 *   (net-virtual refresh makes the adminoverlay one, apply the others);
 * - services refreshed: each refresh, once.
 *
 * Pure.
 */
import type { NodePlan } from './plan.js';

export interface RunCounts {
  filesWritten: number;
  filesRemoved: number;
  overlaysCreated: number;
  servicesRefreshed: number;
}

/** What a node's plan promises. */
export function planCounts(n: NodePlan): RunCounts {
  return {
    filesWritten: n.files.filter((f) => f.action !== 'remove').length + (n.usbkey.length > 0 ? 1 : 0),
    filesRemoved: n.files.filter((f) => f.action === 'remove').length,
    overlaysCreated: n.overlays.filter((o) => o.action === 'create').length,
    servicesRefreshed: n.services.length,
  };
}

/** What a node's run did, from the executor's outcome (src/apply/execute.ts NodeOutcome). */
export function outcomeCounts(o: { wrote: number; removed: number; created: readonly string[]; refreshed: readonly string[] }): RunCounts {
  return { filesWritten: o.wrote, filesRemoved: o.removed, overlaysCreated: o.created.length, servicesRefreshed: o.refreshed.length };
}

/** "9 file(s) to write, 1 to remove, 1 overlay(s) to create, 3 refresh(es)": plan's words. */
export function countsText(c: RunCounts): string {
  return `${c.filesWritten} file(s) to write, ${c.filesRemoved} to remove, ${c.overlaysCreated} overlay(s) to create, ${c.servicesRefreshed} service refresh(es)`;
}
