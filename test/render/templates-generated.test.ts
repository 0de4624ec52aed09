/**
 * The precompiled templates (src/render/templates.generated.ts) are what
 * scripts/gen-templates.ts makes of templates/ now, and render exactly what
 * Handlebars' compiler makes of the same text with the same options (the
 * way every template was rendered before they were precompiled), and with
 * the options used before knownHelpersOnly and the shared constants (issue 20).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { COMPILE_OPTIONS, GENERATED_PATH, TEMPLATES_DIR, generateTemplates, templateNames } from '../../scripts/gen-templates.js';
import { PRECOMPILED } from '../../src/render/templates.generated.js';
import { template } from '../../src/render/template.js';

describe('precompiled templates', () => {
  it('equal what scripts/gen-templates.ts generates from templates/ now', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generateTemplates());
  });

  it('cover every file under templates/', () => {
    expect(Object.keys(PRECOMPILED).sort()).toEqual(templateNames());
    expect(templateNames()).toContain('ike.preshared.hbs');
  });

  it('render what the compiler renders from the same text', () => {
    const view = {
      node: 'cn1 & <x>="y"',
      externalIp: '192.0.2.1',
      rules: [{ name: 'customers', port: 4790 }],
      peers: [{ name: 'p', local: '192.0.2.1', remote: '192.0.2.2', key: 'k&"', secret: 's' }],
    };
    for (const name of ['ipf.conf-020-overlays.hbs', 'ike.preshared.hbs']) {
      const compiled = Handlebars.compile(readFileSync(join(TEMPLATES_DIR, name), 'utf8'), COMPILE_OPTIONS);
      expect(template(name)(view), name).toBe(compiled(view));
    }
  });

  // Every field any template reads, with lists and flags both ways: each template takes what it names.
  const full = {
    node: 'cn1 & <x>="y"', out: '/opt/custom/smf/x.xml', cli: '/opt/esdc-overlay/esdc-overlay.mjs', config: '/etc/x.json',
    stopTimeout: 120, status: '/var/run/x.status', store: 'zk://a:2181/esdc', storeOption: '--store', zkAuthFile: '/etc/zk.auth',
    adminIp: '10.0.0.1', externalIp: '192.0.2.1', allUdp: false, esp: 'encr_algs aes', enabled: true,
    sources: ['198.51.100.0/24', '203.0.113.7'], nodes: [{ name: 'cn2', externalIp: '192.0.2.2' }, { name: 'cn3', externalIp: '192.0.2.3' }],
    rules: [{ name: 'customers', port: 4790 }, { name: 'tenanta', port: 4791 }],
    p1Lifetime: 28800, p2Lifetime: 3600, p2Softlife: 3000, p1Xform: 'auth_alg sha512', pfsDefault: 'p2_pfs 5', pfsRule: 'p2_pfs 5',
    peers: [
      { name: 'cn2', pdc: 'p2', local: '192.0.2.1', remote: '192.0.2.2', label: 'cn1-cn2', ports: [4790, 4791], key: 'k&"' },
      { name: 'cn3', pdc: 'p3', local: '192.0.2.1', remote: '192.0.2.3', label: 'cn1-cn3', ports: [4790], key: '0x00' },
    ],
  };
  const views = [full, { ...full, zkAuthFile: '', allUdp: true, enabled: false, sources: [], nodes: [], rules: [], peers: [] }];

  it('render what the compiler renders with the options used before knownHelpersOnly, every template', () => {
    for (const name of templateNames()) {
      const before = Handlebars.compile(readFileSync(join(TEMPLATES_DIR, name), 'utf8'), { noEscape: true, strict: true });
      for (const [i, view] of views.entries()) expect(template(name)(view), `${name}, view ${i}`).toBe(before(view));
    }
  });

  it('name the missing field and its line:column as the compiler did before, every template', () => {
    for (const name of templateNames()) {
      const before = Handlebars.compile(readFileSync(join(TEMPLATES_DIR, name), 'utf8'), { noEscape: true, strict: true });
      const { node: _missing, ...view } = full;
      let expected = '';
      try {
        before(view);
      } catch (e) {
        expected = (e as Error).message.split('\n')[0]!;
      }
      expect(expected, name).toMatch(/^"node" not defined in \[object Object\] - \d+:\d+$/);
      expect(() => template(name)(view), name).toThrow(`template ${name} failed: ${expected}`);
    }
  });
});
