/**
 * The ipf files built directly (src/firewall/ipf-text.ts) are the text their
 * templates (templates/ipf.conf-*.hbs, through Handlebars as the render used
 * them) give, byte for byte, on generated views: no rule, no source, no
 * other node, the firewall enabled or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipfAdministrationText, ipfOverlaysText } from '../../src/firewall/ipf-text.js';
import { template } from '../../src/render/template.js';
import { FUZZ } from '../fuzz/fuzz-config.js';

const word = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const cidr = fc.oneof(ip, fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, n]) => `${a}/${n}`));
// fast-check's records have no prototype; Handlebars needs plain objects, as the generator gives it.
const plain = <T extends object>(x: T): T => ({ ...x });
const overlays = fc
  .record({ node: word, externalIp: ip, rules: fc.array(fc.record({ name: word, port: fc.integer({ min: 1, max: 65535 }) }).map(plain), { maxLength: 5 }) })
  .map(plain);
const administration = fc
  .record({
    node: word,
    externalIp: ip,
    enabled: fc.boolean(),
    sources: fc.array(cidr, { maxLength: 4 }),
    nodes: fc.array(fc.record({ name: word, externalIp: ip }).map(plain), { maxLength: 6 }),
  })
  .map(plain);

describe('ipf files built directly', () => {
  it('are byte for byte what templates/ipf.conf-020-overlays.hbs gives', () => {
    fc.assert(
      fc.property(overlays, (v) => {
        expect(ipfOverlaysText(v)).toBe(template('ipf.conf-020-overlays.hbs')(v));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns },
    );
  });

  it('are byte for byte what templates/ipf.conf-090-administration.hbs gives', () => {
    fc.assert(
      fc.property(administration, (v) => {
        expect(ipfAdministrationText(v)).toBe(template('ipf.conf-090-administration.hbs')(v));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns },
    );
  });
});
