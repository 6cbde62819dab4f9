#!/bin/bash
# Records what the kernel and iproute2 do with the route, address and neighbour verbs besides add/del/replace:
# `ip route append|prepend|change` (NLM_F_APPEND, NLM_F_CREATE alone, NLM_F_REPLACE alone), which of two
# routes of one prefix and metric a lookup and `ip route del` take, `ip addr replace|change` of an address
# that is there or not, `ip route flush SELECTORS`, `ip addr flush dev X`, `ip neigh flush …` and `bridge fdb
# flush`, with their outputs, error texts and exit statuses. Output (stdout):
# src/__fixtures__/route-verbs-formats.txt, replayed by route-verbs.test.ts.
#
# Run as root. Everything lives in namespaces named rt36-<pid>-*, deleted on exit (also on failure); the
# root namespace's interfaces, addresses and routes are not touched, and traffic stays between A and B.
#
#   A: d1 192.0.2.1/24     ── veth ── B: e1 192.0.2.4/24
#   A: d2 198.51.100.11/24 ── veth ── B: e2 198.51.100.1/24     A: default via 198.51.100.1 dev d2
# Each case starts from a fresh pair (`fresh`). The addresses are chosen so that the lab's node-1 can replay
# them: d1 as cni0 (10.244.1.1/24, pod-a at .4), d2 as eth0 (192.168.1.11/24, its gateway .1).
set -u
P=rt36-$$-
A=${P}a; B=${P}b
ALL="$A $B"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

fresh(){ # a new pair; promote_secondaries of A as given (default: the namespace's own, 0)
  cleanup
  for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  for n in $ALL; do ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
  ip -n $A link add d1 type veth peer name e1 netns $B
  ip -n $A link add d2 type veth peer name e2 netns $B
  if [ -n "${1:-}" ]; then ip netns exec $A sysctl -qw net.ipv4.conf.all.promote_secondaries=$1; fi
  for d in d1 d2; do ip -n $A link set $d up; done
  for d in e1 e2; do ip -n $B link set $d up; done
  ip -n $A addr add 192.0.2.1/24 dev d1
  ip -n $A addr add 198.51.100.11/24 dev d2
  ip -n $B addr add 192.0.2.4/24 dev e1
  ip -n $B addr add 198.51.100.1/24 dev e2
  ip -n $A route add default via 198.51.100.1 dev d2
  sleep 1
}
# `ip CMD` in A, echoed with its exit status; stderr goes with stdout; what differs from run to run is masked.
run(){
  echo "== ip $*"
  ip -n $A "$@" 2>&1 | sed -E -e 's/\\ +valid_lft.*$//' -e '/valid_lft/d' -e '/^Error: Peer netns reference is invalid\.$/d' -e 's/^[0-9]+: /N: /' -e 's/@if[0-9]+/@ifN/' -e 's/link\/ether [0-9a-f:]+ brd [0-9a-f:]+/link\/ether MAC brd MAC/' -e 's/lladdr [0-9a-f:]+ (REACHABLE|STALE|DELAY|PROBE)/lladdr MAC \1/' -e 's/rt36-[0-9]+-/rt36-PID-/'
  echo "rc=${PIPESTATUS[0]}"
}
br(){ # the MACs of d3 (br0 takes it) and of the peer e3 masked: they are random
  echo "== bridge $*"
  bridge -n $A "$@" 2>&1 | sed -e "s/${D3MAC:-none}/D3MAC/" -e "s/${E3MAC:-none}/E3MAC/"
  echo "rc=${PIPESTATUS[0]}"
}
ping1(){ echo "== ping $1"; ip netns exec $A ping -c 1 -W 1 "$1" >/dev/null 2>&1; echo "rc=$?"; }
addrs(){ run -4 addr show dev d1; }
# Routes through d1 of each kind (a gateway, scope link, scope host) and a permanent and a learnt neighbour on it.
through_d1(){
  run route add 172.20.0.0/16 via 192.0.2.4
  run route add 172.21.0.0/16 dev d1
  run route add 172.22.0.0/16 dev d1 scope host
  run neigh add 192.0.2.10 lladdr 02:00:00:00:00:10 dev d1
  ping1 192.0.2.4
}
routes(){ run route; for a in "$@"; do run route get "$a"; done; }

echo "# kernel $(uname -r), $(ip -V)"
echo "### (a) append: a second route of the prefix and metric, listed after the first; lookups and del take the first"
fresh
run route add 172.20.0.0/16 via 192.0.2.4
run route append 172.20.0.0/16 via 198.51.100.1
routes 172.20.0.5
run -d route show 172.20.0.0/16
run route append 172.20.0.0/16 via 198.51.100.1
run route append 172.20.0.0/16 via 192.0.2.4
run route append 172.20.0.0/16 dev d1
run route append 172.20.0.0/16 via 192.0.2.4 metric 5
routes 172.20.0.5
run route del 172.20.0.0/16
routes 172.20.0.5
run route del 172.20.0.0/16
routes 172.20.0.5
run route del 172.20.0.0/16
routes 172.20.0.5
run route del 172.20.0.0/16
run route append 172.21.0.0/16 via 192.0.2.4
routes

