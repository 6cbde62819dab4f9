#!/bin/bash
# Records what happens to an address's kernel prefix route (`proto kernel scope link`) when it was deleted
# (`ip route del`, what the ptp plugin does) or replaced (`ip route replace`, what flanneld does) and its
# device then goes down and up (NETDEV_UP → fib_add_ifaddr), or loses and regains carrier (NETDEV_CHANGE);
# and what an address added with `noprefixroute` (IFA_F_NOPREFIXROUTE) gets: `ip addr`, `ip route`, `ip route
# show table local`, `ip route get`. Output: src/__fixtures__/prefix-route-formats.txt, replayed by
# prefix-route.test.ts.
#
# Run as root. Everything lives in namespaces named pnp33-<pid>-*, deleted on exit (also on failure); the
# root namespace's interfaces, addresses and routes are not touched, and no traffic is sent.
#
#   A: d1 192.0.2.1/24 ── veth ── B: e1      A: d2 203.0.113.1/24 ── veth ── B: e2      A: d3 (sometimes)
# Each case starts from a fresh A (`fresh`), so the cases do not see each other's routes.
set -u
P=pnp33-$$-
A=${P}a; B=${P}b
ALL="$A $B"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

fresh(){ # a new pair of namespaces with d1, d2 (and d3, no address) up
  cleanup
  for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  ip -n $A link add d1 type veth peer name e1 netns $B
  ip -n $A link add d2 type veth peer name e2 netns $B
  ip -n $A link add d3 type veth peer name e3 netns $B
  for d in d1 d2 d3; do ip -n $A link set $d up; done
  for e in e1 e2 e3; do ip -n $B link set $e up; done
  ip -n $A addr add 192.0.2.1/24 dev d1
  ip -n $A addr add 203.0.113.1/24 dev d2
  sleep 1
}
# `ip CMD` in A, echoed with its exit status; stderr goes with stdout. `ip addr` and `ip link` lose what
# differs from run to run (ifindex, MAC, the peer's ifindex, valid_lft lines), and the `Error: Peer netns
# reference is invalid.` iproute2 6.1 sometimes prints on stderr while it names a peer's namespace (seen once
# in three runs, on a listing that was otherwise whole).
run(){
  echo "== ip $*"
  ip -n $A "$@" 2>&1 | sed -E -e 's/\\ +valid_lft.*$//' -e '/valid_lft/d' -e '/^Error: Peer netns reference is invalid\.$/d' -e 's/^[0-9]+: /N: /' -e 's/@if[0-9]+/@ifN/' -e 's/link\/ether [0-9a-f:]+ brd [0-9a-f:]+/link\/ether MAC brd MAC/'
  echo "rc=${PIPESTATUS[0]}"
}
peer(){ echo "== peer $*"; ip -n $B "$@" 2>&1; echo "rc=$?"; }
downup(){ run link set "$1" down; run link set "$1" up; sleep 1; }
routes(){ run route; run route show table local; for a in "$@"; do run route get "$a"; done; }

echo "# kernel $(uname -r), $(ip -V)"

echo "### (a) ip route del of the prefix route, then down/up"
fresh
run route del 192.0.2.0/24 dev d1
routes 192.0.2.7
downup d1
routes 192.0.2.7

echo "### (a2) deleted, a route of that prefix added through d2, then d1 down/up"
fresh
run route del 192.0.2.0/24 dev d1
run route add 192.0.2.0/24 via 203.0.113.9 dev d2
routes 192.0.2.7
downup d1
routes 192.0.2.7
run route del 192.0.2.0/24
routes 192.0.2.7

echo "### (a3) deleted, then d2 (another device) down/up"
fresh
run route del 192.0.2.0/24 dev d1
downup d2
routes 192.0.2.7

echo "### (a4) a route of that prefix added before the address, appended after it, then d1 down/up"
fresh
run addr del 192.0.2.1/24 dev d1
run route add 192.0.2.0/24 via 203.0.113.9 dev d2
run addr add 192.0.2.1/24 dev d1
run route append 192.0.2.0/24 via 203.0.113.10 dev d2
routes 192.0.2.7
downup d1
routes 192.0.2.7

