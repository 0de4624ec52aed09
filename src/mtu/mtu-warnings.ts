/**
 * Warnings for rules whose configured MTU is above their safe MTU, and the
 * generator that raises them once per render (the desired state of every
 * node is built from the same model, so the check runs once, not per node).
 */
import type { ValidationIssue } from '../errors.js';
import type { Model } from '../model/model.js';
import type { NodeGenerator } from '../desired/desired.js';
import { mtuReport, type RuleMtu } from './rule-mtu.js';

/** One warning per rule that is too big, naming the limiting pair and the value to set. */
export function mtuWarnings(model: Model): ValidationIssue[] {
  return mtuReport(model).filter((r) => !r.ok).map(warningOf);
}

function warningOf(r: RuleMtu): ValidationIssue {
  const l = r.limiting!;
  const esp = l.spec.esp === 'none' ? 'no ESP' : `ESP ${l.spec.esp}`;
  return {
    path: r.rule === 'adminoverlay' ? 'adminoverlay.mtu' : `overlay_rules.${r.rule}.mtu`,
    value: r.configured,
    message:
      `MTU ${r.configured} is above the safe ${r.safe} for the path ${l.pair[0]} - ${l.pair[1]} ` +
      `(${l.kind} network, underlay MTU ${l.spec.underlayMtu}, ${esp}${l.spec.vlan ? ', 802.1Q' : ''}): ` +
      `packets will fragment or drop; set mtu ${r.safe}`,
  };
}

/** Contributes nothing to a node; warns through the render context, once. */
export const mtuCheckGenerator: NodeGenerator = (ctx) => {
  ctx.shared('mtu:warnings', () => {
    for (const w of mtuWarnings(ctx.model)) ctx.warn(w);
    return true;
  });
  return {};
};
