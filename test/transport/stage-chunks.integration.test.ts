/**
 * Transport.stage with content in chunks (src/byte-chunks.ts), over SSH (a
 * real sshd's sftp-server) and through the local transport: the file staged
 * and committed is byte for byte, and mode for mode, the one staged from the
 * chunks' concatenation. Splits straddle the SFTP writer's 32 KiB pieces and
 * exceed one writev's 1,024 buffers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
import { cut } from '../support/cut-chunks.js';


const big = randomBytes(300 * 1024 + 17);
const CASES: Array<{ name: string; mode: number; chunks: Buffer[] }> = [
  { name: 'no-chunks', mode: 0o644, chunks: [] },
  { name: 'secret-small', mode: 0o400, chunks: cut(randomBytes(97), [0, 40, 0]) },
  { name: 'straddling', mode: 0o600, chunks: cut(big, [32 * 1024 - 1, 2, 0, 100 * 1024, 5]) },
  { name: 'over-iov-max', mode: 0o640, chunks: cut(big, Array.from({ length: 2500 }, (_, i) => 1 + (i % 7))) },
];

let c: SimCluster;
useSimCluster({ count: 2 }, (started) => (c = started));

let localRoot: string;
beforeAll(async () => {
  localRoot = await mkdtemp(join(tmpdir(), 'esdc-stage-chunks-'));
});
afterAll(async () => {
  await rm(localRoot, { recursive: true, force: true });
});

async function sshTransport(): Promise<Transport> {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  return remote.open(snap.model.nodes.find((n) => n.name === c.nodes[0]!.name)!);
}

for (const via of ['ssh', 'local'] as const) {
  describe(`stage in chunks over the ${via} transport`, () => {
    it('writes what staging the concatenation writes, byte for byte and with its mode', async () => {
      const root = via === 'ssh' ? c.nodes[0]!.root : localRoot;
      const t = via === 'ssh' ? await sshTransport() : new RootedTransport(new LocalTransport('local'), localRoot);
      try {
        for (const k of CASES) {
          const whole = Buffer.concat(k.chunks);
          await t.stage(`/var/stage-test/${k.name}.chunks`, k.chunks, { mode: k.mode }, 20_000);
          await t.commit(`/var/stage-test/${k.name}.chunks`, 20_000);
          await t.stage(`/var/stage-test/${k.name}.whole`, whole, { mode: k.mode }, 20_000);
          await t.commit(`/var/stage-test/${k.name}.whole`, 20_000);
          const [chunked, joined] = await Promise.all(['chunks', 'whole'].map((s) => readFile(join(root, `var/stage-test/${k.name}.${s}`))));
          expect(chunked!.equals(whole), k.name).toBe(true);
          expect(chunked!.equals(joined!), k.name).toBe(true);
          const modes = await Promise.all(['chunks', 'whole'].map(async (s) => ((await stat(join(root, `var/stage-test/${k.name}.${s}`))).mode & 0o7777).toString(8)));
          expect(modes, k.name).toEqual([k.mode.toString(8), k.mode.toString(8)]);
        }
      } finally {
        await t.close();
      }
    });
  });
}
