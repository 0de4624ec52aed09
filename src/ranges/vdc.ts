/**
 * Virtual datacenters' VXLAN and VLAN allowances (docs/state-format.md#vdcs)
 * and what the installation uses: the questions a vDC admin
 * asks (is this id allowed? which ids are free? which vDCs share ids?) as
 * pure functions of the state.
 *
 * "Used" ids are installation-wide: the VNIs and VLAN ids of the VM NICs on
 * overlays, and the adminoverlay's. Danube never made grants exclusive
 * (docs/state-format.md#vdcs), so a state may hold overlapping allowances; `overlaps`
 * reports them and `grant` refuses to create new ones unless asked.
 */
import { EsdcError, ValidationError, type ValidationIssue } from '../errors.js';
import { byCodePoint, type Model } from '../model/model.js';
import { pathFromSegments } from '../model/validate-shape.js';
import { unknownNameError } from '../model/suggest.js';
import { RESTRICT_FIELD, type VdcAllowance } from '../model/vdcs.js';
import { DOMAINS, ID_KINDS, idProblem, VLAN, VXLAN, type IdKind } from '../syntax/id-kinds.js';
import { RangeSet } from '../syntax/range-set.js';

/** The vDC named `name` among the Model's (`model.vdcs`), or an error naming the known ones. Its ranges must be valid. */
export function requireVdc(vdcs: readonly VdcAllowance[], name: string): VdcAllowance {
  const a = vdcs.find((v) => v.name === name);
  if (!a) {
    throw unknownNameError('vDC', name, vdcs.map((v) => v.name));
  }
  if (a.issues.length > 0) throw new ValidationError(a.issues, `vDC ${name}`);
  return a;
}

/** One holder of an id: a VM NIC or the adminoverlay. */
export interface IdUser {
  /** Where it is in the state: `vnics[3]` or `adminoverlay`. */
  path: string;
  /** `customers/1000`, `adminoverlay/2` ... */
  label: string;
}

/** The ids in use anywhere in the installation. */
export function usedIds(model: Model): Readonly<Record<IdKind, RangeSet>> {
  const admin = model.adminOverlay;
  const n = model.vnics.length + (admin ? 1 : 0);
  const vxlan = new Uint32Array(n);
  const vlan = new Uint32Array(n);
  let nx = 0;
  let nv = 0;
  // VLAN 0 is "untagged", not an id; a VNI outside 1-16777215 is a consistency problem reported elsewhere.
  const take = (vni: number, vlanId: number): void => {
    if (vni >= VXLAN.min && vni <= VXLAN.max) vxlan[nx++] = vni;
    if (vlanId >= VLAN.min && vlanId <= VLAN.max) vlan[nv++] = vlanId;
  };
  if (admin) take(admin.vxlanId, admin.vlanId);
  for (const v of model.vnics) take(v.vni, v.vlanId);
  return { vxlan: RangeSet.fromIds(vxlan.subarray(0, nx)), vlan: RangeSet.fromIds(vlan.subarray(0, nv)) };
}

/** Who holds `id`: the VM NICs (in state order) and the adminoverlay. */
export function usersOf(model: Model, kind: IdKind, id: number): IdUser[] {
  const users: IdUser[] = [];
  const admin = model.adminOverlay;
  if (admin && (kind === 'vxlan' ? admin.vxlanId : admin.vlanId) === id) {
    users.push({ path: 'adminoverlay', label: `adminoverlay/${admin.vxlanId}${kind === 'vlan' ? ` vlan ${admin.vlanId}` : ''}` });
  }
  for (const v of model.vnics) {
    if ((kind === 'vxlan' ? v.vni : v.vlanId) !== id) continue;
    users.push({ path: `vnics[${v.index}]`, label: `${v.rule}/${v.vni}${kind === 'vlan' ? ` vlan ${v.vlanId}` : ''}${v.vm ? ` vm ${v.vm}` : ''}` });
  }
  return users;
}

/** The ids the vDC may use: its list when restricted, else the whole id space. */
export function effectiveAllowance(a: VdcAllowance, kind: IdKind): RangeSet {
  if (a.restrict[kind]) return a.allowed[kind];
  const d = DOMAINS[kind];
  return RangeSet.range(d.min, d.max);
}

/** Longer lists are cut in messages (JSON output carries them whole). */
export const MAX_SHOWN_RANGES = 200;

/** `1000-1099,2000`, `none` for an empty list, the start of a very long one. */
export function showRanges(set: RangeSet): string {
  if (set.isEmpty) return 'none';
  const text = set.toString();
  if (text.length <= MAX_SHOWN_RANGES) return text;
  return `${text.slice(0, text.lastIndexOf(',', MAX_SHOWN_RANGES))},... (${set.intervals.length} ranges in all)`;
}

export interface IdCheck {
  vdc: string;
  kind: IdKind;
  id: number;
  allowed: boolean;
  restricted: boolean;
  /** The vDC's list, as canonical text. */
  allowedRanges: string;
  /** One sentence naming the vDC, the id and the allowed ranges. */
  reason: string;
}

/**
 * Whether the vDC may use `id`, as Danube's network serializer decides it
 * (docs/state-format.md#vdcs): in the list when restricted, anything valid when not.
 * An id that is no id of its kind at all is a ValidationError at `path`.
 */
