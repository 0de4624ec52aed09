/**
 * The lab's cases (docs/mtu.md#values): every combination the issue asks the lab to
 * prove, each with the value `src/mtu` computes and the `ip xfrm state`
 * algorithm arguments for its suite, taken from the same suite table.
 */
import { ESP_SUITES, innerMtu, type EspChoice, type EspSuite, type PathSpec } from '../../src/mtu/overhead.js';

export interface LabCase {
  id: string;
  spec: PathSpec;
  expected: number;
  /** Needs a kernel with ESP (and the suite's algorithms) or 802.1Q. */
  needs: { esp: EspChoice; vlan: boolean };
}

/** Test-only keys: fixed bytes, not secrets. */
function key(bytes: number, fill: string): string {
  return `0x${fill.repeat(bytes)}`;
}

/** `ip xfrm state` arguments for a suite's algorithms (keys included); empty for no ESP. */
export function xfrmAlgoArgs(esp: EspChoice): string[] {
  if (esp === 'none') return [];
  const l: EspSuite['linux'] = ESP_SUITES[esp].linux;
  if (l.kind === 'aead') return ['aead', l.aead, key(l.keyBytes, '3c'), String(l.icvBits)];
  return ['enc', l.enc, key(l.encKeyBytes, '1a'), 'auth-trunc', l.auth, key(l.authKeyBytes, '2b'), String(l.truncBits)];
}

export function caseId(s: PathSpec): string {
  return [`u${s.underlayMtu}`, `ipv${s.ipVersion}`, s.esp, s.vlan ? 'vlan' : 'novlan', s.natT ? 'natt' : ''].filter((x) => x !== '').join('-');
}

/**
 * IPv4 and IPv6 underlay, U = 1500 and 9000, every suite and none, with and
 * without VLAN; NAT-T for IPv4 with every suite. Also U = 1800 on IPv4 with
 * none, aes-cbc-sha512 and aes-gcm: the reference table
 * (test/fixtures/mtu-table.md, docs/mtu.md#values) has rows for it, and there
 * the CBC padding absorbs NAT-T's 8 bytes, which only a measurement shows.
 */
export function labCases(): LabCase[] {
  const out: LabCase[] = [];
  const esps: EspChoice[] = ['none', 'aes-cbc-sha256', 'aes-cbc-sha512', 'aes-gcm'];
  const esps1800: EspChoice[] = ['none', 'aes-cbc-sha512', 'aes-gcm'];
  for (const ipVersion of [4, 6] as const) {
    for (const underlayMtu of ipVersion === 4 ? [1500, 1800, 9000] : [1500, 9000]) {
      for (const esp of underlayMtu === 1800 ? esps1800 : esps) {
        for (const vlan of [false, true]) {
          const natTs = ipVersion === 4 && esp !== 'none' ? [false, true] : [false];
          for (const natT of natTs) {
            const spec: PathSpec = { underlayMtu, ipVersion, vlan, esp, natT };
            out.push({ id: caseId(spec), spec, expected: innerMtu(spec).inner_mtu, needs: { esp, vlan } });
          }
        }
      }
    }
  }
  return out;
}

/**
 * The argv of test/lab/case.sh for a case (after the script path). The computed value goes along so the
 * case tries it first (it passes, one byte more fails); `directed: false` makes it search blind.
 */
export function caseArgv(c: LabCase, prefix: string, directed = true): string[] {
  const s = c.spec;
  return [
    c.id, String(s.underlayMtu), String(s.ipVersion), s.vlan ? '1' : '0', s.natT ? '1' : '0', prefix,
    directed ? String(c.expected) : '0', ...xfrmAlgoArgs(s.esp),
  ];
}

export interface LabResult {
  id: string;
  measured?: number;
  next?: string;
  probes?: number;
  seconds?: number;
  /** True when the computed value was confirmed directly, false when the case searched. */
  directed?: boolean;
  error?: string;
}

/** Parses a `LAB-RESULT <id> key=value...` line. */
export function parseResult(line: string): LabResult | undefined {
  const m = /LAB-RESULT (\S+)((?: \S+=\S*)*)/.exec(line);
  if (!m) return undefined;
  const r: LabResult = { id: m[1]! };
  for (const kv of m[2]!.trim().split(' ').filter((x) => x !== '')) {
    const [k, v = ''] = kv.split('=', 2) as [string, string?];
    if (k === 'measured' || k === 'probes' || k === 'seconds') r[k] = Number(v);
    else if (k === 'next') r.next = v;
    else if (k === 'directed') r.directed = v === '1';
    else if (k === 'error') r.error = v;
  }
  return r;
}
