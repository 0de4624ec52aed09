#!/usr/bin/env bash
# bench/render/vs-cp.sh: esdc-overlay render against the copy of its own
# output (`cp -r`, warm page cache) and the Python baseline, interleaved run
# by run so all three see the same machine load (issue 20, goal 1).
#
#   bench/render/vs-cp.sh [--runs 7] [--py-runs 3] [--work DIR | --disk] [--state FILE] [--golden DIR]
#                         [--before DIR] [--parse-cache DIR|off]
#
# --before DIR: also render with DIR/dist/esdc-overlay.js (another build, e.g.
# a base commit's `git archive` with node_modules linked) in every run, just
# before this build's render, so the two see the same load ("before" rows).
# --parse-cache: the render's parse cache (docs/operations.md#the-parse-cache);
# by default WORK/parse-cache, emptied when the script starts, so run 1 is a
# miss that fills it and later runs are hits (a user rendering the same state
# again); `off` measures without it.
#
# Where the trees go: by default on tmpfs (/dev/shm/esdc-bench-vs-cp, when
# /dev/shm is a writable directory), else /tmp/esdc-bench-vs-cp. Why tmpfs: on
# the VM's disk every successive render and cp of one run was slower than the
# one before (render 0.89 s to 2.97 s, cp 0.12 s to 1.76 s over five runs,
# quiet machine, CPU time included), although each tree is removed and
# `sync`ed between steps: the file system's own writeback and journal work
# land on whichever step comes next, so the ratios measured the disk's
# history, not the render. tmpfs has no writeback: render and cp then pay
# only what they do themselves (the page-cache copy cp -r also pays).
# `--disk` (= --work /tmp/esdc-bench-vs-cp) keeps the disk run available.
#
# Default state: bench/generate-installation.ts --nodes 200 --pdcs 4 --rules 4
# --nics 10000 --seed 1, as YAML (WORK/state-200.yaml). Per run: (1) render
# with --key-secret WORK/key-secret into WORK/render, under /usr/bin/time -v;
# (2) cp -r WORK/render WORK/copy, timed alike; (3) python3
# bench/render/baseline.py STATE (YAML read with PyYAML's C loader), for the
# first --py-runs runs. Every render is compared with the first one (or with
# --golden DIR): contents (diff -r) and modes. Prints the TSV and medians, and
# per-run ratios render/cp and python/render, with the load average. Each
# timed step starts after a `sync`, with the trees of earlier runs removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=7 pyruns=3 work='' state='' golden='' before='' pcache=''
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --py-runs) pyruns=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --disk) work=/tmp/esdc-bench-vs-cp; shift ;;
    --state) state=$2; shift 2 ;;
    --golden) golden=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --parse-cache) pcache=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "unknown option $1 (--help lists them)" >&2; exit 64 ;;
  esac
