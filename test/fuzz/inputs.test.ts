/**
 * The parsers test/fuzz/parsers.test.ts does not reach: vDC range strings
 * and lists, the adminoverlay's `node=ip` and `--reserve` lists, sysinfo and
 * `vmadm lookup -j` JSON, `dladm show-overlay -p` text, a node's manifest,
 * and state text far too big or too deep. Same contract: a value, or a
 * ValidationError whose every issue names a place; nothing else, and fast.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAssignments } from '../../src/adminoverlay/edit.js';
import { parseReserved } from '../../src/adminoverlay/addresses.js';
import { parseShowOverlay } from '../../src/discovery/dladm.js';
import { parseSysinfo } from '../../src/discovery/sysinfo.js';
import { parseVmadmLookup } from '../../src/discovery/vmadm.js';
import { ValidationError } from '../../src/errors.js';
import { loadStateText, MAX_NESTING, MAX_STATE_BYTES } from '../../src/model/load.js';
import { HOSTNAME, matches } from '../../src/syntax/patterns.js';
import { OWNED_DIRS } from '../../src/syntax/owned-paths.js';
import { isIpv4 } from '../../src/net/ipv4.js';
import { parseManifest } from '../../src/plan/manifest.js';
import { parseRangeList, parseRanges } from '../../src/syntax/range-list.js';
import { VLAN, VXLAN } from '../../src/syntax/id-kinds.js';
import { FUZZ } from './fuzz-config.js';
import { FIXTURES } from '../support/paths.js';

/** Runs `fn`: its value, or undefined after a ValidationError whose issues each have a path and a message. */
function typedOrValue<T>(fn: () => T): T | undefined {
  const t0 = performance.now();
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    expect(e.issues.length).toBeGreaterThan(0);
    for (const issue of e.issues) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message.length).toBeGreaterThan(0);
    }
    return undefined;
  } finally {
    expect(performance.now() - t0).toBeLessThan(2000);
  }
}

/** Text built mostly from the characters a parser cares about, so the fuzz gets past the first check. */
const textOf = (chars: string, maxLength = 60) => fc.string({ unit: fc.constantFrom(...chars.split('')), maxLength });

describe('vDC range strings and lists', () => {
  const rangeText = fc.oneof(textOf('0123456789-, \t'), fc.string({ maxLength: 40 }), textOf('0123456789-,x.+e '));
  const rangeItem = fc.oneof(fc.integer({ min: -10, max: 20_000_000 }), rangeText, fc.double(), fc.constant(null), fc.boolean());
  for (const domain of [VXLAN, VLAN]) {
    it(`${domain.label}: every id in the set lies in the domain; problems name the path`, () => {
      fc.assert(
        fc.property(fc.oneof(rangeText, fc.array(rangeItem, { maxLength: 12 }), fc.jsonValue()), (input) => {
          const { set, issues } = parseRangeList(input, domain, 'vdcs.x.vxlan_allowed');
          for (const [a, b] of set.intervals) {
            expect(Number.isInteger(a) && Number.isInteger(b)).toBe(true);
            expect(a).toBeGreaterThanOrEqual(domain.min);
            expect(b).toBeLessThanOrEqual(domain.max);
            expect(a).toBeLessThanOrEqual(b);
          }
          for (const i of issues) expect(i.path.startsWith('vdcs.x.vxlan_allowed')).toBe(true);
          const thrown = typedOrValue(() => parseRanges(input, domain, 'vdcs.x.vxlan_allowed'));
          expect(thrown === undefined).toBe(issues.length > 0);
        }),
        FUZZ,
      );
    });
  }

  it('a written set parses back to itself', () => {
    const iv = fc.tuple(fc.integer({ min: 1, max: 4094 }), fc.integer({ min: 0, max: 50 })).map(([a, n]) => [a, Math.min(4094, a + n)] as const);
    fc.assert(
      fc.property(fc.array(iv, { maxLength: 10 }), (ivs) => {
        const text = ivs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
        const once = parseRanges(text, VLAN, 'x');
        const again = parseRanges(once.intervals.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','), VLAN, 'x');
        expect(again.intervals).toEqual(once.intervals);
      }),
      FUZZ,
    );
  });
});

