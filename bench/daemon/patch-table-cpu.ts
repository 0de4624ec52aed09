/**
 * One node's `agent patch-table` (docs/arp-deltas.md#on-the-node), its CPU and where it goes:
 *
 *   npx tsx bench/daemon/patch-table-cpu.ts [--nodes 500] [--nics 25000] [--runs 8]
 *
 * Node 0 of a `nodes`-node, `nics`-NIC state (one rule over all: its table holds every NIC of the
 * others, 2.4 MB at 25,000) laid out in a root as apply leaves it, table and a bundle listing it
 * (src/agent/bundle.ts: an index line, then the contents raw). A VM move per run, patched in (the
 * bundle's copy spliced: src/agent/bundle-splice.ts). Then the phases of one run, each timed alone.
 * CPU is this process's (user + system, the fs thread pool's included), in process, no SSH: the
 * node's own share of a move (test/harness/light-nodes.ts runs the same call per node). `--dir`
 * puts the root elsewhere (e.g. /dev/shm, to see what the disk's writeback costs).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundle, BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import { spliceBundleFile } from '../../src/agent/bundle-splice.js';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { patchTable } from '../../src/agent/patch-table.js';
import { DeltaState } from '../../src/daemon/delta.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { spliceArpPatchChunks } from '../../src/files-config/arp-patch.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import type { StateDoc } from '../../src/model/state.js';
import { sha256Hex, sha256HexChunks } from '../../src/sha256.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { arpDoc, modelOf, moved, RULE } from '../../test/harness/light-arp.js';
import { lightFacts, LightLocalTransport, type LightCluster } from '../../test/harness/light-nodes.js';
import { simVms, writeNodeRoot } from '../../test/harness/sim-cluster.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '500' }, nics: { type: 'string', default: '25000' }, runs: { type: 'string', default: '8' }, dir: { type: 'string' } } });
const count = Number(values.nodes);
const nics = Number(values.nics);
const runs = Number(values.runs);
const facts = lightFacts(2);
const names = Array.from({ length: count }, (_, i) => facts(i, count).hostname);
// arpDoc needs only the nodes' names and ports.
const fake = { nodes: names.map((name) => ({ name, port: 22 })) } as unknown as LightCluster;
const node = names[0]!;

const cpuMs = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function put(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await chmod(path, 0o600).catch(() => undefined);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'esdc-bench-patch-cpu-'));
  try {
    let doc: StateDoc = arpDoc(fake, facts, nics);
    let model = modelOf(doc);
    const rule = model.rules.find((r) => r.name === RULE)!;
    const file = arpTableFile(new RenderContext(model), rule, model.nodeByName.get(node)!);
    const bundle = buildBundle({ node, files: [file], usbkey: [], overlays: [] }, model.nodeByName.get(node)!.pdc, undefined, Date.now());
    const root = join(dir, 'a');
    await writeNodeRoot(root, facts(0, count), simVms(0, []));
    await put(join(root, file.path), fileText(file), 0o400);
    await put(join(root, BUNDLE_PATH), bundle, 0o400);
    await put(join(root, AGENT_LAYOUT.smartos.cli), '//\n', 0o644);
    await writeFile(join(root, 'var/sim/svc-delay-ms'), '0\n');
    console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; table ${fileText(file).length} B, bundle ${Buffer.byteLength(bundle)} B`);
    const cpu: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      const k = (i * 7919 + 1) % nics;
      const next = moved(doc, k, names[(k + 1) % count]!);
      const m1 = modelOf(next);
      const delta = new DeltaState();
      const g = delta.generation(model).gen;
      const ops = delta.patch(g, m1, RULE, node)!;
      const from = sha256Hex(await readFile(join(root, file.path), 'utf8'));
      const to = sha256Hex(fileText(arpTableFile(new RenderContext(m1), m1.rules.find((r) => r.name === RULE)!, m1.nodeByName.get(node)!)));
      const t = new LightLocalTransport(new LocalTransport(node), root);
      const w0 = performance.now();
      cpu.push(await cpuMs(() => patchTable(t, { path: file.path, from, to, nowMs: Date.now(), ops }, { timeoutMs: 30_000 })));
      wall.push(performance.now() - w0);
      await t.close();
      doc = next;
      model = m1;
    }
    console.log(`patch-table: CPU median ${median(cpu).toFixed(1)} ms (${cpu.map((x) => x.toFixed(0)).join(' ')}), wall median ${median(wall).toFixed(1)} ms`);
    // The phases, each alone, on the root's files (median of `runs`).
    const tableBytes = await readFile(join(root, file.path));
    const bundleBytes = await readFile(join(root, BUNDLE_PATH));
    const ops = new DeltaState().patch(0, model, RULE, node) ?? [];
    const patched = spliceArpPatchChunks(tableBytes, ops)!;
    const patchedSha = sha256HexChunks(patched);
    const phases: Record<string, () => unknown> = {
      'read table (fs, 2 syscalls)': () => readFile(join(root, file.path)),
      'sha256 of the table bytes': () => createHash('sha256').update(tableBytes).digest('hex'),
      'splice the patch into the table, as chunks': () => spliceArpPatchChunks(tableBytes, ops),
      'read bundle (fs)': () => readFile(join(root, BUNDLE_PATH)),
      'bundle: splice (index checked, contents as views)': () => spliceBundleFile(bundleBytes, file.path, patched, patchedSha, 0),
      'bundle: parse whole (what the agent does, for comparison)': () => parseBundle(bundleBytes, BUNDLE_PATH),
    };
    for (const [name, f] of Object.entries(phases)) {
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) xs.push(await cpuMs(f));
      console.log(`  ${name}: ${median(xs).toFixed(1)} ms CPU`);
    }
    console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
