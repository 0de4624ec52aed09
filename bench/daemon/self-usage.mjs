// Preloaded (`node --import`) by bench/daemon/patch-table-cold.ts: at exit, this process's own resource usage
// (RUSAGE_SELF: its CPU, max RSS and page faults, not its children's, the simulated node's commands) as one
// JSON line appended to $BENCH_USAGE_FILE.
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    appendFileSync(file, `${JSON.stringify({ user_us: u.userCPUTime, system_us: u.systemCPUTime, max_rss_kb: u.maxRSS, minor_faults: u.minorPageFault })}\n`);
  });
}
