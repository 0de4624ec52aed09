/**
 * apply's part of the agent: the node's bundle joins the files apply stages,
 * so it commits with the rest (docs/operations.md#apply). It feeds no service, so it
 * refreshes nothing, and it is not in the manifest (apply never removes it).
 */
import type { ActualFile, NodePlan, NodeWork } from '../plan/plan.js';
import { BUNDLE_MODE, BUNDLE_PATH } from './bundle.js';

/** Adds the bundle to a node's plan and work when the node lacks it or has another one. */
export function stageBundle(plan: NodePlan, work: NodeWork, bundleText: string, have: ActualFile | null): void {
  const contentChanged = have === null || have.text !== bundleText;
  if (!contentChanged && have.mode === BUNDLE_MODE) return;
  plan.files.push({
    path: BUNDLE_PATH,
    action: have === null ? 'add' : 'change',
    mode: BUNDLE_MODE,
    ...(have !== null ? { oldMode: have.mode } : {}),
    contentChanged,
    secret: true,
    refresh: null,
    diff: [],
  });
  plan.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  plan.changed = true;
  work.stage.push({ path: BUNDLE_PATH, content: bundleText, mode: BUNDLE_MODE });
}
