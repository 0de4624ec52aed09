/**
 * Every parser of outside input, fed arbitrary input: the answer is a value
 * or a typed ValidationError naming a place — never another exception, never
 * a hang.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BundleError, buildBundle, parseBundle } from '../../src/agent/bundle.js';
import { spliceBundleFile } from '../../src/agent/bundle-splice.js';
import { textFile, type DesiredNode } from '../../src/desired/desired.js';
import { ValidationError } from '../../src/errors.js';
import { sha256Hex } from '../../src/sha256.js';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import { normalizeMac } from '../../src/model/mac.js';
import { HOSTNAME, matches } from '../../src/syntax/patterns.js';
import { intToIpv4, ipv4ToInt, isIpv4 } from '../../src/net/ipv4.js';
import { parseNodeList } from '../../src/rules/edit.js';
import { canonicalRuleString, parseRuleString } from '../../src/syntax/rule-string.js';
import { quoteWord } from '../../src/shell/quote.js';
import { EXAMPLE } from '../support/paths.js';
import { FUZZ } from './fuzz-config.js';

/** Runs `fn`; passes if it returns, or throws a ValidationError whose issues all have a path and a message. */
function typedOrValue(fn: () => unknown): void {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    for (const issue of e.issues) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message.length).toBeGreaterThan(0);
    }
  }
  expect(performance.now() - t0).toBeLessThan(2000);
}

const example = parseYaml(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;

/** The example with one value somewhere replaced by arbitrary JSON. */
function mutated(path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(example) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const [i, seg] of path.entries()) {
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const key = typeof seg === 'number' ? keys[seg % keys.length]! : seg;
    if (i === path.length - 1 || cur[key] === null || typeof cur[key] !== 'object') {
      cur[key] = value;
      break;
    }
    cur = cur[key] as Record<string | number, unknown>;
  }
  return copy;
}

describe('the state file parser', () => {
  it('arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => typedOrValue(() => loadStateText(text, 'fuzz'))), FUZZ);
  });

  it('arbitrary YAML-looking text', () => {
    const token = fc.constantFrom('version: 1\n', 'nodes:\n', '  a: ', '{', '}', '[', ']', '- ', ': ', '"', "'", '&a ', '*a', '!!str ', '\n', '  ', '#', ',', '0x1f', '1e9', '~', 'null', 'true');
    fc.assert(fc.property(fc.array(token, { maxLength: 60 }), (tokens) => typedOrValue(() => loadStateText(tokens.join(''), 'fuzz'))), FUZZ);
  });

  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => typedOrValue(() => validateDoc(value, 'fuzz'))), FUZZ);
  });

  it('the example with one value anywhere replaced', () => {
    const path = fc.array(fc.oneof(fc.nat(50), fc.constantFrom('nodes', 'overlay_rules', 'vnics', 'adminoverlay', 'vdcs', 'firewall')), { minLength: 1, maxLength: 5 });
    fc.assert(fc.property(path, fc.jsonValue({ maxDepth: 3 }), (p, v) => typedOrValue(() => validateDoc(mutated(p, v), 'fuzz'))), FUZZ);
  });

  it('as JSON text, the same document gives the same model as YAML', () => {
    const fromYaml = validateDoc(example, 'yaml').model;
    const fromJson = loadStateText(JSON.stringify(example), 'json').model;
    expect(fromJson.rules).toEqual(fromYaml.rules);
    expect(fromJson.vnics).toEqual(fromYaml.vnics);
  });
});

