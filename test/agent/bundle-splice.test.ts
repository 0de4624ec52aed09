/**
 * One file's content replaced in a bundle (src/agent/bundle-splice.ts):
 * byte for byte what serializeBundle writes for the parsed body with that
 * content and version; the other contents copied unread (a damaged one stays
 * detectable); a bundle whose index the agent would refuse is refused, naming
 * the field; an old-format bundle is refused by its format.
 */
import { describe, expect, it } from 'vitest';
import { BundleError, buildBundle, parseBundle, serializeBundle } from '../../src/agent/bundle.js';
import { spliceBundleFile } from '../../src/agent/bundle-splice.js';
import { textFile, type DesiredNode } from '../../src/desired/desired.js';
import { sha256Hex } from '../../src/sha256.js';

const ARP = '/opt/custom/networking/customers_overlay.json';
const OTHER = '/opt/custom/networking/backbone_overlay.json';
const table = (n: number): string => `{\n  "02:00:00:00:00:0${n}": {\n    "arp": "10.0.0.${n}",\n    "ip": "192.168.1.${n}",\n    "port": 4789\n  }\n}\n`;

function desired(arp: string, other: string): DesiredNode {
  const f = (path: string, text: string) => textFile({ path, mode: 0o400, owner: 'root', group: 'root', secret: false, refresh: 'varpd', text });
  // The other table first and with the same shape: the splice must pick the file by its path, not the first content.
  return { node: 'cn1 "q"', files: [f(OTHER, other), f(ARP, arp)], usbkey: [], overlays: [] };
}

/** Parse, replace, serialise: what the splice must equal. */
function parsedWay(bundle: string, path: string, to: string, floorMs: number): string {
  const { sha256: _, ...body } = parseBundle(bundle);
  const version = Math.max(floorMs, body.version + 1);
  return serializeBundle({ ...body, version, files: body.files.map((f) => (f.path === path ? { ...f, content: to } : f)) });
}

/** The spliced bundle, its chunks joined (the test's copy; patch-table stages them as they are). */
const splice = (bundle: string | Buffer, path: string, to: string, floor: number) => {
  const s = spliceBundleFile(Buffer.isBuffer(bundle) ? bundle : Buffer.from(bundle), path, [Buffer.from(to)], sha256Hex(to), floor);
  return s && { data: Buffer.concat(s.chunks), version: s.version };
};

describe('spliceBundleFile', () => {
  const bundle = buildBundle(desired(table(1), 'ünï "other"\n'), 'pdc0', undefined, 1_000);

  it('writes what serializeBundle writes for the same body, the version raised', () => {
    for (const floor of [0, 5_000]) {
      const s = splice(bundle, ARP, table(2), floor)!;
      expect(s).toBeDefined();
      expect(s.data.toString('utf8')).toBe(parsedWay(bundle, ARP, table(2), floor));
      expect(s.version).toBe(floor === 0 ? 1_001 : 5_000);
      const b = parseBundle(s.data);
      expect(b.files.find((f) => f.path === ARP)!.content).toBe(table(2));
      expect(b.files.find((f) => f.path === OTHER)!.content).toBe('ünï "other"\n');
    }
  });

  it('gives undefined for a bundle that does not list the file', () => {
    expect(splice(bundle, '/opt/custom/networking/none.json', table(2), 0)).toBeUndefined();
  });

  it('copies a damaged other content unread, and its hash still shows the damage', () => {
    const damaged = bundle.replace('other', 'OTHER');
    expect(damaged).not.toBe(bundle);
    const s = splice(damaged, ARP, table(2), 0)!;
    expect(() => parseBundle(s.data)).toThrow(expect.objectContaining({ code: 'BundleChecksum', message: expect.stringContaining('files[0].sha256') }));
  });

  it('refuses a bundle whose index is damaged, breaks policy, or whose lengths do not add up, naming the field', () => {
    const refused = (b: string | Buffer, field: string, code = 'BadBundle') => {
      let err: unknown;
      try {
        splice(b, ARP, table(2), 0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BundleError);
      expect(err).toMatchObject({ code });
      expect((err as BundleError).issues.map((i) => i.path)).toContain(field);
    };
    refused(bundle.replace('"version":1000', '"version":1001'), 'sha256', 'BundleChecksum');
    refused(`${bundle}x`, 'files[].bytes');
    refused(bundle.slice(0, -1), 'files[].bytes');
    // An index the agent's policy refuses, its checksum recomputed (anyone who can write the file can): a path outside what the plan writes.
    const nl = bundle.indexOf('\n');
    const { sha256: _, ...index } = JSON.parse(bundle.slice(0, nl)) as Record<string, unknown> & { files: Array<Record<string, unknown>> };
    index.files[0]!.path = '/etc/shadow';
    refused(`${JSON.stringify({ ...index, sha256: sha256Hex(JSON.stringify(index)) })}\n${bundle.slice(nl + 1)}`, 'files[0].path');
    // A bundle of the old format (one JSON line, contents escaped inside it): refused by its format.
    const { sha256: __, ...body } = parseBundle(bundle);
    const old = { ...body, format: 'esdc-overlay-bundle/1' };
    refused(`${JSON.stringify({ ...old, sha256: sha256Hex(JSON.stringify(old)) })}\n`, 'format');
  });
});
