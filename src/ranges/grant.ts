/**
 * `vdc grant`: add ids to a vDC's allowance, as a pure edit of the state
 * document. Grants are exclusive by default (docs/state-format.md#vdcs): a range
 * that shares ids with another vDC's allowance is refused, naming the vDC and
 * the shared ids, unless the operator asks for a shared grant.
 */
import { ConflictError, ValidationError, type ValidationIssue } from '../errors.js';
import { matches, VDC_NAME } from '../syntax/patterns.js';
import type { Mutation, StateDoc, VdcDoc } from '../model/state.js';
import { DOMAINS, ID_KINDS, type IdKind } from '../syntax/id-kinds.js';
import { parseRangeList } from '../syntax/range-list.js';
import type { RangeSet } from '../syntax/range-set.js';
import { ALLOWED_FIELD, vdcAllowance, vdcAllowances } from '../model/vdcs.js';
import { showRanges, type Overlap } from './vdc.js';
import { own } from '../model/own.js';
import { unknownNameError } from '../model/suggest.js';
import { byCodePoint } from '../model/model.js';

export interface GrantRequest {
  vdc: string;
  /** Range text per kind, e.g. `{ vxlan: "1000-1999" }`; at least one. */
  ranges: Partial<Record<IdKind, string>>;
  /** Allow ids that another vDC is also allowed. */
  shared: boolean;
  /** Create the vDC when it is not in the state; without it an unknown name is refused (a typo must not become a vDC). */
  create?: boolean;
}

export interface GrantChange {
  kind: IdKind;
  /** Ids the vDC did not have before. */
  added: RangeSet;
  /** The vDC's whole list after the grant. */
  allowed: RangeSet;
}

export interface GrantResult {
  vdc: string;
  /** The vDC entry did not exist and was created. */
  created: boolean;
  changes: GrantChange[];
  /** Ids now shared with other vDCs (only with `shared`). */
  shared: Overlap[];
}

export function grant(doc: StateDoc, req: GrantRequest): Mutation<GrantResult> {
  const issues: ValidationIssue[] = [];
  if (!matches(VDC_NAME, req.vdc)) {
    issues.push({ path: 'vdc', value: req.vdc, message: 'must be a vDC name: letters, digits, ".", "_", "-", starting with a letter or digit, at most 64 characters' });
  }
  const requested = new Map<IdKind, RangeSet>();
  for (const kind of ID_KINDS) {
    const text = req.ranges[kind];
    if (text === undefined) continue;
    const parsed = parseRangeList(text, DOMAINS[kind], `--${kind}`);
    issues.push(...parsed.issues);
    if (parsed.issues.length === 0 && parsed.set.isEmpty) issues.push({ path: `--${kind}`, value: text, message: 'names no ids' });
    requested.set(kind, parsed.set);
  }
  if (requested.size === 0) issues.push({ path: '', message: 'give --vxlan RANGE, --vlan RANGE or both' });
  if (issues.length > 0) throw new ValidationError(issues, 'vdc grant');

  const existingDoc = own(doc.vdcs, req.vdc);
  if (existingDoc === undefined && req.create !== true) {
    const flags = ID_KINDS.filter((k) => req.ranges[k] !== undefined).map((k) => `--${k} ${req.ranges[k]}`).join(' ');
    throw unknownNameError('vDC', req.vdc, Object.keys(doc.vdcs ?? {}).sort(byCodePoint), `to create it: esdc-overlay vdc grant ${req.vdc} ${flags} --create`);
  }
  const current = vdcAllowance(req.vdc, existingDoc ?? {});
  // The vDC's own list must be sound before it is rewritten in canonical form.
  if (current.issues.length > 0) throw new ValidationError(current.issues, `vDC ${req.vdc}`);

  const others = vdcAllowances(doc).filter((a) => a.name !== req.vdc);
  const clashes: Overlap[] = [];
  for (const [kind, set] of requested) {
    for (const o of others) {
      const ids = set.intersect(o.allowed[kind]);
      if (!ids.isEmpty) clashes.push({ kind, vdcs: [req.vdc, o.name], ids });
    }
  }
  if (clashes.length > 0 && !req.shared) {
    const what = clashes.map((c) => `${DOMAINS[c.kind].label} ${showRanges(c.ids)} is already allowed to vDC ${c.vdcs[1]}`);
    throw new ConflictError(`refusing to grant vDC ${req.vdc} ids of another vDC: ${what.join('; ')}. Pass --shared to grant them anyway`, {
      code: 'RangeOverlap',
    });
  }

  const entry: VdcDoc = { ...existingDoc };
  const changes: GrantChange[] = [];
  for (const [kind, set] of requested) {
    const allowed = current.allowed[kind].union(set);
    const field = ALLOWED_FIELD[kind];
    // Keep the form the operator chose: Danube-style lists stay lists.
    entry[field] = Array.isArray(existingDoc?.[field]) ? allowed.toList() : allowed.toString();
    changes.push({ kind, added: set.difference(current.allowed[kind]), allowed });
  }
  const next: StateDoc = { ...doc, vdcs: { ...doc.vdcs, [req.vdc]: entry } };
  return { doc: next, result: { vdc: req.vdc, created: existingDoc === undefined, changes, shared: clashes } };
}
