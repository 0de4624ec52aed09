/**
 * The tables of bench/RESULTS.md from a bench/apply samples.json: per side
 * and step the median (min-max) wall and controller CPU, then per run the
 * ratio Ansible/ours (same run, so the same machine load) and its median.
 *
 *   npx tsx bench/apply/summary.ts DIR/k50/samples.json
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One timed step of one side in one run. */
export interface Sample {
  run: number;
  /** `esdc-overlay` or `ansible -f N`. */
  side: string;
  step: string;
  /** Wall time. */
  ms: number;
  /** User + system CPU of the controller's process tree (GNU time); absent in samples from before it was measured. */
  cpuS?: number;
  exit: number;
  /** Ansible's changed= total from its recap. */
  changed?: string;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (v: number[], digits: number, unit = ''): string =>
  v.length === 0 ? '-' : `${median(v).toFixed(digits)}${unit} (${Math.min(...v).toFixed(digits)}-${Math.max(...v).toFixed(digits)})`;

export function summarize(samples: readonly Sample[]): string {
  const sides = [...new Set(samples.map((x) => x.side))].sort((a, b) => (a === 'esdc-overlay' ? -1 : b === 'esdc-overlay' ? 1 : a.localeCompare(b, 'en', { numeric: true })));
  const steps = [...new Set(samples.map((x) => x.step))].sort();
  const runs = [...new Set(samples.map((x) => x.run))].sort((a, b) => a - b);
  const out: string[] = [];
  out.push('| side | step | runs | wall median (min-max) s | controller CPU median (min-max) s | exit codes | changed |');
  out.push('|---|---|---|---|---|---|---|');
  for (const side of sides) {
    for (const step of steps) {
      const v = samples.filter((x) => x.side === side && x.step === step);
      if (v.length === 0) continue;
      const cpu = v.flatMap((x) => (x.cpuS === undefined ? [] : [x.cpuS]));
      const changed = [...new Set(v.map((x) => x.changed ?? '-'))].join(',');
      out.push(`| ${side} | (${step}) | ${v.length} | ${spread(v.map((x) => x.ms / 1000), 2)} | ${spread(cpu, 2)} | ${[...new Set(v.map((x) => x.exit))].join(',')} | ${changed} |`);
    }
  }
  out.push('');
  out.push('| ratio (same run) | step | runs | wall median (min-max) | controller CPU median (min-max) |');
  out.push('|---|---|---|---|---|');
  for (const side of sides.filter((s) => s !== 'esdc-overlay')) {
    for (const step of steps) {
      const wall: number[] = [];
      const cpu: number[] = [];
      for (const i of runs) {
        const a = samples.find((x) => x.run === i && x.side === side && x.step === step);
        const o = samples.find((x) => x.run === i && x.side === 'esdc-overlay' && x.step === step);
        if (!a || !o) continue;
        wall.push(a.ms / o.ms);
        if (a.cpuS !== undefined && o.cpuS !== undefined && o.cpuS > 0) cpu.push(a.cpuS / o.cpuS);
      }
      if (wall.length === 0) continue;
      out.push(`| ${side} / esdc-overlay | (${step}) | ${wall.length} | ${spread(wall, 1, 'x')} | ${spread(cpu, 1, 'x')} |`);
    }
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: npx tsx bench/apply/summary.ts SAMPLES.json\n');
    process.exit(64);
  }
  console.log(summarize(JSON.parse(readFileSync(file, 'utf8')) as Sample[]));
}
