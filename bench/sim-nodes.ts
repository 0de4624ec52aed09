/**
 * Benchmark of the simulated nodes and of apply over SSH against them:
 *   npx tsx bench/sim-nodes.ts [--count 10] [--runs 5]
 * Start-up is measured from startSimCluster() to every sshd listening; the
 * CLI steps run the built CLI (node dist/esdc-overlay.js, `npm run build` first).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startSimCluster } from '../test/harness/sim-cluster.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { count: { type: 'string', default: '10' }, runs: { type: 'string', default: '5' } } });
const count = Number(values.count);
const runs = Number(values.runs);
const cliPath = resolve(import.meta.dirname, '..', 'dist', 'esdc-overlay.js');

const startups: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = await mkdtemp(join(tmpdir(), 'esdc-bench-'));
  const t0 = performance.now();
  const c = await startSimCluster({ count, dir });
  startups.push(performance.now() - t0);
  await c.stop();
  await rm(dir, { recursive: true, force: true });
}
startups.sort((a, b) => a - b);
console.log(`start-up of ${count} nodes over ${runs} runs: median ${startups[runs >> 1]!.toFixed(0)} ms, min ${startups[0]!.toFixed(0)} ms, max ${startups[runs - 1]!.toFixed(0)} ms`);

const dir = await mkdtemp(join(tmpdir(), 'esdc-bench-'));
const c = await startSimCluster({ count, dir });
try {
  for (const step of [['plan'], ['apply', '--yes'], ['verify'], ['apply', '--yes']]) {
    const t0 = performance.now();
    const r = await run(process.execPath, [cliPath, ...step], { env: { ...process.env, ...c.env } }).catch((e: { code: number }) => e);
    console.log(`${step.join(' ').padEnd(12)} on ${count} nodes: ${(performance.now() - t0).toFixed(0)} ms (exit ${'code' in r ? r.code : 0})`);
  }
} finally {
  await c.stop();
  await rm(dir, { recursive: true, force: true });
}
