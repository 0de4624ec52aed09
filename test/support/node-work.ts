/**
 * Work items for executor tests that drive executeWork directly. A new object
 * each call: executeWork releases the contents it stages and refuses a work
 * item a second time (src/apply/execute.ts).
 */
import type { NodeWork } from '../../src/plan/plan.js';

/** A node's work that only stages these files: nothing removed, refreshed or created. */
export function stagingWork(node: string, stage: NodeWork['stage']): NodeWork {
  return { node, stage, remove: [], leftovers: [], usbkey: undefined, createOverlays: [], services: [], manifest: undefined };
}
