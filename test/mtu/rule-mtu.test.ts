import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import { orderedPair, type Model } from '../../src/model/model.js';
import { innerMtu } from '../../src/mtu/overhead.js';
import { mtuReport, pathSpec, taggedRules } from '../../src/mtu/rule-mtu.js';
import { mtuWarnings } from '../../src/mtu/mtu-warnings.js';
import type { StateDoc } from '../../src/model/state.js';
import { runCli } from '../support/cli.js';

const EXAMPLE = new URL('../../examples/two-sites.yaml', import.meta.url);
const example = (): Model => loadStateText(readFileSync(EXAMPLE, 'utf8'), 'two-sites.yaml').model;
const prg = (n: string): boolean => n.endsWith('.prg.example.com');

describe('safe MTU per rule in examples/two-sites.yaml', () => {
  const report = Object.fromEntries(mtuReport(example()).map((r) => [r.rule, r]));

  it('customers (1400, VLAN-tagged NICs) is too big: safe 1388 on a cross-PDC path', () => {
    const r = report.customers!;
    expect(r).toMatchObject({ configured: 1400, safe: 1388, vlan: true, ok: false });
    const [a, b] = r.limiting!.pair;
    expect(prg(a) && prg(b)).toBe(false);
    expect(r.limiting!.kind).toBe('external');
    expect(r.limiting!.spec).toMatchObject({ underlayMtu: 1500, esp: 'aes-cbc-sha512' });
  });

  it('lab (1400, untagged NICs, prg and brn) is too big: safe 1392 on its cross-PDC path', () => {
    expect(report.lab).toMatchObject({ configured: 1400, safe: 1392, vlan: false, ok: false });
    expect(report.lab!.limiting!.pair).toEqual(['cn01.prg.example.com', 'cn03.brn.example.com']);
  });

  it('the adminoverlay (1300, always tagged) is ok', () => {
    expect(report.adminoverlay).toMatchObject({ configured: 1300, safe: 1388, vlan: true, ok: true });
  });
});

describe('on a jumbo underlay', () => {
  it('the safe MTU is at most 8900, what the overlay driver accepts (issue 16, defect 1)', () => {
    const doc = parse(readFileSync(EXAMPLE, 'utf8')) as StateDoc;
    doc.defaults = { ...doc.defaults, underlay_mtu: 9216 };
    for (const n of Object.values(doc.nodes!)) delete n.underlay_mtu;
    doc.nodes = Object.fromEntries(Object.entries(doc.nodes!).filter(([name]) => prg(name)));
    doc.overlay_rules = { lab: { port: 4791, nodes: 'all', mtu: 1400 } };
    delete doc.adminoverlay;
    delete doc.ipsec;
    doc.vnics = doc.vnics!.filter((v) => prg(v.node)).map((v) => ({ ...v, nic_tag: v.nic_tag.replace(/^customers\//, 'lab/') }));
    const r = mtuReport(validateDoc(doc, 'jumbo', 'require').model).find((x) => x.rule === 'lab')!;
    expect(r.safe).toBe(8900);
  });
});

describe('`esdc-overlay mtu --state`', () => {
  it('reports each rule as JSON', async () => {
    const r = await runCli(['mtu', '--state', EXAMPLE.pathname, '--json']);
    expect(r.status).toBe(0);
    const body = JSON.parse(r.stdout) as { rules: Record<string, { configured: number; safe: number; limiting_pair: string[]; ok: boolean }> };
    expect(body.rules.customers).toMatchObject({ configured: 1400, safe: 1388, ok: false });
    expect(body.rules.customers!.limiting_pair).toHaveLength(2);
    expect(body.rules.customers!.limiting_pair.every(prg)).toBe(false);
    expect(body.rules.lab).toMatchObject({ configured: 1400, safe: 1392, ok: false });
    expect(body.rules.adminoverlay).toMatchObject({ configured: 1300, ok: true });
  });

  it('prints a table for humans', async () => {
    const r = await runCli(['mtu', '--state', EXAMPLE.pathname]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^customers\s+1400\s+1388\s+cn01\.prg\.example\.com - cn03\.brn\.example\.com\s+external 1500, ESP aes-cbc-sha512, VLAN\s+too big$/m);
    expect(r.stdout).toMatch(/^adminoverlay\s+1300\s+1388\s.*\sok$/m);
  });
});

describe('`esdc-overlay mtu --state --exit-code`, for CI checks of a state', () => {
  it('exits 2 when a rule is too big, after printing the whole report', async () => {
    const r = await runCli(['mtu', '--state', EXAMPLE.pathname, '--exit-code']);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^adminoverlay\s+1300\s+1388\s.*\sok$/m);
    expect(r.stdout).toMatch(/^lab\s+1400\s+1392\s.*\stoo big$/m);
  });

  it('exits 0 once every rule fits its safe MTU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esdc-mtu-'));
    try {
      const doc = parse(readFileSync(EXAMPLE, 'utf8')) as { overlay_rules: Record<string, { mtu?: number }> };
      doc.overlay_rules.customers!.mtu = 1388;
      doc.overlay_rules.lab!.mtu = 1392;
      const state = join(dir, 'fits.yaml');
      writeFileSync(state, stringify(doc));
      const r = await runCli(['mtu', '--state', state, '--exit-code']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).not.toContain('too big');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a usage error beside the calculator, which has no verdict', async () => {
    const r = await runCli(['mtu', '--underlay-mtu', '1500', '--exit-code']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('--exit-code is for the per-rule report');
  });
});

describe('render and create speak up about MTU', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('render warns for customers and lab, not for the adminoverlay', async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-mtu-'));
    const r = await runCli(['render', '--state', EXAMPLE.pathname, '--out', join(dir, 'out'), '--json']);
    expect(r.status).toBe(0);
    const paths = (JSON.parse(r.stdout) as { warnings: { path: string; message: string }[] }).warnings.map((w) => w.path);
    expect(paths.filter((p) => p.endsWith('.mtu')).sort()).toEqual(['overlay_rules.customers.mtu', 'overlay_rules.lab.mtu']);
    expect(r.stderr).toContain('set mtu 1388');
  });

  it('create without --mtu stores the safe MTU when 1400 does not fit, and says so', async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-mtu-'));
    const state = join(dir, 'state.yaml');
    cpSync(EXAMPLE, state);
    const r = await runCli(['create', 'web', '--state', state]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('mtu 1392');
    expect(r.stderr).toMatch(/mtu: stored 1392, the safe MTU of web's paths/);
    const list = await runCli(['list', '--state', state, '--json']);
    expect((JSON.parse(list.stdout) as { rules: { name: string; mtu: number }[] }).rules.find((x) => x.name === 'web')!.mtu).toBe(1392);
  });

  it('create with --mtu gives no hint', async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-mtu-'));
    const state = join(dir, 'state.yaml');
    cpSync(EXAMPLE, state);
    const r = await runCli(['create', 'web', '--mtu', '1388', '--state', state]);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('hint');
  });

  it('mtuWarnings names the field, the value and the limiting pair', () => {
    const w = mtuWarnings(example()).find((x) => x.path === 'overlay_rules.customers.mtu')!;
    expect(w.value).toBe(1400);
    expect(w.message).toMatch(/safe 1388 .*cn01\.prg\.example\.com - cn03\.brn\.example\.com/);
  });
});

