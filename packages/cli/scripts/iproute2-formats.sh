#!/bin/bash
# Records what real iproute2 prints for a flannel-like node and pod (lo, eth0, flannel.1, cni0, a veth),
# to pin the lab shell's formats (src/__fixtures__/iproute2-formats.txt, read by ip.test.ts).
# Run as root: everything lives in namespaces named pncl<pid>-*, deleted on exit.
set -u
P=pncl$$-
A=${P}node; B=${P}pod
cleanup(){ ip netns del ${P}wire 2>/dev/null; ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $A; ip netns add $B
ip -n $A link set lo up
ip netns add ${P}wire; ip -n $A link add eth0 type veth peer name p0 netns ${P}wire; ip -n ${P}wire link set p0 up
ip -n $A link set eth0 up
ip -n $A addr add 192.168.1.11/24 dev eth0
ip -n $A link add flannel.1 type vxlan id 1 local 192.168.1.11 dev eth0 dstport 8472 nolearning
ip -n $A link set flannel.1 mtu 1450 up
ip -n $A addr add 10.244.1.0/32 dev flannel.1
ip -n $A link add cni0 type bridge
ip -n $A link set cni0 mtu 1450 up
ip -n $A addr add 10.244.1.1/24 dev cni0
ip -n $A link add veth1234 mtu 1450 type veth peer name eth0 netns $B
ip -n $A link set veth1234 master cni0 up
ip -n $B link set lo up
ip -n $B link set eth0 mtu 1450 up
ip -n $B addr add 10.244.1.4/24 dev eth0
ip -n $B route add default via 10.244.1.1
ip -n $A route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
ip -n $A neigh add 10.244.2.0 lladdr 5a:bd:d3:65:b2:19 dev flannel.1 nud permanent
bridge -n $A fdb append 5a:bd:d3:65:b2:19 dev flannel.1 dst 192.168.1.12 self permanent
sleep 0.5
ip netns exec $B ping -c1 -W1 10.244.1.1 >/dev/null
echo "== ip link (node)"; ip -n $A link
echo "== ip link show type veth"; ip -n $A link show type veth
echo "== ip addr (node)"; ip -n $A addr
echo "== ip link (pod)"; ip -n $B link
echo "== ip addr (pod)"; ip -n $B addr
echo "== ip route (node)"; ip -n $A route
echo "== ip neigh (node)"; ip -n $A neigh
echo "== ip neigh (pod)"; ip -n $B neigh
echo "== bridge link"; bridge -n $A link show
echo "== bridge fdb"; bridge -n $A fdb show
echo "== ip link set bad"; ip -n $A link set nosuch down; echo "rc=$?"
echo "== ip foo"; ip -n $A foo; echo "rc=$?"
echo "== ip link foo"; ip -n $A link foo; echo "rc=$?"
echo "== ip route del missing"; ip -n $A route del 10.9.0.0/16; echo "rc=$?"
echo "== ip addr show dev eth0"; ip -n $B addr show dev eth0
echo "== ip link show eth0"; ip -n $B link show eth0
echo "== ip link down veth"; ip -n $A link set veth1234 down; ip -n $B link show eth0; ip -n $A link show veth1234
echo "== sysctl"; ip netns exec $A sysctl net.ipv4.ip_forward; ip netns exec $A sysctl -w net.ipv4.ip_forward=1; ip netns exec $A sysctl net.ipv4.nosuch; echo "rc=$?"
echo "== ip netns"; ip netns | grep -c $P
