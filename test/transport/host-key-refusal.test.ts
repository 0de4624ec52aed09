/** The refusal a connection gets for a host key known_hosts does not vouch for (src/transport/host-key-refusal.ts, docs/security.md#host-keys). */
import { describe, expect, it } from 'vitest';
import { ed25519Pair } from '../harness/sim-cluster.js';
import { hostKeyRefusal } from '../../src/transport/host-key-refusal.js';
import { checkHostKey, fingerprint, parseKnownHosts, type HostKeyVerdict } from '../../src/transport/known-hosts.js';
import { HostKeyError } from '../../src/transport/transport.js';

const k1 = ed25519Pair('k1').public.replace(/ k1$/, '');
const k2 = ed25519Pair('k2').public.replace(/ k2$/, '');
const b2 = Buffer.from(k2.split(' ')[1]!, 'base64');
const at = { host: '10.0.0.1', port: 2222, knownHostsFile: '/home/op/.ssh/known_hosts' };

function refused(text: string): Extract<HostKeyVerdict, { ok: false }> {
  const v = checkHostKey(parseKnownHosts(text), at.host, at.port, b2);
  if (v.ok) throw new Error('accepted');
  return v;
}

describe('hostKeyRefusal', () => {
  it('an unknown key: its fingerprint, the file, and how to check and record it', () => {
    const e = hostKeyRefusal('cn1', at, refused(''), b2);
    expect(e).toBeInstanceOf(HostKeyError);
    expect(e.code).toBe('HostKeyUnknown');
    expect(e.message).toContain(`host key of [10.0.0.1]:2222 is not in /home/op/.ssh/known_hosts (it offers ssh-ed25519 ${fingerprint(b2)})`);
    expect(e.message).toContain('esdc-overlay nodes discover <node> --accept-new-host-keys');
  });

  it('a revoked key: named as revoked, with its fingerprint', () => {
    const e = hostKeyRefusal('cn1', at, refused(`@revoked * ${k2}\n`), b2);
    expect(e.code).toBe('HostKeyRevoked');
    expect(e.message).toContain(`host [10.0.0.1]:2222 offers a revoked key (ssh-ed25519 ${fingerprint(b2)})`);
  });

  it('another key than the listed one: a mismatch naming every line that lists the host', () => {
    const one = hostKeyRefusal('cn1', at, refused(`[10.0.0.1]:2222 ${k1}\n`), b2);
    expect(one.code).toBe('HostKeyMismatch');
    expect(one.message).toContain(`HOST KEY MISMATCH for [10.0.0.1]:2222: it offers ssh-ed25519 ${fingerprint(b2)}, but /home/op/.ssh/known_hosts line 1 say otherwise`);
    const two = hostKeyRefusal('cn1', at, refused(`[10.0.0.1]:2222 ${k1}\n# other\n[10.0.0.1]:2222 ${k1}\n`), b2);
    expect(two.message).toContain('known_hosts lines 1, 3 say otherwise');
  });
});
