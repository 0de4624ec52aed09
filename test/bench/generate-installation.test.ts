import { describe, expect, it } from 'vitest';
import { generateInstallation, main, type InstallationSpec } from '../../bench/generate-installation.js';
import { validModel } from '../support/state-fixtures.js';

const SPEC: InstallationSpec = { nodes: 40, pdcs: 3, rules: 4, nics: 2000, seed: 7, adminoverlay: true };

describe('synthetic installations', () => {
  it('are deterministic: one spec and seed give the same document, another seed another', () => {
    expect(JSON.stringify(generateInstallation(SPEC))).toBe(JSON.stringify(generateInstallation(SPEC)));
    expect(JSON.stringify(generateInstallation({ ...SPEC, seed: 8 }))).not.toBe(JSON.stringify(generateInstallation(SPEC)));
  });

  it('load as a consistent state with the requested shape', () => {
    const model = validModel(generateInstallation(SPEC));
    expect(model.nodes).toHaveLength(40);
    expect(model.pdcs).toEqual(['pdc01', 'pdc02', 'pdc03']);
    expect(model.vnics).toHaveLength(2000);
    expect(model.rules.map((r) => r.name)).toEqual(['adminoverlay', 'customers', 'tenanta', 'tenantb', 'tenantc']);
    expect(model.ruleByName.get('customers')!.nodes).toHaveLength(40);
    for (const r of ['tenanta', 'tenantb', 'tenantc']) {
      const n = model.ruleByName.get(r)!.nodes.length;
      expect(n).toBeGreaterThan(5);
      expect(n).toBeLessThan(35);
    }
    const used = new Set(model.vnics.map((v) => v.rule));
    expect(used).toEqual(new Set(['customers', 'tenanta', 'tenantb', 'tenantc']));
    expect(model.vnics.some((v) => v.ip6 !== undefined)).toBe(true);
    expect(model.adminOverlay!.members).toHaveLength(40);
  });

  it('refuses a spec it cannot honour', () => {
    expect(() => generateInstallation({ ...SPEC, pdcs: 0 })).toThrow(/pdcs must be an integer 1-40/);
    let err = '';
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } };
    expect(main(['--out', '/nonexistent/x.json', '--rules', '27'], io)).toBe(64);
    expect(err).toContain('rules must be an integer 1-26 (got 27)');
  });
});
