#!/bin/bash
# Records what iputils ping does with `-I DEV|ADDRESS` (SO_BINDTODEVICE, or bind(2) of the source) and what
# `ip route get ADDR` answers with `oif DEV`, `from SRC`, `iif DEV`, `mark N` and `fibmatch`, with their
# outputs, error texts and exit statuses. Output (stdout): src/__fixtures__/ping-dev-formats.txt, replayed
# by src/ping-dev.test.ts.
#
# Run as root. Everything lives in namespaces named pd36-<pid>-*, deleted on exit (also on failure); the root
# namespace's interfaces, addresses and routes are not touched, and traffic stays between the namespaces.
# They mirror the lab's node-1 with its addresses, so that the lab shell replays the commands as they are:
#
#   pod:  eth0 10.244.1.4/24 ── veth ── node: vethpod in bridge cni0 10.244.1.1/24
#         (default via 10.244.1.1, 10.244.0.0/16 via 10.244.1.1)
#   node: eth0 192.168.1.11/24 ── veth ── rtr: e0 192.168.1.1/24 (node: default via 192.168.1.1)
#   node: flannel.1 10.244.1.0/32 ── veth ── rtr: f1 10.244.2.0/32, 10.244.2.3/32 (node-2's cni0 and a pod
#         on it; node: 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink, as flannel's, and rtr back the same
#         way; a veth for the VXLAN device: only the route lookup and the neighbour on it are recorded, not the
#         encapsulation, and 10.244.2.3 answers one hop nearer than the lab's pod: ttl=64 where the lab's is 63)
set -u
P=pd36-$$-
NODE=${P}node; POD=${P}pod; RTR=${P}rtr
ALL="$NODE $POD $RTR"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

fresh(){
  cleanup
  for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  for n in $ALL; do ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
  ip -n $NODE link add eth0 type veth peer name e0 netns $RTR
  ip -n $NODE link add flannel.1 type veth peer name f1 netns $RTR
  ip -n $NODE link add cni0 type bridge
  ip -n $NODE link add vethpod type veth peer name eth0 netns $POD
  ip -n $NODE link set vethpod master cni0
  for d in eth0 flannel.1 cni0 vethpod; do ip -n $NODE link set $d up; done
  for d in e0 f1; do ip -n $RTR link set $d up; done
  ip -n $POD link set eth0 up
  ip -n $NODE addr add 192.168.1.11/24 dev eth0
  ip -n $NODE addr add 10.244.1.0/32 dev flannel.1
  ip -n $NODE addr add 10.244.1.1/24 dev cni0
  ip -n $NODE route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
  ip -n $NODE route add default via 192.168.1.1 dev eth0
  ip netns exec $NODE sysctl -qw net.ipv4.ip_forward=1
  ip -n $RTR addr add 192.168.1.1/24 dev e0
  ip -n $RTR addr add 10.244.2.0/32 dev f1
  ip -n $RTR addr add 10.244.2.3/32 dev f1
  ip -n $RTR route add 10.244.1.0/24 via 10.244.1.0 dev f1 onlink
  ip -n $POD addr add 10.244.1.4/24 dev eth0
  ip -n $POD route add default via 10.244.1.1 dev eth0
  ip -n $POD route add 10.244.0.0/16 via 10.244.1.1 dev eth0
  sleep 2
}
# A command in namespace $1, echoed with its exit status; stderr goes with stdout. What differs from run to run
# (round-trip times, the run's total time, the rtt line) is masked or dropped: podnet has no latency model.
inns(){
  local ns=$1 as=$2; shift 2
  echo "== $as$*"
  ip netns exec "$ns" "$@" 2>&1 | sed -E -e 's/ time=[0-9.]+ ms//' -e 's/, time [0-9]+ms$//' -e '/^rtt /d' -e "s/${P}/pd36-PID-/g"
  echo "rc=${PIPESTATUS[0]}"
}
node(){ inns $NODE "" "$@"; }
pod(){ inns $POD "ip netns exec pod-a " "$@"; }  # as the lab names pod-a's namespace: the test maps it

