#!/bin/bash
# One MTU lab case (MTU.md, "How the numbers were checked"): two underlay
# hosts joined by a link of MTU U, a VXLAN device and a bridge in each, a
# guest behind each bridge; optional ESP transport mode (+ NAT-T) between the
# hosts and an 802.1Q tag inside the overlay. Finds the largest
# `ping -M do -s N` that is answered with no fragment created or reassembled
# in either host, and prints one line:
#   LAB-RESULT <id> measured=<N+28> next=<fail|PASS> probes=<k> seconds=<s>
# Usage: case.sh ID U IPVER(4|6) VLAN(0|1) NATT(0|1) PREFIX [XFRM-ALGO-ARGS...]
#   XFRM-ALGO-ARGS: empty for no ESP, else the `ip xfrm state` algorithm
#   arguments without keys' meaning (keys are test constants, not secrets).
# Everything it creates lives in namespaces named PREFIX-*; they are deleted
# on exit, also on failure.
set -u
id=$1 U=$2 ipver=$3 vlan=$4 natt=$5 prefix=$6
shift 6
algo=("$@")
started=$SECONDS
hA=$prefix-hA hB=$prefix-hB gA=$prefix-gA gB=$prefix-gB
holders=()

cleanup() {
  for p in "${holders[@]}"; do kill "$p" 2>/dev/null; done
  for ns in "$gA" "$gB" "$hA" "$hB"; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT

fail() {
  echo "LAB-RESULT $id error=$(echo "$*" | tr ' ' '_')"
  exit 1
}
run() {
  local out
  out=$("$@" 2>&1) || fail "command failed: $* -> $out"
}
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

if [ "$ipver" = 6 ]; then
  ulA=2001:db8:5::1 ulB=2001:db8:5::2 ulPrefix=64
else
  ulA=192.0.2.1 ulB=192.0.2.2 ulPrefix=24
fi

for ns in "$hA" "$hB" "$gA" "$gB"; do run ip netns add "$ns"; done
for ns in "$hA" "$hB" "$gA" "$gB"; do run nsx "$ns" ip link set lo up; done

# Underlay link of MTU U.
run ip link add ul0 netns "$hA" mtu "$U" type veth peer name ul0 netns "$hB" mtu "$U"
if [ "$ipver" = 6 ]; then
  run nsx "$hA" ip -6 addr add "$ulA/$ulPrefix" dev ul0 nodad
  run nsx "$hB" ip -6 addr add "$ulB/$ulPrefix" dev ul0 nodad
else
  run nsx "$hA" ip addr add "$ulA/$ulPrefix" dev ul0
  run nsx "$hB" ip addr add "$ulB/$ulPrefix" dev ul0
fi
run nsx "$hA" ip link set ul0 up
run nsx "$hB" ip link set ul0 up

# VXLAN + bridge + guest per host. Every device gets MTU U so only the
# underlay limits the probe.
side() { # host guest local remote guestIp
  local h=$1 g=$2 local=$3 remote=$4 gip=$5 df=()
  [ "$ipver" = 4 ] && df=(df set)
  run nsx "$h" ip link add vx0 mtu "$U" type vxlan id 42 local "$local" dstport 4789 nolearning "${df[@]}"
  run nsx "$h" bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$remote"
  run nsx "$h" ip link add br0 mtu "$U" type bridge
  run ip link add vg0 netns "$h" mtu "$U" type veth peer name eth0 netns "$g" mtu "$U"
  run nsx "$h" ip link set vx0 master br0
  run nsx "$h" ip link set vg0 master br0
  for dev in vx0 vg0 br0; do run nsx "$h" ip link set "$dev" up; done
  run nsx "$g" ip link set eth0 up
  if [ "$vlan" = 1 ]; then
    run nsx "$g" ip link add link eth0 name eth0.100 mtu "$U" type vlan id 100
    run nsx "$g" ip link set eth0.100 up
    run nsx "$g" ip addr add "$gip/24" dev eth0.100
  else
    run nsx "$g" ip addr add "$gip/24" dev eth0
  fi
}
side "$hA" "$gA" "$ulA" "$ulB" 10.200.0.1
side "$hB" "$gB" "$ulB" "$ulA" 10.200.0.2

# ESP transport mode between the hosts for VXLAN's UDP port, both ways.
if [ "${#algo[@]}" -gt 0 ]; then
  encap=()
  if [ "$natt" = 1 ]; then
    encap=(encap espinudp 4500 4500 0.0.0.0)
    # What an IKE daemon holds open: a UDP 4500 socket with UDP_ENCAP_ESPINUDP
    # (SOL_UDP 17, UDP_ENCAP 100, value 2), so the kernel decapsulates.
    for h in "$hA" "$hB"; do
      nsx "$h" perl -e 'socket(S, 2, 2, 17) or die "socket: $!"; setsockopt(S, 17, 100, 2) or die "setsockopt: $!";
        bind(S, pack("S n a4 x8", 2, 4500, "\0\0\0\0")) or die "bind: $!"; sleep 3600' &
      holders+=($!)
    done
    sleep 0.5
  fi
  for h in "$hA" "$hB"; do
    run nsx "$h" ip xfrm state add src "$ulA" dst "$ulB" proto esp spi 0x1001 reqid 1 mode transport "${encap[@]}" "${algo[@]}"
    run nsx "$h" ip xfrm state add src "$ulB" dst "$ulA" proto esp spi 0x1002 reqid 2 mode transport "${encap[@]}" "${algo[@]}"
  done
  policy() { # host dir src dst reqid
    run nsx "$1" ip xfrm policy add src "$3" dst "$4" proto 17 dport 4789 dir "$2" \
      tmpl src "$3" dst "$4" proto esp reqid "$5" mode transport
  }
  policy "$hA" out "$ulA" "$ulB" 1
  policy "$hA" in "$ulB" "$ulA" 2
  policy "$hB" out "$ulB" "$ulA" 2
  policy "$hB" in "$ulA" "$ulB" 1
fi

# IP fragments created or reassembled in both hosts, IPv4 and IPv6. Read
# through a process that lives in each host namespace (/proc/PID/net is that
# namespace's view), which is much cheaper than `ip netns exec` under emulation.
for h in "$hA" "$hB"; do
  nsx "$h" sleep 3600 &
  holders+=($!)
done
watchA=${holders[-2]} watchB=${holders[-1]}
sleep 0.2
frags() {
  awk '
    /^Ip: [A-Z]/ { for (i = 2; i <= NF; i++) name[i] = $i; next }
    /^Ip: [0-9]/ { for (i = 2; i <= NF; i++) if (name[i] == "FragCreates" || name[i] == "ReasmReqds") s += $i; next }
    $1 == "Ip6FragCreates" || $1 == "Ip6ReasmReqds" { s += $2 }
    END { print s + 0 }' \
    "/proc/$watchA/net/snmp" "/proc/$watchA/net/snmp6" "/proc/$watchB/net/snmp" "/proc/$watchB/net/snmp6"
}

probes=0
# Passes when the echo reply comes back and no fragment was made on the way.
probe() {
  local size=$1 before after
  probes=$((probes + 1))
  nsx "$gA" ip route flush cache >/dev/null 2>&1
  before=$(frags)
  nsx "$gA" ping -n -q -c 1 -W 1 -M do -s "$size" 10.200.0.2 >/dev/null 2>&1 || return 1
  after=$(frags)
  [ "$before" = "$after" ]
}

# Warm up ARP and the fdb path with a small packet.
warm=0
for _ in 1 2 3 4 5; do
  if probe 56; then warm=1; break; fi
  sleep 0.3
done
[ "$warm" = 1 ] || fail "no echo reply even for a small packet"

# Largest passing payload: lo always passes, hi always fails. An overlay
# needs at least 50 bytes of headers and no case here needs more than 200.
lo=$((U - 200 - 28)) hi=$((U - 28))
probe "$lo" || fail "lower bound $lo does not pass"
probe "$hi" && fail "upper bound $hi passes"
while [ $((hi - lo)) -gt 1 ]; do
  mid=$(((lo + hi) / 2))
  if probe "$mid"; then lo=$mid; else hi=$mid; fi
done
# Confirm both edges once more.
probe "$lo" || fail "maximum $lo did not pass again"
next=fail
probe $((lo + 1)) && next=PASS
echo "LAB-RESULT $id measured=$((lo + 28)) next=$next probes=$probes seconds=$((SECONDS - started))"
