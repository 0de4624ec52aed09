/**
 * A VM move at scale, with the daemon's table writes sent as patches (issue 22, docs/arp-deltas.md):
 *
 *   npx tsx bench/daemon/arp-delta.ts [--nodes 500] [--nics 25000] [--pdcs 2] [--moves 5] [--whole-nodes 20] [--workers 2] [--slots 64] [--dir DIR] [--profile-moves FILE] [--profile-first FILE]
 *
 * `--dir`: where the nodes' roots go (default the temp directory; /dev/shm puts them on tmpfs).
 * `--slots`: patches in flight at once. A slot is held for the whole patch, the simulated varpd restart and
 * its 200 ms until online included, so 16 slots alone kept 500 patches to 500 x ~155 ms / 16 = 4.8 s; real
 * nodes patch in parallel. 64 (~640 MB of tables and bundles in flight) leaves the CPU as the limit.
 * `nodes` light simulated nodes (test/harness/light-nodes.ts: ssh2 servers in this process, each node
 * running `agent patch-table` in `workers` worker threads, node i in worker i % workers, at most `slots` at a time;
 * `--workers 0`: in this thread, behind the daemon's and the SSH servers' event loop), one rule over all of them and
 * `nics` VM NICs; every node's table and bundle laid out as apply leaves them (test/harness/light-arp.ts).
 * The daemon's writers (src/daemon/node-writer.ts, one per node, all at once, as the daemon runs them)
 * over the production SSH transport, with one DeltaState primed with each table's hash (what a resync
 * learns when it reads the tables). Then `moves` times: one NIC moves to another node; the state with
 * the move is handed to every writer (the moment the daemon has saved it) and the time is taken until
 * each node's write has returned (its table renamed into place and varpd restarted).
 * Reported per move: bytes the nodes' sockets read (what the daemon sent, SSH framing included) and the
 * daemon's own count, median and max per node; convergence p50, p99 and max; when the daemon called exec
 * for each node's patch ("sent") and when the command reached the node's SSH server ("received": the head
 * node's part as the nodes see it); patches and fallbacks. `--profile-moves FILE`: a CPU profile of this
 * process's main thread (daemon and SSH servers) over moves 2 onwards, the code warm.
 * `--profile-first FILE`: the same over move 1 alone, the code as the start left it.
 * Then one node alone, three times: its latency when the machine works for it only. `whole-nodes`: the
 * same kind of move with the delta off on that many nodes (the bytes of the old way).
 * Everything (daemon, 500 SSH servers, 500 nodes' patch work) shares this machine: see bench/RESULTS.md.
 */
import { rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeltaState, tableSha256 } from '../../src/daemon/delta.js';
import { NodeWriter } from '../../src/daemon/node-writer.js';
import type { TableResult } from '../../src/daemon/tables.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import type { Transport } from '../../src/transport/transport.js';
import { arpDoc, lightTransports, modelOf, moved, RULE, seedTables } from '../../test/harness/light-arp.js';
import { lightFacts, lightNodeExecAt, lightPatchMs, startLightCluster, type LightCluster } from '../../test/harness/light-nodes.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '500' },
    nics: { type: 'string', default: '25000' },
    pdcs: { type: 'string', default: '2' },
    moves: { type: 'string', default: '5' },
    'whole-nodes': { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    slots: { type: 'string', default: '64' },
    dir: { type: 'string' },
    /** Profile this process's main thread over moves 2 onwards (the code warm) into this .cpuprofile file. */
    'profile-moves': { type: 'string' },
    /** Profile this process's main thread over move 1 alone (the code as the daemon's start leaves it) into this .cpuprofile file. */
    'profile-first': { type: 'string' },
  },
});
const say = (s: string): void => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}] ${s}`);
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** When each node's patch command left the daemon (ms since the move started): the head node's serial part. */
const issuedAt = new Map<string, number>();
let moveStart = 0;

/** The node's transport, noting when the daemon sends its first command of the move. */
function timed(t: Transport): Transport {
  return new Proxy(t, {
    get(target, prop, receiver) {
      if (prop === 'exec') {
        return (argv: readonly string[], timeoutMs: number) => {
          if (!issuedAt.has(target.node)) issuedAt.set(target.node, performance.now() - moveStart);
          return target.exec(argv, timeoutMs);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

interface MoveFigures {
  issuedP50: number;
  issuedP99: number;
  /** When the patch commands reached the nodes (ms since the move started): the head node's part as the nodes see it. */
  receivedP50: number;
  receivedP99: number;
  sentMedian: number;
  sentMax: number;
  countedMedian: number;
  countedMax: number;
  p50: number;
  p99: number;
  max: number;
  patched: number;
  whole: number;
  fallbacks: number;
  failed: number;
  cpuS: number;
}

/** Hands `model` to every node's writer and waits for each; bytes from the nodes' sockets. */
async function move(c: LightCluster, model: Model, transports: Map<string, Transport>, delta: DeltaState | undefined, only?: Set<string>): Promise<MoveFigures> {
  const nodes = c.nodes.filter((n) => only === undefined || only.has(n.name));
  const before = new Map(nodes.map((n) => [n.name, n.traffic().read]));
  const done = new Map<string, number>();
  const results: TableResult[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  issuedAt.clear();
  lightNodeExecAt.length = 0;
  moveStart = t0;
  await Promise.all(
    nodes.map((n) => {
      const w = new NodeWriter(n.name, () => transports.get(n.name), { timeoutMs: 120_000, concurrency: 1, ...(delta ? { delta } : {}) }, (name, r) => {
        done.set(name, performance.now() - t0);
        results.push(r);
      });
      return w.request({ model, rules: new Set([RULE]), all: false });
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const sent = nodes.map((n) => n.traffic().read - before.get(n.name)!);
  const counted = results.flatMap((r) => [...r.sent.values()].map((s) => s.bytes));
  const times = [...done.values()];
  const sum = (f: (r: TableResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const issued = [...issuedAt.values()];
  return {
    issuedP50: issued.length ? pct(issued, 50) : NaN,
    issuedP99: issued.length ? pct(issued, 99) : NaN,
    receivedP50: lightNodeExecAt.length ? pct(lightNodeExecAt.map((x) => x - t0), 50) : NaN,
    receivedP99: lightNodeExecAt.length ? pct(lightNodeExecAt.map((x) => x - t0), 99) : NaN,
    sentMedian: pct(sent, 50),
    sentMax: Math.max(...sent),
    countedMedian: counted.length ? pct(counted, 50) : 0,
    countedMax: counted.length ? Math.max(...counted) : 0,
    p50: pct(times, 50),
    p99: pct(times, 99),
    max: Math.max(...times),
    patched: sum((r) => [...r.sent.values()].reduce((a, s) => a + s.patched.length, 0)),
    whole: sum((r) => [...r.sent.values()].reduce((a, s) => a + s.whole.length, 0)),
    fallbacks: sum((r) => [...r.sent.values()].reduce((a, s) => a + s.fallbacks.length, 0)),
    failed: sum((r) => r.failed.size),
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

const line = (label: string, f: MoveFigures): string =>
  `${label}: sent per node (socket bytes) median ${f.sentMedian} B, max ${f.sentMax} B; daemon's count median ${f.countedMedian} B, max ${f.countedMax} B; ` +
  `convergence p50 ${f.p50.toFixed(0)} ms, p99 ${f.p99.toFixed(0)} ms, max ${f.max.toFixed(0)} ms; first command sent p50 ${f.issuedP50.toFixed(0)} ms, p99 ${f.issuedP99.toFixed(0)} ms; patch command received p50 ${f.receivedP50.toFixed(0)} ms, p99 ${f.receivedP99.toFixed(0)} ms; patched ${f.patched}, whole ${f.whole}, fallbacks ${f.fallbacks}, failed ${f.failed}; ` +
  `this process CPU ${f.cpuS.toFixed(1)} s`;