export function checkId(a: VdcAllowance, kind: IdKind, id: number, path: string): IdCheck {
  const domain = DOMAINS[kind];
  const problem = idProblem(domain, id);
  if (problem) throw new ValidationError([{ path, value: id, message: problem }], path);
  const list = showRanges(a.allowed[kind]);
  const base = { vdc: a.name, kind, id, restricted: a.restrict[kind], allowedRanges: a.allowed[kind].toString() };
  if (!a.restrict[kind]) {
    return { ...base, allowed: true, reason: `${domain.label} ${id} is allowed in vDC ${a.name}: its ${domain.label} ids are not restricted (${RESTRICT_FIELD[kind]}: false)` };
  }
  const allowed = a.allowed[kind].contains(id);
  return {
    ...base,
    allowed,
    reason: `${domain.label} ${id} is ${allowed ? '' : 'not '}allowed in vDC ${a.name} (allowed ${domain.label} ids: ${list})`,
  };
}

/** Where `allocate` draws from: the vDC's list; an unrestricted vDC without a list draws from the whole id space. */
export function allocationPool(a: VdcAllowance, kind: IdKind): RangeSet {
  return a.allowed[kind].isEmpty ? effectiveAllowance(a, kind) : a.allowed[kind];
}

export interface Allocation {
  vdc: string;
  kind: IdKind;
  ids: number[];
  /** Free ids in the pool before this proposal. */
  free: number;
}

/**
 * The `count` lowest ids of the vDC's pool that nothing in the installation
 * uses. A proposal only: nothing is recorded. Linear in the number of
 * intervals of the pool and of the used set, never in the number of ids.
 */
export function allocate(a: VdcAllowance, used: RangeSet, kind: IdKind, count: number): Allocation {
  const label = DOMAINS[kind].label;
  const pool = allocationPool(a, kind);
  if (pool.isEmpty) {
    throw new EsdcError(`vDC ${a.name} is allowed no ${label} ids (grant some with: vdc grant ${a.name} --${kind} RANGE)`, { code: 'NothingAllowed' });
  }
  // Counted and walked, never built: the pool minus 100,000 used ids would be 100,000 intervals.
  const free = pool.size - pool.overlapSize(used);
  if (free < count) {
    throw new EsdcError(
      `vDC ${a.name} has ${free} free ${label} id${free === 1 ? '' : 's'} of ${pool.size} allowed (${showRanges(pool)}); ${count} asked`,
      { code: 'RangeExhausted' },
    );
  }
  return { vdc: a.name, kind, ids: pool.lowestNotIn(used, count), free };
}

export interface Overlap {
  kind: IdKind;
  /** Sorted by name. */
  vdcs: readonly [string, string];
  ids: RangeSet;
}

/** Every pair of vDCs whose lists share ids, per kind (VXLAN first), pairs in name order. */
export function overlaps(allowances: readonly VdcAllowance[]): Overlap[] {
  const out: Overlap[] = [];
  const sorted = [...allowances].sort((x, y) => byCodePoint(x.name, y.name));
  for (const kind of ID_KINDS) {
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const ids = sorted[i]!.allowed[kind].intersect(sorted[j]!.allowed[kind]);
        if (!ids.isEmpty) out.push({ kind, vdcs: [sorted[i]!.name, sorted[j]!.name], ids });
      }
    }
  }
  return out;
}

export interface VdcUsage {
  name: string;
  kind: IdKind;
  restricted: boolean;
  allowed: RangeSet;
  /** Allowed ids that something in the installation uses. */
  used: number;
  /** Allowed ids nothing uses: what `allocate` can still hand out. */
  free: number;
}

/** Per vDC and kind: allowed, used and free counts (`vdc list`). */
export function vdcUsage(allowances: readonly VdcAllowance[], used: Readonly<Record<IdKind, RangeSet>>): VdcUsage[] {
  return allowances.flatMap((a) =>
    ID_KINDS.map((kind) => {
      const allowed = a.allowed[kind];
      const inUse = allowed.overlapSize(used[kind]);
      return { name: a.name, kind, restricted: a.restrict[kind], allowed, used: inUse, free: allowed.size - inUse };
    }),
  );
}

/**
 * VM NICs whose VNI or VLAN lies outside the allowance of their vDC (when
 * the NIC names one and that vDC restricts the kind). Untagged NICs (VLAN 0)
 * are never flagged. For `render` today and `plan` later; pure.
 */
export function vdcWarnings(model: Model): ValidationIssue[] {
  const byName = new Map(model.vdcs.map((a) => [a.name, a]));
  const warnings: ValidationIssue[] = [];
  for (const v of model.vnics) {
    const a = v.vdc === undefined ? undefined : byName.get(v.vdc);
    if (!a) continue;
    const who = v.vm ? `VM ${v.vm}'s NIC` : 'the NIC';
    if (a.restrict.vxlan && !a.allowed.vxlan.contains(v.vni)) {
      warnings.push({
        path: pathFromSegments(['vnics', v.index, 'nic_tag']),
        value: `${v.rule}/${v.vni}`,
        message: `${who} is on VXLAN ${v.vni}, outside vDC ${a.name}'s allowed VXLAN ids (${showRanges(a.allowed.vxlan)})`,
      });
    }
    if (v.vlanId > 0 && a.restrict.vlan && !a.allowed.vlan.contains(v.vlanId)) {
      warnings.push({
        path: pathFromSegments(['vnics', v.index, 'vlan_id']),
        value: v.vlanId,
        message: `${who} is on VLAN ${v.vlanId}, outside vDC ${a.name}'s allowed VLAN ids (${showRanges(a.allowed.vlan)})`,
      });
    }
  }
  return warnings;
}
