#!/bin/bash
# The seed lab built by hand in network namespaces, to measure what the real tools print for the lesson's
# commands and the ways a student breaks the cluster (seed-kernel.test.ts quotes the results). Three
# nodes on one wire (a bridge with the gateway 192.168.1.1, which does not forward), cni0 with a veth per
# pod, flannel.1 with flannel's routes, neighbours and fdb entries, and podnet's own MACs and veth names,
# so lines compare character for character. IPv6 is off (podnet is IPv4 only).
# Run as root: everything lives in namespaces named pnsl<pid>-*, deleted on exit.
set -u
P=pnsl$$-
NSES="wire n1 n2 n3 pa pb pc pd pe pf nc"
cleanup(){ for n in $NSES; do ip netns del ${P}$n 2>/dev/null; done; }
trap cleanup EXIT INT TERM
cleanup
for n in $NSES; do ip netns add ${P}$n; ip netns exec ${P}$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; ip -n ${P}$n link set lo up; done
. "$(dirname "$0")/seed-lab-netns.sh"
seed_lab_build
sleep 1
PA="ip netns exec ${P}pa"; N1=${P}n1
echo "== ip -d link show (node-1)"; ip -n $N1 -d link show
echo "== ip -d link show (pod-a)"; ip -n ${P}pa -d link show
echo "== ip -br addr (node-1)"; ip -n $N1 -br addr
echo "== ip route get 10.244.2.3 (node-1)"; ip -n $N1 route get 10.244.2.3
echo "== ip route show table local (node-1)"; ip -n $N1 route show table local
echo "== ip route show table all (node-1)"; ip -n $N1 route show table all
echo "== ip route show table local (pod-a)"; ip -n ${P}pa route show table local
echo "== ping -c 3 10.244.2.3 (pod-a)"; $PA ping -c 3 10.244.2.3
echo "== ping -c 2 10.244.1.4 (node-1)"; ip netns exec $N1 ping -c 2 10.244.1.4
echo "== bridge fdb show (node-1)"; bridge -n $N1 fdb show
echo "== bridge fdb show (pod-a)"; bridge -n ${P}pa fdb show
echo "== traceroute -n 10.244.3.9 (pod-a)"; $PA traceroute -n 10.244.3.9
cap(){ local ns=$1; shift; echo "== tcpdump $* ($ns)"; ip netns exec ${P}$ns timeout 3 tcpdump -l "$@" 2>&1 & sleep 0.7; }
cap pc -n -e -i eth0 icmp -c 2; $PA ping -c1 10.244.2.3 >/dev/null; wait
cap n2 -n -e -i eth0 -c 2 udp; $PA ping -c1 10.244.2.3 >/dev/null; wait
cap pc -n -v -i eth0 icmp -c 2; $PA ping -c1 10.244.2.3 >/dev/null; wait
ip -n ${P}pd neigh flush all
cap pd -n -e -i eth0 -c 4; ip netns exec ${P}pd ping -c1 10.244.2.3 >/dev/null; wait
echo "== ip route replace 10.244.3.0/24 dev eth0 (node-1)"; ip -n $N1 route replace 10.244.3.0/24 dev eth0; ip -n $N1 route
for c in 1 2 3 4 5; do echo "== ping -c $c 10.244.3.9 (pod-a, ARP fails on node-1)"; $PA ping -c $c 10.244.3.9; done
echo "== traceroute -n 10.244.3.9 (pod-a)"; $PA traceroute -n 10.244.3.9
echo "== ip route add unreachable 10.244.3.0/24 (exists)"; ip -n $N1 route add unreachable 10.244.3.0/24; echo "rc=$?"
ip -n $N1 route del 10.244.3.0/24
echo "== ping -c 3 -W 1 10.244.3.9 (pod-a, default gateway drops)"; $PA ping -c 3 -W 1 10.244.3.9
for q in 3 2 1; do echo "== traceroute -n -q $q -m 3 -w 1 10.244.3.9"; $PA traceroute -n -q $q -m 3 -w 1 10.244.3.9; done
echo "== traceroute -q 11 / -q 0 / -q x"; traceroute -q 11 10.244.3.9; traceroute -q 0 10.244.3.9; traceroute -q x 10.244.3.9
ip -n $N1 route add unreachable 10.244.3.0/24; ip -n $N1 route add blackhole 10.9.2.0/24; ip -n $N1 route add prohibit 10.9.3.0/24
echo "== ip route get 10.9.2.1 / 10.9.3.1 (blackhole, prohibit)"; ip -n $N1 route get 10.9.2.1; ip -n $N1 route get 10.9.3.1
echo "== ip route get 10.244.3.9 (unreachable route)"; ip -n $N1 route get 10.244.3.9
echo "== traceroute -n 10.244.3.9 (unreachable route)"; $PA traceroute -n 10.244.3.9
ip -n $N1 route del unreachable 10.244.3.0/24; ip -n $N1 route del default
echo "== ip route get 10.244.3.9 (no route)"; ip -n $N1 route get 10.244.3.9
echo "== traceroute -n 10.244.3.9 (no route)"; $PA traceroute -n 10.244.3.9
echo "== ping -c 2 10.244.3.9 (node-1, no route)"; ip netns exec $N1 ping -c 2 10.244.3.9
ip -n $N1 link set veth1cfd396d down
echo "== bridge fdb show (node-1, veth1cfd396d down)"; bridge -n $N1 fdb show
