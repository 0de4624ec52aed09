/**
 * The agent's bundle as one more desired file of a node
 * (docs/architecture.md#the-bundle-is-a-desired-file): what apply, plan and
 * verify read for it, and the DesiredFile they add before planning. Its
 * content depends on what the node has (the version stays when nothing
 * changed, and goes above the agent's floor), so it joins the desired files
 * once the node was read; from there the plan treats it like any other file.
 */
import { BUNDLE_MODE, BUNDLE_PATH, buildBundle, bundleTextAt, bundleVersionIn } from '../agent/bundle.js';
import { AGENT_STATUS_PATH, floorOf } from '../agent/status.js';
import type { ExpectedText } from '../apply/read-actual.js';
import { textFile, type DesiredFile, type DesiredNode } from '../desired/desired.js';
import type { ActualNode } from '../plan/plan.js';

/** Enough of a bundle to hold its format, node name and version. */
const BUNDLE_PREFIX = 512;

/** The paths read besides the desired files (the bundle there, and the agent's status with its floor), and how the bundle is checked by hash. */
export function bundleReads(desired: DesiredNode, pdc: string | undefined): { extra: string[]; expected: Map<string, ExpectedText> } {
  // When nothing changed, the node's bundle is the one of this desired state at the version at its start:
  // it is checked by hash, not read (issue 20).
  const expected: ExpectedText = {
    prefixBytes: BUNDLE_PREFIX,
    text: (prefix) => {
      const v = bundleVersionIn(prefix);
      return v === undefined ? undefined : bundleTextAt(desired, pdc, v);
    },
  };
  return { extra: [BUNDLE_PATH, AGENT_STATUS_PATH], expected: new Map([[BUNDLE_PATH, expected]]) };
}

/**
 * The bundle the node should have, as a desired file: root's, 0400 (it
 * holds keys), secret, refreshing nothing, and outside the manifest (apply
 * never removes it). Same content as the node's → the node's very text.
 */
export function bundleFile(desired: DesiredNode, pdc: string | undefined, actual: ActualNode, nowMs: number): DesiredFile {
  const have = actual.files.get(BUNDLE_PATH) ?? null;
  // Above the version the agent last applied, whatever this head node's clock says.
  const floor = floorOf(actual.files.get(AGENT_STATUS_PATH)?.text);
  const text = buildBundle(desired, pdc, have?.text, nowMs, floor);
  return { ...textFile({ path: BUNDLE_PATH, mode: BUNDLE_MODE, owner: 'root', group: 'root', secret: true, refresh: null, text }), outsideManifest: true };
}
