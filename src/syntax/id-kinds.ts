/**
 * The two kinds of network id a vDC is allowed (docs/state-format.md#vdcs): VXLAN
 * network identifiers, 24 bits, 1-16777215 (RFC 7348; 0 is left out as
 * Danube does), and VLAN ids inside an overlay, 1-4094 (illumos
 * VLAN_ID_MAX). VLAN 0 means "untagged", so it is never handed out, and 4095
 * is reserved by IEEE 802.1Q.
 */

export type IdKind = 'vxlan' | 'vlan';

export interface IdDomain {
  kind: IdKind;
  /** As people write it in messages. */
  label: string;
  min: number;
  max: number;
}

export const VXLAN: IdDomain = { kind: 'vxlan', label: 'VXLAN', min: 1, max: 16_777_215 };
export const VLAN: IdDomain = { kind: 'vlan', label: 'VLAN', min: 1, max: 4094 };

export const DOMAINS: Readonly<Record<IdKind, IdDomain>> = { vxlan: VXLAN, vlan: VLAN };
export const ID_KINDS: readonly IdKind[] = ['vxlan', 'vlan'];

/** Why `id` cannot be an id of this kind, or undefined when it can. */
export function idProblem(domain: IdDomain, id: number): string | undefined {
  const ids = `${domain.label} ids are ${domain.min}-${domain.max}`;
  if (!Number.isSafeInteger(id)) return `${id} is not a whole number (${ids})`;
  if (domain.kind === 'vlan' && id === 0) return `VLAN 0 means untagged; it cannot be allowed or allocated (${ids})`;
  if (domain.kind === 'vlan' && id === 4095) return `VLAN 4095 is reserved (${ids})`;
  if (id < domain.min || id > domain.max) return `${id} is not a ${domain.label} id (${ids})`;
  return undefined;
}
