/**
 * Hash first (issue 20): a plan asks each node for the SHA-256 of its files
 * in one `digest` and reads only the files whose hash differs, so a no-op
 * apply reads a few KiB per node however large the ARP tables are. What was
 * opened for reading is taken from the node's SFTP log.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH } from '../../src/agent/bundle.js';
import { planFleet } from '../../src/operations/fleet.js';
import { remoteFrom } from '../../src/cli/remote.js';
import { fileText } from '../../src/desired/desired.js';
import { FileStore } from '../../src/store/file-store.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

const ARP = '/opt/custom/networking/customers_overlay.json';

async function plan(c: SimCluster) {
  const snap = await new FileStore(c.statePath).load();
  const remote = await remoteFrom({}, c.env);
  const bytes = new Map<string, number>();
  // Every node hashes first, however small (the simulated installation's files are a few KiB).
  const fleet = await planFleet(snap.model, undefined, remote.open, { concurrency: 8, timeoutMs: 30_000, hashFromBytes: 0, keepContents: true, onRead: (n, b) => bytes.set(n, b) });
  await fleet.close();
  return { fleet, bytes };
}

/** Paths each node's SFTP server opened for reading since the log was emptied. */
async function readsOf(c: SimCluster): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const n of c.nodes) {
    const log = await readFile(join(n.dir, 'sftp.log'), 'utf8').catch(() => '');
    out[n.name] = [...log.matchAll(/open "([^"]*)" flags READ\b/g)].map((m) => m[1]!.slice(n.root.length));
  }
  return out;
}

async function clearLogs(c: SimCluster): Promise<void> {
  for (const n of c.nodes) {
    await writeFile(join(n.dir, 'sftp.log'), '');
    await n.clearCalls();
  }
}

describe('hash-first plan on 3 simulated nodes', () => {
  let c: SimCluster;
  useSimCluster({ count: 3 }, (started) => (c = started));
  beforeAll(async () => {
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
  });

  it('in sync: nothing to do, no managed file or bundle read in full, a few KiB per node', async () => {
    await clearLogs(c);
    const { fleet, bytes } = await plan(c);
    expect(fleet.plan.nodes.every((p) => !p.changed)).toBe(true);
    const reads = await readsOf(c);
    for (const n of fleet.nodes) {
      // The bundle is one of the desired files; it is opened for its first 512 bytes (its version), never read whole.
      expect(n.desired.files.map((f) => f.path)).toContain(BUNDLE_PATH);
      const files = n.desired.files.filter((f) => f.path !== BUNDLE_PATH);
      const desiredBytes = files.reduce((s, f) => s + Buffer.byteLength(fileText(f)), 0);
      for (const f of files) expect(reads[n.desired.node], f.path).not.toContain(f.path);
      expect(bytes.get(n.desired.node)!).toBeLessThan(desiredBytes);
      expect(bytes.get(n.desired.node)!).toBeLessThan(8 * 1024);
      // The actual text of a file known by its hash is the desired one, as a read would have given.
      for (const f of n.desired.files) expect(n.actual.files.get(f.path)?.text).toBe(fileText(f));
      expect(n.actual.files.get(BUNDLE_PATH)?.text).toBeDefined();
    }
    const calls = (await c.nodes[0]!.calls()).map((x) => [x.cmd, ...x.args].join(' '));
    expect(calls.filter((x) => x.startsWith('digest -v -a sha256 /'))).toHaveLength(1);
  });

  it('a file changed, re-moded or removed on a node is read (or found missing) and planned', async () => {
    const n1 = c.nodes[0]!;
    const n2 = c.nodes[1]!;
    const n3 = c.nodes[2]!;
    await writeFile(n1.path(ARP), `${await readFile(n1.path(ARP), 'utf8')} `);
    await chmod(n2.path(ARP), 0o644);
    await rm(n3.path(ARP));
    await clearLogs(c);
    const { fleet } = await plan(c);
    const fileOf = (node: string) => fleet.plan.nodes.find((p) => p.node === node)!.files.find((f) => f.path === ARP);
    expect(fileOf(n1.name)).toMatchObject({ action: 'change', contentChanged: true });
    expect(fileOf(n2.name)).toMatchObject({ action: 'change', contentChanged: false, oldMode: 0o644, mode: 0o400 });
    expect(fileOf(n3.name)).toMatchObject({ action: 'add' });
    const reads = await readsOf(c);
    expect(reads[n1.name]).toContain(ARP);
    expect(reads[n2.name]).not.toContain(ARP);
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect((await plan(c)).fleet.plan.nodes.every((p) => !p.changed)).toBe(true);
  });
});
