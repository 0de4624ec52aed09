// The lab's own judging code (test/lab/), tested without a kernel: what it
// parses and when it says "fail".
import { describe, expect, it } from 'vitest';
import { caseArgv, caseId, labCases, parseResult } from '../lab/cases.js';
import { checkThreeNodeLines } from '../lab/three-nodes.js';
import { readMtuTable } from './mtu-table.js';

const HERE = new URL('../lab/', import.meta.url).pathname;

describe('lab cases', () => {
  const cases = labCases();
  it('cover IPv4/IPv6, U 1500/9000 (and 1800 on IPv4), every suite and none, VLAN on/off, NAT-T for IPv4', () => {
    // Per U: IPv4 none x VLAN (2) + 3 suites x VLAN x NAT-T (12) = 14; IPv6 4 x VLAN = 8; U 1800: 2 + 2 x 4.
    expect(cases.filter((c) => c.spec.ipVersion === 4 && c.spec.underlayMtu !== 1800)).toHaveLength(28);
    expect(cases.filter((c) => c.spec.ipVersion === 6)).toHaveLength(16);
    expect(cases.filter((c) => c.spec.underlayMtu === 1800)).toHaveLength(10);
    expect(new Set(cases.map((c) => c.id)).size).toBe(54);
    expect(cases.find((c) => c.id === 'u1500-ipv4-aes-cbc-sha512-vlan')!.expected).toBe(1388);
    expect(cases.filter((c) => c.spec.natT).every((c) => c.spec.ipVersion === 4 && c.spec.esp !== 'none')).toBe(true);
  });

  it('measure every row of the reference table (test/fixtures/mtu-table.md), with its value', () => {
    const rows = readMtuTable();
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      for (const [vlan, value] of [[false, r.noVlan], [true, r.vlan]] as const) {
        const id = caseId({ underlayMtu: r.U, ipVersion: r.ipVersion, esp: r.esp, vlan, natT: r.natT });
        expect(cases.find((c) => c.id === id)?.expected, id).toBe(value);
      }
    }
  });

  it('hand case.sh the suite\'s xfrm algorithms', () => {
    const c = cases.find((x) => x.id === 'u1500-ipv6-aes-cbc-sha256-novlan')!;
    expect(caseArgv(c, 'p')).toEqual([c.id, '1500', '6', '0', '0', 'p', String(c.expected), 'enc', 'cbc(aes)', `0x${'1a'.repeat(16)}`, 'auth-trunc', 'hmac(sha256)', `0x${'2b'.repeat(32)}`, '128']);
  });

  it('hand case.sh the computed value to try first, or 0 to search blind', () => {
    const c = cases.find((x) => x.id === 'u9000-ipv4-none-novlan')!;
    expect(caseArgv(c, 'p')[6]).toBe(String(c.expected));
    expect(caseArgv(c, 'p', false)[6]).toBe('0');
  });

  it('parse result and error lines', () => {
    expect(parseResult('[ 12.3] LAB-RESULT u1500-ipv4-none-vlan measured=1446 next=fail probes=12 wait=3 seconds=33')).toEqual({
      id: 'u1500-ipv4-none-vlan', measured: 1446, next: 'fail', probes: 12, seconds: 33,
    });
    expect(parseResult('LAB-RESULT u9000-ipv4-none-novlan measured=8950 next=fail probes=3 wait=1.5 directed=1 seconds=4')).toMatchObject({
      measured: 8950, next: 'fail', directed: true,
    });
    expect(parseResult('LAB-RESULT x error=lower_bound')).toEqual({ id: 'x', error: 'lower_bound' });
    expect(parseResult('noise')).toBeUndefined();
  });
});

/** What a correct three-node run prints (guests g0..g4: web/100 on n1,n2,n3; web/200 on n1,n3). */
function goodRun(): string[] {
  const vni = [100, 100, 100, 200, 200];
  const lines: string[] = [];
  const ips = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
  const states = [
    ['n1.one.example.com', ips[0], ips[2]], ['n1.one.example.com', ips[2], ips[0]],
    ['n2.one.example.com', ips[1], ips[2]], ['n2.one.example.com', ips[2], ips[1]],
    ['n3.two.example.com', ips[2], ips[0]], ['n3.two.example.com', ips[0], ips[2]],
    ['n3.two.example.com', ips[2], ips[1]], ['n3.two.example.com', ips[1], ips[2]],
  ];
  for (const [phase, packets] of [['0', 3], ['1', 3]] as const) for (const s of states) lines.push(`THREE-ESP ${phase} ${s.join(' ')} ${packets}`);
  for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) if (a !== b) lines.push(`THREE-PING tn-g${a} tn-g${b} ${vni[a] === vni[b] ? 'ok' : 'fail'}`);
  for (const s of states) lines.push(`THREE-ESP 2 ${s.join(' ')} 9`);
  lines.push('THREE-DONE');
  return lines;
}

describe('three-node verdict', () => {
  it('passes a correct run', () => {
    const r = checkThreeNodeLines(goodRun(), HERE);
    expect(r.report.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('fails when guests on different VNIs answer', () => {
    const lines = goodRun().map((l) => (l === 'THREE-PING tn-g0 tn-g3 fail' ? 'THREE-PING tn-g0 tn-g3 ok' : l));
    expect(checkThreeNodeLines(lines, HERE).ok).toBe(false);
  });

  it('fails when same-PDC traffic moves an ESP counter, or cross-PDC traffic does not', () => {
    const moved = goodRun().map((l) => (l.startsWith('THREE-ESP 1 n1.one.example.com') ? l.replace(/ 3$/, ' 4') : l));
    expect(checkThreeNodeLines(moved, HERE).ok).toBe(false);
    const flat = goodRun().map((l) => (l.startsWith('THREE-ESP 2 n2.one.example.com') ? l.replace(/ 9$/, ' 3') : l));
    expect(checkThreeNodeLines(flat, HERE).ok).toBe(false);
  });

  it('fails without any ESP state (a kernel without ESP) or without the end marker', () => {
    expect(checkThreeNodeLines(goodRun().filter((l) => !l.startsWith('THREE-ESP')), HERE).ok).toBe(false);
    expect(checkThreeNodeLines(goodRun().filter((l) => l !== 'THREE-DONE'), HERE).ok).toBe(false);
  });
});
