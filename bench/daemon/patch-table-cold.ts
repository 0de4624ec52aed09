/**
 * One node's `agent patch-table` as a real node runs it (docs/arp-deltas.md#on-the-node): a fresh
 * process of the built CLI per patch, cold, on a node root holding a `nics`-NIC table (2.4 MB at 25,000)
 * and a bundle listing it, one VM move patched in. Builds given with --dist (repeat it: e.g. the base
 * commit's and this tree's) run interleaved, the order alternating, the files put back before each run:
 *
 *   npx tsx bench/daemon/patch-table-cold.ts --dist /tmp/base/dist --dist dist [--nics 25000] [--runs 10] [--dir /dev/shm] [--profile-dir D]
 *
 * Per build, medians (and each run) of: the patch-table process's own CPU (user + system), max RSS and
 * minor page faults (RUSAGE_SELF, taken at exit by self-usage.mjs), its wall time, and the CPU of the
 * whole tree (`/usr/bin/time`: with the simulated node's commands, svcadm, svcs, dladm, digest, which are
 * Node scripts here and a few ms of C on SmartOS); and the floor, the same CLI printing its version.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundle, BUNDLE_PATH } from '../../src/agent/bundle.js';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { DeltaState } from '../../src/daemon/delta.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { patchWords } from '../../src/files-config/arp-patch.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import { sha256Hex } from '../../src/sha256.js';
import { arpDoc, modelOf, moved, RULE } from '../../test/harness/light-arp.js';
import { lightFacts, type LightCluster } from '../../test/harness/light-nodes.js';
import { simVms, writeNodeRoot, writeSimRoots } from '../../test/harness/sim-cluster.js';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '500' }, nics: { type: 'string', default: '25000' }, runs: { type: 'string', default: '10' }, dir: { type: 'string' }, dist: { type: 'string', multiple: true }, 'profile-dir': { type: 'string' } },
});
const count = Number(values.nodes);
const nics = Number(values.nics);
const runs = Number(values.runs);
const dists = (values.dist ?? ['dist']).map((d) => resolve(d));
const facts = lightFacts(2);
const names = Array.from({ length: count }, (_, i) => facts(i, count).hostname);
const fake = { nodes: names.map((name) => ({ name, port: 22 })) } as unknown as LightCluster;
const node = names[0]!;
const SELF_USAGE = new URL('./self-usage.mjs', import.meta.url).pathname;

/** `--profile-dir D`: a CPU profile of each patch-table process, in D/<build number>. */
const profile = (j: number): string[] => (values['profile-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${join(resolve(values['profile-dir']), String(j))}`] : []);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function put(path: string, data: string | Buffer, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await chmod(path, 0o600).catch(() => undefined);
  await writeFile(path, data, { mode });
  await chmod(path, mode);
}

interface Run {
  cpuMs: number;
  rssMb: number;
  minorFaults: number;
  wallMs: number;
  treeCpuMs: number;
}

/** `/usr/bin/time -f` fields: user, system seconds of the whole tree. */
function treeCpu(stderr: string): number {
  const m = /^TREE (\S+) (\S+)$/m.exec(stderr);
  if (!m) throw new Error(`no /usr/bin/time line in: ${stderr.slice(-500)}`);
  return (Number(m[1]) + Number(m[2])) * 1000;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'esdc-bench-patch-cold-'));
  try {
    const doc = arpDoc(fake, facts, nics);
    const model = modelOf(doc);
    const file = arpTableFile(new RenderContext(model), model.rules.find((r) => r.name === RULE)!, model.nodeByName.get(node)!);
    const table = fileText(file);
    const bundle = buildBundle({ node, files: [file], usbkey: [], overlays: [] }, model.nodeByName.get(node)!.pdc, undefined, Date.now());
    const root = join(dir, 'root');
    await writeNodeRoot(root, facts(0, count), simVms(0, []));
    await put(join(root, AGENT_LAYOUT.smartos.cli), '//\n', 0o644);
    await writeFile(join(root, 'var/sim/svc-delay-ms'), '0\n');
    const config = join(dir, 'agent.json');
    await writeFile(config, JSON.stringify({ status: join(dir, 'agent-status.json'), start_delay_max_seconds: 0, timeout_seconds: 30 }));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(dir, { local: root }), BENCH_USAGE_FILE: join(dir, 'usage.jsonl') };
    // One move: the first NIC of another node moved to a third; the same words each run (the files are put back).
    const k = 1;
    const m1 = modelOf(moved(doc, k, names[(k + 1) % count]!));
    const delta = new DeltaState();
    const g = delta.generation(model).gen;
    const to = sha256Hex(fileText(arpTableFile(new RenderContext(m1), m1.rules.find((r) => r.name === RULE)!, m1.nodeByName.get(node)!)));
    const words = patchWords({ path: file.path, from: sha256Hex(table), to, nowMs: Date.now(), ops: delta.patch(g, m1, RULE, node)! });
    console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; table ${table.length} B, bundle ${Buffer.byteLength(bundle)} B; ${runs} runs per build, interleaved`);
    const results = dists.map(() => [] as Run[]);
    const floors = dists.map(() => [] as Array<{ cpuMs: number; rssMb: number }>);
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? dists.map((_, j) => j) : dists.map((_, j) => dists.length - 1 - j);
      for (const j of order) {
        await put(join(root, file.path), table, 0o400);
        await put(join(root, BUNDLE_PATH), bundle, 0o400);
        await writeFile(env.BENCH_USAGE_FILE, '');
        const w0 = performance.now();
        const r = spawnSync('/usr/bin/time', ['-f', 'TREE %U %S', process.execPath, ...profile(j), '--import', SELF_USAGE, join(dists[j]!, 'esdc-overlay.js'), 'agent', 'patch-table', '--config', config, '--json', ...words], { env, encoding: 'utf8', timeout: 60_000 });
        const wallMs = performance.now() - w0;
        if (r.status !== 0) throw new Error(`${dists[j]}: exit ${r.status}: ${r.stderr}`);
        const got = sha256Hex(await readFile(join(root, file.path)));
        if (got !== to) throw new Error(`${dists[j]}: the table written has SHA-256 ${got}, not ${to}`);
        const u = JSON.parse((await readFile(env.BENCH_USAGE_FILE, 'utf8')).trim().split('\n').at(-1)!) as { user_us: number; system_us: number; max_rss_kb: number; minor_faults: number };
        results[j]!.push({ cpuMs: (u.user_us + u.system_us) / 1000, rssMb: u.max_rss_kb / 1024, minorFaults: u.minor_faults, wallMs, treeCpuMs: treeCpu(r.stderr) });
        // The floor: the same process printing its version (Node's start and the CLI's entry, no patch).
        await writeFile(env.BENCH_USAGE_FILE, '');
        const v = spawnSync(process.execPath, ['--import', SELF_USAGE, join(dists[j]!, 'esdc-overlay.js'), '--version'], { env, encoding: 'utf8', timeout: 60_000 });
        if (v.status !== 0) throw new Error(`${dists[j]}: --version: exit ${v.status}: ${v.stderr}`);
        const fu = JSON.parse((await readFile(env.BENCH_USAGE_FILE, 'utf8')).trim()) as { user_us: number; system_us: number; max_rss_kb: number };
        floors[j]!.push({ cpuMs: (fu.user_us + fu.system_us) / 1000, rssMb: fu.max_rss_kb / 1024 });
      }
    }
    for (const [j, rs] of results.entries()) {
      const f = (key: keyof Run, digits = 0): string => `${median(rs.map((r) => r[key])).toFixed(digits)} (${rs.map((r) => r[key].toFixed(digits)).join(' ')})`;
      console.log(`${dists[j]}:\n  patch-table process CPU ms ${f('cpuMs')}\n  max RSS MB ${f('rssMb', 1)}\n  minor page faults ${f('minorFaults')}\n  wall ms ${f('wallMs')}\n  CPU ms with the simulated commands ${f('treeCpuMs')}\n  floor (\`esdc-overlay --version\`): CPU ms ${median(floors[j]!.map((x) => x.cpuMs)).toFixed(0)}, max RSS MB ${median(floors[j]!.map((x) => x.rssMb)).toFixed(1)}`);
    }
    console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
