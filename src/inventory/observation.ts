/**
 * What the daemon keeps of a VM as a node reports it (`vmadm lookup -j`, or
 * the `vm` object of a `vmadm events -jr` line): its UUID, state, and the
 * NICs on overlay tags (`<rule>/<vni>`) with a static IPv4. Pure: a VM object
 * in, an observation or the issues that name its bad fields out, never a throw.
 *
 * The VM object is vminfod's (smartos-live src/vm/node_modules/vminfod/vminfod.js:305-311
 * puts it in each create and modify event); `vmadm lookup -j` prints the same objects.
 */
import { Validator } from '../ip-num-lib.js';
import type { ValidationIssue } from '../errors.js';
import { normalizeMac } from '../model/mac.js';
import { MAC, matches, NIC_TAG, UUID } from '../syntax/patterns.js';

/** One NIC of a VM on an overlay tag, as observed on `node`. */
export interface NicObservation {
  vm: string;
  node: string;
  /** Lower-case, zero-padded (normalizeMac). */
  mac: string;
  ip: string;
  /** `<rule>/<vni>`. */
  nicTag: string;
  /** 0 when untagged. */
  vlan: number;
}

/** A VM as one node reports it. */
export interface VmObservation {
  uuid: string;
  node: string;
  /** vmadm's `state` (`running`, `stopped`, `provisioning`, ...); `unknown` when absent. */
  state: string;
  /**
   * vmadm's do_not_inventory: set on the target of a `vmadm migrate` until it
   * takes over (sdc-net-agent lib/vmadm-watcher-fsm.js:170-181 skips such VMs).
   */
  doNotInventory: boolean;
  nics: NicObservation[];
}

/** True when the VM counts as running for MAC ownership (docs/daemon.md#merge). */
export function isRunning(vm: VmObservation): boolean {
  return vm.state === 'running' && !vm.doNotInventory;
}

export type VmParse = { ok: true; vm: VmObservation } | { ok: false; issues: ValidationIssue[] };

const STATE = /^[a-z_-]{1,32}$/;

/**
 * A VM object → its overlay NICs. NICs on plain tags (`admin`, `external`)
 * and NICs without a static IPv4 (`dhcp`, none) are not ARP-table material and
 * are left out; a NIC on an overlay tag with a bad MAC, IP or VLAN is an issue.
 */
export function parseVmObject(value: unknown, node: string, at = ''): VmParse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, issues: [{ path: at, message: 'is not a VM object' }] };
  }
  const v = value as { uuid?: unknown; nics?: unknown; state?: unknown; do_not_inventory?: unknown };
  if (typeof v.uuid !== 'string' || !matches(UUID, v.uuid)) {
    return { ok: false, issues: [{ path: `${at}.uuid`, value: v.uuid, message: 'is not a UUID' }] };
  }
  const uuid = v.uuid.toLowerCase();
  const issues: ValidationIssue[] = [];
  let state = 'unknown';
  if (v.state !== undefined) {
    if (typeof v.state === 'string' && STATE.test(v.state)) state = v.state;
    else issues.push({ path: `${at}.state`, value: v.state, message: 'is not a VM state' });
  }
  const nics: NicObservation[] = [];
  if (v.nics !== undefined && !Array.isArray(v.nics)) issues.push({ path: `${at}.nics`, message: 'is not an array' });
  (Array.isArray(v.nics) ? v.nics : []).forEach((nic: unknown, j) => {
    const np = `${at}.nics[${j}]`;
    const n = (typeof nic === 'object' && nic !== null ? nic : {}) as { mac?: unknown; ip?: unknown; nic_tag?: unknown; vlan_id?: unknown };
    if (typeof n.nic_tag !== 'string' || !matches(NIC_TAG, n.nic_tag)) return;
    if (typeof n.mac !== 'string' || !matches(MAC, n.mac)) {
      issues.push({ path: `${np}.mac`, value: n.mac, message: 'is not a MAC address' });
      return;
    }
    if (n.ip === 'dhcp' || n.ip === undefined) return;
    if (typeof n.ip !== 'string' || !Validator.isValidIPv4String(n.ip)[0]) {
      issues.push({ path: `${np}.ip`, value: n.ip, message: 'is not an IPv4 address' });
      return;
    }
    let vlan = 0;
    if (n.vlan_id !== undefined && n.vlan_id !== 0) {
      if (typeof n.vlan_id !== 'number' || !Number.isInteger(n.vlan_id) || n.vlan_id < 0 || n.vlan_id > 4094) {
        issues.push({ path: `${np}.vlan_id`, value: n.vlan_id, message: 'is not a VLAN ID (0-4094)' });
        return;
      }
      vlan = n.vlan_id;
    }
    nics.push({ vm: uuid, node, mac: normalizeMac(n.mac), ip: n.ip, nicTag: n.nic_tag, vlan });
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, vm: { uuid, node, state, doNotInventory: v.do_not_inventory === true, nics } };
}

export type LookupParse = { ok: true; vms: VmObservation[] } | { ok: false; issues: ValidationIssue[] };

/**
 * `vmadm lookup -j` → every VM of the node. One bad VM fails the whole
 * lookup: a resync that silently dropped a VM would remove its entries.
 */
export function parseLookup(value: unknown, node: string): LookupParse {
  if (!Array.isArray(value)) return { ok: false, issues: [{ path: '', message: 'is not a JSON array of VMs' }] };
  const vms: VmObservation[] = [];
  const issues: ValidationIssue[] = [];
  value.forEach((vm: unknown, i) => {
    const r = parseVmObject(vm, node, `[${i}]`);
    if (r.ok) vms.push(r.vm);
    else issues.push(...r.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, vms };
}
