/**
 * The check before a varpd restart (src/apply/restart-guard.ts, docs/smartos-rules.md#before-a-restart)
 * on one node, in process (the light nodes' simulated commands, no SSH, no process per command):
 *
 *   npx tsx bench/daemon/restart-guard.ts [--nics 25000] [--tables 4] [--runs 8]
 *
 * A node with `tables` overlays, each table `nics` entries (2.4 MB at 25,000). Timed, interleaved:
 * `read` — every table read and parsed (apply or the agent when no table is ours, the daemon
 * without hashes); `hashed` — every table known by its SHA-256 (the daemon, patch-table), one digest;
 * `parse` — the parser alone on one table. On a real node each `dladm`/`digest` is also a process
 * (a few ms each); that is not in these figures.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkTablesBeforeRestart } from '../../src/apply/restart-guard.js';
import { varpdTableProblem } from '../../src/files-config/varpd-table-check.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { lightFacts, LightLocalTransport } from '../../test/harness/light-nodes.js';
import { runSimCommand } from '../../test/harness/sim-commands.mjs';
import { simVms, writeNodeRoot } from '../../test/harness/sim-cluster.js';

const { values } = parseArgs({ options: { nics: { type: 'string', default: '25000' }, tables: { type: 'string', default: '4' }, runs: { type: 'string', default: '8' } } });
const nics = Number(values.nics);
const tables = Number(values.tables);
const runs = Number(values.runs);

function table(seed: number): string {
  const lines: string[] = [];
  for (let i = 0; i < nics; i++) {
    const h = (seed * 1_000_000 + i).toString(16).padStart(8, '0');
    lines.push(`  "52:54:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}": {\n    "arp": "10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}",\n    "ip": "10.200.1.${i % 250}",\n    "port": 4790\n  }`);
  }
  return `{\n${lines.join(',\n')}\n}\n`;
}

const dir = await mkdtemp(join(tmpdir(), 'bench-guard-'));
try {
  const root = join(dir, 'root');
  await writeNodeRoot(root, lightFacts(1)(0, 1), simVms(0, []));
  await mkdir(join(root, 'opt/custom/networking'), { recursive: true });
  const hashes = new Set<string>();
  for (let k = 0; k < tables; k++) {
    const path = `/opt/custom/networking/r${k}_overlay.json`;
    const text = table(k);
    await writeFile(join(root, path), text);
    hashes.add(createHash('sha256').update(text).digest('hex'));
    const r = runSimCommand(root, 'dladm', ['create-overlay', '-e', 'vxlan', '-s', 'files', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4790', '-p', `files/config=${path}`, '-v', String(1000 + k), `r${String.fromCharCode(97 + k)}${1000 + k}`]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const one = await readFile(join(root, '/opt/custom/networking/r0_overlay.json'));
  const t = new LightLocalTransport(new LocalTransport('bench'), root);
  const ms = { read: [] as number[], hashed: [] as number[], parse: [] as number[] };
  for (let i = 0; i < runs; i++) {
    let s = performance.now();
    const a = await checkTablesBeforeRestart(t, { timeoutMs: 30_000, ours: new Set() });
    ms.read.push(performance.now() - s);
    s = performance.now();
    const b = await checkTablesBeforeRestart(t, { timeoutMs: 30_000, ours: new Set(), knownGood: hashes });
    ms.hashed.push(performance.now() - s);
    s = performance.now();
    if (varpdTableProblem(one) !== undefined) throw new Error('the table does not parse');
    ms.parse.push(performance.now() - s);
    if (a.read !== tables || b.read !== 0) throw new Error(`read ${a.read} and ${b.read} tables`);
  }
  const med = (xs: number[]): string => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!.toFixed(1);
  console.log(`${tables} tables of ${nics} entries (${one.length} bytes each), ${runs} runs, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`median ms: read+parse all ${med(ms.read)}, hashed (digest) ${med(ms.hashed)}, parse one table ${med(ms.parse)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