echo "### (a5) the same prefix on d1 and d3, d1 down/up"
fresh
run addr add 192.0.2.5/24 dev d3
routes 192.0.2.7
downup d1
routes 192.0.2.7
run route del 192.0.2.0/24 dev d3
downup d3
routes 192.0.2.7
downup d1
run route del 192.0.2.0/24
routes 192.0.2.7
downup d1
run route replace 192.0.2.0/24 via 203.0.113.9 dev d2
routes 192.0.2.7

echo "### (a6) deleted, d1 down, address added while down, up"
fresh
run route del 192.0.2.0/24 dev d1
run link set d1 down
run addr add 10.7.0.1/16 dev d1
run link set d1 up
sleep 1
run addr show dev d1
routes 192.0.2.7 10.7.0.7

echo "### (b) ip route replace of the prefix route through d2 onlink, then down/up"
fresh
run route replace 192.0.2.0/24 via 203.0.113.9 dev d2 onlink
routes 192.0.2.7
downup d1
routes 192.0.2.7
run route del 192.0.2.0/24 via 203.0.113.9
routes 192.0.2.7

echo "### (b2) replaced with metric 5 (a second route), then down/up"
fresh
run route replace 192.0.2.0/24 via 203.0.113.9 dev d2 metric 5
routes 192.0.2.7
downup d1
routes 192.0.2.7

echo "### (c) ip addr add 198.51.100.1/24 dev d1 noprefixroute"
fresh
run addr add 198.51.100.1/24 dev d1 noprefixroute
run addr
run addr show dev d1
run -br addr show dev d1
run -o addr show dev d1
routes 198.51.100.7 198.51.100.1
downup d1
run addr show dev d1
routes 198.51.100.7 198.51.100.1
run route add 198.51.100.0/24 dev d1
routes 198.51.100.7
run route del 198.51.100.0/24 dev d1
run route del 198.51.100.0/24 dev d1
run addr add 198.51.100.1/24 dev d1
run addr del 198.51.100.1/24 dev d1
run addr add 198.51.100.1/24 dev d1 noprefixroute
run addr add 198.51.100.9/32 dev d1 noprefixroute
run addr add 10.8.0.1/24 dev d1 scope link noprefixroute
run addr show dev d1
routes

echo "### (c2) noprefixroute on a device that is down, then up"
fresh
run link set d3 down
run addr add 198.51.100.1/24 dev d3 noprefixroute
run addr add 10.9.0.1/24 dev d3
run link set d3 up
run addr show dev d3
routes 198.51.100.7 10.9.0.7

echo "### (c3) ip addr change / replace to add or drop the flag"
fresh
run addr replace 192.0.2.1/24 dev d1 noprefixroute
run addr show dev d1
routes
run addr replace 192.0.2.1/24 dev d1
run addr show dev d1
routes
run addr change 192.0.2.1/24 dev d1 noprefixroute
run addr show dev d1
routes

echo "### (e) carrier lost (the peer down) and back, after a delete"
fresh
run route del 192.0.2.0/24 dev d1
peer link set e1 down
sleep 1
routes 192.0.2.7
run link show dev d1
peer link set e1 up
sleep 1
routes 192.0.2.7
echo "### (e2) carrier lost with the prefix route there"
fresh
peer link set e1 down
sleep 1
routes 192.0.2.7
peer link set e1 up
sleep 1
routes 192.0.2.7

echo "### (f) the source of a route without a gateway added by hand, on a device with two addresses"
# inet_select_addr(dev, gateway or 0, scope): without a gateway, the first address of the device in scope,
# whatever subnet the destination is in.
fresh
run addr add 10.2.0.1/24 dev d1
run route add 10.2.5.0/24 dev d1
run route add 10.3.5.0/24 via 10.2.0.9 dev d1
run route add 10.2.0.128/25 dev d1
routes 10.2.5.7 10.2.0.7 10.3.5.7 10.2.0.130
run addr add 10.4.0.1/24 dev d3
run addr add 198.51.100.1/24 dev d3 noprefixroute
run route add 198.51.100.0/24 dev d3
routes 198.51.100.7
run route add 198.51.100.0/24 dev d2 metric 5
run route del 198.51.100.0/24 dev d3
routes 198.51.100.7

echo "### (g) a second address of the prefix on one device (secondary)"
fresh
run addr add 192.0.2.2/24 dev d1
run addr show dev d1
routes 192.0.2.7
downup d1
routes 192.0.2.7
