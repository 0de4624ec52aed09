/**
 * The daemon's table writes around varpd's restart (docs/daemon.md#tables), on
 * light simulated nodes with the production SSH transport and each node
 * running `agent patch-table`: a node with another tool's overlay whose table
 * is mid-edit gets no restart (the patch refused, the whole table refused by
 * the same check, the node failed and retried), and that overlay stays
 * ONLINE; an overlay the state wants that is DEGRADED after the daemon's own
 * restart is in the write's result, the log and `daemon status`.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, BUNDLE_PATH } from '../../src/agent/bundle.js';
import { DeltaState } from '../../src/daemon/delta.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import { recordDegraded } from '../../src/daemon/degraded.js';
import { emptyDaemonStatus, renderDaemonStatus } from '../../src/daemon/status.js';
import { writeTables, type TableResult } from '../../src/daemon/tables.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { overlaysOfNode } from '../../src/rules/overlays.js';
import type { Transport } from '../../src/transport/transport.js';
import { arpDoc, lightTransports, modelOf, moved, RULE, seedTables } from '../harness/light-arp.js';
import { lightFacts, startLightCluster, type LightCluster } from '../harness/light-nodes.js';
import { runSimCommand } from '../harness/sim-commands.mjs';

const facts = lightFacts(3);
const FOREIGN = '/opt/custom/networking/danube_overlay.json';
const GOOD = '{\n  "02:08:20:00:00:99": {"arp": "10.99.0.9", "ip": "10.200.1.9", "port": 4789}\n}\n';
let dir: string;
let c: LightCluster;
let doc: StateDoc;
let transports: Map<string, Transport>;

const root = (i: number): string => c.nodes[i]!.root;
const sim = (i: number, cmd: string, ...args: string[]) => runSimCommand(root(i), cmd, args);
function fault(i: number): Record<string, string> {
  const r = sim(i, 'dladm', 'show-overlay', '-f', '-p', '-o', 'link,status');
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(':') as [string, string]));
}
async function varpdRestarts(i: number): Promise<number> {
  const text = await readFile(join(root(i), 'var/sim/calls.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.includes('"cmd":"svcadm"') && l.includes('"network/varpd"')).length;
}
const write = (model: Model, delta: DeltaState, all = false): Promise<TableResult> =>
  writeTables(model, { rules: new Set([RULE]), nodes: all ? new Set(model.nodes.map((n) => n.name)) : new Set() }, transports, { timeoutMs: 30_000, concurrency: 4, delta });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daemon-guard-'));
  c = await startLightCluster({ count: 3, dir, facts });
  doc = arpDoc(c, facts, 12);
  await seedTables(c, modelOf(doc));
  transports = await lightTransports(c, modelOf(doc));
  // Node 1 has our overlay (as apply creates it) and another tool's.
  const m = modelOf(doc);
  const table = m.rules.find((r) => r.name === RULE)!.filesConfig;
  for (const o of overlaysOfNode(m, m.nodeByName.get(c.nodes[1]!.name)!)) {
    expect(sim(1, 'dladm', 'create-overlay', '-e', 'vxlan', '-s', 'files', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4790', '-p', `files/config=${table}`, '-v', String(o.vni), o.link).code).toBe(0);
  }
  await writeFile(join(root(1), FOREIGN), GOOD);
  expect(sim(1, 'dladm', 'create-overlay', '-e', 'vxlan', '-s', 'files', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4789', '-p', `files/config=${FOREIGN}`, '-v', '2999', 'danube2999').code).toBe(0);
});
afterAll(async () => {
  for (const t of transports?.values() ?? []) await t.close();
  await c?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the daemon around its varpd restarts', () => {
  it('a foreign table mid-edit: no restart on that node, the overlay stays ONLINE, the node fails naming it; mended, the retry writes', async () => {
    const delta = new DeltaState();
    expect((await write(modelOf(doc), delta, true)).failed).toEqual(new Map());
    await writeFile(join(root(1), FOREIGN), GOOD.slice(0, 30));
    const before = await varpdRestarts(1);
    doc = moved(doc, 0, c.nodes[2]!.name);
    const r = await write(modelOf(doc), delta);
    // Without the check varpd restarts on node 1 and danube2999 is DEGRADED for good.
    expect(fault(1).danube2999).toBe('ONLINE');
    expect(await varpdRestarts(1)).toBe(before);
    expect(r.failed.get(c.nodes[1]!.name)).toContain(`refusing to restart varpd on ${c.nodes[1]!.name}: overlay danube2999: ${FOREIGN} does not parse as varpd reads it`);
    // The patch was refused by the same check, then the whole table.
    expect(r.sent.get(c.nodes[1]!.name)!.fallbacks[0]!.reason).toContain('refusing to restart varpd');
    // The other nodes took the move.
    expect(r.failed.size).toBe(1);

    await writeFile(join(root(1), FOREIGN), GOOD);
    const retry = await writeTables(modelOf(doc), { rules: new Set(), nodes: new Set([c.nodes[1]!.name]) }, transports, { timeoutMs: 30_000, concurrency: 4, delta });
    expect(retry.failed).toEqual(new Map());
    expect(await varpdRestarts(1)).toBe(before + 1);
    expect(fault(1).danube2999).toBe('ONLINE');
  });

  it('an overlay the state wants DEGRADED after the daemon restarts varpd: in the result, the log and daemon status', async () => {
    const delta = new DeltaState();
    expect((await write(modelOf(doc), delta, true)).failed).toEqual(new Map());
    const m = modelOf(doc);
    const link = overlaysOfNode(m, m.nodeByName.get(c.nodes[1]!.name)!)[0]!.link;
    // Lost at an earlier restart (a broken table then), mended since: still DEGRADED.
    const table = join(root(1), m.rules.find((r) => r.name === RULE)!.filesConfig);
    const good = await readFile(table, 'utf8');
    await writeFile(table, '{,}');
    sim(1, 'svcadm', 'restart', 'network/varpd');
    await writeFile(table, good);
    expect(fault(1)[link]).toBe('DEGRADED');
    // The node's bundle lists its overlays, as apply's does (patch-table reports those).
    const node = m.nodeByName.get(c.nodes[1]!.name)!;
    const file = arpTableFile(new RenderContext(m), m.rules.find((x) => x.name === RULE)!, node);
    const bundlePath = join(root(1), BUNDLE_PATH);
    await chmod(bundlePath, 0o600);
    await writeFile(bundlePath, buildBundle({ node: node.name, files: [file], usbkey: [], overlays: overlaysOfNode(m, node) }, node.pdc, undefined, Date.now()));
    await chmod(bundlePath, 0o400);

    doc = moved(doc, 1, c.nodes[0]!.name);
    const r = await write(modelOf(doc), delta);
    expect(r.failed).toEqual(new Map());
    expect(r.sent.get(c.nodes[1]!.name)!.patched).toHaveLength(1);
    expect(r.degraded.get(c.nodes[1]!.name)).toEqual([{ link, status: 'DEGRADED', details: 'no varpd instance exists' }]);
    expect(r.degraded.get(c.nodes[0]!.name) ?? []).toEqual([]);

    const status = emptyDaemonStatus();
    const logged: string[] = [];
    const log = { error: (_o: unknown, msg: string) => logged.push(msg) } as unknown as Parameters<typeof recordDegraded>[2];
    recordDegraded(status, r, log);
    expect(status.overlays_degraded).toEqual([`${c.nodes[1]!.name}: ${link} (no varpd instance exists)`]);
    expect(logged).toEqual([`overlay DEGRADED after varpd's restart: To recreate it: stop the VMs with a NIC on it (or reboot the node), run \`dladm delete-overlay ${link}\` on the node, then esdc-overlay apply.`]);
    expect(renderDaemonStatus(status, () => true)).toContain(`overlays DEGRADED after the daemon's varpd restart`);
  });
});
