/**
 * bench/apply/noop-rounds.ts: many no-op applies on one set of K simulated
 * nodes, the builds given taking turns (issue 20, fourth pass).
 *
 *   npx tsx bench/apply/noop-rounds.ts [--count 50] [--rounds 5] CLI [CLI ...]
 *
 * Each CLI is a built entry (dist/esdc-overlay.js, another build's, or the
 * bundle). One cluster (test/harness), one first apply with the first CLI,
 * then per round one `apply --yes --log-level warn` of each CLI in turn: as
 * every build renders the same files, each run is a no-op. Cheaper than
 * noop.ts (no layout and first apply per run), so more rounds fit in a
 * quiet minute of a shared machine. Prints, per run and as medians, the
 * wall time, the CLI's user and sys CPU (GNU time) and the simulation's
 * (the sshd listeners with what they reaped, and the sim-server, from /proc),
 * with the load average. `NOOP_EXTRA` adds options to every apply.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimCluster } from '../../test/harness/sim-cluster.js';

const { values, positionals } = parseArgs({
  options: { count: { type: 'string', default: '50' }, rounds: { type: 'string', default: '5' }, dir: { type: 'string', default: join(tmpdir(), 'esdc-bench-noop-rounds') } },
  allowPositionals: true,
});
if (positionals.length === 0) throw new Error('usage: noop-rounds.ts [--count K] [--rounds R] CLI [CLI ...]');
const clis = positionals.map((p) => resolve(p));
const c = await startSimCluster({ count: Number(values.count), dir: resolve(values.dir) });
const env = { ...process.env, ...c.env };
const extra = process.env.NOOP_EXTRA ? process.env.NOOP_EXTRA.split(' ') : [];
const TICK = 100;
/** CPU seconds of the simulation so far (utime, stime, cutime, cstime of its processes). */
function harnessCpu(): number {
  let ticks = 0;
  for (const pid of c.harnessPids()) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / TICK;
}
const timeFile = join(resolve(values.dir), 'time.txt');
const rows = new Map<string, Array<{ wall: number; user: number; sys: number; sim: number }>>();
process.stdout.write('round\tcli\twall_s\tuser_s\tsys_s\tcli_cpu_s\tsim_cpu_s\tload1\n');
try {
  const first = spawnSync(process.execPath, [clis[0]!, 'apply', '--yes', '--log-level', 'warn'], { env, encoding: 'utf8' });
  if (first.status !== 0) throw new Error(`first apply failed: ${first.stderr}`);
  for (let r = 1; r <= Number(values.rounds); r++) {
    for (const cli of clis) {
      const h0 = harnessCpu();
      const t0 = performance.now();
      const p = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, cli, 'apply', '--yes', '--log-level', 'warn', ...extra], { env, encoding: 'utf8' });
      const wall = (performance.now() - t0) / 1000;
      const sim = harnessCpu() - h0;
      if (p.status !== 0) throw new Error(`${cli}: exit ${p.status}: ${p.stderr}`);
      const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
      (rows.get(cli) ?? rows.set(cli, []).get(cli)!).push({ wall, user, sys, sim });
      process.stdout.write(`${r}\t${cli}\t${wall.toFixed(2)}\t${user}\t${sys}\t${(user + sys).toFixed(2)}\t${sim.toFixed(2)}\t${loadavg()[0]!.toFixed(1)}\n`);
    }
  }
} finally {
  await c.stop();
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
for (const [cli, rs] of rows) {
  process.stdout.write(
    `median ${cli}: wall ${median(rs.map((x) => x.wall)).toFixed(2)} s, CLI CPU ${median(rs.map((x) => x.user + x.sys)).toFixed(2)} s (user ${median(rs.map((x) => x.user)).toFixed(2)}), simulation CPU ${median(rs.map((x) => x.sim)).toFixed(2)} s\n`,
  );
}
