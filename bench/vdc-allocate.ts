/**
 * How fast `vdc allocate` answers for a vDC allowed 16,000,000 VXLAN ids in an
 * installation using 100,000 of them.
 *
 *   npx tsx bench/vdc-allocate.ts [--cli]
 *
 * Core: the work `vdc allocate` does after loading the state (collect the used
 * ids from the model, subtract them from the vDC's pool, take the lowest),
 * timed over repeated runs with the state already built. Two layouts of the
 * used ids: spread at random over the range, and packed at its bottom (the
 * allocator must step over all of them). With --cli it also writes a state
 * file with those 100,000 VM NICs and times the whole built CLI call
 * (`node dist/esdc-overlay.js vdc allocate ...`: process start, YAML parse,
 * schema and consistency checks, allocation, output); run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../src/model/build-model.js';
import { loadStateText } from '../src/model/load.js';
import type { StateDoc, VnicDoc } from '../src/model/state.js';
import { allocate, requireVdc, usedIds } from '../src/ranges/vdc.js';

const RANGE_MAX = 16_000_000;
const USED = 100_000;
const RUNS = 30;
const CLI_RUNS = 3;

/** A deterministic generator (mulberry32), so every run measures the same state. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function spreadIds(): number[] {
  const rnd = random(6);
  const ids = new Set<number>();
  while (ids.size < USED) ids.add(1 + Math.floor(rnd() * RANGE_MAX));
  return [...ids];
}

const packedIds = (): number[] => Array.from({ length: USED }, (_, i) => i + 1);

function stateWith(vnis: readonly number[]): StateDoc {
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
  const vnics: VnicDoc[] = vnis.map((vni, i) => ({
    node: i % 2 === 0 ? 'cn01.example.com' : 'cn02.example.com',
    mac: `52:54:00:${hex((i >> 16) & 0xff, 2)}:${hex((i >> 8) & 0xff, 2)}:${hex(i & 0xff, 2)}`,
    ip: `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${(i & 0xff) || 1}`,
    nic_tag: `customers/${vni}`,
    vdc: 'big',
  }));
  return {
    version: 1,
    nodes: {
      'cn01.example.com': { uuid: '564d1a2b-0001-4a6e-9c1e-000000000001', pdc: 'prg', admin_ip: '10.100.0.11' },
      'cn02.example.com': { uuid: '564d1a2b-0002-4a6e-9c1e-000000000002', pdc: 'prg', admin_ip: '10.100.0.12' },
    },
    overlay_rules: { customers: { port: 4790, nodes: 'all' } },
    vdcs: { big: { vxlan_allowed: `1-${RANGE_MAX}` } },
    vnics,
  };
}

function stats(samples: number[]): { median: number; p90: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p90: s[Math.floor(s.length * 0.9)]!, max: s[s.length - 1]! };
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;
const show = (label: string, xs: number[]): string => {
  const st = stats(xs);
  return `${label} median ${ms(st.median)}, p90 ${ms(st.p90)}, max ${ms(st.max)}`;
};

/** Wall-clock and CPU time of `fn`: on a shared machine the CPU time is what the code costs, the wall time what a user waits. */
function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1000 };
}

function benchCore(name: string, vnis: number[]): void {
  const doc = stateWith(vnis);
  const model = buildModel(doc);
  if (model.issues.length > 0) throw new Error(`bench state is inconsistent: ${model.issues[0]!.message}`);
  const vdc = requireVdc(model.vdcs, 'big');
  const wall: number[] = [];
  const cpu: number[] = [];
  let ids: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = timed(() => allocate(vdc, usedIds(model).vxlan, 'vxlan', 10).ids);
    ids = t.value;
    wall.push(t.wall);
    cpu.push(t.cpu);
  }
  console.log(`core, used ids ${name} (${RUNS} runs): ${show('wall', wall)}; ${show('cpu', cpu)}; first ids ${ids.slice(0, 3).join(', ')}`);
}

function benchCli(vnis: number[]): void {
  const entry = fileURLToPath(new URL('../dist/esdc-overlay.js', import.meta.url));
  if (!existsSync(entry)) throw new Error('dist/esdc-overlay.js is missing: run npm run build first');
  const outDir = fileURLToPath(new URL('./out/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const file = `${outDir}vdc-allocate-state.json`;
  const text = `${JSON.stringify(stateWith(vnis))}\n`;
  writeFileSync(file, text, { mode: 0o600 });
  const size = `${(text.length / 1024 / 1024).toFixed(1)} MiB state, ${USED} NICs`;
  // Where the CLI's time goes: loading the state (YAML parse, schema, consistency checks), in process.
  const load = timed(() => loadStateText(text, file, 'warn'));
  console.log(`load of the state in process (${size}): wall ${ms(load.wall)}, cpu ${ms(load.cpu)}`);
  const wall: number[] = [];
  let out = '';
  for (let i = 0; i < CLI_RUNS; i++) {
    const t = timed(() => execFileSync(process.execPath, [entry, 'vdc', 'allocate', 'big', '--vxlan', '--count', '10', '--state', file], { encoding: 'utf8' }));
    out = t.value;
    wall.push(t.wall);
  }
  console.log(`whole CLI call (${size}, ${CLI_RUNS} runs): ${show('wall', wall)}`);
  console.log(`  -> ${out.trim()}`);
  // For scale: the same call on the small example state is process start-up and little else.
  const example = fileURLToPath(new URL('../examples/two-sites.yaml', import.meta.url));
  const small: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    small.push(timed(() => execFileSync(process.execPath, [entry, 'vdc', 'allocate', 'customer-a', '--vxlan', '--state', example], { encoding: 'utf8' })).wall);
  }
  console.log(`whole CLI call on examples/two-sites.yaml (${CLI_RUNS} runs): ${show('wall', small)}`);
}

console.log(`node ${process.version}, pool 1-${RANGE_MAX}, ${USED} used VNIs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
benchCore('spread at random', spreadIds());
benchCore('packed at the bottom', packedIds());
if (process.argv.includes('--cli')) benchCli(spreadIds());
