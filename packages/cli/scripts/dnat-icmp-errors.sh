#!/bin/bash
# Measures what ICMP errors about a DNATed flow look like to its sender: traceroute through a router that
# DNATs a virtual address (10.0.9.9) to a host two routers away, and the same through a bridge whose host
# DNATs to a namespace on that bridge (br_netfilter), captured with tcpdump -n -v at the sender.
# Output: ../src/__fixtures__/dnat-icmp-errors.txt (bash scripts/dnat-icmp-errors.sh > src/__fixtures__/dnat-icmp-errors.txt),
# pinned by packages/cli/src/dnat-icmp.test.ts.
#
# Run as root. Everything lives in namespaces named pnd33-<pid>-*, deleted on exit (also on failure); the
# root namespace is not touched, no module is loaded, and traffic stays in those namespaces.
#
#   C 10.0.1.2 ── rc R 10.0.1.1 | rm 10.0.2.1 ── mr M 10.0.2.2 | mb 10.0.3.1 ── B 10.0.3.2
#   R: PREROUTING -d 10.0.9.9 -j DNAT --to-destination 10.0.3.2. R and M forward.
#   H: bridge br0 10.0.5.1/24 with ports to P1 10.0.5.2 and P2 10.0.5.3 (default via 10.0.5.1);
#   H: PREROUTING -d 10.0.8.8 -j DNAT --to-destination 10.0.5.3; bridge-nf-call-iptables=1 when available.
set -u
P=pnd33-$$-
C=${P}c; R=${P}r; M=${P}m; B=${P}b; H=${P}h; P1=${P}p1; P2=${P}p2
ALL="$C $R $M $B $H $P1 $P2"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; rm -f /tmp/${P}*; }
trap cleanup EXIT INT TERM
for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
x(){ ip netns exec "$1" "${@:2}"; }
ip -n $C link add e0 type veth peer name rc netns $R
ip -n $R link add rm type veth peer name mr netns $M
ip -n $M link add mb type veth peer name e0 netns $B
ip -n $C addr add 10.0.1.2/24 dev e0; ip -n $C link set e0 up; ip -n $C route add default via 10.0.1.1
ip -n $R addr add 10.0.1.1/24 dev rc; ip -n $R addr add 10.0.2.1/24 dev rm; ip -n $R link set rc up; ip -n $R link set rm up
ip -n $R route add 10.0.3.0/24 via 10.0.2.2
ip -n $M addr add 10.0.2.2/24 dev mr; ip -n $M addr add 10.0.3.1/24 dev mb; ip -n $M link set mr up; ip -n $M link set mb up
ip -n $M route add default via 10.0.2.1
ip -n $B addr add 10.0.3.2/24 dev e0; ip -n $B link set e0 up; ip -n $B route add default via 10.0.3.1
ip -n $H link add br0 type bridge; ip -n $H addr add 10.0.5.1/24 dev br0; ip -n $H link set br0 up
i=2; for p in $P1 $P2; do
  ip -n $H link add v$i type veth peer name e0 netns $p; ip -n $H link set v$i master br0; ip -n $H link set v$i up
  ip -n $p addr add 10.0.5.$i/24 dev e0; ip -n $p link set e0 up; ip -n $p route add default via 10.0.5.1; i=$((i+1))
done
for n in $R $M $H; do x $n sysctl -q -w net.ipv4.ip_forward=1; done
for n in $ALL; do x $n sysctl -q -w net.ipv4.icmp_ratelimit=0; done
x $H sysctl -q -w net.bridge.bridge-nf-call-iptables=1 2>/dev/null && BRNF=1 || BRNF=0
x $R iptables -t nat -A PREROUTING -d 10.0.9.9 -j DNAT --to-destination 10.0.3.2
x $H iptables -t nat -A PREROUTING -d 10.0.8.8 -j DNAT --to-destination 10.0.5.3
echo "# kernel $(uname -r), $(traceroute --version 2>&1 | head -1), $(tcpdump --version 2>&1 | head -1); bridge-nf-call-iptables in H: $BRNF"
echo "== (a) C: traceroute -n -q 1 -w 1 -m 4 10.0.9.9 (R DNATs it to B, two routers on)"
timeout 4 ip netns exec $C tcpdump -n -v -l -i e0 icmp > /tmp/${P}a.txt 2>/dev/null & sleep 1
x $C traceroute -n -q 1 -w 1 -m 4 10.0.9.9
wait
echo "== (a) tcpdump -n -v -i e0 icmp in C"; cat /tmp/${P}a.txt
echo "== (b) C: ping -c 1 10.0.9.9"
x $C ping -n -c 1 -W 1 10.0.9.9 | head -2
echo "== (c) P1: traceroute -n -q 1 -w 1 -m 3 10.0.8.8 (H DNATs it to P2, on P1's bridge)"
timeout 4 ip netns exec $P1 tcpdump -n -v -l -i e0 icmp > /tmp/${P}c.txt 2>/dev/null & sleep 1
x $P1 traceroute -n -q 1 -w 1 -m 3 10.0.8.8
wait
echo "== (c) tcpdump -n -v -i e0 icmp in P1"; cat /tmp/${P}c.txt
