/**
 * Transport.readFile: a node's file comes back whole, with the mode it has,
 * over SSH (a real sshd's sftp-server) as through the local transport; a
 * missing file is `undefined`, not an error. Sizes straddle the first read
 * (64 KiB) and OpenSSH's largest read reply, where a short read would show.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteFrom } from '../../src/cli/remote.js';
import { FileStore } from '../../src/store/file-store.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { RootedTransport } from '../../src/transport/rooted-transport.js';
import type { Transport } from '../../src/transport/transport.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';

const CASES: Array<{ name: string; size: number; mode: number }> = [
  { name: 'empty', size: 0, mode: 0o644 },
  { name: 'small-secret', size: 97, mode: 0o400 },
  { name: 'first-read-exactly', size: 64 * 1024, mode: 0o600 },
  { name: 'first-read-plus-one', size: 64 * 1024 + 1, mode: 0o640 },
  { name: 'several-replies', size: 700 * 1024 + 13, mode: 0o755 },
];

let c: SimCluster;
useSimCluster({ count: 2 }, (started) => (c = started));

let localRoot: string;
beforeAll(async () => {
  localRoot = await mkdtemp(join(tmpdir(), 'esdc-read-'));
});
afterAll(async () => {
  await rm(localRoot, { recursive: true, force: true });
});

/** Writes every case under `root`/var/read-test with its mode; returns name → bytes. */
async function layOut(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  await mkdir(join(root, 'var/read-test'), { recursive: true });
  for (const k of CASES) {
    const bytes = randomBytes(k.size);
    const p = join(root, 'var/read-test', k.name);
    await writeFile(p, bytes);
    await chmod(p, k.mode);
    out.set(k.name, bytes);
  }
  return out;
}

async function sshTransport(): Promise<Transport> {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  return remote.open(snap.model.nodes.find((n) => n.name === c.nodes[0]!.name)!);
}

for (const via of ['ssh', 'local'] as const) {
  describe(`readFile over the ${via} transport`, () => {
    it('returns each file whole, with its own mode', async () => {
      const root = via === 'ssh' ? c.nodes[0]!.root : localRoot;
      const written = await layOut(root);
      const t = via === 'ssh' ? await sshTransport() : new RootedTransport(new LocalTransport('local'), localRoot);
      try {
        for (const k of CASES) {
          const got = await t.readFile(`/var/read-test/${k.name}`, 20_000);
          expect(got, k.name).toBeDefined();
          expect(got!.data.length, k.name).toBe(k.size);
          expect(got!.data.equals(written.get(k.name)!), k.name).toBe(true);
          expect(got!.mode.toString(8), k.name).toBe(k.mode.toString(8));
        }
        expect(await t.readFile('/var/read-test/missing', 20_000)).toBeUndefined();
        expect(await t.readFile('/no/such/dir/file', 20_000)).toBeUndefined();
      } finally {
        await t.close();
      }
      if (via === 'ssh') {
        // One open and one close per file, and every byte read once: no second pass, no stray handle.
        const log = await readFile(join(c.nodes[0]!.dir, 'sftp.log'), 'utf8');
        for (const k of CASES) {
          const path = `${c.nodes[0]!.root}/var/read-test/${k.name}`;
          const opens = log.split('\n').filter((l) => l.includes(`open "${path}" flags READ`));
          const closes = log.split('\n').filter((l) => l.includes(`close "${path}" bytes read ${k.size} written 0`));
          expect([opens.length, closes.length], k.name).toEqual([1, 1]);
        }
      }
    });
  });
}
