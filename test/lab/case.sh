#!/bin/bash
# One MTU lab case (docs/mtu.md#values): two underlay
# hosts joined by a link of MTU U, a VXLAN device and a bridge in each, a
# guest behind each bridge; optional ESP transport mode (+ NAT-T) between the
# hosts and an 802.1Q tag inside the overlay. Finds the largest
# `ping -M do -s N` that is answered with no fragment created or reassembled
# in either host, and prints one line:
#   LAB-RESULT <id> measured=<N+28> next=<fail|PASS> probes=<k> seconds=<s>
# Usage: case.sh ID U IPVER(4|6) VLAN(0|1) NATT(0|1) PREFIX EXPECT [XFRM-ALGO-ARGS...]
#   EXPECT: the inner MTU src/mtu computes, tried first (it passes and one
#   byte more fails: that is the answer, in two probes); 0, or any other
#   outcome, runs the blind bisection, which reports what the path really takes.
#   XFRM-ALGO-ARGS: empty for no ESP, else the `ip xfrm state` algorithm
#   arguments (their keys are fixed test bytes, not secrets).
# Everything it creates lives in namespaces named PREFIX-*, deleted on exit,
# also on failure. Commands go to `ip -batch` per namespace and the probe
# loop runs inside the guest namespace: under emulation every process costs.
set -u
id=$1 U=$2 ipver=$3 vlan=$4 natt=$5 prefix=$6 expect=$7
shift 7
algo=("$@")
started=$SECONDS
hA=$prefix-hA hB=$prefix-hB gA=$prefix-gA gB=$prefix-gB
holders=()
# Lanes run cases side by side: everything a case writes is in its own directory.
work=$(mktemp -d) && [ -d "$work" ] || { echo "LAB-RESULT $id error=mktemp_failed"; exit 1; }

cleanup() {
  for p in "${holders[@]}"; do kill "$p" 2>/dev/null; done
  for ns in "$gA" "$gB" "$hA" "$hB"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "LAB-RESULT $id error=$(echo "$*" | tr ' \n' '__')"
  exit 1
}
run() {
  local out
  out=$("$@" 2>&1) || fail "command failed: $* -> $out"
}
# batch NS FILE-CONTENT: one `ip -batch` in namespace NS ("" = this one).
batch() {
  local ns=$1 file=$work/batch
  printf '%s\n' "$2" > "$file"
  if [ -n "$ns" ]; then run ip -n "$ns" -batch "$file"; else run ip -batch "$file"; fi
}

if [ "$ipver" = 6 ]; then
  ulA=2001:db8:5::1 ulB=2001:db8:5::2 ulPrefix=64 addrOpt=nodad df=
else
  ulA=192.0.2.1 ulB=192.0.2.2 ulPrefix=24 addrOpt= df="df set"
fi

# Namespaces and the veths between them; every device gets MTU U so only the
# underlay limits the probe.
batch "" "netns add $hA
netns add $hB
netns add $gA
netns add $gB
link add ul0 netns $hA mtu $U type veth peer name ul0 netns $hB mtu $U
link add vg0 netns $hA mtu $U type veth peer name eth0 netns $gA mtu $U
link add vg0 netns $hB mtu $U type veth peer name eth0 netns $gB mtu $U"

host() { # ns local remote out-reqid in-reqid
  local xfrm=""
  if [ "${#algo[@]}" -gt 0 ]; then
    local encap=""
    [ "$natt" = 1 ] && encap="encap espinudp 4500 4500 0.0.0.0"
    xfrm="xfrm state add src $ulA dst $ulB proto esp spi 0x1001 reqid 1 mode transport $encap ${algo[*]}
xfrm state add src $ulB dst $ulA proto esp spi 0x1002 reqid 2 mode transport $encap ${algo[*]}
xfrm policy add src $2 dst $3 proto 17 dport 4789 dir out tmpl src $2 dst $3 proto esp reqid $4 mode transport
xfrm policy add src $3 dst $2 proto 17 dport 4789 dir in tmpl src $3 dst $2 proto esp reqid $5 mode transport"
  fi
  batch "$1" "link set lo up
addr add $2/$ulPrefix dev ul0 $addrOpt
link set ul0 up
link add vx0 mtu $U type vxlan id 42 local $2 dstport 4789 nolearning $df
link add br0 mtu $U type bridge
link set vx0 master br0
link set vg0 master br0
link set vx0 up
link set vg0 up
link set br0 up
$xfrm"
  run bridge -n "$1" fdb append 00:00:00:00:00:00 dev vx0 dst "$3"
}
guest() { # ns ip
  if [ "$vlan" = 1 ]; then
    batch "$1" "link set lo up
link set eth0 up
link add link eth0 name eth0.100 mtu $U type vlan id 100
link set eth0.100 up
addr add $2/24 dev eth0.100"
  else
    batch "$1" "link set lo up
link set eth0 up
addr add $2/24 dev eth0"
  fi
}
host "$hA" "$ulA" "$ulB" 1 2
host "$hB" "$ulB" "$ulA" 2 1
guest "$gA" 10.200.0.1
guest "$gB" 10.200.0.2

