/**
 * Issue 15, the state's side of the trust boundary: what whoever can write
 * the state (a YAML file, or ZooKeeper) must not be able to do with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError } from '../../src/errors.js';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import { MANIFEST_PATH, parseManifest } from '../../src/plan/manifest.js';
import { isOwnedPath } from '../../src/syntax/owned-paths.js';
import { decodeState } from '../../src/store/cfgdb-layout.js';
import { FIXTURES } from '../support/paths.js';

const twoSites = (): Record<string, any> => {
  const { doc } = loadStateText(readFileSync(join(FIXTURES, 'cfgdb', 'two-sites.yaml'), 'utf8'), 'x');
  return structuredClone(doc) as Record<string, any>;
};
const issuesOf = (f: () => unknown): ValidationError => {
  try {
    f();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
};

describe('nodes.<n>.ssh.root', () => {
  it('is refused in a YAML state, naming the path, whatever the value', () => {
    for (const root of ['/home/mallory/evil', '/']) {
      const doc = twoSites();
      const name = Object.keys(doc.nodes)[0]!;
      doc.nodes[name].ssh = { root };
      const err = issuesOf(() => loadStateText(stringify(doc), 'state.yaml'));
      expect(err.issues).toEqual([{ path: `nodes["${name}"].ssh.root`, message: expect.stringContaining('is not accepted') }]);
    }
  });

  it('is refused when it comes from ZooKeeper (the cfgdb layout keeps nodes as JSON)', () => {
    const doc = twoSites();
    const name = Object.keys(doc.nodes)[0]!;
    const tree = new Map([
      ['esdc_overlay/format', '1'],
      [`esdc_overlay/nodes/${name}`, JSON.stringify({ ...doc.nodes[name], ssh: { root: '/home/mallory/evil' } })],
    ]);
    const decoded = decodeState(tree, (rel) => `/esdc/settings/${rel}`, 'zk').doc;
    const err = issuesOf(() => validateDoc(decoded, 'zk', 'warn'));
    expect(err.issues.map((i) => i.path)).toContain(`nodes["${name}"].ssh.root`);
  });
});

describe('files_config (a rule\'s ARP table)', () => {
  const refused = [
    ['/opt/custom/esdc-overlay/bundle.json', 'must not be, contain or lie in /opt/custom/esdc-overlay'],
    ['/opt/custom/esdc-overlay/managed.json', 'must not be, contain or lie in /opt/custom/esdc-overlay'],
    ['/opt/custom/etc/ipsec/ike.preshared', 'must not be, contain or lie in /opt/custom/etc/ipsec'],
    ['/opt/custom/etc/ipf.d/ipf.conf-020-overlays', 'must not be, contain or lie in /opt/custom/etc/ipf.d'],
    ['/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh', 'must not be, contain or lie in /opt/custom/etc/rc-pre-network.d'],
    ['/opt/custom/smf/esdc-overlay-agent.xml', 'must not be, contain or lie in /opt/custom/smf'],
    ['/opt/custom/etc', 'must not be, contain or lie in /opt/custom/etc/ipsec'],
    ['/opt/custom', 'must not be, contain or lie in /opt/custom/esdc-overlay'],
    ['/opt/custom/x.json', 'must be a file in /opt/custom/networking/'],
    ['/opt/custom/networking/', 'must be a file in /opt/custom/networking/'],
  ] as const;

  it('may only name a file in /opt/custom/networking/ away from every managed path: refused at load naming the rule and value', () => {
    for (const [path, why] of refused) {
      const doc = twoSites();
      doc.overlay_rules.customers.files_config = path;
      const err = issuesOf(() => loadStateText(stringify(doc), 'state.yaml'));
      expect(err.issues, path).toContainEqual({ path: 'overlay_rules.customers.files_config', value: path, message: expect.stringContaining(why) });
    }
  });

  it('is refused the same way inside a raw Danube rule string', () => {
    const doc = twoSites();
    doc.overlay_rules.customers.rule = '-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4790 -s files -p files/config=/opt/custom/esdc-overlay/bundle.json -p mtu=1400';
    delete doc.overlay_rules.customers.port;
    const err = issuesOf(() => loadStateText(stringify(doc), 'state.yaml'));
    expect(err.message).toContain('files/config must not be, contain or lie in /opt/custom/esdc-overlay');
  });

  it('a file in /opt/custom/networking/ is accepted', () => {
    const doc = twoSites();
    doc.overlay_rules.customers.files_config = '/opt/custom/networking/customers-2.json';
    expect(() => loadStateText(stringify(doc), 'state.yaml')).not.toThrow();
  });
});

describe('removal of files on a node', () => {
  it('only files of directories we own: a manifest naming a restore script, an SMF manifest or /opt/custom itself lists none of them', () => {
    const foreign = [
      '/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh',
      '/opt/custom/smf/esdc-overlay-agent.xml',
      '/opt/custom/other/file',
      '/opt/custom/networking/',
      '/opt/custom/esdc-overlay/managed.json',
    ];
    const own = ['/opt/custom/networking/customers_overlay.json', '/opt/custom/etc/ipsec/ike.preshared', '/opt/custom/etc/ipf.d/ipf.conf-020-overlays'];
    const files = Object.fromEntries([...foreign, ...own].map((p) => [p, { refresh: 'varpd' }]));
    const { manifest } = parseManifest(JSON.stringify({ version: 1, files, pending_refresh: [] }));
    expect(Object.keys(manifest.files).sort()).toEqual([...own].sort());
    for (const p of foreign) expect(isOwnedPath(p) && p !== MANIFEST_PATH, p).toBe(false);
  });
});

describe('YAML the tool never writes', () => {
  const small = 'version: 1\nnodes:\n  cn01.example.com: { uuid: 564d1a2b-0001-4a6e-9c1e-000000000001, pdc: a, admin_ip: 10.0.0.1 }\noverlay_rules:\n  net: { port: 4790 }\n';

  it('an alias is refused, naming its line, before anything is expanded (a 1.7 MB state once took 4.5 GB)', () => {
    const list = Array.from({ length: 2000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ');
    const rows = Array.from({ length: 2000 }, (_, i) => `  r${i}: *big`).join('\n');
    const text = `${small}x-big: &big [${list}]\nx-copies:\n${rows}\n`;
    const started = performance.now();
    const err = issuesOf(() => loadStateText(text, 'state.yaml'));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(err.issues[0]!.message).toMatch(/^line 8, column 7: YAML alias \*big is not accepted in a state/);
    expect(err.issues.length).toBeLessThanOrEqual(20);
  });

  it('one alias of a scalar is refused too', () => {
    const err = issuesOf(() => loadStateText(`${small.replace('pdc: a', 'pdc: &p a')}defaults: { underlay_mtu: 1500 }\nvdcs:\n  v1: { vxlan_allowed: *p }\n`, 's'));
    expect(err.issues).toEqual([expect.objectContaining({ message: expect.stringMatching(/^line 8, column 24: YAML alias \*p/) })]);
  });

  it('brackets inside comments (and quoted scalars) do not count toward the nesting limit', () => {
    const comment = `# ${'['.repeat(200)} ${'{'.repeat(200)}\n`;
    expect(() => loadStateText(`${comment}${small}# trailing ${'['.repeat(100)}\n`, 's')).not.toThrow();
  });

  it('real nesting after a quoted "#" still counts', () => {
    const deep = `${'['.repeat(70)}1${']'.repeat(70)}`;
    const err = issuesOf(() => loadStateText(`${small}x: {a: "b #", c: ${deep}}\n`, 's'));
    expect(err.issues[0]!.message).toMatch(/nests \d+ levels deep \(at most 64\)/);
  });
});

describe('names that are members of Object.prototype', () => {
  it('vdc: constructor is not a known vDC', () => {
    const text = [
      'version: 1',
      'nodes:',
      '  cn01.example.com: { uuid: 564d1a2b-0001-4a6e-9c1e-000000000001, pdc: a, admin_ip: 10.0.0.1 }',
      'overlay_rules:',
      '  net: { port: 4790 }',
      'vnics:',
      '  - { node: cn01.example.com, mac: "52:54:00:00:00:01", ip: 10.1.0.1, nic_tag: net/1000, vdc: constructor }',
      '',
    ].join('\n');
    const err = issuesOf(() => loadStateText(text, 's'));
    expect(err.issues).toContainEqual({ path: 'vnics[0].vdc', value: 'constructor', message: 'is not a known vDC' });
  });
});