async function main(): Promise<void> {
  const count = Number(values.nodes);
  const nics = Number(values.nics);
  const facts = lightFacts(Number(values.pdcs));
  // --dir /dev/shm: the nodes' roots on tmpfs (harness: no disk writeback for 500 nodes' files on this one machine).
  const dir = join(values.dir ?? tmpdir(), `esdc-bench-arp-delta-${process.pid}`);
  let t = performance.now();
  const c = await startLightCluster({ count, dir, facts, patchWorkers: Number(values.workers), patchSlots: Number(values.slots) });
  say(`nodes' patch-table in ${Number(values.workers) > 0 ? `${values.workers} worker threads` : 'this thread'}, at most ${values.slots} at once`);
  say(`${count} light nodes up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  let transports = new Map<string, Transport>();
  try {
    let doc: StateDoc = arpDoc(c, facts, nics);
    let model = modelOf(doc);
    t = performance.now();
    await seedTables(c, model);
    say(`tables and bundles laid out in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    transports = new Map([...(await lightTransports(c, model))].map(([k, v]) => [k, timed(v)]));
    say(`${transports.size} SSH connections in ${((performance.now() - t) / 1000).toFixed(1)} s; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    const delta = new DeltaState();
    t = performance.now();
    const ctx = delta.context(model);
    const rule = model.rules.find((r) => r.name === RULE)!;
    for (const n of model.nodes) delta.record(n.name, rule.filesConfig, tableSha256(ctx, rule, n), model);
    say(`hashes of ${model.nodes.length} tables (what a resync learns) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const figures: MoveFigures[] = [];
    let profiler: Session | undefined;
    for (let i = 0; i < Number(values.moves); i++) {
      if (i === 1 && profiler && values['profile-first']) {
        const { profile } = await profiler.post('Profiler.stop');
        await writeFile(values['profile-first'], JSON.stringify(profile));
        profiler.disconnect();
        profiler = undefined;
        say(`main thread profile of move 1 in ${values['profile-first']}`);
      }
      if ((i === 0 && values['profile-first']) || (i === 1 && values['profile-moves'])) {
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      // NIC k sits on node k % count: move it one node along.
      const k = (i * 7919) % nics;
      doc = moved(doc, k, c.nodes[(k + 1) % count]!.name);
      model = modelOf(doc);
      lightPatchMs.length = 0;
      const f = await move(c, model, transports, delta);
      figures.push(f);
      say(line(`move ${i + 1} (NIC ${k})`, f));
      say(`  node-side patch-table (wall, in its thread): median ${pct(lightPatchMs, 50).toFixed(0)} ms, p99 ${pct(lightPatchMs, 99).toFixed(0)} ms over ${lightPatchMs.length} runs`);
    }
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(values['profile-moves']!, JSON.stringify(profile));
      profiler.disconnect();
      say(`main thread profile of moves 2-${figures.length} in ${values['profile-moves']}`);
    }
    const all = (g: (f: MoveFigures) => number): number[] => figures.map(g);
    say(`over ${figures.length} moves: sent per node median of medians ${pct(all((f) => f.sentMedian), 50)} B, max ${Math.max(...all((f) => f.sentMax))} B; convergence p99 worst ${Math.max(...all((f) => f.p99)).toFixed(0)} ms`);
    // One node alone (the others already in sync): its latency when this machine works for it only, as a real node's CPU would.
    for (let i = 0; i < 3; i++) {
      const k = (figures.length * 7919 + 101 + i) % nics;
      doc = moved(doc, k, c.nodes[(k + 1) % count]!.name);
      model = modelOf(doc);
      const f = await move(c, model, transports, delta, new Set([c.nodes[0]!.name]));
      say(line(`one node alone, move ${i + 1}`, f));
    }
    const wholeNodes = Math.min(Number(values['whole-nodes']), count);
    if (wholeNodes > 0) {
      const k = (figures.length * 7919 + 13) % nics;
      doc = moved(doc, k, c.nodes[(k + 1) % count]!.name);
      model = modelOf(doc);
      const f = await move(c, model, transports, undefined, new Set(c.nodes.slice(0, wholeNodes).map((n) => n.name)));
      say(line(`the same kind of move, whole files (no delta), on ${wholeNodes} nodes`, f));
    }
  } finally {
    for (const tr of transports.values()) await tr.close().catch(() => undefined);
    transports.clear();
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
