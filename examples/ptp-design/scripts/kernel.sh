#!/bin/bash
# The ptp design in real network namespaces (root; iproute2, ping): two nodes n1 and n2 on one L2 link
# (a veth between them), pod p1 on n1 and p2 on n2, wired as src/ptp.ts wires them. Every namespace is
# named with the prefix P (default a28-) and deleted on exit. Not run by the tests; its output is quoted in
# src/ptp.test.ts.
#
#   scripts/kernel.sh           the working design: node → pod, pod → pod across nodes, a 1500-byte DF ping: all answered
#   MTU=9000 scripts/kernel.sh  bug 2: `ping -M do -s 8972` → "From 10.0.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1500)"
#   GW=0 scripts/kernel.sh      bug 1: nothing answered; the pod's `ip neigh`: "10.0.0.1 dev eth0 INCOMPLETE"
set -u
P=${P:-a28}
cleanup() { for n in n1 n2 p1 p2; do ip netns del $P-$n 2>/dev/null; done; }
trap cleanup EXIT
cleanup
for n in n1 n2 p1 p2; do ip netns add $P-$n; ip -n $P-$n link set lo up; done
# the underlay: one veth between the two nodes
ip -n $P-n1 link add eth0 type veth peer name eth0 netns $P-n2
ip -n $P-n1 addr add 192.168.1.11/24 dev eth0; ip -n $P-n1 link set eth0 up
ip -n $P-n2 addr add 192.168.1.12/24 dev eth0; ip -n $P-n2 link set eth0 up
for n in n1 n2; do ip netns exec $P-$n sysctl -qw net.ipv4.ip_forward=1; done
pod() { # node pod podip gw mtu withgw
  ip -n $P-$1 link add veth-$2 mtu $5 type veth peer name eth0 mtu $5 netns $P-$2
  ip -n $P-$1 link set veth-$2 up; ip -n $P-$2 link set eth0 up
  [ "$6" = 1 ] && ip -n $P-$1 addr add $4/32 dev veth-$2
  ip -n $P-$1 route add $3/32 dev veth-$2 scope link
  ip -n $P-$2 addr add $3/32 dev eth0
  ip -n $P-$2 route add $4/32 dev eth0 scope link
  ip -n $P-$2 route add default via $4 dev eth0
}
echo "== pod MTU ${MTU:-1500}, gateway address on the host veth: ${GW:-1}"
pod n1 p1 10.0.0.2 10.0.0.1 ${MTU:-1500} ${GW:-1}
pod n2 p2 10.0.1.2 10.0.1.1 ${MTU:-1500} 1
ip -n $P-n1 route add 10.0.1.0/24 via 192.168.1.12 dev eth0
ip -n $P-n2 route add 10.0.0.0/24 via 192.168.1.11 dev eth0
echo "--- n1 ip route"; ip -n $P-n1 route
echo "--- p1 ip route"; ip -n $P-p1 route
echo "--- node n1 -> its pod p1"; ip netns exec $P-n1 ping -c1 -W1 10.0.0.2 | sed -n '1,2p;/loss/p'
echo "--- p1 -> p2 (other node)"; ip netns exec $P-p1 ping -c1 -W1 10.0.1.2 | sed -n '2p;/loss/p'
S=$(( ${MTU:-1500} - 28 ))
echo "--- p1 -> p2, $S+28 bytes, DF"; ip netns exec $P-p1 ping -c1 -W1 -M do -s $S 10.0.1.2 | sed -n '2p;/loss/p'
echo "--- p1 neigh"; ip -n $P-p1 neigh
