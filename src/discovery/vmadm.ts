/**
 * `vmadm lookup -j` (docs/file-formats.md#vmadm) → the VM NICs on overlay tags
 * (`<rule>/<vni>`), as state `vnics` entries. Pure; bad input is a
 * ValidationError naming the VM and field. NICs on plain tags, and NICs
 * without a static IPv4 (dhcp), are not ARP-table material and are skipped.
 * The per-VM parsing is the daemon's too (src/inventory/observation.ts).
 */
import { ValidationError } from '../errors.js';
import { parseLookup } from '../inventory/observation.js';
import type { VnicDoc } from '../model/state.js';

export function parseVmadmLookup(value: unknown, node: string, source = 'vmadm lookup -j'): VnicDoc[] {
  const r = parseLookup(value, node);
  if (!r.ok) throw new ValidationError(r.issues, source);
  const out: VnicDoc[] = r.vms.flatMap((vm) =>
    vm.nics.map((n) => ({ vm: n.vm, node, mac: n.mac, ip: n.ip, nic_tag: n.nicTag, ...(n.vlan !== 0 ? { vlan_id: n.vlan } : {}) })),
  );
  return out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}