echo "### (b) prepend: before the first of the prefix and metric; del with via picks its own"
fresh
run route add 172.20.0.0/16 via 192.0.2.4
run route prepend 172.20.0.0/16 via 198.51.100.1
routes 172.20.0.5
run route prepend 172.20.0.0/16 via 198.51.100.1
run route prepend 172.20.0.0/16 via 192.0.2.4
run route prepend 172.21.0.0/16 via 192.0.2.4
run route del 172.20.0.0/16 via 192.0.2.4
routes 172.20.0.5
run route del 172.20.0.0/16 via 192.0.2.4
run route add 172.20.0.0/16 via 192.0.2.4
run route replace 172.20.0.0/16 dev d1
routes 172.20.0.5

echo "### (c) change: replaces the first of the prefix and metric, never creates"
fresh
run route change 172.20.0.0/16 via 192.0.2.4
routes
run route add 172.20.0.0/16 via 192.0.2.4
run route append 172.20.0.0/16 via 198.51.100.1
run route change 172.20.0.0/16 via 198.51.100.1
run route change 172.20.0.0/16 via 192.0.2.4
routes
run route change 172.20.0.0/16 dev d1
routes 172.20.0.5
run route change 172.20.0.0/16 via 192.0.2.4 metric 7
run route change 172.20.0.0/16 via 192.0.2.99 dev d2
routes

echo "### (d) append and prepend to an address's prefix route and to the default route"
fresh
run route append 192.0.2.0/24 via 198.51.100.1
routes 192.0.2.7
run route prepend 192.0.2.0/24 via 198.51.100.1 dev d2 metric 0
run route del 192.0.2.0/24
routes 192.0.2.7
run route append default via 192.0.2.4
routes 8.8.8.8
run route del default
routes 8.8.8.8

echo "### (e) route flush: selectors; nothing printed, -s counts"
fresh
run route add 172.20.0.0/16 via 192.0.2.4
run route add 172.21.0.0/16 via 198.51.100.1 proto static
run route add 172.22.0.0/16 dev d2 metric 9
run route add blackhole 172.23.0.0/16
run route add 172.24.0.0/16 via 192.0.2.4 table 100
run route flush
run route flush dev d2
routes
run route show table local
run route flush dev d2
run -s route flush dev d2
run route flush dev nosuch
run route flush table 100
run route show table 100
run route flush table 101
run -s route flush 172.20.0.0/16
routes
run route add 172.20.0.0/16 via 192.0.2.4
run route add 172.20.1.0/24 via 192.0.2.4
run route flush root 172.20.0.0/16
routes
run route add 172.20.0.0/16 via 192.0.2.4
run route flush proto boot
routes
run route flush type blackhole
routes
run route flush table main
routes
run route show table local
ping1 192.0.2.4

echo "### (f) route flush via and scope; proto kernel"
fresh
run route add 172.20.0.0/16 via 192.0.2.4
run route add 172.21.0.0/16 via 198.51.100.1
run route add 172.22.0.0/16 dev d1 scope link
run route flush via 192.0.2.4
routes
run route flush scope link
routes
run route flush proto kernel
routes

echo "### (m) route show with the selectors flush takes, and -d: what each leaves out of the line"
fresh
run route add 172.20.0.0/16 via 192.0.2.4
run route add 172.20.1.0/24 via 192.0.2.4 proto static
run route add blackhole 172.23.0.0/16
run route add 172.22.0.0/16 dev d1 scope link metric 5
run route show dev d1
run route show via 192.0.2.4
run route show proto kernel
run route show proto static
run route show scope link
run route show type blackhole
run route show root 172.20.0.0/16
run route show match 172.20.1.0/24
run route show exact 172.20.0.0/16
run route show 172.20.0.0/16
run -d route
run -d route show table local
run route show dev nosuch

echo "### (g) addr replace and change of an address that is there: nothing else changes"
fresh
run addr replace 192.0.2.1/24 dev d1
run addr change 192.0.2.1/24 dev d1
addrs
run addr replace 192.0.2.1/24 dev d1 scope link
addrs
run addr change 192.0.2.1/24 dev d1 noprefixroute
addrs
routes 192.0.2.7
run addr replace 192.0.2.1/24 dev d1 metric 50
addrs
routes
run addr change 192.0.2.1/24 dev d1 label d1:x
run addr replace 192.0.2.1/24 dev d1 broadcast 192.0.2.127
addrs

