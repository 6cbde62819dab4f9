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
W=${P}wire
ip -n $W link add br0 type bridge; ip -n $W link set br0 up; ip -n $W addr add 192.168.1.1/24 dev br0
declare -A EMAC=([1]=0a:33:c8:d9:e8:39 [2]=02:e5:5b:7a:61:32 [3]=06:85:fa:83:7c:9b)
declare -A FMAC=([1]=56:bd:ce:ac:9b:ae [2]=5a:bd:d3:65:b2:19 [3]=5a:bd:d1:d2:c8:84)
declare -A CMAC=([1]=26:9c:f5:29:3d:37 [2]=22:9c:f0:70:80:78 [3]=22:9c:f2:03:6a:0d)
for i in 1 2 3; do
  N=${P}n$i
  ip -n $W link add w$i type veth peer name eth0 netns $N
  ip -n $W link set w$i master br0 up
  ip -n $N link set eth0 address ${EMAC[$i]} up
  ip -n $N addr add 192.168.1.1$i/24 dev eth0
  ip -n $N route add default via 192.168.1.1 dev eth0
  ip netns exec $N sysctl -qw net.ipv4.ip_forward=1
  ip -n $N link add flannel.1 type vxlan id 1 local 192.168.1.1$i dev eth0 dstport 8472 nolearning
  ip -n $N link set flannel.1 address ${FMAC[$i]} mtu 1450 up
  ip -n $N addr add 10.244.$i.0/32 dev flannel.1
  ip -n $N link add cni0 type bridge
  ip -n $N link set cni0 address ${CMAC[$i]} mtu 1450 up
  ip -n $N addr add 10.244.$i.1/24 dev cni0
  for j in 1 2 3; do [ $i = $j ] && continue
    ip -n $N route add 10.244.$j.0/24 via 10.244.$j.0 dev flannel.1 onlink
    ip -n $N neigh add 10.244.$j.0 lladdr ${FMAC[$j]} dev flannel.1 nud permanent
    bridge -n $N fdb append ${FMAC[$j]} dev flannel.1 dst 192.168.1.1$j self permanent
  done
done
# pod NSNAME NODE VETH VETHMAC PODMAC IP
pod(){ local Q=${P}$1 N=${P}n$2
  ip -n $N link add $3 mtu 1450 type veth peer name eth0 netns $Q
  ip -n $N link set $3 address $4 master cni0 up
  ip link set dev $3 netns $N 2>/dev/null
  bridge -n $N link set dev $3 hairpin on
  ip -n $Q link set eth0 address $5 mtu 1450 up
  ip -n $Q addr add $6/24 dev eth0
  ip -n $Q route add default via 10.244.$2.1
  ip -n $Q route add 10.244.0.0/16 via 10.244.$2.1 dev eth0
}
pod pa 1 veth19fd34b4 7a:0d:09:3b:59:ad a2:d8:7f:1d:63:ef 10.244.1.4
pod pb 1 veth1cfd396d e2:a6:53:4e:40:3a 4a:4c:bf:0c:45:a0 10.244.1.5
pod pc 2 veth1bfd37da 2a:cc:79:ca:a7:90 12:aa:a8:05:ca:6b 10.244.2.3
pod pd 2 veth16fd2ffb 9a:a3:41:e2:cc:68 66:85:1a:61:b5:9d 10.244.2.7
pod pe 3 veth15fd2e68 ca:82:24:a0:72:14 d2:3b:85:5c:cf:da 10.244.3.2
pod pf 3 veth18fd3321 aa:88:d6:c9:95:7b c2:4a:66:4f:26:35 10.244.3.9
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