describe('the adminoverlay node=ip list and --reserve', () => {
  it('every accepted pair is a valid hostname and IPv4 address, no node or address twice', () => {
    const list = fc.oneof(textOf('ab1.-=,;$`\'" \n0123456789/'), fc.string({ maxLength: 80 }));
    fc.assert(
      fc.property(list, (text) => {
        const out = typedOrValue(() => parseAssignments(text));
        if (!out) return;
        for (const a of out) {
          expect(matches(HOSTNAME, a.node)).toBe(true);
          expect(isIpv4(a.ip)).toBe(true);
        }
        expect(new Set(out.map((a) => a.node)).size).toBe(out.length);
        expect(new Set(out.map((a) => a.ip)).size).toBe(out.length);
      }),
      FUZZ,
    );
  });

  it('valid pairs are all kept, in order', () => {
    const pair = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.integer({ min: 1, max: 254 }));
    fc.assert(
      fc.property(fc.uniqueArray(pair, { selector: ([n]) => n, maxLength: 8 }), (pairs) => {
        const uniq = pairs.map(([n], i) => [n, `10.44.0.${i + 1}`] as const);
        const text = uniq.map(([n, ip]) => `${n}=${ip}`).join(', ');
        expect(parseAssignments(text)).toEqual(uniq.map(([node, ip]) => ({ node, ip })));
      }),
      FUZZ,
    );
  });

  it('--reserve gives ranges with first <= last inside IPv4, or names the item', () => {
    fc.assert(
      fc.property(fc.oneof(textOf('0123456789./-, '), fc.string({ maxLength: 40 })), (text) => {
        const out = typedOrValue(() => parseReserved(text));
        for (const r of out ?? []) {
          expect(r.first).toBeGreaterThanOrEqual(0);
          expect(r.last).toBeLessThanOrEqual(0xffffffff);
          expect(r.first).toBeLessThanOrEqual(r.last);
        }
      }),
      FUZZ,
    );
  });
});

/** A node's `sysinfo` as SmartOS prints it: admin on ixgbe0, external on a VLAN-0 vNIC, the adminoverlay vNIC. */
const SYSINFO = JSON.parse(readFileSync(join(FIXTURES, 'discovery', 'sysinfo-node01.json'), 'utf8')) as Record<string, unknown>;

const VMADM = [
  {
    uuid: '0b7b1c8e-1111-4a6e-9c1e-000000000001',
    nics: [{ mac: '02:00:00:00:00:01', ip: '10.0.0.5', nic_tag: 'customers/12', vlan_id: 0 }, { mac: '02:00:00:00:00:02', ip: 'dhcp', nic_tag: 'admin' }],
  },
];

/** `value` with the member at a pseudo-random path replaced by `v`. */
function replaced(value: unknown, path: number[], v: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let cur: Record<string, unknown> = copy;
  for (const [i, seg] of path.entries()) {
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const key = keys[seg % keys.length]!;
    if (i === path.length - 1 || cur[key] === null || typeof cur[key] !== 'object') {
      cur[key] = v;
      break;
    }
    cur = cur[key] as Record<string, unknown>;
  }
  return copy;
}

const segs = fc.array(fc.nat(20), { minLength: 1, maxLength: 5 });

describe('sysinfo JSON', () => {
  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void typedOrValue(() => parseSysinfo(v))), FUZZ);
  });
  it('a real answer with one member replaced: facts that pass their own patterns, or the field named', () => {
    fc.assert(
      fc.property(segs, fc.jsonValue({ maxDepth: 2 }), (path, v) => {
        const facts = typedOrValue(() => parseSysinfo(replaced(SYSINFO, path, v)));
        if (!facts) return;
        expect(matches(HOSTNAME, facts.hostname)).toBe(true);
        expect(isIpv4(facts.adminIp)).toBe(true);
        if (facts.externalIp !== undefined) expect(isIpv4(facts.externalIp)).toBe(true);
        for (const m of Object.values(facts.mtu)) expect(m).toBeGreaterThanOrEqual(576);
      }),
      FUZZ,
    );
  });
  it('the shell-looking values a hostile node might send are not facts', () => {
    for (const bad of ['node01;rm -rf /', 'a b', '$(id)', 'x\ny', '../etc', '`id`']) {
      expect(typedOrValue(() => parseSysinfo({ ...SYSINFO, Hostname: bad }))).toBeUndefined();
      expect(typedOrValue(() => parseSysinfo({ ...SYSINFO, 'Datacenter Name': bad }))).toBeUndefined();
    }
  });
});

