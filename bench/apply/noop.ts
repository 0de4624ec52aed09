/**
 * bench/apply/noop.ts: first apply and no-op apply on K simulated nodes
 * (test/harness), with the bytes read from the nodes (issue 20, goals 3, 4).
 *
 *   npx tsx bench/apply/noop.ts [--count 50] [--nics 0] [--runs 5] [--before /path/to/other/dist/esdc-overlay.js] [--profile DIR] [--log-level warn]
 *
 * `NOOP_EXTRA="--concurrency 16"` (environment) adds options to every apply.
 *
 * `--log-level` is the CLI's (default debug, which also gives the "counted"
 * column); `--log-level warn` times what an operator runs: ~900 debug lines
 * at 50 nodes cost the CLI CPU of their own, and "counted" is then empty.
 *
 * `--profile DIR` runs our CLI (not --before's) under `node --cpu-prof`, one
 * profile per run and step in DIR/<run>-<step>/ (read with bench/profile-top.py);
 * its CPU and wall figures then include the profiler's overhead.
 *
 * `--nics M` adds M VM NICs on rule customers, spread over the nodes, so
 * every node's ARP table grows (20 nodes x 5,000 NICs: ~1 MB a node).
 * Per run and CLI (ours, then --before's if given, interleaved): the nodes'
 * roots are laid out afresh, (a) `apply --yes` (first apply), (b) `apply
 * --yes` again (nothing to do). Bytes read per step are the sum over nodes of
 * what each node's SFTP server logged as read (`close ... bytes read N`),
 * plus, for ours, the bytes the CLI counted itself (--log-level debug:
 * file contents and command output, digest's included). Prints a TSV line per
 * step and a summary with the load average.
 *
 * CPU, because the simulated nodes share this machine's cores: the CLI's own
 * (user + sys, GNU time) and the simulation's (every sshd listener with the
 * sessions, sftp-servers and commands it reaped, and the cluster's
 * sim-server, from /proc): only the first would run on a head node.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { simFacts, simVms, startSimCluster, writeNodeRoot } from '../../test/harness/sim-cluster.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50' },
    nics: { type: 'string', default: '0' },
    runs: { type: 'string', default: '5' },
    before: { type: 'string' },
    dir: { type: 'string', default: join(tmpdir(), 'esdc-bench-noop') },
    profile: { type: 'string' },
    'log-level': { type: 'string', default: 'debug' },
  },
});
const count = Number(values.count);
const nics = Number(values.nics);
const runs = Number(values.runs);
const repo = resolve(import.meta.dirname, '..', '..');
const clis: Array<[string, string]> = [['ours', join(repo, 'dist', 'esdc-overlay.js')], ...(values.before ? [['before', resolve(values.before)] as [string, string]] : [])];
const dir = resolve(values.dir, `k${count}-m${nics}`);
await rm(dir, { recursive: true, force: true });
const c = await startSimCluster({ count, dir: join(dir, 'sim') });
const lab = count >= 3 ? [0, 2] : [0];

const state = structuredClone(c.state);
for (let i = 0; i < nics; i++) {
  const n = c.nodes[i % count]!.name;
  const x = i + 1;
  state.vnics!.push({
    vm: `0b1e0000-0000-4000-9000-${x.toString(16).padStart(12, '0')}`,
    node: n,
    mac: `52:54:01:${((x >> 16) & 255).toString(16).padStart(2, '0')}:${((x >> 8) & 255).toString(16).padStart(2, '0')}:${(x & 255).toString(16).padStart(2, '0')}`,
    ip: `10.${230 + (x >> 16)}.${(x >> 8) & 255}.${x & 255}`,
    nic_tag: 'customers/1000',
    vlan_id: 10,
  });
}
const statePath = join(dir, 'state.json');
await writeFile(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
const env = { ...process.env, ...c.env, ESDC_OVERLAY_STATE: statePath };

async function resetRoots(): Promise<void> {
  await Promise.all(
    c.nodes.map(async (n, i) => {
      await rm(n.root, { recursive: true, force: true });
      await writeNodeRoot(n.root, simFacts(i, count), simVms(i, lab));
      await writeFile(join(n.dir, 'sftp.log'), '');
    }),
  );
}

/** Bytes the nodes' SFTP servers logged as read since the logs were emptied; empties them. */
async function sftpBytesRead(): Promise<number> {
  let total = 0;
  for (const n of c.nodes) {
    const log = await readFile(join(n.dir, 'sftp.log'), 'utf8').catch(() => '');
    for (const m of log.matchAll(/bytes read (\d+)/g)) total += Number(m[1]);
    await writeFile(join(n.dir, 'sftp.log'), '');
  }
  return total;
}

