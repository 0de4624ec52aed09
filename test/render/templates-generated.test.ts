/**
 * The precompiled templates (src/render/templates.generated.ts) are what
 * scripts/gen-templates.ts makes of templates/ now, and render exactly what
 * Handlebars' compiler makes of the same text with the same options (the
 * way every template was rendered before they were precompiled).
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
});
