import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMissingKeys } from '../../src/ipsec/keys.js';
import { IKE_CONFIG_PATH, IKE_PRESHARED_PATH, IPSECINIT_PATH } from '../../src/ipsec/generator.js';
import { IPF_ADMIN_PATH, IPF_OVERLAYS_PATH } from '../../src/firewall/generator.js';
import { loadStateText } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import { desiredNode, desiredNodes } from '../../src/plan/desired-state.js';
import { fileText, type DesiredFile } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { commandsScript } from '../../src/render/render-tree.js';
import { exampleDoc, FIXTURES, meshDoc, modelOf, presharedKeys, seededRandom } from './helpers.js';

const FIXTURE = join(FIXTURES, 'ipsec', 'two-sites-keys.yaml');
const GOLDEN = join(FIXTURES, 'ipsec', 'golden', 'two-sites');
const OURS = [IPSECINIT_PATH, IKE_CONFIG_PATH, IKE_PRESHARED_PATH, IPF_OVERLAYS_PATH, IPF_ADMIN_PATH];

function fixtureModel(): Model {
  return loadStateText(readFileSync(FIXTURE, 'utf8'), FIXTURE).model;
}

function fileOf(ctx: RenderContext, node: string, path: string): DesiredFile | undefined {
  return desiredNode(ctx, ctx.model.nodeByName.get(node)!).files.find((f) => f.path === path);
}

describe('golden render of the example after keys generate', { timeout: 30_000 }, () => {
  it('the fixture is exactly what keys generate stores with the fixed key source', () => {
    const doc = exampleDoc();
    const { doc: generated } = generateMissingKeys(doc, modelOf(doc), seededRandom('two-sites'));
    expect(fixtureModel().doc.ipsec).toEqual(generated.ipsec);
  });

  it('matches the reviewed files in test/fixtures/ipsec/golden/two-sites', () => {
    const ctx = new RenderContext(fixtureModel());
    let compared = 0;
    for (const desired of desiredNodes(ctx)) {
      for (const path of OURS) {
        const file = desired.files.find((f) => f.path === path);
        expect(file, `${desired.node} ${path}`).toBeDefined();
        const golden = join(GOLDEN, desired.node, path);
        const text = fileText(file!);
        if (process.env.UPDATE_GOLDEN === '1') {
          mkdirSync(dirname(golden), { recursive: true });
          writeFileSync(golden, text);
        }
        expect(existsSync(golden), golden).toBe(true);
        expect(text, golden).toBe(readFileSync(golden, 'utf8'));
        compared++;
      }
    }
    expect(compared).toBe(25);
    expect(ctx.warnings.filter((w) => w.path.startsWith('ipsec'))).toEqual([]);
  });

  it('is byte-identical on every render', () => {
    const a = new RenderContext(fixtureModel());
    const b = new RenderContext(fixtureModel());
    for (const n of a.model.nodes) {
      for (const path of OURS) expect(fileText(fileOf(a, n.name, path)!)).toBe(fileText(fileOf(b, n.name, path)!));
    }
  });
});

