#!/bin/bash
# Records what the kernel does with a second address of a prefix already on a device (IFA_F_SECONDARY): how
# `ip addr` prints it, which routes it gets (`ip route`, `ip route show table local`), which source address
# `ip route get` picks, where a new address goes in the device's list, what happens to the secondaries when
# their primary is deleted with net.ipv4.conf.*.promote_secondaries 0 (the kernel's default) and 1 (what
# systemd's 50-default.conf sets on most distributions' nodes), and the errors. Output:
# src/__fixtures__/secondary-addr-formats.txt, replayed by secondary-addr.test.ts.
#
# Run as root. Everything lives in namespaces named sa35-<pid>-*, deleted on exit (also on failure); the
# root namespace's interfaces, addresses and routes are not touched, and traffic stays between A and B.
#
#   A: d1 192.0.2.1/24 ── veth ── B: e1 192.0.2.2/24
# Each case starts from a fresh pair (`fresh`).
set -u
P=sa35-$$-
A=${P}a; B=${P}b
ALL="$A $B"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

fresh(){ # a new pair with d1 192.0.2.1/24 up; promote_secondaries as given (default: the namespace's own)
  cleanup
  for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  for n in $ALL; do ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
  ip -n $A link add d1 type veth peer name e1 netns $B
  if [ -n "${1:-}" ]; then ip netns exec $A sysctl -qw net.ipv4.conf.all.promote_secondaries=$1; fi
  ip -n $A link set d1 up; ip -n $B link set e1 up
  ip -n $A addr add 192.0.2.1/24 dev d1
  ip -n $B addr add 192.0.2.2/24 dev e1
  sleep 1
}
# `ip CMD` in A, echoed with its exit status; stderr goes with stdout; what differs from run to run is masked.
run(){
  echo "== ip $*"
  ip -n $A "$@" 2>&1 | sed -E -e 's/\\ +valid_lft.*$//' -e '/valid_lft/d' -e '/^Error: Peer netns reference is invalid\.$/d' -e 's/^[0-9]+: /N: /' -e 's/@if[0-9]+/@ifN/' -e 's/link\/ether [0-9a-f:]+ brd [0-9a-f:]+/link\/ether MAC brd MAC/'
  echo "rc=${PIPESTATUS[0]}"
}
addrs(){ run -4 addr show dev d1; }
routes(){ run route; run route show table local; for a in "$@"; do run route get "$a"; done; }
sc(){ echo "== sysctl $1"; ip netns exec $A sysctl -n "$1"; }

echo "# kernel $(uname -r), $(ip -V)"
echo "### (a) a second address of the prefix: secondary; its routes; the source ip route get picks"
fresh
sc net.ipv4.conf.all.promote_secondaries
sc net.ipv4.conf.d1.promote_secondaries
run addr add 192.0.2.5/24 dev d1
addrs
routes 192.0.2.7 192.0.2.5
run addr add 192.0.2.5/24 dev d1
run addr add 192.0.2.6/24 dev d1 scope link
run addr add 192.0.2.6/24 dev d1 scope host
echo "== peer ping 192.0.2.5"; ip netns exec $B ping -c 1 -W 1 192.0.2.5 >/dev/null 2>&1; echo "rc=$?"
echo "== peer ip neigh"; ip -n $B neigh show dev e1 | sed -E 's/lladdr [0-9a-f:]+/lladdr MAC/'; echo "rc=$?"

echo "### (b) another length over the same range, another prefix, a link-scope address: primaries, and where each goes"
fresh
run addr add 192.0.2.5/24 dev d1
run addr add 192.0.2.9/25 dev d1
run addr add 198.51.100.1/24 dev d1
run addr add 203.0.113.1/24 dev d1 scope link
run addr add 203.0.113.5/24 dev d1 scope link
run addr add 10.0.0.1/8 dev d1 scope host
run addr add 192.0.2.6/24 dev d1
addrs
routes 192.0.2.7 192.0.2.100 203.0.113.7 198.51.100.7

echo "### (c) the primary deleted, promote_secondaries 0: its secondaries of that prefix go with it"
fresh 0
run addr add 192.0.2.5/24 dev d1
run addr add 192.0.2.6/24 dev d1
run addr add 192.0.2.9/25 dev d1
run route add 10.1.0.0/16 via 192.0.2.2 src 192.0.2.5
run route add 10.2.0.0/16 via 192.0.2.2
addrs
routes
run addr del 192.0.2.1/24 dev d1
addrs
routes 192.0.2.7 192.0.2.100

echo "### (d) the primary deleted, promote_secondaries 1: the first secondary becomes primary"
fresh 1
sc net.ipv4.conf.d1.promote_secondaries
run addr add 192.0.2.5/24 dev d1
run addr add 198.51.100.1/24 dev d1
run addr add 192.0.2.6/24 dev d1
run addr add 192.0.2.9/25 dev d1
run route add 10.1.0.0/16 via 192.0.2.2 src 192.0.2.5
run route add 10.2.0.0/16 via 192.0.2.2
run route add 10.3.0.0/16 via 192.0.2.2 src 192.0.2.1
routes
run addr del 192.0.2.1/24 dev d1
addrs
routes 192.0.2.7 10.2.0.1
echo "== peer ping 192.0.2.6"; ip netns exec $B ping -c 1 -W 1 192.0.2.6 >/dev/null 2>&1; echo "rc=$?"
run addr del 192.0.2.5/24 dev d1
addrs
routes 192.0.2.7

echo "### (e) a secondary deleted: nothing else moves; the routes with it as source go"
fresh 0
run addr add 192.0.2.5/24 dev d1
run addr add 192.0.2.6/24 dev d1
run route add 10.1.0.0/16 via 192.0.2.2 src 192.0.2.5
run addr del 192.0.2.5/24 dev d1
addrs
routes 192.0.2.7

echo "### (f) secondaries on a link that goes down and up"
fresh 0
run addr add 192.0.2.5/24 dev d1
run link set d1 down
routes
run link set d1 up
sleep 1
addrs
routes 192.0.2.7

echo "### (g) the prefix route deleted, then the primary deleted with promote 1; and noprefixroute primaries"
fresh 1
run addr add 192.0.2.5/24 dev d1
run route del 192.0.2.0/24 dev d1
run addr del 192.0.2.1/24 dev d1
addrs
routes 192.0.2.7
fresh 0
run addr del 192.0.2.1/24 dev d1
run addr add 192.0.2.1/24 dev d1 noprefixroute
run addr add 192.0.2.5/24 dev d1
addrs
routes 192.0.2.7
