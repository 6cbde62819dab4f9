#!/bin/bash
# Records what a student sees when a ping in the seed lab goes to a broadcast address: the subnet-directed
# broadcast of the pod's own subnet (10.244.1.255), the limited broadcast (255.255.255.255), and another node's
# subnet broadcast (10.244.2.255, routed via flannel.1), with and without `-b`: iputils ping's output and exit
# status, who answers (net.ipv4.icmp_echo_ignore_broadcasts, default 1), the frames on each device (tcpdump -e:
# the destination MAC), the neighbour entries that appear (`ip neigh show nud all`), what the kernel counted
# (IpInBcastPkts, IcmpInEchos, …), and the route types (`ip route get`, `ip route show table local`). Also a
# routed directed broadcast arriving at node-2 with net.ipv4.conf.*.bc_forwarding 0 (delivered locally, not
# forwarded) and 1 (forwarded onto cni0 as an Ethernet broadcast). Output (stdout):
# src/__fixtures__/bcast-formats.txt, pinned by src/bcast.test.ts and core's dataplane/broadcast.test.ts.
#
# Run as root: bash bcast-formats.sh > ../src/__fixtures__/bcast-formats.txt
# Everything lives in namespaces named p37b-<pid>-* (the seed lab of seed-lab-netns.sh: three nodes, flannel.1
# VXLAN, cni0 with a veth per pod, podnet's MACs), deleted on exit, also on failure; the root namespace is not
# touched, no module is loaded, and traffic stays in those namespaces.
set -u
P=p37b-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
. "$(dirname "$0")/snmp-counters.sh"
seed_lab_namespaces
seed_lab_build
sleep 1
x(){ local n=$1; shift; ip netns exec ${P}$n "$@"; }
# Warm the paths the unicast cases use, then forget every neighbour a case could learn.
x pa ping -c 1 -W 1 10.244.2.3 >/dev/null
forget(){ local n; for n in pa pb n1 n2 pc pd; do ip -n ${P}$n neigh flush all 2>/dev/null; done
  # flannel's permanent entries on flannel.1 survive a flush (nud permanent); put back nothing else.
  :; }
counters(){ snmp_counters ${P}$1 InReceives InDelivers ForwDatagrams InAddrErrors InBcastPkts OutBcastPkts InEchos OutEchoReps InEchoReps OutRequests OutMsgs InMsgs OutDestUnreachs NoPorts; }
# run NS CMD…: the command, its stdout and stderr, its exit status
run(){ local n=$1; shift; echo "\$ ($n) $*"; x $n "$@" > $T/out 2> $T/err; local rc=$?
  sed 's/^/  out| /' $T/out; sed 's/^/  err| /' $T/err; echo "  rc=$rc"; }
k=0
cap(){ local ns=$1 dev=$2; k=$((k+1)); echo "$ns $dev" > $T/cap$k.t
  x $ns timeout 6 tcpdump -l -n -e -i $dev icmp or arp or udp > $T/cap$k.out 2>/dev/null & }
flush_caps(){ wait; local i; for i in $(seq 1 $k); do [ -f $T/cap$i.t ] || continue
  echo "  tcpdump -e ($(cat $T/cap$i.t)):"; sed -E 's/^[0-9:.]+ /    /' $T/cap$i.out; rm -f $T/cap$i.t $T/cap$i.out; done; k=0; }
