/** The bundle apply leaves on a node: pure data, versioned, checksummed, verified field by field. */
import { describe, expect, it } from 'vitest';
import { BundleError, buildBundle, desiredFromBundle, parseBundle, serializeBundle, type Bundle } from '../../src/agent/bundle.js';
import { checkVersion } from '../../src/agent/reconcile.js';
import { EMPTY_STATUS } from '../../src/agent/status.js';
import { fileText, textFile, type DesiredNode } from '../../src/desired/desired.js';
import { sha256Hex } from '../../src/sha256.js';

function desired(arp = '{"02:00:00:00:00:01":{"arp":"10.0.0.1"}}\n'): DesiredNode {
  return {
    node: 'cn1',
    usbkey: [
      {
        key: 'overlay_rule_customers',
        value: '-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4790 -s files -p files/config=/opt/custom/networking/customers_overlay.json -p mtu=1400',
        properties: { 'vxlan/listen_ip': '0.0.0.0', 'vxlan/listen_port': '4790', 'files/config': '/opt/custom/networking/customers_overlay.json', mtu: '1400' },
      },
    ],
    overlays: [{ link: 'customers1000', rule: 'customers', vni: 1000, argv: ['dladm', 'create-overlay', '-t', '-v', '1000', 'customers1000'], properties: {} }],
    files: [
      textFile({ path: '/opt/custom/etc/ipsec/ike.preshared', mode: 0o400, owner: 'root', group: 'root', secret: true, refresh: 'ipsec', text: 'secret-key-material\n' }),
      textFile({ path: '/opt/custom/networking/customers_overlay.json', mode: 0o400, owner: 'netadm', group: 'netadm', secret: false, refresh: 'varpd', text: arp }),
    ],
  };
}

describe('building a bundle', () => {
  it('holds every file with content, mode, owner and refresh, the usbkey lines, the overlays, the PDC; its checksum verifies', () => {
    const b = parseBundle(buildBundle(desired(), 'prg', undefined, 1_700_000_000_000));
    expect(b.version).toBe(1_700_000_000_000);
    expect(b.pdc).toBe('prg');
    expect(b.files.map((f) => [f.path, f.mode, f.owner, f.refresh])).toEqual([
      ['/opt/custom/etc/ipsec/ike.preshared', 0o400, 'root', 'ipsec'],
      ['/opt/custom/networking/customers_overlay.json', 0o400, 'netadm', 'varpd'],
    ]);
    const back = desiredFromBundle(b);
    expect(back.files.map(fileText)).toEqual(desired().files.map(fileText));
    expect(back.usbkey).toEqual(desired().usbkey);
    expect(back.overlays).toEqual(desired().overlays);
  });

  it('keeps the previous bundle byte for byte when the content is the same (an apply with nothing to do writes none)', () => {
    const first = buildBundle(desired(), 'prg', undefined, 1000);
    expect(buildBundle(desired(), 'prg', first, 99_999)).toBe(first);
  });

  it('gets a higher version when the content changes, even when the clock went back', () => {
    const first = buildBundle(desired(), 'prg', undefined, 5000);
    const later = parseBundle(buildBundle(desired('{}\n'), 'prg', first, 9000));
    expect(later.version).toBe(9000);
    const skewed = parseBundle(buildBundle(desired('{}\n'), 'prg', first, 10));
    expect(skewed.version).toBe(5001);
  });

  it('starts afresh from the clock when the previous bundle is damaged', () => {
    expect(parseBundle(buildBundle(desired(), 'prg', '{"not":"a bundle"}', 42)).version).toBe(42);
  });

  // The node's bundle is first compared as text with this content serialized at its version; these hold
  // what the full comparison decided before that shortcut, whichever way a bundle reaches it.
  it('gets a new version when its content was changed on the node, its index left as it was', () => {
    const first = buildBundle(desired(), 'prg', undefined, 5000);
    const edited = first.replace('10.0.0.1', '10.0.0.9');
    expect(edited).not.toBe(first);
    expect(parseBundle(buildBundle(desired(), 'prg', edited, 9000)).version).toBe(9000);
  });

  it('gets a new version when the content is the same but the version is not a positive integer', () => {
    const zero = serializeBundle({ ...parseBundle(buildBundle(desired(), 'prg', undefined, 5000)), version: 0 });
    expect(parseBundle(buildBundle(desired(), 'prg', zero, 9000)).version).toBe(9000);
  });

  it('keeps a bundle with the same content whose index line is spelt differently (same JSON, other spacing)', () => {
    const first = buildBundle(desired(), 'prg', undefined, 5000);
    const nl = first.indexOf('\n');
    const spaced = `${JSON.stringify(JSON.parse(first.slice(0, nl)), null, 1).replace(/\n/g, ' ')}${first.slice(nl)}`;
    expect(spaced).not.toBe(first);
    expect(parseBundle(spaced).version).toBe(5000);
    expect(buildBundle(desired(), 'prg', spaced, 9000)).toBe(spaced);
  });

  it('with the same content, still goes above the agent floor, or past a floor of its version with another checksum', () => {
    const first = buildBundle(desired(), 'prg', undefined, 5000);
    const sum = parseBundle(first).sha256;
    expect(buildBundle(desired(), 'prg', first, 9000, { version: 5000, sha256: sum })).toBe(first);
    expect(buildBundle(desired(), 'prg', first, 9000, { version: 4000, sha256: null })).toBe(first);
    expect(parseBundle(buildBundle(desired(), 'prg', first, 9000, { version: 7000, sha256: null })).version).toBe(9000);
    expect(parseBundle(buildBundle(desired(), 'prg', first, 10, { version: 7000, sha256: null })).version).toBe(7001);
    expect(parseBundle(buildBundle(desired(), 'prg', first, 10, { version: 5000, sha256: 'f'.repeat(64) })).version).toBe(5001);
  });
});

