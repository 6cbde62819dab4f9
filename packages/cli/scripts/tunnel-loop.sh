#!/bin/bash
# Records what a VXLAN device does with a packet whose outer route goes back out of the device itself (a
# circular route, udp_tunnel_dst_lookup's -ELOOP): node A has eth0 192.0.2.1/24 to B and a default route via
# B; v1 is a VXLAN device (VNI 1, local 192.0.2.1) with a permanent neighbour 10.9.2.0 and an FDB entry
# sending that MAC to 198.51.100.2, reached by the default route. A ping to 10.9.2.5 through v1 first (the
# outer packet leaves by eth0), then `ip route add 198.51.100.0/24 via 10.9.2.0 dev v1 onlink` (the remote
# end now routes through v1 itself) and the same ping again: its output, v1's TX counters, `ip route get` of
# the remote end, and what B's eth0 saw. (A second default route through v1, `ip route prepend default …`,
# makes the outer lookup choose between two default routes — fib_select_default, by the gateways' neighbour
# states — which podnet does not model: it takes the first.) Output on stdout (kept in the test that pins it,
# packages/core/src/dataplane/tunnel-loop.test.ts).
#
# Run as root. Everything lives in namespaces named tl37-<pid>-*, deleted on exit (also on failure); the root
# namespace's interfaces, addresses and routes are not touched, and traffic stays inside them.
set -u
P=tl37-$$-
A=${P}a; B=${P}b
trap 'ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null' EXIT INT TERM
ip netns add $A; ip netns add $B
for n in $A $B; do ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip -n $A link add eth0 type veth peer name eth0 netns $B
ip -n $A addr add 192.0.2.1/24 dev eth0; ip -n $B addr add 192.0.2.2/24 dev eth0
ip -n $A link set eth0 up; ip -n $B link set eth0 up; ip -n $A link set lo up
ip -n $A route add default via 192.0.2.2 dev eth0
ip -n $A link add v1 type vxlan id 1 local 192.0.2.1 dstport 8472 dev eth0 nolearning
ip -n $A addr add 10.9.1.0/32 dev v1; ip -n $A link set v1 up
ip -n $A neigh add 10.9.2.0 lladdr 02:00:00:00:09:02 dev v1 nud permanent
bridge -n $A fdb append 02:00:00:00:09:02 dst 198.51.100.2 dev v1 self permanent
ip -n $A route add 10.9.2.0/24 via 10.9.2.0 dev v1 onlink
tx() { ip -n $A -s -s link show v1 | awk '/TX:/{getline; print "v1 TX packets " $2 " errors " $3 " collsns " $6}'; }
cap=$(mktemp); ip netns exec $B timeout 12 tcpdump -lni eth0 -c 10 udp port 8472 2>/dev/null > "$cap" &
sleep 1
echo "### (a) ping -c1 10.9.2.5 before the route"; ip netns exec $A ping -c1 -W1 10.9.2.5 | sed -n 4p; tx
ip -n $A route add 198.51.100.0/24 via 10.9.2.0 dev v1 onlink
echo "### (b) ip route get 198.51.100.2 after it"; ip -n $A route get 198.51.100.2 | head -1
echo "### (c) ping -c2 10.9.2.5 after it"; ip netns exec $A ping -c2 -W1 10.9.2.5 | sed -n 4p; echo "exit $?"; tx
sleep 2; kill %1 2>/dev/null; wait 2>/dev/null
echo "### (d) UDP 8472 on B's eth0 (the outer packets)"; cut -d' ' -f2- "$cap"; rm -f "$cap"
ip -n $A route del 198.51.100.0/24
ip -n $A route prepend default via 10.9.2.0 dev v1 onlink
echo "### (e) two default routes of one metric (v1's gateway PERMANENT, eth0's REACHABLE): ip route get, four times"
for d in 198.51.100.2 198.51.100.2 198.51.100.9 198.51.100.9; do ip -n $A route get $d | head -1; done
