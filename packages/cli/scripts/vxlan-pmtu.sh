#!/bin/bash
# Records what a VXLAN device does with a packet that fits its own MTU but not, encapsulated, the underlay's
# (skb_tunnel_check_pmtu): a flannel-like pair of nodes whose underlay device (eth0) has MTU 1400 on n1
# while flannel.1 keeps 1450. From n1 itself and from a pod behind n1's cni0: `ping -M do -s 1373` (1401
# bytes inside, 1451 encapsulated), its output, `ip route show cache` and `ip route get` on n1 and in the pod
# after each, and what tcpdump sees on n1's eth0 and n2's eth0 (fragments, DF on the outer header). Output:
# src/__fixtures__/vxlan-pmtu.txt, replayed by vxlan-pmtu.test.ts.
#
# Run as root. Everything lives in namespaces named vp35-<pid>-*, deleted on exit (also on failure); the
# root namespace's interfaces, addresses and routes are not touched, and traffic stays inside them.
#
#   p1 (10.9.1.4) ─ cni0 n1 10.9.1.1 ─ flannel.1 10.9.1.0 ─ eth0 192.168.9.11 ══ 192.168.9.12 eth0 ─ n2 flannel.1 10.9.2.0 ─ cni0 10.9.2.1 ─ p2 (10.9.2.4)
set -u
P=vp35-$$-
N1=${P}n1; N2=${P}n2; P1=${P}p1; P2=${P}p2
ALL="$N1 $N2 $P1 $P2"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

build(){ # the two nodes, n1's eth0 at MTU $1
  cleanup
  for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
  ip -n $N1 link add eth0 type veth peer name eth0 netns $N2
  ip -n $N1 addr add 192.168.9.11/24 dev eth0; ip -n $N2 addr add 192.168.9.12/24 dev eth0
  for n in 1 2; do
    local ns=${P}n$n pod=${P}p$n other=$((3 - n))
    ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1
    ip -n $ns link set eth0 up
    ip -n $ns link add flannel.1 type vxlan id 1 local 192.168.9.1$n dev eth0 dstport 8472 nolearning
    ip -n $ns link set flannel.1 address 0a:00:00:00:00:0$n mtu 1450 up
    ip -n $ns addr add 10.9.$n.0/32 dev flannel.1
    ip -n $ns link add cni0 type bridge; ip -n $ns link set cni0 mtu 1450 up
    ip -n $ns addr add 10.9.$n.1/24 dev cni0
    ip -n $ns link add veth0 type veth peer name eth0 netns $pod
    ip -n $ns link set veth0 master cni0 mtu 1450 up
    ip -n $pod link set eth0 mtu 1450 up
    ip -n $pod addr add 10.9.$n.4/24 dev eth0
    ip -n $pod route add default via 10.9.$n.1
    ip -n $ns route add 10.9.$other.0/24 via 10.9.$other.0 dev flannel.1 onlink
    ip -n $ns neigh add 10.9.$other.0 lladdr 0a:00:00:00:00:0$other dev flannel.1 nud permanent
    bridge -n $ns fdb add 0a:00:00:00:00:0$other dev flannel.1 dst 192.168.9.1$other self permanent
  done
  ip -n $N1 link set eth0 mtu "$1"
  sleep 1
}
# A command in a namespace, echoed with its exit status; what differs from run to run is masked.
at(){ local ns=$1; shift; echo "== $(basename "$ns" | sed "s/^$P//") $*"; ip netns exec "$ns" "$@" 2>&1 | sed -E -e 's/time=[0-9.]+ ms/time=T ms/' -e 's/, time [0-9]+ms//' -e 's/rtt .*//' -e 's/expires [0-9]+sec/expires Nsec/' -e '/^$/d'; echo "rc=${PIPESTATUS[0]}"; }
cap(){ # tcpdump on $1's eth0 while the rest runs
  local ns=$1; shift
  ip netns exec "$ns" timeout 8 tcpdump -l -n -v -i eth0 udp port 8472 or 'ip[6:2] & 0x1fff != 0' > /tmp/vp35-$$-cap 2>/dev/null & local t=$!
  sleep 1; "$@"; sleep 1; kill $t 2>/dev/null; wait $t 2>/dev/null
  echo "== tcpdump $(basename "$ns" | sed "s/^$P//") eth0"; sed -E -e 's/^[0-9:.]+ //' -e 's/id [0-9]+/id N/g' -e 's/, seq [0-9]+/, seq N/' -e 's/ [0-9]+ > 8472/ S > 8472/' -e 's/\.[0-9]+ > 192/.S > 192/' /tmp/vp35-$$-cap; rm -f /tmp/vp35-$$-cap
}

echo "# kernel $(uname -r), $(ip -V)"
echo "### (a) from n1 itself, eth0 MTU 1400, flannel.1 1450: ping -M do -s 1373 (1401 inside, 1451 outside)"
build 1400
at $N1 ip route show cache
cap $N1 at $N1 ping -M do -s 1373 -c 3 -i 0.3 -W 1 10.9.2.4
at $N1 ip route show cache
at $N1 ip route get 10.9.2.4
at $N1 ping -M do -s 1321 -c 1 -W 1 10.9.2.4
at $N1 ip -s link show dev eth0

echo "### (b) from the pod behind n1's cni0: the same ping"
build 1400
cap $N2 at $P1 ping -M do -s 1373 -c 3 -i 0.3 -W 1 10.9.2.4
at $N1 ip route show cache
at $P1 ip route show cache
at $P1 ip route get 10.9.2.4
at $P1 ping -M do -s 1321 -c 1 -W 1 10.9.2.4

echo "### (c) from the pod, without DF"
build 1400
cap $N1 at $P1 ping -s 1373 -c 2 -i 0.3 -W 1 10.9.2.4
at $N1 ip route show cache
at $P1 ip route show cache

echo "### (d) n2's eth0 at 1400 instead, the pod on n1 pings: the replies come back through n2's flannel.1"
build 1500
ip -n $N2 link set eth0 mtu 1400
cap $N2 at $P1 ping -M do -s 1373 -c 3 -i 0.3 -W 1 10.9.2.4
at $N2 ip route show cache
at $P1 ip route show cache
