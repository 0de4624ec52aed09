/** The node's bundle moved with the tables the daemon sends whole (src/daemon/tables.ts, docs/daemon.md#tables). */
import { describe, expect, it } from 'vitest';
import { BUNDLE_PATH, buildBundle, parseBundle } from '../../src/agent/bundle.js';
import { bundleWithTables } from '../../src/daemon/tables.js';
import { textFile, type DesiredNode } from '../../src/desired/desired.js';

const TABLE = '/opt/custom/networking/customers_overlay.json';
const OTHER = '/opt/custom/networking/lab_overlay.json';

function bundle(version: number): Buffer {
  const desired: DesiredNode = {
    node: 'cn1',
    usbkey: [],
    overlays: [],
    files: [
      textFile({ path: OTHER, mode: 0o400, owner: 'netadm', group: 'netadm', secret: false, refresh: 'varpd', text: '{"other":{}}\n' }),
      textFile({ path: TABLE, mode: 0o400, owner: 'netadm', group: 'netadm', secret: false, refresh: 'varpd', text: '{}\n' }),
    ],
  };
  return Buffer.from(buildBundle(desired, 'prg', undefined, version));
}

describe('bundleWithTables', () => {
  it('replaces the staged tables in the bundle, keeps its other files, and raises its version to now or one past it', () => {
    const stage = [{ path: TABLE, content: '{"02:00:00:00:00:01":{}}\n', mode: 0o400 }];
    const moved = bundleWithTables(bundle(1000), 'cn1: bundle', stage, () => 5000.7)!;
    expect(moved.path).toBe(BUNDLE_PATH);
    const b = parseBundle(moved.content);
    expect(b.version).toBe(5000);
    expect(b.files.map((f) => [f.path, f.content])).toEqual([
      [OTHER, '{"other":{}}\n'],
      [TABLE, '{"02:00:00:00:00:01":{}}\n'],
    ]);
    // A clock behind the bundle's version: one past it.
    expect(parseBundle(bundleWithTables(bundle(9000), 'cn1: bundle', stage, () => 5000)!.content).version).toBe(9001);
  });

  it('none when the bundle holds none of the staged tables; a bundle that does not parse is an error naming its source', () => {
    let asked = 0;
    expect(bundleWithTables(bundle(1000), 'cn1: bundle', [{ path: '/opt/custom/networking/dmz_overlay.json', content: '{}\n', mode: 0o400 }], () => ++asked)).toBeUndefined();
    expect(asked).toBe(0);
    expect(() => bundleWithTables(Buffer.from('not a bundle\n'), 'cn1: /the/bundle', [], () => 0)).toThrow(/cn1: \/the\/bundle/);
  });
});