describe('rule strings', () => {
  it('arbitrary strings give parameters in range or issues, never an exception', () => {
    const word = fc.constantFrom('-e', 'vxlan', '-s', 'files', '-p', '-v', 'mtu=1400', 'vxlan/listen_port=4790', 'vxlan/listen_ip=0.0.0.0', 'files/config=/opt/custom/x.json', ',', '=', ' ', 'mtu=', '$(x)', '"');
    const text = fc.oneof(fc.string({ maxLength: 200 }), fc.array(word, { maxLength: 14 }).map((w) => w.join(' ')));
    fc.assert(
      fc.property(text, (t) => {
        const r = parseRuleString(t, 'rule');
        if (r.issues.length === 0) {
          const { port, mtu } = r.params;
          if (port !== undefined) expect(port >= 1 && port <= 65535).toBe(true);
          if (mtu !== undefined) expect(mtu >= 576 && mtu <= 8900).toBe(true);
          expect(t).not.toMatch(/[$`"';|&<>\\\n]/);
        }
      }),
      FUZZ,
    );
  });

  it('parse(canonical(p)) = p for every valid parameter set', () => {
    const params = fc.record({
      listenIp: fc.ipV4(),
      port: fc.integer({ min: 1, max: 65535 }),
      filesConfig: fc.stringMatching(/^\/opt\/custom\/networking\/[a-z0-9_]{1,20}\.json$/),
      mtu: fc.integer({ min: 576, max: 8900 }),
    });
    fc.assert(
      fc.property(params, (p) => {
        expect(parseRuleString(canonicalRuleString(p))).toEqual({ params: p, issues: [] });
      }),
      FUZZ,
    );
  });
});

describe('node lists, MACs and IPv4 addresses', () => {
  it('a node list that parses names only valid hostnames', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (t) => {
        const r = parseNodeList(t);
        if (r.issues.length === 0 && r.nodes !== 'all') for (const n of r.nodes) expect(matches(HOSTNAME, n)).toBe(true);
      }),
      FUZZ,
    );
  });

  it('MAC normalisation is lower case, zero padded and idempotent', () => {
    const octet = fc.integer({ min: 0, max: 255 }).chain((n) => fc.constantFrom(n.toString(16), n.toString(16).toUpperCase(), n.toString(16).padStart(2, '0')));
    fc.assert(
      fc.property(fc.array(octet, { minLength: 6, maxLength: 6 }), (octets) => {
        const mac = normalizeMac(octets.join(':'));
        expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        expect(normalizeMac(mac)).toBe(mac);
      }),
      FUZZ,
    );
  });

  it('IPv4 text and numbers round-trip; junk is rejected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(ipv4ToInt(intToIpv4(n))).toBe(n);
      }),
      FUZZ,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        if (isIpv4(s)) expect(intToIpv4(ipv4ToInt(s))).toBe(s.split('.').map(Number).join('.'));
        else if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) expect(() => ipv4ToInt(s)).toThrow(TypeError);
      }),
      FUZZ,
    );
  });
});

describe('shell quoting', () => {
  it('a real POSIX sh gets back exactly the word', () => {
    const words = fc.string({ unit: fc.constantFrom(...' \'"$`\\!*?;&|<>(){}[]#~\t\nab-_=/.'.split('')), maxLength: 30 });
    fc.assert(
      fc.property(fc.array(words, { minLength: 1, maxLength: 4 }), (argv) => {
        const script = `for a in ${argv.map(quoteWord).join(' ')}; do printf '%s\\0' "$a"; done`;
        const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
        expect(r.stdout.split('\0').slice(0, -1)).toEqual(argv);
      }),
      { ...FUZZ, numRuns: Math.min(FUZZ.numRuns, 100) },
    );
  });
});

describe('the agent bundle parser (index line, then contents raw)', () => {
  const desired: DesiredNode = {
    node: 'cn1',
    files: [
      textFile({ path: '/opt/custom/networking/a_overlay.json', mode: 0o400, owner: 'root', group: 'root', secret: false, refresh: 'varpd', text: '{\n  "x": 1\n}\n' }),
      textFile({ path: '/opt/custom/etc/ipsec/ike.preshared', mode: 0o400, owner: 'root', group: 'root', secret: true, refresh: 'ipsec', text: 'secret-key-material\n' }),
    ],
    usbkey: [],
    overlays: [],
  };
  const good = buildBundle(desired, 'pdc0', undefined, 1000);
  const nl = good.indexOf('\n');
  const index = JSON.parse(good.slice(0, nl)) as Record<string, unknown>;

  /** Passes if `fn` returns, or throws a BundleError whose issues name a field, never the secret content. */
  function bundleTypedOrValue(fn: () => unknown): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      expect(e.issues.length).toBeGreaterThan(0);
      for (const issue of e.issues) expect(typeof issue.path).toBe('string');
      expect(e.message).not.toContain('secret-key-material');
    }
  }
  const both = (data: Buffer): void => {
    bundleTypedOrValue(() => parseBundle(data, 'fuzz'));
    bundleTypedOrValue(() => spliceBundleFile(data, '/opt/custom/networking/a_overlay.json', [Buffer.from('{}\n')], sha256Hex('{}\n'), 0, 'fuzz'));
  };

  it('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => both(Buffer.from(bytes))), FUZZ);
  });

  it('the good bundle with bytes changed after its index', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const data = Buffer.from(good);
        data[nl + 1 + (at % (data.length - nl - 1))] = byte;
        both(data);
      }),
      FUZZ,
    );
  });

  it('an index with one field replaced by arbitrary JSON, its checksum recomputed', () => {
    const keys = ['format', 'node', 'version', 'pdc', 'files', 'usbkey', 'overlays', 'files.0', 'files.0.bytes', 'files.0.sha256', 'files.0.path', 'files.1.bytes', 'files.1.mode'];
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        const { sha256: _, ...body } = structuredClone(index);
        const parts = key.split('.');
        let cur = body as Record<string, unknown>;
        for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
        cur[parts.at(-1)!] = value;
        both(Buffer.from(`${JSON.stringify({ ...body, sha256: sha256Hex(JSON.stringify(body)) })}\n${good.slice(nl + 1)}`));
      }),
      FUZZ,
    );
  });
});
