import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519Pair } from '../harness/sim-cluster.js';
import { checkHostKey, fingerprint, hostPattern, keyTypeOf, knownHostsLine, parseKnownHosts } from '../../src/transport/known-hosts.js';

function blobOf(publicLine: string): Buffer {
  return Buffer.from(publicLine.split(' ')[1]!, 'base64');
}
const k1 = ed25519Pair('k1').public.replace(/ k1$/, '');
const k2 = ed25519Pair('k2').public.replace(/ k2$/, '');
const b1 = blobOf(k1);
const b2 = blobOf(k2);

describe('known_hosts lookup', () => {
  it('names port 22 hosts plainly and others as [host]:port', () => {
    expect(hostPattern('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(hostPattern('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('accepts the listed key, refuses another key for the same host as a mismatch naming the line', () => {
    const entries = parseKnownHosts(`# comment\n\nnode1,10.0.0.1 ${k1}\n[10.0.0.2]:2222 ${k2}\n`);
    expect(checkHostKey(entries, '10.0.0.1', 22, b1)).toEqual({ ok: true });
    expect(checkHostKey(entries, 'node1', 22, b1)).toEqual({ ok: true });
    const bad = checkHostKey(entries, '10.0.0.1', 22, b2);
    expect(bad.ok).toBe(false);
    expect(bad.ok === false && bad.reason).toBe('mismatch');
    expect(bad.ok === false && bad.known.map((e) => e.line)).toEqual([3]);
  });

  it('does not confuse ports: a key listed for port 22 is unknown on port 2222', () => {
    const entries = parseKnownHosts(`10.0.0.1 ${k1}\n`);
    expect(checkHostKey(entries, '10.0.0.1', 2222, b1)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('matches hashed entries (HMAC-SHA1 of the host pattern)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[10.0.0.9]:2200').digest();
    const entries = parseKnownHosts(`|1|${salt.toString('base64')}|${hash.toString('base64')} ${k1}\n`);
    expect(checkHostKey(entries, '10.0.0.9', 2200, b1)).toEqual({ ok: true });
    expect(checkHostKey(entries, '10.0.0.9', 22, b1)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('refuses a revoked key even when another line lists it; skips wildcards and CA lines', () => {
    const entries = parseKnownHosts(`@revoked * ${k1}\n10.0.0.1 ${k1}\n*.example.com ${k2}\n@cert-authority * ${k2}\n`);
    expect(checkHostKey(entries, '10.0.0.1', 22, b1)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(checkHostKey(entries, 'a.example.com', 22, b2)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('formats a line OpenSSH reads back, with the key type from the blob and a SHA256 fingerprint', () => {
    expect(keyTypeOf(b1)).toBe('ssh-ed25519');
    const line = knownHostsLine('127.0.0.1', 2022, b1);
    expect(line).toBe(`[127.0.0.1]:2022 ${k1.split(' ').slice(0, 2).join(' ')}`);
    expect(checkHostKey(parseKnownHosts(line), '127.0.0.1', 2022, b1)).toEqual({ ok: true });
    expect(fingerprint(b1)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