# A process in each host namespace: /proc/PID/net/snmp{,6} is that
# namespace's IP statistics. NAT-T: it also holds what an IKE daemon would,
# a UDP 4500 socket with UDP_ENCAP_ESPINUDP (SOL_UDP 17, UDP_ENCAP 100,
# value 2), so the kernel decapsulates ESP-in-UDP.
for h in "$hA" "$hB"; do
  if [ "$natt" = 1 ]; then
    ip netns exec "$h" perl -e 'socket(S, 2, 2, 17) or die "socket: $!"; setsockopt(S, 17, 100, 2) or die "setsockopt: $!";
      bind(S, pack("S n a4 x8", 2, 4500, "\0\0\0\0")) or die "bind: $!"; sleep 3600' &
  else
    ip netns exec "$h" sleep 3600 &
  fi
  holders+=($!)
done

# The search runs inside the guest namespace; it reads both hosts' counters
# through the holders' /proc entries with bash builtins only.
cat > "$work/probe.sh" <<'PROBE'
set -u
U=$1 watchA=$2 watchB=$3 expect=$4
probes=0
# IP fragments created or reassembled in both hosts, IPv4 and IPv6, into
# $frag (no subshell: under emulation every fork costs).
frags() {
  local f line names=() i
  frag=0
  for f in /proc/$watchA/net/snmp /proc/$watchB/net/snmp; do
    names=()
    while read -r -a line; do
      [ "${line[0]-}" = "Ip:" ] || continue
      if [ "${#names[@]}" -eq 0 ]; then names=("${line[@]}"); continue; fi
      for ((i = 1; i < ${#line[@]}; i++)); do
        case ${names[i]} in FragCreates|ReasmReqds) frag=$((frag + line[i])) ;; esac
      done
      break
    done < "$f"
  done
  for f in /proc/$watchA/net/snmp6 /proc/$watchB/net/snmp6; do
    while read -r -a line; do
      case ${line[0]-} in Ip6FragCreates|Ip6ReasmReqds) frag=$((frag + line[1])) ;; esac
    done < "$f"
  done
}
# Passes when the echo reply comes back within $wait seconds and no
# fragment was made on the way. The route cache is flushed first so no
# learned path MTU decides for us.
wait=0.5
probe() {
  local before
  probes=$((probes + 1))
  echo 1 > /proc/sys/net/ipv4/route/flush
  frags
  before=$frag
  ping -n -q -c 1 -W "$wait" -M do -s "$1" 10.200.0.2 >/dev/null 2>&1 || return 1
  frags
  [ "$before" = "$frag" ]
}
ok=0
for _ in 1 2 3 4 5; do
  if probe 56; then ok=1; break; fi
done
[ "$ok" = 1 ] || { echo "error=no_echo_reply_for_a_small_packet"; exit 1; }
# lo always passes, hi always fails: an overlay needs at least 50 bytes of
# headers and no case here more than 200.
search() {
  lo=$((U - 200 - 28)) hi=$((U - 28))
  probe "$lo" || { echo "error=lower_bound_${lo}_does_not_pass"; exit 1; }
  probe "$hi" && { echo "error=upper_bound_${hi}_passes"; exit 1; }
  while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    if probe "$mid"; then lo=$mid; else hi=$mid; fi
  done
}
# The directed check: the computed size passes and one byte more fails, both
# with the long wait. A path passes every size below one that passes and fails
# every size above one that fails (the bisection relies on the same), so these
# two probes prove the maximum as well as the search does, in a quarter of the
# probes: under emulation each failing one waits out its timeout.
wait=1.5
if [ "$expect" -gt 28 ] && probe $((expect - 28)) && ! probe $((expect - 27)); then
  echo "measured=$expect next=fail probes=$probes wait=$wait directed=1"
  exit 0
fi
wait=0.5
search
# A short wait keeps failing probes cheap; a reply slower than that (a busy
# machine) would show here: one byte more is tried again with a long wait,
# and if it passes, the whole search is repeated with the long wait.
wait=1.5
next=fail
if probe $((lo + 1)); then
  search
  probe $((lo + 1)) && next=PASS
fi
echo "measured=$((lo + 28)) next=$next probes=$probes wait=$wait directed=0"
PROBE
[ "$natt" = 1 ] && sleep 0.3 # the NAT-T socket must be bound before ESP-in-UDP arrives
out=$(ip netns exec "$gA" bash "$work/probe.sh" "$U" "${holders[0]}" "${holders[1]}" "$expect")
case $out in
  error=*) fail "${out#error=}" ;;
esac
echo "LAB-RESULT $id $out seconds=$((SECONDS - started))"
