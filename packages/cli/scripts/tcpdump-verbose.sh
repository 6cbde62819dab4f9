#!/bin/bash
# Records what real tcpdump prints with -v, -vv, -e -v and -x/-xx/-X on the seed lab built by hand (the same
# namespaces, MACs and addresses as seed-lab-kernel.sh, so lines compare character for character), to pin the
# lab shell's verbose decode (src/__fixtures__/tcpdump-verbose.txt, read by tcpdump.test.ts):
#   - pod-a (10.244.1.4, node-1) pings pod-c (10.244.2.3, node-2): captured at once on pod-a's eth0, node-1's
#     cni0, flannel.1 and eth0, node-2's eth0, flannel.1 and cni0, and pod-c's eth0 (the TTL per routed hop,
#     the DF flag, the IP ids, the outer and inner headers of flannel's VXLAN, decoded as OTV on UDP 8472);
#   - pod-d's ARP for pod-c (-v, -vv, -e -v, and -x/-xx/-X, whose bytes are all known);
#   - traceroute -n -q 1 -N 1 from pod-a to pod-f (10.244.3.9): UDP probes, ICMP time exceeded and port
#     unreachable quoting the probe;
#   - a TCP SYN from pod-a to a closed port of pod-c and the kernel's RST (bash's /dev/tcp).
# Each scenario runs twice (runs "1" and "2") so the fixture shows which fields vary from run to run.
# Run as root: everything lives in namespaces named pnt33-<pid>-*, deleted on exit.
set -u
P=pnt33-$$-
NSES="wire n1 n2 n3 pa pb pc pd pe pf"
T=$(mktemp -d /tmp/${P}XXXX)
cleanup(){ for n in $NSES; do ip netns del ${P}$n 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT INT TERM
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
# Warm every neighbour table on the way, so the captures below see the ping and not ARP.
ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 >/dev/null
ip netns exec ${P}pa ping -c 1 -W 1 10.244.3.9 >/dev/null
k=0
# cap NS OPTIONS…: starts a capture in the background; its output goes to a numbered file, named in $T/list.
cap(){ local ns=$1; shift; k=$((k+1)); echo "$k tcpdump $* ($ns)" >> $T/list
  ip netns exec ${P}$ns timeout 4 tcpdump -l "$@" > $T/$k.out 2> $T/$k.err & }
# flush: waits for the captures, then prints each one's lines under its title (stderr is pinned elsewhere).
flush(){ sleep 4.2; wait; while read -r n title; do echo "== $title"; cat $T/$n.out; done < $T/list; rm -f $T/list $T/*.out $T/*.err; }
for run in 1 2; do
  echo "#### run $run"
  for v in -v -vv; do
    cap pa -n $v -i eth0 icmp; cap n1 -n $v -i cni0 icmp; cap n1 -n $v -i flannel.1 icmp; cap n1 -n $v -i eth0 udp
    cap n2 -n $v -i eth0 udp; cap n2 -n $v -i flannel.1 icmp; cap n2 -n $v -i cni0 icmp; cap pc -n $v -i eth0 icmp
    sleep 1.5; ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 >/dev/null; flush
  done
  cap pc -n -e -v -i eth0 icmp; cap n2 -n -e -v -i eth0 udp; cap n2 -n -e -vv -i eth0 udp
  sleep 1.5; ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 >/dev/null; flush
  for o in "-v" "-vv" "-e -v" "-x" "-xx" "-X" "-v -x"; do
    ip -n ${P}pd neigh flush all; ip -n ${P}pc neigh flush all
    cap pd -n $o -i eth0 arp; sleep 1.5; ip netns exec ${P}pd ping -c 1 -W 1 10.244.2.3 >/dev/null; flush
  done
  for v in -v -vv "-e -v"; do
    cap pa -n $v -i eth0 icmp or udp; cap n1 -n $v -i flannel.1 icmp or udp
    sleep 1.5; ip netns exec ${P}pa traceroute -n -q 1 -N 1 10.244.3.9 >/dev/null; flush
  done
  for v in -v -vv; do
    cap pa -n $v -i eth0 tcp; sleep 1.5; ip netns exec ${P}pa bash -c 'echo > /dev/tcp/10.244.2.3/80' 2>/dev/null; flush
  done
done