describe('vmadm lookup -j JSON', () => {
  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void typedOrValue(() => parseVmadmLookup(v, 'node01.local'))), FUZZ);
  });
  it('a real answer with one member replaced: vNICs with a MAC, an IPv4 address and an overlay tag, or the VM named', () => {
    fc.assert(
      fc.property(segs, fc.jsonValue({ maxDepth: 2 }), (path, v) => {
        const out = typedOrValue(() => parseVmadmLookup(replaced(VMADM, path, v), 'node01.local'));
        for (const n of out ?? []) {
          expect(n.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
          expect(isIpv4(n.ip)).toBe(true);
        }
      }),
      FUZZ,
    );
  });
});

describe('dladm show-overlay -p text', () => {
  it('links are names; lines it does not understand are named', () => {
    fc.assert(
      fc.property(fc.oneof(textOf('ab0:\\\n -=/.', 120), fc.string({ maxLength: 120 })), (text) => {
        const out = typedOrValue(() => parseShowOverlay(text));
        for (const link of out?.keys() ?? []) expect(link).toMatch(/^[A-Za-z][A-Za-z0-9_]*[0-9]$/);
      }),
      FUZZ,
    );
  });
});

describe("a node's manifest (/opt/custom/esdc-overlay/managed.json)", () => {
  it('never throws, and lists for removal only paths under the allowed roots, without dot segments', () => {
    const path = fc.oneof(
      textOf('/.abcoptusrkey-_ ;$\n', 40),
      fc.constantFrom(
        '/usbkey/config',
        '/etc/passwd',
        '/opt/custom/../../etc/shadow',
        '/opt/custom/./x',
        'opt/custom/x',
        '/opt/custom/a b',
        '/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh',
        '/opt/custom/smf/x.xml',
        '/opt/custom/networking/',
      ),
      fc.string({ maxLength: 40 }).map((s) => `/opt/custom/${s}`),
      fc.string({ maxLength: 40 }).map((s) => `/opt/custom/networking/${s}`),
    );
    const manifest = fc.record({
      version: fc.oneof(fc.constant(1), fc.jsonValue()),
      files: fc.dictionary(path, fc.record({ refresh: fc.constantFrom('ipf', 'ipsec', 'varpd', 'net-virtual', 'x') }), { maxKeys: 6 }),
      pending_refresh: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.oneof(manifest.map((m) => JSON.stringify(m)), fc.string({ maxLength: 80 })), (text) => {
        const { manifest: m } = parseManifest(text);
        for (const p of Object.keys(m.files)) {
          expect(OWNED_DIRS.some((r) => p.startsWith(r) && p.length > r.length)).toBe(true);
          expect(p).not.toMatch(/\/\.\.?(\/|$)|[\s;$`'"\\]/);
        }
      }),
      FUZZ,
    );
  });
});

describe('state text too big or too deep', () => {
  it(`a ${Math.round((MAX_STATE_BYTES * 1.5) / 2 ** 20)} MiB state is refused, by size, quickly`, () => {
    const line = 'x_padding_key: "0123456789012345678901234567890123456789012345678901234567890123456789"\n';
    const text = `version: 1\n${line.repeat(Math.ceil((MAX_STATE_BYTES * 1.5) / line.length))}`;
    const t0 = performance.now();
    expect(() => loadStateText(text, 'big.yaml')).toThrow(/larger than 32 MiB/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('indentation 200 levels deep is refused quickly', () => {
    const text = `version: 1\nx:\n${Array.from({ length: 200 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
    const t0 = performance.now();
    expect(() => loadStateText(text, 'deep.yaml')).toThrow(new RegExp(`nests 201 levels deep \\(at most ${MAX_NESTING}\\)`));
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('10,000 levels of compact YAML sequences on one line are refused before the parser recurses', () => {
    const text = `version: 1\nx:\n  ${'- '.repeat(10_000)}1\n`;
    const t0 = performance.now();
    expect(() => loadStateText(text, 'deep.yaml')).toThrow(/nests 10002 levels deep/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('10,000 levels of JSON nesting are refused quickly', () => {
    const text = `{"version": 1, "x": ${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const t0 = performance.now();
    expect(() => loadStateText(text, 'deep.json')).toThrow(/nests 10001 levels/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a billion-laughs alias bomb is refused, not expanded', () => {
    const lines = ['version: 1', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const t0 = performance.now();
    expect(typedOrValue(() => loadStateText(lines.join('\n'), 'bomb.yaml'))).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
