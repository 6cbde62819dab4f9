#!/bin/bash
# Records what a namespace with no IPv4 address but lo's sends when a route takes a packet out (a node
# after `ip addr flush dev eth0`, calico's `10.117.0.0 dev caliX scope link` left): does connect() fail,
# or does the packet leave from 0.0.0.0? Output: src/__fixtures__/no-source.txt.
#
# Run as root. Namespaces oq36-<pid>-a and -b, deleted on exit (also on failure); the root namespace is not
# touched and traffic stays between a and b.
#   A: a0 (no address; lo up) ── veth ── b0 10.0.0.2/24 :B
set -u
P=oq36-$$-
A=${P}a; B=${P}b
cleanup(){ ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $A || exit 1; ip netns add $B || exit 1
ip -n $A link set lo up; ip -n $B link set lo up
ip -n $A link add a0 type veth peer name b0 netns $B
ip -n $A link set a0 up; ip -n $B link set b0 up
ip -n $B addr add 10.0.0.2/24 dev b0
ip netns exec $B sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec $A sysctl -qw net.ipv6.conf.all.disable_ipv6=1
run(){ echo "== $*"; ip netns exec $A "$@" 2>&1; echo "rc=$?"; }
echo "# kernel $(uname -r)"
echo "### (a) a device route, no address in A"
ip -n $A route add 10.0.0.2 dev a0 scope link
run ip -4 addr show
run ip route get 10.0.0.2
ip netns exec $B timeout 4 tcpdump -l -n -i b0 -c 4 2>/dev/null > /tmp/${P}cap & sleep 1
run ping -n -c 1 -W 1 10.0.0.2
run traceroute -n -w 1 -q 1 -m 2 10.0.0.2
wait
echo "== tcpdump -n -i b0 (in B)"; sed -E 's/^[0-9:.]+ //' /tmp/${P}cap; rm -f /tmp/${P}cap
echo "### (b) a route through a gateway, onlink, no address in A"
ip -n $A route add 10.9.0.0/16 via 10.0.0.2 dev a0 onlink
run ip route get 10.9.0.1
run ping -n -c 1 -W 1 10.9.0.1
