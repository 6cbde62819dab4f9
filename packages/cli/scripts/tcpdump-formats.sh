#!/bin/bash
# Records what real tcpdump -n prints for a VXLAN (flannel's port 8472) ping between two "nodes", on the
# underlay and on the VXLAN device, plus an ARP exchange, to pin the lab shell's tcpdump lines
# (src/__fixtures__/tcpdump-formats.txt, read by tcpdump.test.ts).
# Run as root: everything lives in namespaces named pntd<pid>-*, deleted on exit.
set -u
P=pntd$$-
A=${P}a; B=${P}b
cleanup(){ ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $A; ip netns add $B
ip -n $A link add eth0 type veth peer name eth0 netns $B
for n in $A $B; do ip -n $n link set lo up; ip -n $n link set eth0 up; done
ip -n $A addr add 192.168.1.11/24 dev eth0; ip -n $B addr add 192.168.1.12/24 dev eth0
ip -n $A link add flannel.1 type vxlan id 1 local 192.168.1.11 dev eth0 dstport 8472 nolearning
ip -n $B link add flannel.1 type vxlan id 1 local 192.168.1.12 dev eth0 dstport 8472 nolearning
ip -n $A link set flannel.1 address 5a:00:00:00:00:01 mtu 1450 up; ip -n $B link set flannel.1 address 5a:00:00:00:00:02 mtu 1450 up
ip -n $A addr add 10.244.1.0/32 dev flannel.1; ip -n $B addr add 10.244.2.0/32 dev flannel.1
ip -n $A route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
ip -n $B route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
ip -n $A neigh add 10.244.2.0 lladdr 5a:00:00:00:00:02 dev flannel.1 nud permanent
ip -n $B neigh add 10.244.1.0 lladdr 5a:00:00:00:00:01 dev flannel.1 nud permanent
bridge -n $A fdb append 5a:00:00:00:00:02 dev flannel.1 dst 192.168.1.12 self permanent
bridge -n $B fdb append 5a:00:00:00:00:01 dev flannel.1 dst 192.168.1.11 self permanent
sleep 1
timeout 5 ip netns exec $B tcpdump -n -l -i eth0 -c 4 arp or udp > /tmp/${P}under.txt 2>/tmp/${P}under.err &
timeout 5 ip netns exec $B tcpdump -n -l -i flannel.1 -c 2 icmp > /tmp/${P}vx.txt 2>/tmp/${P}vx.err &
sleep 1
ip netns exec $A ping -c 1 -W 1 10.244.2.0 > /dev/null
wait
echo "== tcpdump -n -i eth0 arp or udp (underlay)"; cat /tmp/${P}under.txt
echo "== stderr"; cat /tmp/${P}under.err
echo "== tcpdump -n -i flannel.1 icmp"; cat /tmp/${P}vx.txt
rm -f /tmp/${P}*