describe('IPsec files of a node', { timeout: 30_000 }, () => {
  const ctx = new RenderContext(fixtureModel());

  it('hold one key per peer in another PDC, the same at both ends of every pair', () => {
    const m = ctx.model;
    for (const k of m.pairKeys) {
      const [a, b] = k.nodes.map((n) => m.nodeByName.get(n)!);
      expect(presharedKeys(fileText(fileOf(ctx, a!.name, IKE_PRESHARED_PATH)!)).get(b!.externalIp!)).toBe(k.key);
      expect(presharedKeys(fileText(fileOf(ctx, b!.name, IKE_PRESHARED_PATH)!)).get(a!.externalIp!)).toBe(k.key);
    }
    expect(m.pairKeys).toHaveLength(8);
  });

  it('give same-PDC nodes no policy, no IKE rule and no key', () => {
    const cn02 = ctx.model.nodeByName.get('cn02.prg.example.com')!;
    for (const path of [IPSECINIT_PATH, IKE_CONFIG_PATH, IKE_PRESHARED_PATH]) {
      const text = fileText(fileOf(ctx, 'cn01.prg.example.com', path)!);
      expect(text).not.toContain(cn02.externalIp!);
      expect(text).not.toContain(cn02.adminIp);
      expect(text).not.toContain(cn02.name);
    }
  });

  it('bypass the admin network, scope ESP to the shared overlay ports, and drop the TCP/111 test rules', () => {
    const text = fileText(fileOf(ctx, 'cn04.brn.example.com', IPSECINIT_PATH)!);
    expect(text).toContain('{ laddr 10.101.0.14 dir both } bypass {}');
    // cn04 has customers (4790) and adminoverlay (4792), not lab (4791).
    expect(text).toContain('{ ulp udp laddr 203.0.113.14 raddr 198.51.100.11 rport 4790 } ipsec { encr_algs aes encr_auth_algs sha512 sa shared }');
    expect(text).toContain('{ ulp udp laddr 203.0.113.14 raddr 198.51.100.11 lport 4792 }');
    expect(text).not.toContain('4791');
    expect(text).not.toMatch(/tcp|111/);
    expect(text.match(/ ipsec \{/g)).toHaveLength(3 * 2 * 2); // 3 peers, 2 ports, both directions
  });

  it('protect the same ports at both ends of every pair, outbound at one end matching inbound at the other', () => {
    const m = ctx.model;
    const policy = (n: string): string => fileText(fileOf(ctx, n, IPSECINIT_PATH)!);
    const ports = (text: string, local: string, remote: string, dir: 'lport' | 'rport'): number[] =>
      [...text.matchAll(new RegExp(`laddr ${local} raddr ${remote} ${dir} (\\d+) `, 'g'))].map((x) => Number(x[1]));
    for (const k of m.pairKeys) {
      const [a, b] = k.nodes.map((n) => m.nodeByName.get(n)!);
      const pa = policy(a!.name);
      const pb = policy(b!.name);
      const out = ports(pa, a!.externalIp!, b!.externalIp!, 'rport');
      expect(out.length).toBeGreaterThan(0);
      expect(ports(pb, b!.externalIp!, a!.externalIp!, 'lport')).toEqual(out);
      expect(ports(pb, b!.externalIp!, a!.externalIp!, 'rport')).toEqual(ports(pa, a!.externalIp!, b!.externalIp!, 'lport'));
    }
  });

  it('keep Danube\'s all-UDP policy when defaults.ipsec.policy_scope is all-udp', () => {
    const doc = { ...fixtureModel().doc, defaults: { ipsec: { encr: 'aes-gcm' as const, auth: 'sha256' as const, policy_scope: 'all-udp' as const } } };
    const c = new RenderContext(modelOf(doc));
    const text = fileText(fileOf(c, 'cn04.brn.example.com', IPSECINIT_PATH)!);
    expect(text).toContain('{ ulp udp laddr 203.0.113.14 raddr 198.51.100.11 } ipsec { encr_algs aes-gcm sa shared }');
    expect(text).not.toMatch(/[lr]port/);
    expect(fileText(fileOf(c, 'cn04.brn.example.com', IKE_CONFIG_PATH)!)).toContain('auth_alg sha256');
  });

  it('are written with the intended modes, keys 0400 and marked secret, refreshed by the ipsec service', () => {
    const files = desiredNode(ctx, ctx.model.nodeByName.get('cn01.prg.example.com')!).files;
    const mode = (p: string): [number, boolean, string | null] => {
      const f = files.find((x) => x.path === p)!;
      return [f.mode, f.secret, f.refresh];
    };
    expect(mode(IKE_PRESHARED_PATH)).toEqual([0o400, true, 'ipsec']);
    expect(mode(IPSECINIT_PATH)).toEqual([0o640, false, 'ipsec']);
    expect(mode(IKE_CONFIG_PATH)).toEqual([0o640, false, 'ipsec']);
    expect(mode(IPF_OVERLAYS_PATH)).toEqual([0o640, false, 'ipf']);
    expect(mode(IPF_ADMIN_PATH)).toEqual([0o640, false, 'ipf']);
    // Only the key file holds a key.
    const keys = ctx.model.pairKeys.map((k) => k.key);
    for (const f of files.filter((x) => !x.secret)) for (const k of keys) expect(fileText(f)).not.toContain(k);
  });

  it('never put a key in the commands a node runs', () => {
    const keys = ctx.model.pairKeys.map((k) => k.key);
    for (const d of desiredNodes(ctx)) {
      const script = commandsScript(d);
      for (const k of keys) expect(script).not.toContain(k);
      for (const o of d.overlays) for (const k of keys) expect(o.argv.join(' ')).not.toContain(k);
    }
  });
});

describe('render-only keys for pairs without a stored key', { timeout: 30_000 }, () => {
  it('give both ends one fresh key and warn once without the key', () => {
    const model = modelOf(meshDoc({ 'a-1': 'p1', 'a-2': 'p1', b: 'p2' }));
    const ctx = new RenderContext(model);
    const at = (n: string): Map<string, string> => presharedKeys(fileText(fileOf(ctx, n, IKE_PRESHARED_PATH)!));
    const [ea1, ea2, eb] = ['a-1', 'a-2', 'b'].map((n) => model.nodeByName.get(n)!.externalIp!);
    expect(at('a-1').get(eb!)).toBe(at('b').get(ea1!));
    expect(at('a-2').get(eb!)).toBe(at('b').get(ea2!));
    expect(at('a-1').get(eb!)).not.toBe(at('a-2').get(eb!));
    expect(ctx.warnings.filter((w) => w.path.startsWith('ipsec'))).toHaveLength(1);
    expect(ctx.warnings[0]!.message).toMatch(/^2 pair\(s\) of nodes in different PDCs have no stored key \(a-1 <-> b, a-2 <-> b\)/);
    const made = [at('b').get(ea1!)!, at('b').get(ea2!)!];
    for (const k of made) expect(JSON.stringify(ctx.warnings)).not.toContain(k);
    // Another render makes other keys: nothing was stored.
    const again = new RenderContext(model);
    expect(presharedKeys(fileText(fileOf(again, 'b', IKE_PRESHARED_PATH)!)).get(ea1!)).not.toBe(made[0]);
  });
});

describe('render-only keys from an operator\'s secret (render --key-secret)', { timeout: 30_000 }, () => {
  const model = modelOf(meshDoc({ 'a-1': 'p1', 'a-2': 'p1', b: 'p2' }));
  const eb = model.nodeByName.get('b')!.externalIp!;
  const keyAt = (ctx: RenderContext, node: string): string | undefined =>
    presharedKeys(fileText(fileOf(ctx, node, IKE_PRESHARED_PATH)!)).get(eb);

  it('are the same in every render with the same secret, and differ with another', () => {
    const secret = Buffer.alloc(32, 7);
    const one = new RenderContext(model, { keySecret: secret });
    const two = new RenderContext(model, { keySecret: Buffer.from(secret) });
    const other = new RenderContext(model, { keySecret: Buffer.alloc(32, 8) });
    expect(keyAt(one, 'a-1')).toMatch(/^[0-9a-f]{256}$/);
    expect(keyAt(two, 'a-1')).toBe(keyAt(one, 'a-1'));
    expect(keyAt(other, 'a-1')).not.toBe(keyAt(one, 'a-1'));
    expect(keyAt(one, 'a-2')).not.toBe(keyAt(one, 'a-1')); // one key per pair, still
    expect(keyAt(two, 'a-2')).toBe(keyAt(one, 'a-2'));
    expect(one.warnings[0]!.message).toContain('derives their keys from the --key-secret file');
  });

  it('never replace a stored key', () => {
    const doc = meshDoc({ 'a-1': 'p1', b: 'p2' });
    const stored = 'ab'.repeat(128);
    const keyed = modelOf({ ...doc, ipsec: { psk: [{ nodes: ['a-1', 'b'], key: stored }] } });
    const ctx = new RenderContext(keyed, { keySecret: Buffer.alloc(32, 7) });
    expect(presharedKeys(fileText(fileOf(ctx, 'a-1', IKE_PRESHARED_PATH)!)).get(keyed.nodeByName.get('b')!.externalIp!)).toBe(stored);
    expect(ctx.warnings.filter((w) => w.path === 'ipsec.psk')).toEqual([]); // no pair is left without a stored key
  });
});
