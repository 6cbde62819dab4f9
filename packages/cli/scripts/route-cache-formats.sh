#!/bin/bash
# Records what real iproute2 prints for route exceptions (the kernel's fib_nh_exception): `ip route show
# cache` (with a destination, `-4`, `list`, `r s`), `ip route get` and `ip route flush cache`, with none, a
# path MTU learnt from ICMP fragmentation-needed, a gateway learnt from an ICMP redirect, both on one
# destination, two destinations, and a path MTU on a route without a gateway. Output:
# src/__fixtures__/route-cache-formats.txt, replayed by route-cache.test.ts.
#
# Run as root. Everything lives in namespaces named pnc32-<pid>-*, deleted on exit (also on failure); the
# root namespace's interfaces, addresses and routes are not touched, and traffic stays in those namespaces.
#
#   A 10.0.0.2/24 ──┐                      ┌── R  10.0.0.1 eth0 | eth1 10.0.1.1/24 mtu 1300 ── B 10.0.1.2
#                   ├─ br0 (namespace SW) ─┤
#                   │                      └── R2 10.0.0.3 eth0 | eth1 10.0.2.1/24 mtu 1300 ── C 10.0.2.2
#   A: default via 10.0.0.1 (R). R: 10.0.2.0/24 via 10.0.0.3 (R2), so A's packets to C go in and out of
#   R's eth0 and R redirects A to R2.
set -u
P=pnc32-$$-
A=${P}a; R=${P}r; R2=${P}r2; B=${P}b; C=${P}c; SW=${P}sw
ALL="$A $R $R2 $B $C $SW"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
x(){ ip netns exec "$1" "${@:2}"; }
ip -n $SW link add br0 type bridge; ip -n $SW link set br0 up
port(){ # port NS IFNAME ADDR: a veth from NS to the bridge
  ip -n $SW link add "p-$1" type veth peer name "$2" netns "${P}$1"
  ip -n $SW link set "p-$1" master br0 up
  ip -n "${P}$1" link set "$2" up
  ip -n "${P}$1" addr add "$3" dev "$2"
}
port a eth0 10.0.0.2/24; port r eth0 10.0.0.1/24; port r2 eth0 10.0.0.3/24
far(){ # far ROUTER-NS HOST-NS ROUTER-ADDR HOST-ADDR: the router's 1300-byte far link
  ip -n "$1" link add eth1 mtu 1300 type veth peer name eth0 netns "$2"
  ip -n "$1" link set eth1 up; ip -n "$2" link set eth0 up
  ip -n "$1" addr add "$3" dev eth1; ip -n "$2" addr add "$4" dev eth0
}
far $R $B 10.0.1.1/24 10.0.1.2/24
far $R2 $C 10.0.2.1/24 10.0.2.2/24
ip -n $B route add default via 10.0.1.1; ip -n $C route add default via 10.0.2.1
ip -n $A route add default via 10.0.0.1
ip -n $R route add 10.0.2.0/24 via 10.0.0.3
ip -n $R2 route add 10.0.1.0/24 via 10.0.0.1
for n in $R $R2; do x $n sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=1 net.ipv4.conf.eth0.send_redirects=1; done
x $A sysctl -qw net.ipv4.conf.all.accept_redirects=1 net.ipv4.conf.eth0.accept_redirects=1
sleep 1
x $A ping -c1 -W1 10.0.0.1 >/dev/null; x $A ping -c1 -W1 10.0.0.3 >/dev/null

# `ip CMD` in A, echoed with its exit status; stderr goes with stdout.
run(){ echo "== ip $*"; ip -n $A "$@" 2>&1; echo "rc=$?"; }
show(){ # the read-only commands, after a state named $1
  echo "### $1"
  run route show cache
  for d in "${@:2}"; do run route show cache "$d"; done
}
pings(){ x $A ping "$@" 2>&1 | grep -E 'From|local error' | sed 's/ time=.*//'; }

show 'none' 10.0.1.2
run -4 route show cache
run route list cache
run route get 10.0.1.2
run route get 10.0.2.2

