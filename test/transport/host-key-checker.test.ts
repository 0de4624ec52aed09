/**
 * One connection's known_hosts questions (the key types to ask for, then the
 * key shown) answered from one search: each hashed line costs one HMAC of
 * the name per connection, not one per question (bench/RESULTS.md, "No-op
 * apply: the CLI's per-node work").
 */
import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { ed25519Pair } from '../harness/sim-cluster.js';
import { hostKeyChecker, parseKnownHosts } from '../../src/transport/known-hosts.js';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, createHmac: vi.fn(real.createHmac) };
});

const keys = ['k1', 'k2', 'k3'].map((n) => ed25519Pair(n).public.replace(new RegExp(` ${n}$`), ''));
const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1]!, 'base64');

function hashedLine(name: string, key: string): string {
  const salt = crypto.randomBytes(20);
  const hash = crypto.createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')} ${key}`;
}

describe('hostKeyChecker', () => {
  const text = [hashedLine('[10.0.0.1]:2200', keys[0]!), hashedLine('[10.0.0.2]:2200', keys[1]!), hashedLine('[10.0.0.3]:2200', keys[2]!), `@revoked * ${keys[2]}`].join('\n');
  const entries = parseKnownHosts(`${text}\n`);
  const hmacs = (): number => vi.mocked(crypto.createHmac).mock.calls.length;

  it('matches each hashed line once for both questions, and answers as checkHostKey does', () => {
    const before = hmacs();
    const c = hostKeyChecker(entries, '10.0.0.2', 2200);
    expect(c.knownTypes).toEqual(['ssh-ed25519']);
    expect(c.check(blob(keys[1]!))).toEqual({ ok: true });
    const other = c.check(blob(keys[0]!));
    expect(other.ok === false && [other.reason, other.known.map((e) => e.line)]).toEqual(['mismatch', [2]]);
    expect(c.check(blob(keys[2]!))).toMatchObject({ ok: false, reason: 'revoked' });
    expect(hmacs() - before).toBe(3);
  });

  it('knows no key type for a host no line names, and calls any key unknown', () => {
    const c = hostKeyChecker(entries, '10.0.0.9', 2200);
    expect(c.knownTypes).toEqual([]);
    expect(c.check(blob(keys[0]!))).toMatchObject({ ok: false, reason: 'unknown' });
  });
});
