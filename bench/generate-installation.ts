/**
 * Synthetic installations for benchmarks: N nodes over P PDCs, R overlay
 * rules (the first on every node, the others on seeded subsets), M VM NICs
 * spread over rules and their nodes, optionally an adminoverlay. Pure and
 * deterministic: one spec and seed always give the same document, so a
 * figure in bench/README.md can be reproduced.
 *
 * As a module: `generateInstallation(spec)` → StateDoc.
 * As a script: `npx tsx bench/generate-installation.ts --nodes 500 --pdcs 4
 *   --rules 4 --nics 20000 --seed 1 --out /tmp/state.json` (see bench/README.md).
 *
 * Addresses come from documentation and benchmarking ranges: external IPs
 * from 198.18.0.0/15 (RFC 2544), admin IPs from 10.100.0.0 upward (one /16 per
 * PDC), overlay IPs from 172.16.0.0/12, IPv6 from fd00::/8; MACs of VM NICs
 * are 52:54 + a 32-bit counter, so they never collide.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { AdminOverlayMemberDoc, NodeDoc, RuleDoc, StateDoc, VnicDoc } from '../src/model/state.js';

export interface InstallationSpec {
  /** Compute nodes (1-65535). */
  nodes: number;
  /** Physical datacenters (1-nodes); nodes are dealt round-robin. */
  pdcs: number;
  /** Overlay rules besides the adminoverlay (1-26). */
  rules: number;
  /** VM NICs on overlays. */
  nics: number;
  /** PRNG seed. */
  seed: number;
  /** Share of nodes each rule but the first is on (0-1; default 0.5). */
  subsetShare?: number;
  /** Share of NICs with an IPv6 address (default 0.1). */
  ipv6Share?: number;
  /** VNIs per rule (default 8). */
  vnisPerRule?: number;
  /** Add the adminoverlay with a vNIC on every node (default false). */
  adminoverlay?: boolean;
}

/** mulberry32: tiny, fast, good enough to spread NICs; not for secrets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const quad = (a: number, n: number): string => `${a}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

export function nodeName(i: number, pdc: string): string {
  return `cn${String(i + 1).padStart(4, '0')}.${pdc}.example.com`;
}

export function ruleName(k: number): string {
  return k === 0 ? 'customers' : `tenant${String.fromCharCode(96 + k)}`;
}

export function pdcName(p: number): string {
  return `pdc${String(p + 1).padStart(2, '0')}`;
}

export function checkSpec(spec: InstallationSpec): string[] {
  const problems: string[] = [];
  const int = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer ${min}-${max} (got ${v})`);
  };
  int('nodes', spec.nodes, 1, 65_535);
  // Admin IPs are 10.<100 + pdc>.x.y.
  int('pdcs', spec.pdcs, 1, Math.min(spec.nodes, 150));
  int('rules', spec.rules, 1, 26);
  int('nics', spec.nics, 0, 1_000_000);
  int('seed', spec.seed, 0, 2 ** 32 - 1);
  if (spec.adminoverlay && spec.nodes > 65_000) problems.push('adminoverlay holds at most 65,000 nodes (a /16)');
  return problems;
}

export function generateInstallation(spec: InstallationSpec): StateDoc {
  const problems = checkSpec(spec);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const rand = prng(spec.seed);
  const subsetShare = spec.subsetShare ?? 0.5;
  const ipv6Share = spec.ipv6Share ?? 0.1;
  const vnisPerRule = spec.vnisPerRule ?? 8;

  const names: string[] = [];
  const nodes: Record<string, NodeDoc> = {};
  for (let i = 0; i < spec.nodes; i++) {
    const p = i % spec.pdcs;
    const name = nodeName(i, pdcName(p));
    names.push(name);
    nodes[name] = {
      uuid: `564d0000-0000-4000-8000-${hex(i + 1, 12)}`,
      pdc: pdcName(p),
      admin_ip: quad(10, ((100 + p) << 16) | (i + 1)),
      external_ip: quad(198, ((18 + ((i + 1) >>> 16)) << 16) | ((i + 1) & 0xffff)),
    };
  }

  const overlay_rules: Record<string, RuleDoc> = {};
  const ruleNodes: string[][] = [];
  for (let k = 0; k < spec.rules; k++) {
    let members = names;
    if (k > 0) {
      members = names.filter(() => rand() < subsetShare);
      if (members.length < 2) members = names.slice(0, Math.min(2, names.length));
    }
    ruleNodes.push(members);
    overlay_rules[ruleName(k)] = { port: 4790 + k, nodes: k === 0 ? 'all' : members, mtu: 1400 };
  }

  const vnics: VnicDoc[] = [];
  for (let j = 0; j < spec.nics; j++) {
    const k = Math.floor(rand() * spec.rules);
    const members = ruleNodes[k]!;
    const owner = members[Math.floor(rand() * members.length)]!;
    const vni = 1000 + k * 100 + Math.floor(rand() * vnisPerRule);
    const nic: VnicDoc = {
      vm: `0b1e0000-0000-4000-8000-${hex(j + 1, 12)}`,
      node: owner,
      mac: `52:54:${hex(j >>> 24, 2)}:${hex((j >>> 16) & 255, 2)}:${hex((j >>> 8) & 255, 2)}:${hex(j & 255, 2)}`,
      // Unique over all NICs, so unique per rule and VNI.
      ip: quad(172, ((16 + (j >>> 16)) << 16) | (j & 0xffff)),
      nic_tag: `${ruleName(k)}/${vni}`,
    };
    // Past 65,535 NICs the counter takes two groups (one group holds 16 bits); below, the form is unchanged.
    const low = j < 0x10000 ? j.toString(16) : `${(j >>> 16).toString(16)}:${(j & 0xffff).toString(16)}`;
    if (rand() < ipv6Share) nic.ip6 = `fd00:${k.toString(16)}::${low}`;
    if (rand() < 0.5) nic.vlan_id = 10 + (vni % 100);
    vnics.push(nic);
  }

  const doc: StateDoc = { version: 1, defaults: { underlay_mtu: 1500 }, nodes, overlay_rules, vnics };
  if (spec.adminoverlay) {
    const members: Record<string, AdminOverlayMemberDoc> = {};
    names.forEach((name, i) => {
      members[name] = { ip: quad(10, (44 << 16) | (i + 11)), mac: `02:e5:dc:${hex((i >>> 16) & 255, 2)}:${hex((i >>> 8) & 255, 2)}:${hex(i & 255, 2)}` };
    });
    doc.adminoverlay = { subnet: '10.44.0.0/16', port: 4790 + spec.rules, vxlan_id: 2, vlan_id: 2, mtu: 1300, nodes: members };
  }
  return doc;
}

/** The state as text: JSON for a `.json` path, else YAML. */
export function serialize(doc: StateDoc, path: string): string {
  return path.endsWith('.json') ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 });
}

