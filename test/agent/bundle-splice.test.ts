/**
 * The bundle's copy of a table spliced in its text (src/agent/bundle-splice.ts):
 * byte for byte what serializeBundle writes for the parsed body with that
 * content and version, and undefined (parse instead) for anything else.
 */
import { describe, expect, it } from 'vitest';
import { buildBundle, parseBundle, serializeBundle } from '../../src/agent/bundle.js';
import { spliceBundleFile } from '../../src/agent/bundle-splice.js';
import { textFile, type DesiredNode } from '../../src/desired/desired.js';

const ARP = '/opt/custom/networking/customers_overlay.json';
const OTHER = '/opt/custom/networking/backbone_overlay.json';
const table = (n: number): string => `{\n  "02:00:00:00:00:0${n}": {\n    "arp": "10.0.0.${n}",\n    "ip": "192.168.1.${n}",\n    "port": 4789\n  }\n}\n`;

function desired(arp: string, other: string): DesiredNode {
  const f = (path: string, text: string) => textFile({ path, mode: 0o400, owner: 'root', group: 'root', secret: false, refresh: 'varpd', text });
  // The other table first and with the same shape: the splice must pick the file by its path, not the first content.
  return { node: 'cn1 "q"', files: [f(OTHER, other), f(ARP, arp)], usbkey: [], overlays: [] };
}

/** What patch-table wrote before the splice: parse, replace, serialise. */
function parsedWay(bundle: string, path: string, to: string, floorMs: number): string {
  const { sha256: _, ...body } = parseBundle(bundle);
  const version = Math.max(floorMs, body.version + 1);
  return serializeBundle({ ...body, version, files: body.files.map((f) => (f.path === path ? { ...f, content: to } : f)) });
}

describe('spliceBundleFile', () => {
  const bundle = buildBundle(desired(table(1), table(1)), 'pdc0', undefined, 1_000);

  it('writes what serializeBundle writes for the same body, the version raised', () => {
    for (const floor of [0, 5_000]) {
      const s = spliceBundleFile(bundle, ARP, table(1), table(2), floor)!;
      expect(s).toBeDefined();
      expect(s.text).toBe(parsedWay(bundle, ARP, table(2), floor));
      expect(s.version).toBe(floor === 0 ? 1_001 : 5_000);
      const b = parseBundle(s.text);
      expect(b.files.find((f) => f.path === ARP)!.content).toBe(table(2));
      expect(b.files.find((f) => f.path === OTHER)!.content).toBe(table(1));
    }
  });

  it('gives undefined for a damaged bundle, another content, a missing file, or another form', () => {
    const damaged = bundle.replace('4789', '4780');
    expect(damaged).not.toBe(bundle);
    expect(spliceBundleFile(damaged, ARP, table(1), table(2), 0)).toBeUndefined();
    expect(spliceBundleFile(bundle, ARP, table(3), table(2), 0)).toBeUndefined();
    expect(spliceBundleFile(bundle, '/opt/custom/networking/none.json', table(1), table(2), 0)).toBeUndefined();
    expect(spliceBundleFile(`${JSON.stringify(JSON.parse(bundle), null, 1)}\n`, ARP, table(1), table(2), 0)).toBeUndefined();
  });
});
