/**
 * The node services our files feed, and how each is refreshed
 * (docs/file-formats.md#summary). The order is the order refreshes run in on a
 * node: encryption before the firewall that blocks cleartext VXLAN, varpd
 * (ARP tables) before net-virtual creates overlays that need it.
 */
export const SERVICE_ORDER = ['ipsec', 'ipf', 'varpd', 'net-virtual'] as const;
export type ServiceName = (typeof SERVICE_ORDER)[number];

export const SERVICE_REFRESH: Readonly<Record<ServiceName, { argv: readonly string[]; what: string }>> = {
  ipsec: {
    argv: ['/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh', 'refresh'],
    what: 'copy IPsec policy, IKE config and keys into /etc and refresh ipsec/policy and ipsec/ike',
  },
  ipf: {
    argv: ['/opt/custom/etc/rc-pre-network.d/010-ipf-restore.sh', 'refresh'],
    what: 'rebuild /etc/ipf/ipf.conf from ipf.d and refresh network/ipfilter',
  },
  varpd: {
    argv: ['svcadm', 'restart', 'network/varpd'],
    what: 'restart varpd, which reads files/config ARP tables only at start',
  },
  'net-virtual': {
    argv: ['/lib/svc/method/net-virtual', 'refresh'],
    what: 'create overlays and vNICs for new /usbkey/config lines (existing ones change only at reboot)',
  },
};

export function sortServices(names: Iterable<ServiceName>): ServiceName[] {
  const set = new Set(names);
  return SERVICE_ORDER.filter((s) => set.has(s));
}
