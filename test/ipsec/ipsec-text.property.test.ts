/**
 * The IPsec files built directly (src/ipsec/ipsec-text.ts) are the text their
 * templates (templates/*.hbs, through Handlebars as the render used them)
 * give, byte for byte, on generated views: both profiles' shapes, all-UDP or
 * per-port policies, peers with no port in common, no peers at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ikeConfigText, ikePresharedText, ipsecinitText } from '../../src/ipsec/ipsec-text.js';
import { template } from '../../src/render/template.js';
import { FUZZ } from '../fuzz/fuzz-config.js';

const word = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const peer = fc.record({
  name: word,
  pdc: word,
  local: ip,
  remote: ip,
  label: fc.oneof(word, fc.constant('esdc-overlay cn2.pdc2'), fc.constant('cn1-cn2')),
  ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 4 }).map((p) => p.sort((a, b) => a - b)),
  key: fc.stringMatching(/^[0-9a-f]{2,256}$/),
  // fast-check's records have no prototype; Handlebars needs plain objects, as the generator gives it.
}).map((p) => ({ ...p }));
const views = fc.record({
  node: word,
  adminIp: ip,
  allUdp: fc.boolean(),
  esp: fc.constantFrom('encr_algs aes encr_auth_algs sha512 sa shared', 'encr_algs aes(256) encr_auth_algs sha512'),
  p1Lifetime: fc.integer({ min: 1, max: 100_000 }),
  p2Lifetime: fc.integer({ min: 1, max: 100_000 }),
  p2Softlife: fc.integer({ min: 1, max: 100_000 }),
  p1Xform: fc.constantFrom('auth_method preshared oakley_group 14 auth_alg sha512 encr_alg aes', 'auth_method preshared oakley_group 2 auth_alg sha1 encr_alg 3des'),
  pfsDefault: fc.integer({ min: 0, max: 32 }),
  pfsRule: fc.integer({ min: 0, max: 32 }),
  peers: fc.array(peer, { maxLength: 6 }),
}).map((v) => ({ ...v }));

describe('IPsec files built directly', () => {
  it('are byte for byte what templates/ipsecinit.conf.hbs, ike-config.hbs and ike.preshared.hbs give', () => {
    fc.assert(
      fc.property(views, (v) => {
        expect(ipsecinitText(v)).toBe(template('ipsecinit.conf.hbs')(v));
        expect(ikeConfigText(v)).toBe(template('ike-config.hbs')(v));
        expect(ikePresharedText(v)).toBe(template('ike.preshared.hbs')(v));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.numRuns },
    );
  });
});
