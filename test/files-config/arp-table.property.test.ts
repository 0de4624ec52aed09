/**
 * Properties of every ARP table over random installations: the streamed file
 * is the table's JSON, and the table holds exactly the NICs of the other
 * nodes that have the rule, each pointing at the right underlay address.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateInstallation } from '../../bench/generate-installation.js';
import { arpTable } from '../../src/files-config/arp-table.js';
import { filesConfigGenerator } from '../../src/files-config/generator.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { FUZZ } from '../fuzz/fuzz-config.js';
import { validModel } from '../support/state-fixtures.js';

const spec = fc.record({
  nodes: fc.integer({ min: 1, max: 12 }),
  pdcs: fc.integer({ min: 1, max: 4 }),
  rules: fc.integer({ min: 1, max: 4 }),
  nics: fc.integer({ min: 0, max: 80 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
  adminoverlay: fc.boolean(),
});

describe('ARP tables of random installations', () => {
  it('are the exact set of other nodes\' NICs on the rule, streamed as their JSON', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const model = validModel(generateInstallation({ ...s, pdcs: Math.min(s.pdcs, s.nodes) }));
        const ctx = new RenderContext(model);
        for (const node of model.nodes) {
          const files = filesConfigGenerator(ctx, node).files ?? [];
          const rules = model.rules.filter((r) => r.nodes.includes(node.name));
          expect(files.map((f) => f.path).sort()).toEqual(rules.map((r) => r.filesConfig).sort());
          for (const rule of rules) {
            const file = files.find((f) => f.path === rule.filesConfig)!;
            const table = arpTable(model, rule, node);
            expect(fileText(file)).toBe(`${JSON.stringify(table, null, 2)}\n`);
            // The render writes the buffers: the same bytes as the text, through slices of one shared buffer.
            expect(Buffer.concat([...file.bytes!()]).toString('utf8')).toBe(fileText(file));
            expect(Buffer.concat([...file.bytes!()]).toString('utf8')).toBe(fileText(file));
            const expected = [
              ...model.vnics.filter((v) => v.rule === rule.name && v.node !== node.name).map((v) => ({ mac: v.mac, node: v.node, ip: v.ip })),
              ...(rule.adminOverlay ? model.adminOverlay!.members.filter((m) => m.node !== node.name) : []).map((m) => ({ mac: m.mac, node: m.node, ip: m.ip })),
            ].sort((a, b) => (a.mac < b.mac ? -1 : 1));
            expect(Object.keys(table)).toEqual(expected.map((e) => e.mac));
            for (const e of expected) {
              const owner = model.nodeByName.get(e.node)!;
              expect(table[e.mac]).toMatchObject({
                arp: e.ip,
                ip: owner.pdc === node.pdc ? owner.adminIp : owner.externalIp,
                port: rule.port,
              });
            }
          }
        }
      }),
      { seed: FUZZ.seed, numRuns: Math.min(FUZZ.numRuns, 40) },
    );
  });
});
