/**
 * OpenSSH known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): which host
 * keys a host may present. Pure: parse text, look a host up, format a line.
 * Supported: comma-separated patterns, `[host]:port` for non-22 ports, hashed
 * entries (`|1|salt|hash`, HMAC-SHA1 of the host pattern), `@revoked`.
 * `@cert-authority` lines, wildcards and negations are skipped: we never
 * accept a key on a pattern we cannot match exactly.
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  /** 1-based line in the file, for messages. */
  line: number;
  patterns: readonly string[];
  /** `|1|salt|hash` entries: [salt, hash] as base64-decoded bytes. */
  hashed: { salt: Buffer; hash: Buffer } | undefined;
  keyType: string;
  /** The key blob (base64-decoded). */
  key: Buffer;
  revoked: boolean;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    let fields = raw.split(/\s+/);
    let revoked = false;
    if (fields[0]!.startsWith('@')) {
      if (fields[0] === '@revoked') revoked = true;
      else continue; // @cert-authority: certificates are not used here
      fields = fields.slice(1);
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, b64] = fields as [string, string, string];
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    let hashed: KnownHostEntry['hashed'];
    let patterns: string[] = [];
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) continue;
      hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      patterns = hosts.split(',').filter((p) => p !== '' && !/[*?!]/.test(p));
      // A revoked key is refused for every host, whatever patterns its line has.
      if (patterns.length === 0 && !revoked) continue;
    }
    out.push({ line: i + 1, patterns, hashed, keyType, key, revoked });
  }
  return out;
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return mac.equals(entry.hashed.hash);
  }
  return entry.patterns.some((p) => p.toLowerCase() === name.toLowerCase());
}

/** The entries that name `host` at `port`. */
export function entriesFor(entries: readonly KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const name = hostPattern(host, port);
  return entries.filter((e) => matches(e, name));
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'mismatch' | 'revoked'; known: readonly KnownHostEntry[] };

/** Decides whether `key` (a raw SSH public key blob) is acceptable for host:port. */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  return hostKeyChecker(entries, host, port).check(key);
}

/** What one connection needs of known_hosts: the key types to ask the host for, and the verdict on the key it shows. */
export interface HostKeyChecker {
  /** The key types of the entries (not revoked) that name host:port, each once, in file order. */
  knownTypes: string[];
  check(key: Buffer): HostKeyVerdict;
}

/**
 * The entries naming host:port, found once for both questions: a hashed
 * entry (HashKnownHosts, ssh's default on some systems) is matched with an
 * HMAC of the name, so asking twice cost two HMACs per line and connection,
 * ~2 x 1,000 x 1,000 for a 1,000-node fleet (bench/RESULTS.md, "No-op apply:
 * the CLI's per-node work").
 */
export function hostKeyChecker(entries: readonly KnownHostEntry[], host: string, port: number): HostKeyChecker {
  const named = entriesFor(entries, host, port);
  const known = named.filter((e) => !e.revoked);
  return {
    knownTypes: [...new Set(known.map((e) => e.keyType))],
    check(key) {
      // A revoked key is refused whichever host its line names.
      if (entries.some((e) => e.revoked && e.key.equals(key))) return { ok: false, reason: 'revoked', known: [] };
      if (known.length === 0) return { ok: false, reason: 'unknown', known };
      if (known.some((e) => e.key.equals(key))) return { ok: true };
      return { ok: false, reason: 'mismatch', known };
    },
  };
}

/** The key type named inside an SSH public key blob (first string field). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint form: `SHA256:<unpadded base64>`. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${hostPattern(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}