done
if [ -z "$work" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then work=/dev/shm/esdc-bench-vs-cp; else work=/tmp/esdc-bench-vs-cp; fi
fi
echo "work directory: $work ($(df --output=fstype "$(dirname "$work")" | tail -1))" >&2
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
[ -f dist/esdc-overlay.js ] || npm run build
mkdir -p "${work:?}"
if [ -z "$state" ]; then
  state="$work/state-200.yaml"
  [ -f "$state" ] || npx tsx bench/generate-installation.ts --nodes 200 --pdcs 4 --rules 4 --nics 10000 --seed 1 --out "$state" >&2
fi
if [ -z "$pcache" ]; then pcache="$work/parse-cache"; rm -rf "${pcache:?}"; fi
export ESDC_OVERLAY_PARSE_CACHE="$pcache"
echo "parse cache: $pcache" >&2
secret="$work/key-secret"
[ -f "$secret" ] || (umask 077 && head -c 64 /dev/urandom >"$secret")
tsv="$work/runs.tsv"
printf 'run\tside\twall_s\tcpu_s\tpeak_rss_kib\tload1\n' >"$tsv"

measure() { # run side cmd...
  local run=$1 side=$2; shift 2
  # Each timed step starts with no dirty pages of the earlier ones: without this, every run was slower
  # than the one before (render 0.89 s to 2.97 s, cp 0.12 s to 1.76 s over five runs on a quiet machine),
  # each step paying the writeback of what the previous steps wrote and removed.
  sync
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
  cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident/ { print $2 }' "$work/time.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$side" "$wall" "$cpu" "$rss" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$tsv" >&2
}
same_tree() { # a b: contents and modes
  diff -rq "$1" "$2" >/dev/null &&
    diff <(cd "$1" && find . -printf '%P %m %y\n' | sort) <(cd "$2" && find . -printf '%P %m %y\n' | sort) >/dev/null
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
identical=yes
for ((i = 1; i <= runs; i++)); do
  rm -rf "${work:?}/render" "${work:?}/copy" "${work:?}/py" "${work:?}/before"
  if [ -n "$before" ]; then
    measure "$i" before node "$before/dist/esdc-overlay.js" --state "$state" render --key-secret "$secret" --out "$work/before"
    [ -z "$golden" ] || same_tree "$golden" "$work/before" || { identical=no; echo "run $i: before's render differs from $golden" >&2; }
    rm -rf "${work:?}/before"
  fi
  measure "$i" render node dist/esdc-overlay.js --state "$state" render --key-secret "$secret" --out "$work/render"
  measure "$i" cp cp -r "$work/render" "$work/copy"
  if [ "$i" -le "$pyruns" ]; then measure "$i" python python3 bench/render/baseline.py "$state" "$work/py"; fi
  ref=${golden:-$work/first}
  if [ -z "$golden" ] && [ "$i" -eq 1 ]; then rm -rf "$work/first"; mv "$work/copy" "$work/first"; fi
  same_tree "$ref" "$work/render" || { identical=no; echo "run $i: render differs from $ref" >&2; }
  # Trees of this run go before the next (the last render stays for the counts below).
  rm -rf "${work:?}/copy" "${work:?}/py"
  if [ "$i" -lt "$runs" ]; then rm -rf "${work:?}/render"; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "files $(find "$work/render" -type f | wc -l), bytes $(du -sb "$work/render" | cut -f1); every render identical (contents, modes) to ${golden:-the first}: $identical"
python3 - "$tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
by = {}
for r in rows:
    by.setdefault(r['side'], {})[r['run']] = r
def med(side, key):
    v = [float(r[key]) for r in by.get(side, {}).values()]
    return (statistics.median(v), min(v), max(v)) if v else None
print('| side | runs | wall median (min-max) s | CPU median s | peak RSS max MiB |')
print('|---|---|---|---|---|')
for side in ('before', 'render', 'cp', 'python'):
    if side not in by: continue
    w = med(side, 'wall_s'); c = med(side, 'cpu_s')
    rss = max(int(r['peak_rss_kib']) for r in by[side].values()) / 1024
    print(f'| {side} | {len(by[side])} | {w[0]:.2f} ({w[1]:.2f}-{w[2]:.2f}) | {c[0]:.2f} | {rss:.0f} |')
def ratios(a, b, key):
    return [float(by[a][k][key]) / float(by[b][k][key]) for k in by.get(a, {}) if k in by.get(b, {}) and float(by[b][k][key]) > 0]
for a, b, what in (('render', 'cp', 'render / cp -r'), ('before', 'cp', 'before / cp -r'), ('python', 'render', 'python / render'), ('before', 'render', 'before / render')):
    for key in ('wall_s', 'cpu_s'):
        r = ratios(a, b, key)
        if r: print(f'{what} ({key}), same run: median {statistics.median(r):.2f}x (min {min(r):.2f}, max {max(r):.2f}) over {len(r)} runs')
loads = [float(r['load1']) for r in rows]
print(f'load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}')
PY
