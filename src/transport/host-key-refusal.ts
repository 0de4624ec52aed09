/**
 * The error a connection is refused with when the node's host key is not
 * the one known_hosts lists (docs/security.md#host-keys): unknown, revoked
 * or a mismatch, each saying how to check and mend it. Pure: the SSH
 * transport decides and records, this only words the refusal.
 */
import { fingerprint, hostPattern, keyTypeOf, type HostKeyVerdict } from './known-hosts.js';
import { HostKeyError } from './transport.js';

/** Where the key was offered, and the known_hosts file it was checked against. */
export interface HostKeySource {
  host: string;
  port: number;
  knownHostsFile: string;
}

export function hostKeyRefusal(node: string, at: HostKeySource, verdict: Extract<HostKeyVerdict, { ok: false }>, key: Buffer): HostKeyError {
  const fp = `${keyTypeOf(key)} ${fingerprint(key)}`;
  const where = hostPattern(at.host, at.port);
  if (verdict.reason === 'unknown') {
    return new HostKeyError(
      node,
      `host key of ${where} is not in ${at.knownHostsFile} (it offers ${fp}); ` +
        'check the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add it to known_hosts ' +
        'or record it with `esdc-overlay nodes discover <node> --accept-new-host-keys`',
      { code: 'HostKeyUnknown' },
    );
  }
  if (verdict.reason === 'revoked') return new HostKeyError(node, `host ${where} offers a revoked key (${fp})`, { code: 'HostKeyRevoked' });
  return new HostKeyError(
    node,
    `HOST KEY MISMATCH for ${where}: it offers ${fp}, but ${at.knownHostsFile} ` +
      `line${verdict.known.length > 1 ? 's' : ''} ${verdict.known.map((e) => e.line).join(', ')} ` +
      'say otherwise; refusing to connect (someone may be intercepting, or the node was reinstalled: ' +
      'then remove the old line)',
    { code: 'HostKeyMismatch' },
  );
}