/** A random installation: nodes in a few PDCs with mixed link MTUs, one rule on a subset. */
const installation = fc
  .record({
    nodes: fc.array(
      fc.record({
        pdc: fc.constantFrom('a', 'b', 'c'),
        admin: fc.constantFrom(1500, 1800, 9000),
        external: fc.constantFrom(1400, 1500, 9000),
        inRule: fc.boolean(),
      }),
      { minLength: 0, maxLength: 14 },
    ),
    encr: fc.constantFrom('aes-cbc' as const, 'aes-gcm' as const),
    auth: fc.constantFrom('sha256' as const, 'sha512' as const),
    tagged: fc.boolean(),
  })
  .map(({ nodes, encr, auth, tagged }) => {
    const names = nodes.map((_, i) => `n${String(i).padStart(2, '0')}`);
    const doc: StateDoc = {
      version: 1,
      defaults: { underlay_mtu: 1500, ipsec: { encr, auth } },
      nodes: Object.fromEntries(
        nodes.map((n, i) => [
          names[i]!,
          {
            uuid: `564d1a2b-0000-4a6e-9c1e-${String(i).padStart(12, '0')}`,
            pdc: n.pdc,
            admin_ip: `10.200.0.${i + 1}`,
            external_ip: `198.51.100.${i + 1}`,
            underlay_mtu: { admin: n.admin, external: n.external },
          },
        ]),
      ),
      overlay_rules: { web: { port: 4790, nodes: names.filter((_, i) => nodes[i]!.inRule), mtu: 1400 } },
      vnics: tagged && nodes.length > 0 ? [{ node: names[0]!, mac: '52:54:00:00:00:01', ip: '10.10.0.1', nic_tag: 'web/5', vlan_id: 3 }] : [],
    };
    return doc;
  });

describe('per-class shortcut', () => {
  it('equals the minimum over every pair of the rule\'s nodes, with the smallest limiting pair', () => {
    fc.assert(
      fc.property(installation, (doc) => {
        const { model } = validateDoc(doc, 'generated', 'warn');
        const rule = model.ruleByName.get('web')!;
        const tagged = taggedRules(model);
        let best: { safe: number; pair: readonly [string, string] } | undefined;
        for (const a of rule.nodes) {
          for (const b of rule.nodes) {
            if (a >= b) continue;
            const { spec } = pathSpec(model, model.nodeByName.get(a)!, model.nodeByName.get(b)!, tagged.has('web'));
            const safe = innerMtu(spec).inner_mtu;
            const pair = orderedPair(a, b);
            if (!best || safe < best.safe || (safe === best.safe && pair.join('\0') < best.pair.join('\0'))) best = { safe, pair };
          }
        }
        const got = mtuReport(model).find((x) => x.rule === 'web')!;
        expect(got.safe).toBe(best === undefined ? undefined : Math.min(best.safe, 8900)); // the overlay driver caps it
        expect(got.limiting?.pair).toEqual(best?.pair);
        expect(got.ok).toBe(best === undefined || 1400 <= best.safe);
      }),
      { numRuns: 300 },
    );
  });
});
