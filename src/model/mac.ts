/**
 * MAC addresses as varpd keys them: illumos `ether_aton` accepts one or two
 * hex digits per octet in either case, so two spellings can name one NIC.
 * We compare and emit the lower-case, zero-padded form.
 */

export function normalizeMac(mac: string): string {
  return mac
    .split(':')
    .map((o) => o.toLowerCase().padStart(2, '0'))
    .join(':');
}

/** Group bit set: a multicast or broadcast address, never a NIC's own. */
export function isMulticastMac(mac: string): boolean {
  const first = parseInt(mac.split(':')[0] ?? '0', 16);
  return (first & 1) === 1;
}