# pcase NS CMD…: one ping with captures on the node-1/node-2 devices, the counters that moved, the neighbours
CAPS="pa:eth0 pb:eth0 n1:cni0 n1:eth0 n1:flannel.1 n2:flannel.1 n2:cni0 pc:eth0 pd:eth0"
CNT="pa pb n1 n2 pc pd"
pcase(){ forget; local c n d; declare -A before
  for n in $CNT; do before[$n]=$(counters $n); done
  for c in $CAPS; do cap ${c%%:*} ${c##*:}; done; sleep 1.5
  run "$@"
  flush_caps
  for n in $CNT; do echo "  counters ($n): $(snmp_delta "${before[$n]}" "$(counters $n)")"; done
  for n in pa pb n1; do echo "  ip neigh show nud all ($n):"; ip -n ${P}$n neigh show nud all | grep -v PERMANENT | sed 's/^/    /'; done
}
ignore(){ local v=$1; shift; local n; for n in "$@"; do x $n sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=$v; done; }

echo "# kernel $(uname -r), $(x pa ping -V | head -1)"
echo "# the seed lab: pod-a 10.244.1.4 and pod-b 10.244.1.5 on node-1's cni0 10.244.1.1/24; pod-c 10.244.2.3 on node-2"
echo "### (a) routes"
for q in "n1 route show table local" "pa route show table local" "pa route get 10.244.1.255" "pa route get 255.255.255.255" \
  "pa route get 10.244.2.255" "pa route get 10.244.1.0" "n1 route get 10.244.1.255" "n1 route get 255.255.255.255" "n1 route get 10.244.2.255" \
  "n2 route get 10.244.2.255" "n2 route get 10.244.2.255 from 10.244.1.4 iif flannel.1" "n2 route get 255.255.255.255 from 10.244.1.4 iif flannel.1" \
  "n1 route get 10.244.1.255 from 10.244.1.4 iif cni0"; do
  set -- $q; n=$1; shift; echo "\$ ($n) ip $*"; ip -n ${P}$n "$@" 2>&1 | sed 's/^/  /'; echo "  rc=${PIPESTATUS[0]}"
done
echo "### (b) defaults: icmp_echo_ignore_broadcasts $(x pa sysctl -n net.ipv4.icmp_echo_ignore_broadcasts) everywhere, bc_forwarding $(x n2 sysctl -n net.ipv4.conf.all.bc_forwarding)"
for d in 10.244.1.255 255.255.255.255 10.244.2.255; do
  pcase pa ping -c 2 -W 1 $d
  pcase pa ping -b -c 2 -W 1 $d
done
pcase n1 ping -c 2 -W 1 10.244.1.255
pcase n1 ping -b -c 2 -W 1 10.244.1.255
echo "### (c) icmp_echo_ignore_broadcasts 0 in pod-b and node-1 (pod-a keeps 1)"
ignore 0 pb n1
pcase pa ping -b -c 2 -W 1 10.244.1.255
pcase pa ping -b -c 2 -W 1 255.255.255.255
echo "### (d) icmp_echo_ignore_broadcasts 0 in pod-a too"
ignore 0 pa
pcase pa ping -b -c 2 -W 1 10.244.1.255
pcase n1 ping -b -c 2 -W 1 10.244.1.255
ignore 1 pa pb n1
echo "### (e) the other node's subnet broadcast: icmp_echo_ignore_broadcasts 0 in node-2 and pod-c"
ignore 0 n2 pc
pcase pa ping -c 2 -W 1 10.244.2.255
pcase pa ping -b -c 2 -W 1 10.244.2.255
echo "### (f) and bc_forwarding 1 on node-2 (all and flannel.1, the device it comes in by)"
x n2 sysctl -qw net.ipv4.conf.all.bc_forwarding=1 net.ipv4.conf.flannel/1.bc_forwarding=1
pcase pa ping -c 2 -W 1 10.244.2.255
echo "### (g) bc_forwarding 1 on all only"
x n2 sysctl -qw net.ipv4.conf.flannel/1.bc_forwarding=0
pcase pa ping -c 2 -W 1 10.244.2.255
echo "### (h) bc_forwarding 1 on flannel.1 only"
x n2 sysctl -qw net.ipv4.conf.all.bc_forwarding=0 net.ipv4.conf.flannel/1.bc_forwarding=1
pcase pa ping -c 2 -W 1 10.244.2.255
echo "### (i) the values icmp_echo_ignore_broadcasts takes (proc_dou8vec_minmax, 0..1), and bc_forwarding's defaults"
for v in 2 -1 0 1; do run pb sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=$v; done
run pb sysctl net.ipv4.conf.all.bc_forwarding net.ipv4.conf.default.bc_forwarding net.ipv4.conf.eth0.bc_forwarding
echo "### (j) bc_forwarding 1 on node-2's all and cni0, a broadcast frame from pod-c: icmp_echo_ignore_broadcasts 0 in node-2, pod-c and pod-d"
ignore 0 n2 pc pd
x n2 sysctl -qw net.ipv4.conf.all.bc_forwarding=1 net.ipv4.conf.flannel/1.bc_forwarding=0 net.ipv4.conf.cni0.bc_forwarding=1
pcase pc ping -b -c 2 -W 1 10.244.2.255
echo "### (k) bc_forwarding 1 on node-2's all and flannel.1, 0 on cni0: the same"
x n2 sysctl -qw net.ipv4.conf.flannel/1.bc_forwarding=1 net.ipv4.conf.cni0.bc_forwarding=0
pcase pc ping -b -c 2 -W 1 10.244.2.255
echo "### (l) traceroute to a broadcast, and UDP to one with SO_BROADCAST: no port unreachable from anyone (bc_forwarding 0 again)"
ignore 1 n2 pc pd
x n2 sysctl -qw net.ipv4.conf.all.bc_forwarding=0 net.ipv4.conf.flannel/1.bc_forwarding=0
run pa traceroute -n 10.244.1.255
run pa traceroute -n 255.255.255.255
run n1 traceroute -n 10.244.1.255
pcase pa python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1); s.sendto(b'x' * 32, ('10.244.1.255', 33434))"
run pa traceroute -n -m 4 10.244.2.255
echo "### (n) the same traceroute with bc_forwarding 1 on node-2's all and flannel.1: node-2 forwards the probe, and a TTL that ends there is answered"
x n2 sysctl -qw net.ipv4.conf.all.bc_forwarding=1 net.ipv4.conf.flannel/1.bc_forwarding=1
run pa traceroute -n -m 4 10.244.2.255
x n2 sysctl -qw net.ipv4.conf.all.bc_forwarding=0 net.ipv4.conf.flannel/1.bc_forwarding=0
echo "### (m) bound to a device: ip route get … oif, ping -I"
run pa ip route get 10.244.1.255 oif eth0
run pa ip route get 255.255.255.255 oif eth0
run n1 ip route get 10.244.1.255 oif eth0
run n1 ip route get 10.244.1.255 oif cni0
run pa ping -c 1 -W 1 -I eth0 10.244.1.255
run pa ping -b -c 1 -W 1 -I eth0 10.244.1.255
