#!/usr/bin/env bash
# bench/render: esdc-overlay render against the Python baseline, interleaved in
# one run so both sides see the same machine load. See bench/README.md.
#
#   bench/render/run.sh [--case 500|1000] [--runs 5] [--py-runs 5] [--work DIR]
#
# Per run: (1) full render (all artifacts) with the built CLI, (2) our ARP
# tables only (bench/render/arp-only.mjs), (3) the Python baseline; each under
# /usr/bin/time -v (wall, user+sys, peak RSS). Afterwards: the last two full
# renders must be byte-identical (diff -r, every file: the keys the render
# derives come from one --key-secret file), and our ARP-only tree must be
# byte-identical to the baseline's. Prints a TSV of all runs and a summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
case=500 runs=5 pyruns=5 work=/tmp/esdc-bench-render
while [ $# -gt 0 ]; do
  case "$1" in
    --case) case=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --py-runs) pyruns=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
case "$case" in
  500) gen=(--nodes 500 --pdcs 4 --rules 4 --nics 20000 --seed 1) ;;
  1000) gen=(--nodes 1000 --pdcs 8 --rules 4 --nics 50000 --seed 1) ;;
  *) echo "--case is 500 or 1000" >&2; exit 64 ;;
esac
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
[ -f dist/esdc-overlay.js ] || npm run build
mkdir -p "$work"
state="$work/state-$case.json"
[ -f "$state" ] || npx tsx bench/generate-installation.ts "${gen[@]}" --out "$state" >&2
# The secret render-only keys are derived from (render --key-secret): one per
# bench directory, so that every run of the full render writes the same bytes.
secret="$work/key-secret"
[ -f "$secret" ] || (umask 077 && head -c 64 /dev/urandom >"$secret")
tsv="$work/runs-$case.tsv"
printf 'run\tside\twall_s\tcpu_s\tpeak_rss_kib\tfiles\tbytes\n' >"$tsv"

tree_size() { find "$1" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d\t%.0f", n, b }'; }
measure() { # run side outdir cmd...
  local run=$1 side=$2 out=$3; shift 3
  rm -rf "$out"
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
  cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident/ { print $2 }' "$work/time.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$side" "$wall" "$cpu" "$rss" "$(tree_size "$out")" | tee -a "$tsv" >&2
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((i = 1; i <= runs; i++)); do
  measure "$i" full "$work/full-$((i % 2))" node dist/esdc-overlay.js --state "$state" render --key-secret "$secret" --out "$work/full-$((i % 2))"
  measure "$i" arp "$work/arp" node bench/render/arp-only.mjs "$state" "$work/arp"
  if [ "$i" -le "$pyruns" ]; then
    measure "$i" python "$work/py" python3 bench/render/baseline.py "$state" "$work/py"
  fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ "$runs" -ge 2 ]; then
  # Every file, ike.preshared included: the synthetic states store no keys, and
  # --key-secret makes the keys the render derives for them the same each run.
  if differ=$(diff -rq "$work/full-0" "$work/full-1"); then
    echo "full render: second run byte-identical to the first ($(tree_size "$work/full-0" | cut -f1) files, ike.preshared included)"
  else
    echo "full render: RUNS DIFFER:"; echo "$differ" | head -20
  fi
fi
if [ "$pyruns" -ge 1 ]; then
  diff -rq "$work/arp" "$work/py" >/dev/null && echo "ARP tables: ours byte-identical to the Python baseline's" || echo "ARP tables: OURS DIFFER FROM THE BASELINE"
fi
python3 - "$tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
by = {}
for r in rows:
    by.setdefault(r['side'], []).append(r)
def stat(side, key):
    v = [float(r[key]) for r in by.get(side, [])]
    return (statistics.median(v), min(v), max(v)) if v else None
print(f"{'side':8} {'n':>2} {'wall median (min-max) s':>26} {'cpu median s':>13} {'peak RSS max MiB':>17} {'files':>6} {'bytes':>12}")
for side in ('full', 'arp', 'python'):
    if side not in by: continue
    w, c, r = stat(side, 'wall_s'), stat(side, 'cpu_s'), stat(side, 'peak_rss_kib')
    print(f"{side:8} {len(by[side]):>2} {w[0]:>10.2f} ({w[1]:.2f}-{w[2]:.2f}) {c[0]:>13.2f} {r[2]/1024:>17.0f} {by[side][0]['files']:>6} {by[side][0]['bytes']:>12}")
# Ratios per run (same run, same load), then their median.
runs = {}
for r in rows:
    runs.setdefault(r['run'], {})[r['side']] = r
for a, b in (('python', 'arp'), ('python', 'full')):
    for key in ('wall_s', 'cpu_s'):
        q = [float(x[a][key]) / float(x[b][key]) for x in runs.values() if a in x and b in x and float(x[b][key]) > 0]
        if q:
            print(f"ratio {a}/{b} {key}: median {statistics.median(q):.1f}x (min {min(q):.1f}, max {max(q):.1f}, {len(q)} runs)")
PY
