/**
 * The light simulated nodes (test/harness/light-nodes.ts): SSH servers in
 * this process, SFTP and commands inside each node's root, no ssh.root in the
 * state. The built CLI (a separate process, with the production SSH
 * transport) applies, verifies and re-applies with nothing to do.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH } from '../../src/agent/bundle.js';
import { fileText } from '../../src/desired/desired.js';
import { IKE_CONFIG_PATH, IKE_PRESHARED_PATH } from '../../src/ipsec/generator.js';
import { parsePreshared } from '../../src/ipsec/ike-files.js';
import type { StateDoc } from '../../src/model/state.js';
import { planFleet, type FleetOptions } from '../../src/operations/fleet.js';
import { remoteFrom } from '../../src/operations/remote.js';
import { FileStore } from '../../src/store/file-store.js';
import { lightFacts, lightNodesDoc, parseExecWords, runDigest, startLightCluster, writeLightState, type LightCluster } from '../harness/light-nodes.js';
import { assertBuilt, runCli } from '../support/cli-process.js';

let dir: string;
let c: LightCluster;
let statePath: string;
let env: Record<string, string>;
const facts = lightFacts(2);

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'light-'));
  c = await startLightCluster({ count: 4, dir, facts });
  statePath = join(dir, 'state.yaml');
  const doc: StateDoc = {
    version: 1,
    defaults: { ipsec: { keys: 'pdc-pair' } },
    nodes: lightNodesDoc(c, facts),
    overlay_rules: { customers: { port: 4790, nodes: 'all', mtu: 1388 } },
    vnics: c.nodes.map((n, i) => ({ node: n.name, mac: `52:54:00:aa:00:0${i + 1}`, ip: `10.210.0.${i + 1}`, nic_tag: 'customers/1000' })),
  };
  await writeLightState(statePath, doc);
  env = { ...c.env, ESDC_OVERLAY_STATE: statePath };
});
afterAll(async () => {
  await c?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('light simulated nodes', () => {
  it('parse exec requests as the tool quotes them, and refuse what needs a shell', () => {
    expect(parseExecWords("svcadm restart network/varpd")).toEqual(['svcadm', 'restart', 'network/varpd']);
    expect(parseExecWords("chown 'root:root' '/a b/c'\\''d'")).toEqual(['chown', 'root:root', "/a b/c'd"]);
    expect(parseExecWords('sysinfo; rm -rf /')).toBeUndefined();
    expect(parseExecWords('echo $(id)')).toBeUndefined();
  });

  it('run digest(1) as illumos does: a line per file in order, exit 2 for a missing file, 1 for a directory or an unknown algorithm', async () => {
    const root = c.nodes[0]!.root;
    const ok = await runDigest(root, ['-v', '-a', 'sha256', '/usbkey/config']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^sha256 \(\/usbkey\/config\) = [0-9a-f]{64}\n$/);
    const missing = await runDigest(root, ['-v', '-a', 'sha256', '/nope', '/usbkey/config']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe(ok.stdout);
    expect((await runDigest(root, ['-v', '-a', 'sha256', '/usbkey'])).code).toBe(1);
    expect((await runDigest(root, ['-a', 'crc32', '/usbkey/config'])).code).toBe(1);
    expect((await runDigest(root, ['-v', '/usbkey/config'])).code).toBe(2);
  });

  it('take a first apply through the production transport, verify clean, and a second apply has nothing to do', async () => {
    const first = await runCli(['apply', '--yes'], env).done;
    expect(first.code, first.stderr).toBe(0);
    // Files landed inside each node's root, with the PDC pair's key towards the other PDC.
    const n1 = c.nodes[0]!;
    const preshared = parsePreshared(await readFile(join(n1.root, IKE_PRESHARED_PATH), 'utf8'));
    expect([...preshared.keys()].sort()).toEqual([facts(1, 4).external_ip, facts(3, 4).external_ip].sort());
    expect(preshared.get(facts(1, 4).external_ip)).toBe(preshared.get(facts(3, 4).external_ip));
    const calls = (await readFile(join(n1.root, 'var/sim/calls.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cmd: string });
    expect(calls.map((x) => x.cmd)).toEqual(expect.arrayContaining(['dladm', 'chown', '020-ipsec-restore.sh', 'svcadm', 'net-virtual']));

    const verify = await runCli(['verify'], env).done;
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const before = c.traffic();
    const again = await runCli(['apply', '--yes'], env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/no changes|nothing to do|in sync/i);
    expect(c.traffic().connections).toBe(before.connections + 4);
  });

  // Runs after the apply above: the nodes are in sync.
  async function planIt(only: ReadonlySet<string> | undefined, opts: Partial<FleetOptions> = {}) {
    const snap = await new FileStore(statePath).load();
    const remote = await remoteFrom({}, env, {}, snap.model);
    const bytes = new Map<string, number>();
    const fleet = await planFleet(snap.model, only, remote.open, { concurrency: 4, timeoutMs: 30_000, onRead: (n, b) => bytes.set(n, b), ...opts });
    await fleet.close();
    return { fleet, bytes };
  }

  it('hash first: a node in sync is known by digest(1), its files not read (without digest they were read whole)', async () => {
    const { fleet, bytes } = await planIt(undefined, { hashFromBytes: 0, keepContents: true });
    expect(fleet.plan.nodes.every((p) => !p.changed)).toBe(true);
    for (const n of fleet.nodes) {
      const files = n.desired.files.filter((f) => f.path !== BUNDLE_PATH);
      const desiredBytes = files.reduce((s, f) => s + Buffer.byteLength(fileText(f)), 0);
      const bundleBytes = Buffer.byteLength(n.actual.files.get(BUNDLE_PATH)!.text);
      // Read whole, the files and the bundle (which carries them again) are several times what a digest and a
      // bundle prefix cost.
      expect(bytes.get(n.desired.node)!).toBeLessThan((desiredBytes + bundleBytes) / 2);
    }
  });

  it('a planned fleet keeps no file contents, but the IKE files of a subset run (the split-pair checks)', async () => {
    const { fleet } = await planIt(undefined);
    expect(fleet.plan.nodes.every((p) => !p.changed)).toBe(true);
    for (const n of fleet.nodes) {
      expect(n.actual.files.size).toBe(0);
      expect(n.desired.files).toHaveLength(0);
      expect(n.work.stage).toHaveLength(0);
      expect(n.actual.manifestText).toBeDefined();
    }
    const one = c.nodes[0]!.name;
    const subset = await planIt(new Set([one]));
    expect(subset.fleet.nodes).toHaveLength(1);
    const n = subset.fleet.nodes[0]!;
    expect([...n.actual.files.keys()].sort()).toEqual([IKE_CONFIG_PATH, IKE_PRESHARED_PATH].filter((p) => n.actual.files.has(p)).sort());
    expect(n.actual.files.get(IKE_PRESHARED_PATH)?.text).toBe(await readFile(join(c.nodes[0]!.root, IKE_PRESHARED_PATH), 'utf8'));
    expect(n.desired.files.map((f) => f.path)).toContain(IKE_PRESHARED_PATH);
    expect(n.desired.files.every((f) => f.path === IKE_CONFIG_PATH || f.path === IKE_PRESHARED_PATH)).toBe(true);
  });

  it('refuse a host key that is not the node\'s', async () => {
    const other = await startLightCluster({ count: 1, dir: join(dir, 'other'), facts });
    try {
      const r = await runCli(['plan'], { ...env, ESDC_OVERLAY_KNOWN_HOSTS: other.knownHostsFile }).done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/host key|HOST KEY/);
    } finally {
      await other.stop();
    }
  });
});
