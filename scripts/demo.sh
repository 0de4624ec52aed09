#!/usr/bin/env bash
# The main job on the bundled example: validate the state, render every node's
# files, then start 10 simulated SmartOS nodes (each a real sshd on 127.0.0.1),
# plan, apply, verify, and apply again to show that nothing is left to do.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/esdc-overlay.js ] || npm run build >/dev/null
cli() { node dist/esdc-overlay.js "$@"; }
state=examples/two-sites.yaml
work=$(mktemp -d -t esdc-overlay-demo.XXXXXX)
sim_pid=
cleanup() {
  if [ -f "$work/sim/sim.pid" ]; then kill "$(cat "$work/sim/sim.pid")" 2>/dev/null || true; fi
  [ -n "$sim_pid" ] && wait "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== validate (the model's warnings, as every command shows them: MTUs above the safe value...)"; cli --state "$state" validate
echo; echo "== list"; cli --state "$state" list
echo; echo "== mtu report"; cli mtu --state "$state"
echo; echo "== render --out $work/render"; cli --state "$state" render --out "$work/render"
echo; echo "== files of cn03.brn.example.com"
(cd "$work/render/cn03.brn.example.com" && find . -type f | sort | sed 's|^\./|  |')
echo; echo "== cn03.brn.example.com: usbkey/config.overlay"; cat "$work/render/cn03.brn.example.com/usbkey/config.overlay"
echo; echo "== cn03.brn.example.com: customers ARP table (VMs on other nodes; same PDC -> admin IP, else external IP)"
cat "$work/render/cn03.brn.example.com/opt/custom/networking/customers_overlay.json"

if ! command -v /usr/sbin/sshd >/dev/null 2>&1; then
  echo; echo "== /usr/sbin/sshd is missing (apt-get install openssh-server): skipping apply on simulated nodes"
  exit 0
fi
echo; echo "== starting 10 simulated SmartOS nodes (real sshd each) in $work/sim"
npm run --silent sim-nodes -- --count 10 --dir "$work/sim" > "$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 600); do [ -f "$work/sim/env" ] && break; sleep 0.1; done
[ -f "$work/sim/env" ] || { cat "$work/sim.log"; exit 1; }
# shellcheck disable=SC1091
. "$work/sim/env"
echo; echo "== plan --summary (exit 2: there is work to do)"
cli plan --summary --exit-code || [ $? -eq 2 ]
echo; echo "== plan of one whole node: cn01.sim.test"
cli plan cn01.sim.test
echo; echo "== apply --yes"; cli apply --yes
echo; echo "== verify"; cli verify
echo; echo "== apply again: nothing to do"; cli apply --yes