echo "### (h) addr replace and change of an address that is not there: added, as addr add"
fresh
run addr change 192.0.2.50/24 dev d1
run addr replace 203.0.113.1/24 dev d1
addrs
routes 203.0.113.7
run addr replace 192.0.2.50/24 dev d1 scope link
run addr change 192.0.2.1/25 dev d1
addrs
run addr replace 192.0.2.1/24 dev nosuch
run addr change 192.0.2.1/33 dev d1

echo "### (i) addr flush dev: every address, its routes, and the routes through the device"
fresh 0
run addr add 192.0.2.5/24 dev d1
run addr add 203.0.113.1/24 dev d1
run route add 172.23.0.0/16 via 198.51.100.1 src 192.0.2.5
through_d1
run addr flush dev d1
run neigh show dev d1
addrs
routes 192.0.2.7
run route show table local
run addr flush dev d1
run -s addr flush dev d1
run addr flush
run addr flush dev nosuch

echo "### (i2) addr del of a device's last address: the routes through the device go too"
fresh
run route add 172.24.0.0/16 via 192.0.2.4 table 100
through_d1
run addr add 203.0.113.1/24 dev d1
run addr del 192.0.2.1/24 dev d1
routes
run addr del 203.0.113.1/24 dev d1
routes
run route show table 100
run neigh show dev d1

echo "### (j) addr flush with promote_secondaries 1, and with a selector"
fresh 1
run addr add 192.0.2.5/24 dev d1
run addr add 192.0.2.6/24 dev d1
run addr add 203.0.113.1/24 dev d1
run -s addr flush dev d1
addrs
routes 192.0.2.7
fresh 0
run addr add 192.0.2.5/24 dev d1
run addr add 203.0.113.1/24 dev d1
run addr flush dev d1 secondary
addrs
run addr flush dev d1 to 203.0.113.0/24
addrs
routes

echo "### (k) neigh flush: all but permanent (and noarp) entries, unless nud names them"
fresh
run neigh add 192.0.2.10 lladdr 02:00:00:00:00:10 dev d1
run neigh add 198.51.100.10 lladdr 02:00:00:00:00:20 dev d2
ping1 192.0.2.4
ping1 198.51.100.1
ping1 192.0.2.99
run neigh show
run neigh flush
run neigh flush dev d1
run neigh show
run neigh flush dev d1
run -s neigh flush dev d1
run neigh flush dev nosuch
ping1 192.0.2.4
run -s neigh flush all
run neigh show
run neigh flush dev d1 nud permanent
run neigh show
ping1 192.0.2.4
run neigh flush all nud all
run neigh show

echo "### (l) bridge fdb flush: a bridge's entries, a port's, by state; the bridge's own MAC goes too"
# A's br0 10.9.0.1/24 with port d3, whose peer e3 is B's 10.9.0.4/24 (as cni0, pod-a's veth and pod-a); B
# pings br0 after each flush that could take br0's own entry.
fresh
# br0 has a MAC of its own, as the CNI bridge plugin's cni0 has (else it takes its first port's).
ip -n $A link add br0 address 02:00:00:00:00:b0 type bridge; ip -n $A link set br0 up; ip -n $A addr add 10.9.0.1/24 dev br0
ip -n $A link add d3 type veth peer name e3 netns $B
ip -n $A link set d3 master br0; ip -n $A link set d3 up; ip -n $B link set e3 up; ip -n $B addr add 10.9.0.4/24 dev e3
D3MAC=$(ip -n $A -br link show dev d3 | awk '{print $3}')
E3MAC=$(ip -n $B -br link show dev e3 | awk '{print $3}')
sleep 1
fdb_entries(){
  br fdb add 02:00:00:00:00:31 dev d3 master static
  br fdb add 02:00:00:00:00:32 dev d3 master dynamic
  br fdb add 02:00:00:00:00:33 dev d3 master
}
fdb_entries
br fdb flush dev br0 dynamic
br fdb show br br0
br fdb flush dev br0 static
br fdb show br br0
br fdb add 02:00:00:00:00:31 dev d3 master static
br fdb add 02:00:00:00:00:32 dev d3 master dynamic
br fdb flush dev br0 nopermanent
br fdb show br br0
br fdb flush dev d3 master permanent
br fdb show br br0
echo "== peer ping 10.9.0.1"; ip netns exec $B ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1; echo "rc=$?"
br fdb show br br0
fdb_entries
br fdb flush dev br0
br fdb show br br0
echo "== peer ping 10.9.0.1"; ip netns exec $B ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1; echo "rc=$?"
br fdb show br br0
br fdb flush dev d3
br fdb flush
br fdb flush dev nosuch
ip -n $A link add vx type vxlan id 5 local 198.51.100.11 dev d2 dstport 8472 nolearning; ip -n $A link set vx up
br fdb append 02:00:00:00:00:55 dev vx dst 198.51.100.12 self permanent
br fdb flush dev vx
br fdb show dev vx
