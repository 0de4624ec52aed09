import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ESP_CHOICES, innerMtu, type PathSpec } from '../../src/mtu/overhead.js';
import { runCli } from '../support/cli.js';
import { readMtuTable } from './mtu-table.js';

const rows = readMtuTable();
const cases = rows.flatMap((r) => [
  { ...r, vlan: false, expected: r.noVlan },
  { ...r, vlan: true, expected: r.vlan },
]);
const label = (c: { U: number; ipVersion: number; esp: string; natT: boolean; vlan: boolean }): string =>
  `U=${c.U} IPv${c.ipVersion} ${c.esp}${c.natT ? ' NAT-T' : ''}${c.vlan ? ' VLAN' : ''}`;

describe('the table of docs/mtu.md#values', () => {
  it('has all 21 rows', () => {
    expect(rows).toHaveLength(21);
  });

  it.each(cases.map((c) => [label(c), c] as const))('innerMtu gives the table value for %s', (_l, c) => {
    expect(innerMtu({ underlayMtu: c.U, ipVersion: c.ipVersion, vlan: c.vlan, esp: c.esp, natT: c.natT }).inner_mtu).toBe(c.expected);
  });

  it.each(cases.map((c) => [label(c), c] as const))('`esdc-overlay mtu` prints the table value for %s', async (_l, c) => {
    const argv = ['mtu', '--underlay-mtu', String(c.U), '--esp', c.esp];
    if (c.ipVersion === 6) argv.push('--ipv6');
    if (c.vlan) argv.push('--vlan');
    if (c.natT) argv.push('--nat-t');
    const text = await runCli(argv);
    expect(text).toMatchObject({ status: 0, stdout: `${c.expected}\n` });
    const json = await runCli([...argv, '--json']);
    expect(json.status).toBe(0);
    const body = JSON.parse(json.stdout) as { inner_mtu: number; overhead: Record<string, number> };
    expect(body.inner_mtu).toBe(c.expected);
    const total = Object.values(body.overhead).reduce((a, b) => a + b, 0);
    expect(total + body.inner_mtu).toBe(c.U);
  });
});

describe('the overhead of each header', () => {
  it('names every header of Danube\'s suite with a VLAN over IPv4', () => {
    expect(innerMtu({ underlayMtu: 1500, ipVersion: 4, vlan: true, esp: 'aes-cbc-sha512', natT: false })).toEqual({
      inner_mtu: 1388,
      overhead: {
        outer_ip: 20, nat_t_udp: 0, esp_header: 8, esp_iv: 16, vxlan_udp: 8, vxlan: 8, inner_ethernet: 14,
        inner_vlan: 4, esp_padding: 0, esp_trailer: 2, esp_icv: 32,
      },
    });
  });

  const spec = fc.record<PathSpec>({
    underlayMtu: fc.integer({ min: 576, max: 9216 }),
    ipVersion: fc.constantFrom(4 as const, 6 as const),
    vlan: fc.boolean(),
    esp: fc.constantFrom(...ESP_CHOICES),
    natT: fc.boolean(),
  }).filter((s) => !(s.natT && s.esp === 'none'));

  it('adds up to the underlay MTU, and the padding slack is less than one block', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const r = innerMtu(s);
        const sum = Object.values(r.overhead).reduce((a, b) => a + b, 0);
        expect(sum + r.inner_mtu).toBe(s.underlayMtu);
        expect(r.overhead.esp_padding).toBeLessThan(s.esp === 'aes-gcm' ? 4 : 16);
      }),
    );
  });

  it('is a step function: one more underlay byte buys at most one overlay byte, never fewer', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const a = innerMtu(s).inner_mtu;
        const b = innerMtu({ ...s, underlayMtu: s.underlayMtu + 1 }).inner_mtu;
        expect(b - a).toBeGreaterThanOrEqual(0);
        if (s.esp === 'none') expect(b - a).toBe(1);
        else expect(b - a === 0 || b - a === (s.esp === 'aes-gcm' ? 4 : 16)).toBe(true);
      }),
    );
  });

  it('the padded ESP payload of the largest packet fits U exactly and one more byte would not', () => {
    fc.assert(
      fc.property(spec.filter((s) => s.esp !== 'none'), (s) => {
        const block = s.esp === 'aes-gcm' ? 4 : 16;
        const iv = s.esp === 'aes-gcm' ? 8 : 16;
        const icv = s.esp === 'aes-cbc-sha512' ? 32 : 16;
        const outer = (inner: number): number => {
          const payload = inner + 8 + 8 + 14 + (s.vlan ? 4 : 0);
          const padded = Math.ceil((payload + 2) / block) * block;
          return (s.ipVersion === 4 ? 20 : 40) + (s.natT ? 8 : 0) + 8 + iv + padded + icv;
        };
        const inner = innerMtu(s).inner_mtu;
        expect(outer(inner)).toBeLessThanOrEqual(s.underlayMtu);
        expect(outer(inner + 1)).toBeGreaterThan(s.underlayMtu);
      }),
    );
  });

  it('NAT-T sometimes costs nothing: its 8 bytes fit in the padding slack', () => {
    const base = { underlayMtu: 1508, ipVersion: 4 as const, vlan: false, esp: 'aes-cbc-sha512' as const };
    expect(innerMtu({ ...base, natT: true }).inner_mtu).toBe(innerMtu({ ...base, natT: false }).inner_mtu);
  });
});

describe('bad calculator input', () => {
  it('refuses NAT-T without ESP', () => {
    expect(() => innerMtu({ underlayMtu: 1500, ipVersion: 4, vlan: false, esp: 'none', natT: true })).toThrow(UsageError);
  });

  it('refuses an underlay too small to carry anything, naming the value', () => {
    expect(() => innerMtu({ underlayMtu: 100, ipVersion: 6, vlan: true, esp: 'aes-cbc-sha512', natT: false })).toThrow(/underlay MTU 100/);
  });

  it('exits 64 for an unknown suite, naming it', async () => {
    const r = await runCli(['mtu', '--underlay-mtu', '1500', '--esp', 'des']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('"des"');
  });

  it('exits 64 for calculator flags without --underlay-mtu', async () => {
    const r = await runCli(['mtu', '--vlan', '--state', '/nonexistent/state.yaml']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('--underlay-mtu');
  });
});