echo "# kernel $(uname -r), $(ip -V), $(ping -V | head -1)"
fresh
echo "### (a) ping -I on the node: a device or an address, one that is not there"
node ping -c 1 -W 1 -I nosuchdev 10.244.2.3
node ping -c 1 -W 1 -I lo 127.0.0.1
node ping -c 1 -W 1 -I eth0 192.168.1.1
node ping -c 1 -W 1 -I cni0 10.244.1.4
node ping -c 1 -W 1 -I flannel.1 10.244.2.3
node ping -c 1 -W 1 -I 10.244.1.1 10.244.1.4
node ping -c 1 -W 1 -I 10.244.1.0 10.244.2.3
node ping -c 1 -W 1 -I 10.9.9.9 10.244.1.4
echo "### (b) ping -I DEV where the destination's route is through another device: the kernel takes it as on-link there"
node ping -c 1 -W 1 -I cni0 10.244.2.3
node ip neigh show dev cni0
node ping -c 1 -W 1 -I eth0 10.244.1.4
node ip neigh show dev eth0
node ping -c 1 -W 1 -I lo 10.244.1.4
echo "### (c) ping -I DEV to the namespace's own addresses"
node ping -c 1 -W 1 -I eth0 192.168.1.11
node ping -c 1 -W 1 -I cni0 192.168.1.11
node ping -c 1 -W 1 -I lo 192.168.1.11
node ping -c 1 -W 1 -I eth0 127.0.0.1
echo "### (d) ping -I a device that is down"
node ip link set cni0 down
node ping -c 1 -W 1 -I cni0 10.244.1.4
node ping -c 1 -W 1 -I cni0 10.244.2.3
node ip route get 10.244.1.4 oif cni0
node ip link set cni0 up
echo "### (e) ping -I in a pod"
pod ping -c 1 -W 1 -I eth0 10.244.2.3
pod ping -c 1 -W 1 -I nosuchdev 10.244.2.3
pod ping -c 1 -W 1 -I 10.244.1.4 10.244.2.3
pod ping -c 1 -W 1 -I lo 10.244.2.3
echo "### (f) ip route get … oif DEV"
node ip route get 10.244.2.3 oif nosuchdev
node ip route get 10.244.2.3 oif flannel.1
node ip route get 10.244.2.3 oif cni0
node ip route get 10.244.2.3 oif eth0
node ip route get 10.244.2.3 oif lo
node ip route get 10.244.1.4 oif cni0
node ip route get 10.244.1.4 oif eth0
node ip route get 192.168.1.11 oif eth0
node ip route get 192.168.1.11 oif cni0
node ip route get 10.244.2.3 dev cni0
pod ip route get 10.244.2.3 oif eth0
echo "### (g) ip route get … from SRC (an output route with a bound source)"
node ip route get 10.244.2.3 from 10.244.1.1
node ip route get 10.244.2.3 from 192.168.1.11
node ip route get 10.244.1.4 from 10.244.1.0
node ip route get 10.244.2.3 from 10.9.9.9
node ip route get 10.244.2.3 from 10.244.1.1 oif eth0
node ip route get 192.168.1.11 from 10.244.1.1
echo "### (h) ip route get … from SRC selects ip rules"
node ip rule add from 10.244.1.1 lookup 100
node ip route add 10.244.2.0/24 via 192.168.1.1 table 100
node ip route get 10.244.2.3 from 10.244.1.1
node ip route get 10.244.2.3 from 10.244.1.0
node ip route get 10.244.2.3
node ip rule del from 10.244.1.1 lookup 100
node ip route del 10.244.2.0/24 via 192.168.1.1 table 100
echo "### (i) ip route get … iif DEV: the input route (forwarding, local delivery, martians, rp_filter)"
node ip route get 10.244.2.3 iif nosuchdev
node ip route get 10.244.2.3 from 10.244.1.4 iif cni0
node ip route get 192.168.1.1 from 10.244.1.4 iif cni0
node ip route get 10.244.1.1 from 10.244.1.4 iif cni0
node ip route get 192.168.1.11 from 10.244.1.4 iif cni0
node ip route get 10.244.2.3 iif cni0
node ip route get 10.244.1.4 from 127.0.0.1 iif eth0
node ip route get 127.0.0.1 from 10.244.1.4 iif cni0
node ip route get 10.244.1.4 from 10.244.2.3 iif flannel.1
node ip route get 10.244.1.4 from 10.244.2.3 iif eth0
node sysctl -qw net.ipv4.conf.all.rp_filter=1
node ip route get 10.244.1.4 from 10.244.2.3 iif eth0
node ip route get 10.244.1.4 from 10.244.2.3 iif flannel.1
node sysctl -qw net.ipv4.conf.all.rp_filter=2
node ip route get 10.244.1.4 from 10.244.2.3 iif eth0
node ip route get 10.244.1.4 from 10.9.9.9 iif eth0
node sysctl -qw net.ipv4.conf.all.rp_filter=0
node sysctl -qw net.ipv4.ip_forward=0
node ip route get 10.244.2.3 from 10.244.1.4 iif cni0
node ip route get 10.244.1.1 from 10.244.1.4 iif cni0
node sysctl -qw net.ipv4.ip_forward=1
node ip route get 10.244.2.3 from 10.244.1.4 iif cni0 oif eth0
echo "### (j) ip route get … mark N, fibmatch"
node ip route get 10.244.2.3 mark 5
node ip route get 10.244.2.3 mark 0x10
node ip route get 10.244.2.3 mark 12
node ip route get 10.244.2.3 mark 17
node ip route get 10.244.2.3 mark x
node ip route get fibmatch 10.244.2.3
node ip route get fibmatch 10.244.1.4
node ip route get fibmatch 192.168.1.11
node ip route get fibmatch 8.8.8.8
node ip route get 10.244.2.3 fibmatch oif cni0
node ip route get 10.244.2.3 garbage
