#!/bin/sh
# Records (a) an address added again with another length (what the kernel oracle's `ip addr change 10.5.4.3/16`
# of a pod's 10.5.4.3/24 did: seed 3201 faulted #26), and what replace/change do to an address that is there;
# (b) an ARP request whose sender address is one of the receiver's own (seed 3201 calico-none faulted #57: a pod
# given its node's address), then with accept_local; (c) the source an ARP request tells when the packet waiting
# for it leaves from an address of another device (seed 3201 calico-none faulted #15). Output: packages/cli/scripts/arp-own-source.txt, pinned by
# packages/cni/src/oracle-findings.test.ts.
#
# Run as root. Two namespaces p37o-<pid>-a and -b joined by a veth, deleted on exit (also on failure).
set -u
A=p37o-$$-a; B=p37o-$$-b; N=p37o-$$-n; P=p37o-$$-p; R=p37o-$$-r
cleanup() { for x in $A $B $N $P $R; do ip netns del $x 2>/dev/null; done; }
trap cleanup EXIT INT TERM
ip netns add $A || exit 1; ip netns add $B || exit 1
ip -n $A link add ea type veth peer name eb netns $B
ip -n $A link set ea up; ip -n $B link set eb up; ip -n $A link set lo up; ip -n $B link set lo up
echo "# kernel $(uname -r), $(ip -V)"
ip -n $A addr add 10.0.0.5/24 dev ea
echo "### (a) 10.0.0.5/24 on ea, then"
echo "== addr add 10.0.0.5/16"; ip -n $A addr add 10.0.0.5/16 dev ea; echo rc=$?
echo "== addr change 10.0.0.5/32"; ip -n $A addr change 10.0.0.5/32 dev ea; echo rc=$?
echo "== addr replace 10.0.0.5/24 noprefixroute scope host"; ip -n $A addr replace 10.0.0.5/24 dev ea noprefixroute scope host; echo rc=$?
ip -n $A -4 -o addr show dev ea | sed 's/\\.*//'; ip -n $A route show
echo "== addr add 10.0.0.5/24"; ip -n $A addr add 10.0.0.5/24 dev ea 2>&1; echo rc=$?
ip -n $A addr del 10.0.0.5/16 dev ea; ip -n $A addr del 10.0.0.5/32 dev ea
ip -n $B addr add 10.0.0.6/24 dev eb
echo "### (b) A 10.0.0.5/24, B 10.0.0.6/24"
echo "== A pings B"; ip netns exec $A ping -n -c1 -W1 10.0.0.6 | grep -E 'received|From'
ip -n $A neigh flush dev ea; ip -n $B neigh flush dev eb
ip -n $B addr add 10.0.0.5/32 dev eb
echo "== B holds 10.0.0.5/32 too; A pings B"; ip netns exec $A ping -n -c1 -W4 10.0.0.6 | grep -E 'received|From'
echo "-- A's neighbours:"; ip -n $A neigh show; echo "-- B's neighbours:"; ip -n $B neigh show
ip netns exec $B sh -c 'echo 1 > /proc/sys/net/ipv4/conf/eb/accept_local'
ip -n $A neigh flush dev ea
echo "== accept_local 1 on eb; A pings B"; ip netns exec $A ping -n -c1 -W4 10.0.0.6 | grep -E 'received|From'
echo "-- B's neighbours:"; ip -n $B neigh show | sed 's/ lladdr [0-9a-f:]*/ lladdr MAC/'
echo "### (c) R 192.168.1.11/24 -- eth0 N 192.168.1.12/24 (proxy_arp on cali1, no address) cali1 -- eth0 P 10.105.0.65/32, default via 169.254.1.1; then P also 192.168.1.12/24"
for x in $N $P $R; do ip netns add $x || exit 1; ip -n $x link set lo up; done
ip -n $R link add eth0 type veth peer name eth0 netns $N
ip -n $N link add cali1 type veth peer name eth0 netns $P
for x in $N $P $R; do ip -n $x link set eth0 up; done; ip -n $N link set cali1 up
ip -n $R addr add 192.168.1.11/24 dev eth0; ip -n $N addr add 192.168.1.12/24 dev eth0; ip -n $P addr add 10.105.0.65/32 dev eth0
ip -n $P route add 169.254.1.1 dev eth0 scope link; ip -n $P route add default via 169.254.1.1 dev eth0
ip -n $N route add 10.105.0.65 dev cali1 scope link; ip -n $N route add default via 192.168.1.11
ip -n $R route add 10.105.0.0/24 via 192.168.1.12
ip netns exec $N sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/conf/cali1/proxy_arp'
ip -n $P addr add 192.168.1.12/24 dev eth0
echo "== P pings 10.9.9.9 (by its default route: N learns P from P's request for 169.254.1.1)"; ip netns exec $P ping -n -c1 -W1 10.9.9.9 | grep -E 'received'
ip netns exec $N tcpdump -l -ni cali1 arp 2>/dev/null > /tmp/p37o-$$-arp.txt & TP=$!
sleep 1
echo "== R pings P"; ip netns exec $R ping -n -c1 -W4 10.105.0.65 | grep -E 'received|From'
sleep 1; kill $TP 2>/dev/null; wait $TP 2>/dev/null
echo "-- ARP on cali1:"; sed 's/^[0-9:.]* //' /tmp/p37o-$$-arp.txt; rm -f /tmp/p37o-$$-arp.txt
