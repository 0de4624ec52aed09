/**
 * `defaults.ipsec.profile`: `danube` writes what Danube's templates write
 * (compared with test/fixtures/ipsec/danube, see its README), `strong` keeps
 * larger groups; keys are quoted and parse back; a subset run that would
 * leave a pair with different IKE parameters at its ends is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { IKE_CONFIG_PATH, IKE_PRESHARED_PATH, IPSECINIT_PATH } from '../../src/ipsec/generator.js';
import { parseIkeConfig, parsePreshared } from '../../src/ipsec/ike-files.js';
import { IkeSplitError, ikeSubsetSplits, refuseIkeSplits } from '../../src/ipsec/ike-subset.js';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { desiredNode } from '../../src/plan/desired-state.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { FIXTURES } from './helpers.js';

const KEYS_FIXTURE = join(FIXTURES, 'ipsec', 'two-sites-keys.yaml');
const DANUBE = join(FIXTURES, 'ipsec', 'danube');

function fixtureDoc(): StateDoc {
  return loadStateText(readFileSync(KEYS_FIXTURE, 'utf8'), KEYS_FIXTURE).doc;
}

/** The fixture with `defaults.ipsec` replaced. */
function withIpsec(ipsec: Record<string, unknown>): StateDoc {
  return { ...fixtureDoc(), defaults: { underlay_mtu: 1500, ipsec } } as StateDoc;
}

function modelWith(ipsec: Record<string, unknown>): Model {
  return validateDoc(withIpsec(ipsec), 'test').model;
}

function rendered(model: Model, node: string, path: string): string {
  const ctx = new RenderContext(model);
  return fileText(desiredNode(ctx, model.nodeByName.get(node)!).files.find((f) => f.path === path)!);
}