const TICK = existsSync('/proc/self/stat') ? Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 : 100;
/** CPU seconds of the simulation so far (its processes and the children they reaped). */
function harnessCpu(): number | null {
  if (!('harnessPids' in c)) return null;
  let ticks = 0;
  for (const pid of c.harnessPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // utime, stime, cutime, cstime: fields 14-17, counted after the ")" that ends the command name.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      return null;
    }
  }
  return ticks / TICK;
}
const gnuTime = existsSync('/usr/bin/time');

interface Row {
  run: number;
  cli: string;
  step: 'a' | 'b';
  wallS: number;
  sftpBytes: number;
  counted: number | null;
  /** The CLI's user + sys CPU seconds (GNU time), and the simulation's over the same step. */
  cpuS: number | null;
  harnessS: number | null;
  load1: number;
}
const rows: Row[] = [];
process.stdout.write('run\tcli\tstep\twall_s\tcli_cpu_s\tharness_cpu_s\tsftp_bytes_read\tcounted_bytes\tload1\n');
try {
  for (let r = 1; r <= runs; r++) {
    for (const [name, cli] of clis) {
      await resetRoots();
      for (const step of ['a', 'b'] as const) {
        const timeFile = join(dir, 'time.txt');
        // JSON lines: the text format (the default off a terminal since issue 19) does not carry bytesRead.
        const prof = values.profile && name === 'ours' ? ['--cpu-prof', `--cpu-prof-dir=${join(resolve(values.profile), `${r}-${step}`)}`] : [];
        const argv = [...prof, cli, 'apply', '--yes', '--log-level', values['log-level'], '--log-format', 'json', ...(process.env.NOOP_EXTRA ? process.env.NOOP_EXTRA.split(' ') : [])];
        const h0 = harnessCpu();
        const t0 = performance.now();
        const out = await (gnuTime ? run('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, ...argv], { env, maxBuffer: 1 << 28 }) : run(process.execPath, argv, { env, maxBuffer: 1 << 28 })).catch(
          (e: { stderr?: string; message: string }) => {
            throw new Error(`${name} apply (${step}) failed: ${e.stderr ?? e.message}`);
          },
        );
        const wallS = (performance.now() - t0) / 1000;
        const h1 = harnessCpu();
        const cpuS = gnuTime ? (await readFile(timeFile, 'utf8')).trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0) : null;
        const harnessS = h0 === null || h1 === null ? null : h1 - h0;
        const counted = [...out.stderr.matchAll(/"bytesRead":(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
        const row: Row = { run: r, cli: name, step, wallS, sftpBytes: await sftpBytesRead(), counted: out.stderr.includes('"bytesRead"') ? counted : null, cpuS, harnessS, load1: loadavg()[0]! };
        rows.push(row);
        process.stdout.write(
          `${row.run}\t${row.cli}\t${row.step}\t${row.wallS.toFixed(2)}\t${row.cpuS?.toFixed(2) ?? '-'}\t${row.harnessS?.toFixed(2) ?? '-'}\t${row.sftpBytes}\t${row.counted ?? '-'}\t${row.load1.toFixed(1)}\n`,
        );
      }
    }
  }
} finally {
  await c.stop();
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
process.stdout.write(`\n${count} nodes, ${nics} extra NICs, ${runs} run(s)\n`);
process.stdout.write('| cli | step | wall median (min-max) s | CLI CPU median s | simulation CPU median s | SFTP bytes read (median) | counted by the CLI (median) |\n|---|---|---|---|---|---|---|\n');
for (const [name] of clis) {
  for (const step of ['a', 'b'] as const) {
    const rs = rows.filter((x) => x.cli === name && x.step === step);
    const w = rs.map((x) => x.wallS);
    const counted = rs.map((x) => x.counted).filter((x): x is number => x !== null);
    const cpu = rs.map((x) => x.cpuS).filter((x): x is number => x !== null);
    const harness = rs.map((x) => x.harnessS).filter((x): x is number => x !== null);
    process.stdout.write(
      `| ${name} | ${step === 'a' ? '(a) first apply' : '(b) no-op apply'} | ${median(w).toFixed(2)} (${Math.min(...w).toFixed(2)}-${Math.max(...w).toFixed(2)}) | ${cpu.length ? median(cpu).toFixed(2) : '-'} | ${harness.length ? median(harness).toFixed(2) : '-'} | ${median(rs.map((x) => x.sftpBytes))} | ${counted.length ? median(counted) : '-'} |\n`,
    );
  }
}
const loads = rows.map((x) => x.load1);
process.stdout.write(`load average (1 min) during the runs: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
