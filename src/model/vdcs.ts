/**
 * The vDCs of a state as the Model carries them (docs/state-format.md#vdcs):
 * each vDC's VXLAN and VLAN allowances, parsed once when the Model is built,
 * with the problems of the written ranges located by path. The questions a
 * vDC admin asks about them live in src/ranges, above the model.
 */
import type { ValidationIssue } from '../errors.js';
import { DOMAINS, ID_KINDS, type IdKind } from '../syntax/id-kinds.js';
import { parseRangeList } from '../syntax/range-list.js';
import { RangeSet } from '../syntax/range-set.js';
import { byCodePoint } from './model.js';
import type { StateDoc, VdcDoc } from './state.js';
import { pathFromSegments } from './validate-shape.js';

/** Danube's default for `VMS_NET_*_RESTRICT`. */
export const DEFAULT_RESTRICT = true;

export interface VdcAllowance {
  name: string;
  /** The ids the vDC is allowed, as written (only the valid items when `issues` is not empty). */
  allowed: Readonly<Record<IdKind, RangeSet>>;
  /** False: ids of this kind are not checked against the list (Danube `VMS_NET_*_RESTRICT`). */
  restrict: Readonly<Record<IdKind, boolean>>;
  /** Problems with the written ranges, located by path. */
  issues: readonly ValidationIssue[];
}

export const ALLOWED_FIELD = { vxlan: 'vxlan_allowed', vlan: 'vlan_allowed' } as const satisfies Record<IdKind, keyof VdcDoc>;
export const RESTRICT_FIELD = { vxlan: 'vxlan_restrict', vlan: 'vlan_restrict' } as const satisfies Record<IdKind, keyof VdcDoc>;

export function vdcAllowance(name: string, d: VdcDoc): VdcAllowance {
  const issues: ValidationIssue[] = [];
  const allowed = {} as Record<IdKind, RangeSet>;
  for (const kind of ID_KINDS) {
    const written = d[ALLOWED_FIELD[kind]];
    if (written === undefined) allowed[kind] = RangeSet.EMPTY;
    else {
      const parsed = parseRangeList(written, DOMAINS[kind], pathFromSegments(['vdcs', name, ALLOWED_FIELD[kind]]));
      allowed[kind] = parsed.set;
      issues.push(...parsed.issues);
    }
  }
  return {
    name,
    allowed,
    restrict: { vxlan: d.vxlan_restrict ?? DEFAULT_RESTRICT, vlan: d.vlan_restrict ?? DEFAULT_RESTRICT },
    issues,
  };
}

/**
 * Every vDC of a document, sorted by name. The Model holds these (`model.vdcs`);
 * call this only for a document that is being changed (a grant checks the new one).
 */
export function vdcAllowances(doc: StateDoc): VdcAllowance[] {
  return Object.keys(doc.vdcs ?? {})
    .sort(byCodePoint)
    .map((name) => vdcAllowance(name, doc.vdcs![name]!));
}