/** Comments dropped (outside quotes), braces spaced, whitespace runs made one space. */
function meaning(text: string): string {
  const noComments = text
    .split('\n')
    .map((line) => {
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        if (line[i] === '"') quoted = !quoted;
        if (!quoted && line[i] === '#') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
  return noComments.replace(/([{}])/g, ' $1 ').replace(/\s+/g, ' ').trim();
}

function validationIssues(doc: unknown): Array<{ path: string; message: string }> {
  try {
    validateDoc(doc, 'test');
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => ({ path: i.path, message: i.message }));
  }
  return [];
}

const NODES = ['cn01.prg.example.com', 'cn02.prg.example.com', 'cn03.brn.example.com', 'cn04.brn.example.com', 'cn05.ams.example.com'];
// ipsecinit.j2:2-3, the TCP/111 test policies the danube profile leaves out on purpose (README.md).
const TCP111 = /^\{ ulp tcp [lr]port 111 \} ipsec \{encr_algs aes encr_auth_algs sha512 sa shared\}\n/gm;

describe('profile danube on the two-sites example matches Danube\'s templates', () => {
  const model = modelWith({ profile: 'danube' });

  for (const node of NODES) {
    it(`${node}: ike/config, ike.preshared and ipsecinit.conf mean what Danube's do`, () => {
      const expected = (f: string): string => readFileSync(join(DANUBE, node, f), 'utf8');
      expect(meaning(rendered(model, node, IKE_CONFIG_PATH))).toBe(meaning(expected('config')));
      expect(meaning(rendered(model, node, IKE_PRESHARED_PATH))).toBe(meaning(expected('ike.preshared')));
      const policy = expected('ipsecinit.conf');
      expect(policy.match(TCP111)).toHaveLength(2);
      expect(meaning(rendered(model, node, IPSECINIT_PATH))).toBe(meaning(policy.replace(TCP111, '')));
    });
  }

  it('the normaliser keeps what matters: another group, key or port is a difference', () => {
    const node = 'cn01.prg.example.com';
    const ours = meaning(rendered(model, node, IKE_CONFIG_PATH));
    expect(ours).not.toBe(meaning(rendered(modelWith({ profile: 'strong' }), node, IKE_CONFIG_PATH)));
    const danube = readFileSync(join(DANUBE, node, 'ike.preshared'), 'utf8');
    expect(meaning(rendered(model, node, IKE_PRESHARED_PATH))).not.toBe(meaning(danube.replace(/key "(.)/, 'key "0$1')));
  });
});

describe('defaults.ipsec.profile', () => {
  it('refuses an unknown profile, naming the path', () => {
    const issues = validationIssues(withIpsec({ profile: 'fips' }));
    expect(issues.map((i) => i.path)).toContain('defaults.ipsec.profile');
  });

  it('refuses another ESP suite or scope beside profile danube, naming each field', () => {
    const issues = validationIssues(withIpsec({ profile: 'danube', encr: 'aes-gcm', auth: 'sha256', policy_scope: 'overlay-ports' }));
    expect(issues.map((i) => i.path).sort()).toEqual(['defaults.ipsec.auth', 'defaults.ipsec.encr', 'defaults.ipsec.policy_scope']);
    expect(issues[0]!.message).toMatch(/profile danube/);
  });

  it('accepts Danube\'s own values beside profile danube, as the example states them', () => {
    expect(validationIssues(withIpsec({ profile: 'danube', encr: 'aes-cbc', auth: 'sha512', policy_scope: 'all-udp' }))).toEqual([]);
  });

  it('is strong by default: group 14, sha512, PFS 14, ESP on the shared overlay ports', () => {
    const m = validateDoc(fixtureDoc(), 'test').model;
    expect(m.defaults.ipsec.profile).toBe('strong');
    const ike = rendered(m, 'cn01.prg.example.com', IKE_CONFIG_PATH);
    expect(ike).toContain('p1_xform { auth_method preshared oakley_group 14 auth_alg sha512 encr_alg aes }\np2_pfs 14\n');
    expect(ike).toContain('label "esdc-overlay cn03.brn.example.com"');
    expect(parseIkeConfig(ike).get('203.0.113.13')!.summary).toBe('oakley_group 14 auth_alg sha512 encr_alg aes auth_method preshared p2_pfs 14');
    const policy = rendered(m, 'cn01.prg.example.com', IPSECINIT_PATH);
    expect(policy).toContain('raddr 203.0.113.13 rport 4790 } ipsec { encr_algs aes encr_auth_algs sha512 sa shared }');
  });

  it('danube: group 5, sha256, file-level PFS 2 and rule PFS 5, all-UDP ESP aes + sha512, Danube\'s labels', () => {
    const m = modelWith({ profile: 'danube' });
    expect(m.defaults.ipsec).toEqual({ profile: 'danube', encr: 'aes-cbc', auth: 'sha512', policyScope: 'all-udp', keys: 'pair' });
    const ike = rendered(m, 'cn01.prg.example.com', IKE_CONFIG_PATH);
    expect(ike).toContain('p1_xform { auth_method preshared oakley_group 5 auth_alg sha256 encr_alg aes }\np2_pfs 2\n');
    expect(ike).toContain('{ label "cn01.prg.example.com-cn03.brn.example.com" local_addr 198.51.100.11 remote_addr 203.0.113.13 p1_xform { auth_method preshared oakley_group 5 auth_alg sha256 encr_alg aes } p2_pfs 5 }');
    expect(parseIkeConfig(ike).get('203.0.113.13')!.summary).toBe('oakley_group 5 auth_alg sha256 encr_alg aes auth_method preshared p2_pfs 5');
    const policy = rendered(m, 'cn01.prg.example.com', IPSECINIT_PATH);
    expect(policy).toContain('{ ulp udp laddr 198.51.100.11 raddr 203.0.113.13 } ipsec { encr_algs aes encr_auth_algs sha512 sa shared }');
    expect(policy).not.toMatch(/[lr]port|tcp/);
  });

  it('warns, naming the path, about settings unverified on illumos; the defaults and danube warn of nothing', () => {
    const warn = (ipsec: Record<string, unknown>): string[] =>
      validateDoc(withIpsec(ipsec), 'test').warnings.filter((w) => w.path.startsWith('defaults.ipsec')).map((w) => `${w.path}: ${w.message}`);
    expect(warn({ encr: 'aes-gcm' })).toEqual([expect.stringMatching(/^defaults\.ipsec\.encr: .*unverified on illumos/)]);
    expect(warn({ auth: 'sha256' })).toEqual([expect.stringMatching(/^defaults\.ipsec\.auth: .*unverified on illumos/)]);
    expect(warn({})).toEqual([]);
    expect(warn({ profile: 'danube' })).toEqual([]);
  });
});

describe('pre-shared keys are quoted, as Danube writes them, and parse back', () => {
  for (const profile of ['strong', 'danube']) {
    it(`profile ${profile}`, () => {
      const m = modelWith({ profile });
      for (const k of m.pairKeys) {
        const [a, b] = k.nodes.map((n) => m.nodeByName.get(n)!);
        const text = rendered(m, a!.name, IKE_PRESHARED_PATH);
        expect(text).toContain(`    key "${k.key}"\n`);
        expect(parsePreshared(text).get(b!.externalIp!)).toBe(k.key);
      }
    });
  }

  it('the parser reads the bare form of ike.preshared(5) too, and comments are not keys', () => {
    const text = '# key "nothere"\n{\n localidtype IP\n localid 10.1.1.2\n remoteidtype IP\n remoteid 10.21.12.4\n key 4b65 # trailing\n}\n';
    expect([...parsePreshared(text)]).toEqual([['10.21.12.4', '4b65']]);
  });
});

describe('a subset run that would split IKE parameters between the ends of a pair', () => {
  const danube = modelWith({ profile: 'danube' });
  const strong = modelWith({ profile: 'strong' });
  const danubeConfig = (node: string): string => rendered(danube, node, IKE_CONFIG_PATH);

  it('is found for every unselected peer in another PDC when the profile changes, and names the nodes to add', () => {
    const only = new Set(['cn01.prg.example.com']);
    const splits = ikeSubsetSplits(strong, only, danubeConfig);
    expect(splits.map((s) => s.peer)).toEqual(['cn03.brn.example.com', 'cn04.brn.example.com', 'cn05.ams.example.com']);
    expect(splits[0]!.now).toContain('oakley_group 5');
    expect(splits[0]!.next).toContain('oakley_group 14');
    let error: unknown;
    try {
      refuseIkeSplits(strong, only, danubeConfig);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IkeSplitError);
    const message = (error as Error).message;
    expect(message).toContain('cn01.prg.example.com <-> cn03.brn.example.com');
    expect(message).toContain('add cn03.brn.example.com, cn04.brn.example.com, cn05.ams.example.com to the run');
    expect(message).not.toContain('cn02'); // same PDC: no pair
  });

  it('is not found when every peer is in the run, when nothing changes, for all nodes, or on a node with no ike/config yet', () => {
    // Adding cn01's peers is not enough: they pair with cn02 too. Every node named is.
    const cn01AndPeers = new Set(['cn01.prg.example.com', 'cn03.brn.example.com', 'cn04.brn.example.com', 'cn05.ams.example.com']);
    expect(new IkeSplitError(ikeSubsetSplits(strong, cn01AndPeers, danubeConfig)).add).toEqual(['cn02.prg.example.com']);
    expect(ikeSubsetSplits(strong, new Set(NODES), danubeConfig)).toEqual([]);
    expect(ikeSubsetSplits(danube, new Set(['cn01.prg.example.com']), danubeConfig)).toEqual([]);
    expect(ikeSubsetSplits(strong, undefined, danubeConfig)).toEqual([]);
    expect(ikeSubsetSplits(strong, new Set(['cn01.prg.example.com']), () => null)).toEqual([]);
  });

  it('reads Danube\'s own file: the rule\'s p2_pfs 5 counts, not the file-level 2', () => {
    const text = readFileSync(join(DANUBE, 'cn01.prg.example.com', 'config'), 'utf8');
    expect(parseIkeConfig(text).get('203.0.113.13')!.summary).toBe('oakley_group 5 auth_alg sha256 encr_alg aes auth_method preshared p2_pfs 5');
    // Danube's file and the danube profile agree, so adopting changes no pair.
    expect(ikeSubsetSplits(danube, new Set(['cn01.prg.example.com']), () => text)).toEqual([]);
    expect(ikeSubsetSplits(strong, new Set(['cn01.prg.example.com']), () => text)).toHaveLength(3);
  });
});
