#!/usr/bin/env bash
# cni-contract.sh — what the CNI contract's plugins rely on, measured in real
# Linux network namespaces, written as JSON:
#
#   1. ptp (containernetworking/plugins plugins/main/ptp) wiring two pods on one
#      node with host-local on 10.1.1.0/24, command for command: per pod a veth,
#      in the pod the address with its prefix route deleted, a /32 route to the
#      gateway and the subnet via the gateway; on the host the gateway as a /32 on
#      every veth and a scope-host route to each pod. Recorded: routing tables,
#      pings and traceroutes.
#   2. netlink.RouteAddEcmp semantics (NLM_F_CREATE without NLM_F_EXCL, which is
#      `ip route prepend`): the same route twice, then another nexthop.
#
#   usage: sudo bash packages/kernel-oracle/scripts/cni-contract.sh OUT.json
#
# Safety: everything lives in network namespaces named "pnc<PID>-*" that this
# script creates; nothing is added or changed in the root namespace; traffic
# only flows between those namespaces; every probe is bounded (ping -c1 -W1,
# traceroute -w 1 -q 1 -m 10, timeout); all namespaces are deleted on exit
# (trap on EXIT/INT/TERM), also on failure.
. "$(dirname "$0")/common.sh"
oracle_start "$@"
for t in ip ping traceroute python3 timeout; do
  command -v "$t" >/dev/null 2>&1 || { echo "missing tool: $t (apt-get install -y iproute2 iputils-ping traceroute)" >&2; exit 2; }
done

oracle_guard cni-contract "pnc$$-"

H="${P}host"; A="${P}a"; B="${P}b"; R="${P}routes"; R2="${P}peer"
run() { # run NS CMD... : record stdout+rc under a step name in $W
  local step=$1; shift
  local out rc
  out=$(timeout 10 "$@" 2>&1); rc=$?
  printf '%s' "$out" > "$W/$step.out"; echo "$rc" > "$W/$step.rc"
}

ip netns add "$H"; ip netns add "$A"; ip netns add "$B"
ip -n "$H" link set lo up; ip -n "$A" link set lo up; ip -n "$B" link set lo up
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1

# ptp ADD for pod $1 (netns), address $2, host veth $3 — the plugin's netlink calls in order.
ptp_add() {
  local ns=$1 addr=$2 veth=$3
  ip -n "$H" link add "$veth" type veth peer name eth0 netns "$ns"
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "$addr/24" dev eth0                                   # ipam.ConfigureIface
  ip -n "$ns" route del 10.1.1.0/24 dev eth0                                  # the route that was automatically added
  ip -n "$ns" route add 10.1.1.1/32 dev eth0 scope link src "$addr"
  ip -n "$ns" route add 10.1.1.0/24 via 10.1.1.1 dev eth0 src "$addr"
  ip -n "$H" link set "$veth" up
  ip -n "$H" addr add 10.1.1.1/32 dev "$veth"                                 # setupHostVeth: the gateway
  ip -n "$H" route add "$addr/32" dev "$veth" scope host                       # ip.AddHostRoute
}
ptp_add "$A" 10.1.1.2 vethptpa
ptp_add "$B" 10.1.1.3 vethptpb

run ptp-route-a ip -n "$A" route
run ptp-route-host ip -n "$H" route
run ptp-addr-a ip -n "$A" -4 -o addr show dev eth0
run ptp-ping-a-b ip netns exec "$A" ping -c1 -W1 10.1.1.3
run ptp-ping-host-a ip netns exec "$H" ping -c1 -W1 10.1.1.2
run ptp-trace-a-b ip netns exec "$A" traceroute -n -w 1 -q 1 -m 10 10.1.1.3

# RouteAddEcmp: NLM_F_CREATE without NLM_F_EXCL ("ip route prepend").
ip netns add "$R"; ip netns add "$R2"
ip -n "$R" link add v0 type veth peer name v1 netns "$R2"
ip -n "$R" link set v0 up; ip -n "$R2" link set v1 up
ip -n "$R" addr add 10.10.1.20/16 dev v0
run ecmp-first ip -n "$R" route prepend default via 10.10.0.254 dev v0
run ecmp-same ip -n "$R" route prepend default via 10.10.0.254 dev v0
run ecmp-other ip -n "$R" route prepend default via 10.10.0.253 dev v0
run ecmp-route ip -n "$R" route

python3 - "$W" "$OUT" <<'PY'
import json, os, sys, subprocess
w, out = sys.argv[1], sys.argv[2]
steps = {}
for f in sorted(os.listdir(w)):
    if f.endswith('.out'):
        name = f[:-4]
        steps[name] = {'stdout': open(os.path.join(w, f)).read(), 'rc': int(open(os.path.join(w, name + '.rc')).read().strip())}
kernel = subprocess.run(['uname', '-r'], capture_output=True, text=True).stdout.strip()
iproute = subprocess.run(['ip', '-V'], capture_output=True, text=True).stdout.strip()
json.dump({'kernel': kernel, 'iproute2': iproute, 'steps': steps}, open(out, 'w'), indent=2)
open(out, 'a').write('\n')
PY
echo "wrote $OUT"