echo "### ping -M do -s 1400 -c1 10.0.1.2"; pings -M do -s 1400 -c1 -W1 10.0.1.2
# The kernel dumps an exception only once a route lookup has cached a route on it (fnhe_dump_bucket skips one
# without fnhe_rth_output/input): the packet that met the small MTU learnt it, nothing has looked it up since.
show 'one path MTU, learnt, not yet looked up' 10.0.1.2
run route get 10.0.1.2
show 'one path MTU, via a gateway' 10.0.1.2 10.0.2.2 10.0.1.0/24
run -4 route show cache
run route list cache
run r s cache
run route show
run route get 10.0.1.2

echo "### ping -c1 10.0.2.2"; pings -c1 -W1 10.0.2.2
show 'a redirect, learnt, not yet looked up' 10.0.2.2
echo "### ping -c1 10.0.2.2 again"; pings -c1 -W1 10.0.2.2
show 'a redirect and a path MTU, two destinations' 10.0.2.2 10.0.1.2
run route get 10.0.2.2
run route show

echo "### ping -M do -s 1400 -c1 10.0.2.2"; pings -M do -s 1400 -c1 -W1 10.0.2.2
show 'a redirect and a path MTU on one destination' 10.0.2.2
run route get 10.0.2.2

echo "### flush"
run route flush cache
show 'after ip route flush cache' 10.0.2.2
run route get 10.0.1.2
run route get 10.0.2.2
run -4 route flush cache
run route show cache
echo "== ping -M do -s 1400 -c1 10.0.1.2 after the flush"; pings -M do -s 1400 -c1 -W1 10.0.1.2

pings -M do -s 1400 -c2 -i0.2 -W1 10.0.1.2
show 'path MTU learnt again, ping -c2 (its second packet looks it up)'
echo "### flush without the right to write /proc/sys (a container's read-only /proc/sys, in a mount namespace of its own)"
x $A unshare -m sh -c 'mount --bind -o ro /proc/sys /proc/sys && ip route flush cache; echo "rc=$?"' 2>&1
run route show cache
echo "### sysctl -w net.ipv4.route.flush=1"
x $A sysctl -w net.ipv4.route.flush=1 2>&1; echo "rc=$?"
run route show cache

# The default route's next hop goes with its last route: so do the exceptions on it.
run route del default
show 'default route deleted'

# A route without a gateway: R answers ARP for 10.0.1.0/24 on its eth0 (proxy_arp).
x $R sysctl -qw net.ipv4.conf.eth0.proxy_arp=1
ip -n $A route add 10.0.1.0/24 dev eth0
echo "### ping -M do -s 1400 -c1 10.0.1.2 (route without a gateway)"; pings -M do -s 1400 -c1 -W1 10.0.1.2
show 'one path MTU, route without a gateway, learnt' 10.0.1.2
run route get 10.0.1.2
show 'one path MTU, route without a gateway' 10.0.1.2
run route show

# Another route with the same next hop (type, device, scope, metric, protocol: one fib_info) before and after
# the exception's: the kernel dumps a nexthop's exceptions with each route that uses it.
ip -n $A route add 10.0.7.0/24 dev eth0
ip -n $A route add 10.0.0.128/25 dev eth0
show 'two more routes on the same next hop' 10.0.1.2
ip -n $A route del 10.0.7.0/24 dev eth0; ip -n $A route del 10.0.0.128/25 dev eth0

# A pod's routes (the bridge plugin's `default via GW` and the cluster CIDR via the same GW): one next hop.
ip -n $A route del 10.0.1.0/24 dev eth0
ip -n $A route add default via 10.0.0.1; ip -n $A route add 10.0.0.0/8 via 10.0.0.1
echo "### ping -M do -s 1400 -c2 10.0.1.2 (default and 10.0.0.0/8 via 10.0.0.1)"; pings -M do -s 1400 -c2 -i0.2 -W1 10.0.1.2
show 'default and 10.0.0.0/8 via one gateway' 10.0.1.2
run route show

echo "### errors"
run route show cache nosuch
run route show cache 10.0.1.2 10.0.2.2
run route flush cache 10.0.1.2
echo "== ip netns count"; ip netns | grep -c "^$P"
