/**
 * The node services our files feed, and how each is refreshed
 * (docs/file-formats.md#summary). The order is the order refreshes run in on a
 * node: encryption before the firewall that blocks cleartext VXLAN, varpd
 * (ARP tables) before net-virtual creates overlays that need it.
 */
export const SERVICE_ORDER = ['ipsec', 'ipf', 'varpd', 'net-virtual'] as const;
export type ServiceName = (typeof SERVICE_ORDER)[number];

/** How one service is refreshed on a node. */
export interface ServiceRefresh {
  /** The command that refreshes it. */
  argv: readonly string[];
  /**
   * A command that must follow `argv` (a refresh that leaves part of the service's input unread), run
   * only while `ifOnline` is online: a daemon that is not running reads its input when it starts.
   */
  then?: { argv: readonly string[]; ifOnline: string };
  /**
   * The SMF instance `argv` restarts. `svcadm restart` only requests it and
   * returns (svcadm.1m:169; only enable and disable have -s, :130, :154), so the
   * next steps wait until `svcs` shows it online with no next state (svcs.1:482).
   */
  awaitOnline?: string;
  what: string;
}

export const SERVICE_REFRESH: Readonly<Record<ServiceName, ServiceRefresh>> = {
  ipsec: {
    argv: ['/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh', 'refresh'],
    // A refresh of ipsec/ike sends in.iked SIGHUP, documented to re-read /etc/inet/ike/config (in.iked.1m:97);
    // `ikeadm read preshared` is what updates the running keys (ikeadm.1m:195-200): new keys need it.
    then: { argv: ['ikeadm', 'read', 'preshared'], ifOnline: 'svc:/network/ipsec/ike:default' },
    what: 'copy IPsec policy, IKE config and keys into /etc, refresh ipsec/policy and ipsec/ike, and have in.iked re-read the keys',
  },
  ipf: {
    argv: ['/opt/custom/etc/rc-pre-network.d/010-ipf-restore.sh', 'refresh'],
    what: 'rebuild /etc/ipf/ipf.conf from ipf.d and refresh network/ipfilter',
  },
  varpd: {
    argv: ['svcadm', 'restart', 'network/varpd'],
    awaitOnline: 'svc:/network/varpd:default',
    what: 'restart varpd, which reads files/config ARP tables only at start, and wait until it is online again',
  },
  'net-virtual': {
    argv: ['/lib/svc/method/net-virtual', 'refresh'],
    what: 'create overlays and vNICs for new /usbkey/config lines (existing ones change only at reboot)',
  },
};

/** `svcs` argv that prints `<state> <next state>` of one instance, no header. */
export function svcsStateArgv(fmri: string): string[] {
  return ['svcs', '-H', '-o', 'state,nstate', fmri];
}

/** How long a restarted service may take to come online again, apply's and commands.sh's bound. */
export const ONLINE_WAIT_SECONDS = 60;

/**
 * A POSIX sh function for commands.sh that waits, at most
 * ONLINE_WAIT_SECONDS, until an SMF instance is online with no state pending.
 */
export const AWAIT_ONLINE_SH =
  // svcs's two words are split on purpose (unquoted); every variable is guarded or defaulted.
  'await_online() { f="${1:?}"; n=0; while :; do set -- $(svcs -H -o state,nstate "${f:?}"); ' +
  '[ "${1:-} ${2:-}" = "online -" ] && return 0; n=$((n + 1)); ' +
  `[ "\${n:?}" -ge ${ONLINE_WAIT_SECONDS} ] && { echo "\${f:?} is not online after ${ONLINE_WAIT_SECONDS} s (state: \${1:-} \${2:-})" >&2; return 1; }; sleep 1; done; }`;

/** The shell lines of one service's refresh (commands.sh; the finish steps of a failed commit). */
export function refreshShellLines(s: ServiceName, quote: (argv: readonly string[]) => string): string[] {
  const r = SERVICE_REFRESH[s];
  const then = r.then
    ? [`if ${quote(svcsStateArgv(r.then.ifOnline))} | grep -q '^online '; then ${quote(r.then.argv)}; fi`]
    : [];
  return [quote(r.argv), ...(r.awaitOnline ? [`await_online ${quote([r.awaitOnline])}`] : []), ...then];
}

export function sortServices(names: Iterable<ServiceName>): ServiceName[] {
  const set = new Set(names);
  return SERVICE_ORDER.filter((s) => set.has(s));
}