describe('verifying a bundle', () => {
  const good = buildBundle(desired(), 'prg', undefined, 1000);

  it('refuses one whose content was changed after it was made', () => {
    const bad = good.replace('10.0.0.1', '10.0.0.9');
    expect(() => parseBundle(bad)).toThrow(/checksum mismatch/);
    try {
      parseBundle(bad);
    } catch (err) {
      expect((err as BundleError).code).toBe('BundleChecksum');
    }
  });

  it('refuses one that is not JSON, or of another format', () => {
    expect(() => parseBundle('{')).toThrow(/has no index line/);
    expect(() => parseBundle('{\n')).toThrow(/not JSON/);
    expect(() => parseBundle(good.replace('esdc-overlay-bundle/2', 'esdc-overlay-bundle/9'))).toThrow(/format: .*must be esdc-overlay-bundle\/2/s);
  });

  it('refuses a bundle of the format before (contents escaped in one JSON line), naming the field and its value', () => {
    const { sha256: _, ...body } = parseBundle(good);
    const old = { ...body, format: 'esdc-overlay-bundle/1' };
    let err: BundleError | undefined;
    try {
      parseBundle(`${JSON.stringify({ ...old, sha256: sha256Hex(JSON.stringify(old)) })}\n`, '/x/bundle.json');
    } catch (e) {
      err = e as BundleError;
    }
    expect(err?.code).toBe('BadBundle');
    expect(err?.issues).toEqual([expect.objectContaining({ path: 'format', value: 'esdc-overlay-bundle/1' })]);
    expect(err?.message).toMatch(/run apply/);
    expect(err?.message).not.toContain('secret-key-material');
  });

  it('stores contents raw after the index, each checked by its own length and hash', () => {
    const nl = good.indexOf('\n');
    const index = JSON.parse(good.slice(0, nl)) as { files: Array<{ bytes: number; sha256: string; content?: unknown }> };
    const b = parseBundle(good);
    expect(index.files.map((f) => f.content)).toEqual(b.files.map(() => undefined));
    expect(good.slice(nl + 1)).toBe(b.files.map((f) => f.content).join(''));
    expect(index.files.map((f) => [f.bytes, f.sha256])).toEqual(b.files.map((f) => [Buffer.byteLength(f.content), sha256Hex(f.content)]));
    // One content one byte longer, its hash and length in an index re-checksummed: the contents' lengths no longer add up, or the hash shows it.
    expect(() => parseBundle(`${good}x`)).toThrow(expect.objectContaining({ code: 'BadBundle', issues: [expect.objectContaining({ path: 'files[].bytes' })] }));
    const swapped = `${good.slice(0, nl + 1)}${good.slice(nl + 2)}${good[nl + 1]}`;
    expect(() => parseBundle(swapped)).toThrow(expect.objectContaining({ code: 'BundleChecksum', issues: [expect.objectContaining({ path: 'files[0].sha256' })] }));
  });

  it('names every bad field of a well-checksummed bundle, and never a file content', () => {
    const { sha256: _, ...body } = parseBundle(good);
    body.files[0]!.path = 'relative/../path';
    body.files[1]!.refresh = 'sshd' as never;
    body.usbkey[0]!.key = 'root_shadow';
    body.overlays[0]!.argv = ['rm', '-rf', '/'];
    const text = serializeBundle(body);
    let err: BundleError | undefined;
    try {
      parseBundle(text, '/x/bundle.json');
    } catch (e) {
      err = e as BundleError;
    }
    expect(err?.issues.map((i) => i.path)).toEqual(['files[0].path', 'files[1].refresh', 'usbkey[0].key', 'overlays[0].argv']);
    expect(err?.message).toContain('/x/bundle.json is not a valid bundle');
    expect(err?.message).not.toContain('secret-key-material');
  });

  it('carries each overlay\'s properties as apply computed them, never parsed back from argv; refuses an overlay without them', () => {
    const d = desired();
    // Properties the argv does not spell: what the agent compares live overlays with is what apply sent.
    const carried = { ...d, overlays: [{ ...d.overlays[0]!, properties: { 'vxlan/listen_port': '4790', mtu: '1400' } }] };
    const back = desiredFromBundle(parseBundle(buildBundle(carried, 'prg', undefined, 1000)));
    expect(back.overlays[0]!.properties).toEqual({ 'vxlan/listen_port': '4790', mtu: '1400' });
    const { sha256: _, ...body } = parseBundle(good);
    delete (body.overlays[0] as Partial<Bundle['overlays'][number]>).properties;
    delete body.usbkey[0]!.properties;
    expect(() => parseBundle(serializeBundle(body))).toThrow(/usbkey\[0\]\.properties: must map.*overlays\[0\]\.properties: must map each -p property/s);
  });
});

describe('the version floor', () => {
  const b = parseBundle(buildBundle(desired(), 'prg', undefined, 2000));

  it('accepts the first bundle, the same one again, and a newer one', () => {
    expect(() => checkVersion(b, EMPTY_STATUS)).not.toThrow();
    expect(() => checkVersion(b, { ...EMPTY_STATUS, bundle_version: 2000, bundle_sha256: b.sha256 })).not.toThrow();
    expect(() => checkVersion(b, { ...EMPTY_STATUS, bundle_version: 1999, bundle_sha256: 'x' })).not.toThrow();
  });

  it('refuses an older one, and another one with the applied version', () => {
    expect(() => checkVersion(b, { ...EMPTY_STATUS, bundle_version: 2001, bundle_sha256: 'x' })).toThrow(/older than version 2001/);
    expect(() => checkVersion(b, { ...EMPTY_STATUS, bundle_version: 2000, bundle_sha256: 'other' })).toThrow(/differs from the one applied/);
  });
});
