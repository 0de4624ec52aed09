/**
 * What the executor still holds of the staged contents when it starts to
 * commit (issue 17 item 3 / issue 22): N nodes, each with one file of
 * `--mib` MiB that only its work item references (as each node's agent
 * bundle is), staged to in-memory nodes that keep nothing. At the
 * `afterStage` hook, after a full GC, the heap in use is measured against the
 * same point before executeWork ran.
 *
 *   node --expose-gc --import tsx bench/apply/release.ts [--nodes 200 --mib 1 --module PATH]
 *
 * `--module` is the executor to load (default src/apply/execute.ts; give a
 * built execute.js of another commit to compare, from a dist/ copied under
 * bench/out/ so that it finds node_modules). Run under --expose-gc.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { NodeWork } from '../../src/plan/plan.js';
import type { Transport } from '../../src/transport/transport.js';
import type { executeWork as ExecuteWork } from '../../src/apply/execute.js';
import { stagingWork } from '../../test/support/node-work.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '200' },
    mib: { type: 'string', default: '1' },
    module: { type: 'string' },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/apply/release.ts');
const nodes = Number(values.nodes);
const bytes = Number(values.mib) * 1024 * 1024;
const url = values.module ? pathToFileURL(resolve(values.module)).href : new URL('../../src/apply/execute.ts', import.meta.url).href;
const { executeWork } = (await import(url)) as { executeWork: typeof ExecuteWork };

/** A node that counts what it is sent and keeps none of it. */
function sink(node: string): Transport {
  return { node, target: node, runId: '0123456789ab', stage: async () => {}, commit: async () => {}, remove: async () => {} } as unknown as Transport;
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
gc();
const base = process.memoryUsage().heapUsed;
// Each content a distinct flat string on the V8 heap: a shared one, a rope from padEnd/repeat, or a
// large Buffer.toString (an external string, outside heapUsed) would not show its length.
const works: NodeWork[] = Array.from({ length: nodes }, (_, i) =>
  stagingWork(`cn${i}`, [{ path: '/opt/custom/esdc-overlay/bundle', content: new Array(bytes / 1024).fill(`${i}`.padEnd(1024, 'x')).join(''), mode: 0o600 }]),
);
gc();
const planned = process.memoryUsage().heapUsed - base;
let atCommit = NaN;
const result = await executeWork(new Map(works.map((w) => [w.node, sink(w.node)])), works, {
  concurrency: 64,
  timeoutMs: 1000,
  nodeLock: false,
  hooks: {
    afterStage: async () => {
      gc();
      atCommit = process.memoryUsage().heapUsed - base;
    },
  },
});
console.log(
  `${values.module ?? 'src/apply/execute.ts'}: ${nodes} nodes x ${values.mib} MiB, ok ${result.ok}; heap above start: planned ${mib(planned)}, ` +
    `at commit ${mib(atCommit)}   [load ${loadavg().map((l) => l.toFixed(2)).join(' ')}]`,
);
