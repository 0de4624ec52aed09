/**
 * What readActual asks a node first (issue 20): the desired and extra paths
 * are known before the manifest is, so they are read, and their directories
 * listed, without waiting for it; only a path the manifest alone names (a
 * file we stopped writing) is read once the manifest is in. The result is
 * the same: every path, the leftovers of every directory.
 */
import { describe, expect, it } from 'vitest';
import { readActual } from '../../src/apply/read-actual.js';
import { textFile, type DesiredNode } from '../../src/desired/desired.js';
import { MANIFEST_PATH, serializeManifest } from '../../src/plan/manifest.js';
import { stagedPath, type Transport } from '../../src/transport/transport.js';

const ARP = '/opt/custom/networking/net_overlay.json';
const OLD = '/opt/custom/etc/ipf.d/old.conf';
const STAGED = stagedPath(ARP, 'fedcba987654');

const desired: DesiredNode = {
  node: 'cn1',
  usbkey: [],
  overlays: [],
  files: [textFile({ path: ARP, mode: 0o400, owner: 'root', group: 'root', secret: false, refresh: 'varpd', text: '{}\n' })],
};

/** A node whose manifest is answered only when the test says so; every operation is logged in order. */
function slowManifestNode(): { t: Transport; log: string[]; answerManifest: () => void } {
  const log: string[] = [];
  let answer: () => void = () => undefined;
  const held = new Promise<void>((res) => (answer = res));
  const files: Record<string, string> = {
    [ARP]: '{}\n',
    [OLD]: 'old\n',
    [MANIFEST_PATH]: serializeManifest({ version: 1, files: { [ARP]: { refresh: 'varpd' }, [OLD]: { refresh: 'ipf' } }, pendingRefresh: [] }),
  };
  const t = {
    node: 'cn1',
    target: 'root@cn1:22',
    runId: '0123456789ab',
    async readFile(path: string) {
      log.push(`read ${path}`);
      if (path === MANIFEST_PATH) await held;
      const text = files[path];
      return text === undefined ? undefined : { data: Buffer.from(text), mode: 0o644 };
    },
    async list(dir: string) {
      log.push(`list ${dir}`);
      return dir === '/opt/custom/networking' ? ['net_overlay.json', STAGED.slice(dir.length + 1)] : [];
    },
    async exec() {
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { t: t as unknown as Transport, log, answerManifest: () => answer() };
}

describe('readActual', () => {
  it('reads the desired and extra paths and lists their directories before the manifest answers; a path only the manifest names, after', async () => {
    const node = slowManifestNode();
    const done = readActual(node.t, desired, 1000, ['/opt/custom/esdc-overlay/bundle.json']);
    await new Promise((r) => setTimeout(r, 20));
    expect(node.log).toEqual(
      expect.arrayContaining([`read ${ARP}`, 'read /opt/custom/esdc-overlay/bundle.json', 'list /opt/custom/networking', 'list /opt/custom/esdc-overlay', `read ${MANIFEST_PATH}`]),
    );
    expect(node.log).not.toContain(`read ${OLD}`);
    node.answerManifest();
    const actual = await done;
    expect(node.log.slice(-2).sort()).toEqual([`list /opt/custom/etc/ipf.d`, `read ${OLD}`]);
    expect([...actual.files.keys()]).toEqual(['/opt/custom/esdc-overlay/bundle.json', OLD, ARP].sort());
    expect(actual.files.get(OLD)?.text).toBe('old\n');
    expect(actual.files.get('/opt/custom/esdc-overlay/bundle.json')).toBeNull();
    expect(actual.leftovers).toEqual([STAGED]);
  });
});
