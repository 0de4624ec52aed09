import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { disableFirewall, enableFirewall, parseSources, updateFirewall } from '../../src/firewall/edit.js';
import { IPF_ADMIN_PATH, IPF_OVERLAYS_PATH } from '../../src/firewall/generator.js';
import { ConflictError, UsageError, ValidationError } from '../../src/errors.js';
import { desiredNode, desiredNodes } from '../../src/plan/desired-state.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { loadStateText } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { EXAMPLE, exampleDoc, meshDoc, modelOf } from '../ipsec/helpers.js';

function fileOf(doc: StateDoc, node: string, path: string): string | undefined {
  const model = modelOf(doc);
  const f = desiredNode(new RenderContext(model), model.nodeByName.get(node)!).files.find((x) => x.path === path);
  return f && fileText(f);
}

describe('ipf.conf-090-administration', { timeout: 30_000 }, () => {
  it('lets in every other node of the state, also when only some nodes are rendered', () => {
    const model = loadStateText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE).model;
    const ctx = new RenderContext(model);
    // A run for one node (as `render --nodes` or `apply cn05...`) still lists all the others.
    const [only] = [...desiredNodes(ctx, new Set(['cn05.ams.example.com']))];
    const text = fileText(only!.files.find((f) => f.path === IPF_ADMIN_PATH)!);
    for (const n of model.nodes.filter((x) => x.name !== 'cn05.ams.example.com')) {
      expect(text).toContain(`pass in quick on external0 from ${n.externalIp} to 192.0.2.15 keep state`);
    }
    expect(text).not.toContain('from 192.0.2.15 to');
  });

  it('blocks the rest only when enabled, and lists administrator sources only then', () => {
    const on = exampleDoc();
    const text = fileOf(on, 'cn01.prg.example.com', IPF_ADMIN_PATH)!;
    expect(text).toContain('pass in quick on external0 from 192.0.2.0/26 to 198.51.100.11 keep state');
    expect(text.trimEnd().split('\n').slice(-2)).toEqual(['pass out quick on external0 all keep state', 'block in quick on external0 all']);
    const off = disableFirewall(on).doc;
    const offText = fileOf(off, 'cn01.prg.example.com', IPF_ADMIN_PATH)!;
    expect(offText).not.toMatch(/^block/m);
    expect(offText).not.toContain('192.0.2.0/26');
    expect(offText).toContain('# firewall disabled: unmatched incoming traffic is not blocked');
  });

  it('is not written for a node without an external IP', () => {
    const doc = meshDoc({ a: 'p1', b: 'p1' });
    delete doc.nodes!.a!.external_ip;
    expect(fileOf(doc, 'a', IPF_ADMIN_PATH)).toBeUndefined();
    expect(fileOf(doc, 'a', IPF_OVERLAYS_PATH)).toBeUndefined();
    expect(fileOf(doc, 'b', IPF_ADMIN_PATH)).not.toContain('from 10.200');
  });
});

describe('ipf.conf-020-overlays', () => {
  it('blocks plain VXLAN both ways on external0 for each rule on the node, and no other', () => {
    const text = fileOf(exampleDoc(), 'cn04.brn.example.com', IPF_OVERLAYS_PATH)!;
    const rules = text.split('\n').filter((l) => l.startsWith('block'));
    expect(rules).toEqual([
      'block out log quick on external0 proto udp from 203.0.113.14 to any port = 4792',
      'block in log quick on external0 proto udp from any to 203.0.113.14 port = 4792',
      'block out log quick on external0 proto udp from 203.0.113.14 to any port = 4790',
      'block in log quick on external0 proto udp from any to 203.0.113.14 port = 4790',
    ]);
  });
});

describe('firewall edits', () => {
  it('refuse to enable with no administrator source, given or stored', () => {
    const doc: StateDoc = { ...exampleDoc(), firewall: { enabled: false } };
    expect(() => enableFirewall(doc, undefined)).toThrow(ConflictError);
    expect(() => enableFirewall(doc, [])).toThrow(/cut you off/);
    expect(() => enableFirewall(exampleDoc(), parseSources(' , '))).toThrow(ConflictError);
  });

  it('enable with the stored sources, or replace them', () => {
    const stored = enableFirewall({ ...exampleDoc(), firewall: { enabled: false, administrator_sources: ['192.0.2.7'] } }, undefined);
    expect(stored.doc.firewall).toEqual({ enabled: true, administrator_sources: ['192.0.2.7'] });
    expect(stored.changed).toBe(true);
    const replaced = enableFirewall(exampleDoc(), parseSources('203.0.113.0/24, 192.0.2.9,203.0.113.0/24'));
    expect(replaced.doc.firewall!.administrator_sources).toEqual(['203.0.113.0/24', '192.0.2.9']);
  });

  it('disable keeps the sources; update refuses to empty an enabled firewall', () => {
    expect(disableFirewall(exampleDoc()).doc.firewall).toEqual({ enabled: false, administrator_sources: ['192.0.2.0/26', '198.51.100.200'] });
    expect(() => updateFirewall(exampleDoc(), [])).toThrow(/disable it first/);
    expect(updateFirewall(exampleDoc(), undefined).changed).toBe(false);
    expect(updateFirewall(disableFirewall(exampleDoc()).doc, []).doc.firewall!.administrator_sources).toEqual([]);
  });

  it('reject malformed sources, naming each', () => {
    try {
      parseSources('192.0.2.1,10.0.0.1/8,300.1.1.1,host.example');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues.map((i) => i.value)).toEqual(['10.0.0.1/8', '300.1.1.1', 'host.example']);
    }
  });
});