const USAGE = `usage: tsx bench/generate-installation.ts --out FILE [--nodes N] [--pdcs P] [--rules R] [--nics M]
       [--seed S] [--subset-share F] [--ipv6-share F] [--vnis-per-rule V] [--adminoverlay]
writes a synthetic state file (JSON when FILE ends in .json, else YAML); defaults: 500 nodes, 4 PDCs,
4 rules, 20000 NICs, seed 1`;

export interface MainIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export function main(argv: readonly string[], io: MainIo = process): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        nodes: { type: 'string', default: '500' },
        pdcs: { type: 'string', default: '4' },
        rules: { type: 'string', default: '4' },
        nics: { type: 'string', default: '20000' },
        seed: { type: 'string', default: '1' },
        'subset-share': { type: 'string', default: '0.5' },
        'ipv6-share': { type: 'string', default: '0.1' },
        'vnis-per-rule': { type: 'string', default: '8' },
        adminoverlay: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.out === undefined) {
    io.stderr.write(`--out is required\n${USAGE}\n`);
    return 64;
  }
  const spec: InstallationSpec = {
    nodes: Number(values.nodes),
    pdcs: Number(values.pdcs),
    rules: Number(values.rules),
    nics: Number(values.nics),
    seed: Number(values.seed),
    subsetShare: Number(values['subset-share']),
    ipv6Share: Number(values['ipv6-share']),
    vnisPerRule: Number(values['vnis-per-rule']),
    adminoverlay: values.adminoverlay,
  };
  const problems = checkSpec(spec);
  if (problems.length > 0) {
    io.stderr.write(`${problems.join('\n')}\n`);
    return 64;
  }
  const doc = generateInstallation(spec);
  writeFileSync(values.out, serialize(doc, values.out), { mode: 0o600 });
  io.stdout.write(`wrote ${values.out}: ${spec.nodes} nodes, ${spec.pdcs} PDCs, ${spec.rules} rules, ${spec.nics} NICs\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
