/**
 * `vmadm lookup -j` (docs/file-formats.md#vmadm) → the VM NICs on overlay tags
 * (`<rule>/<vni>`), as state `vnics` entries. Pure; bad input is a
 * ValidationError naming the VM and field. NICs on plain tags, and NICs
 * without a static IPv4 (dhcp), are not ARP-table material and are skipped.
 */
import { Validator } from 'ip-num';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { MAC, matches, NIC_TAG, UUID } from '../syntax/patterns.js';
import type { VnicDoc } from '../model/state.js';
import { normalizeMac } from '../model/mac.js';

export function parseVmadmLookup(value: unknown, node: string, source = 'vmadm lookup -j'): VnicDoc[] {
  if (!Array.isArray(value)) throw new ValidationError([{ path: '', message: 'is not a JSON array of VMs' }], source);
  const issues: ValidationIssue[] = [];
  const out: VnicDoc[] = [];
  value.forEach((vm: unknown, i) => {
    const at = `[${i}]`;
    if (typeof vm !== 'object' || vm === null) {
      issues.push({ path: at, message: 'is not a VM object' });
      return;
    }
    const v = vm as { uuid?: unknown; nics?: unknown };
    if (typeof v.uuid !== 'string' || !matches(UUID, v.uuid)) {
      issues.push({ path: `${at}.uuid`, value: v.uuid, message: 'is not a UUID' });
      return;
    }
    if (v.nics === undefined) return;
    if (!Array.isArray(v.nics)) {
      issues.push({ path: `${at}.nics`, message: 'is not an array' });
      return;
    }
    v.nics.forEach((nic: unknown, j) => {
      const np = `${at}.nics[${j}]`;
      const n = (nic ?? {}) as { mac?: unknown; ip?: unknown; nic_tag?: unknown; vlan_id?: unknown };
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
      const doc: VnicDoc = { vm: (v.uuid as string).toLowerCase(), node, mac: normalizeMac(n.mac), ip: n.ip, nic_tag: n.nic_tag };
      if (n.vlan_id !== undefined && n.vlan_id !== 0) {
        if (typeof n.vlan_id !== 'number' || !Number.isInteger(n.vlan_id) || n.vlan_id < 0 || n.vlan_id > 4094) {
          issues.push({ path: `${np}.vlan_id`, value: n.vlan_id, message: 'is not a VLAN ID (0-4094)' });
          return;
        }
        doc.vlan_id = n.vlan_id;
      }
      out.push(doc);
    });
  });
  if (issues.length > 0) throw new ValidationError(issues, source);
  return out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}
