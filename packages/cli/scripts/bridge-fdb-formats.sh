#!/bin/bash
# Records what `bridge fdb add | append | replace | del` do on a node of the seed lab built by hand
# (seed-lab-netns.sh: podnet's cni0, veth names, MACs, flannel.1), to pin the lab shell's `bridge fdb`
# (src/__fixtures__/bridge-fdb-formats.txt, read by bridge-fdb.test.ts):
#   - on a bridge port: add/append/replace MAC dev PORT master [static|permanent|dynamic], without `master`
#     (iproute2's default is `self`: the veth's own unicast address list), del … master; each one's status,
#     error text and `bridge fdb show dev PORT` / `br cni0` lines;
#   - on flannel.1: add/append/replace MAC dev flannel.1 dst IP [self] [permanent], a second dst for one MAC
#     (and for 00:00:00:00:00:00), del … dst IP, del without dst;
#   - errors: an unknown device, an invalid MAC, `master` on a device that is no port, `dst` on a port;
#   - forwarding: pod-b's MAC pinned (static) on pod-a's port (tcpdump in pod-a and pod-b), pinned
#     `permanent` (local: taken up by the bridge), and whether pod-b's own traffic moves a static entry.
# Run as root: everything lives in namespaces named fd35-<pid>-*, deleted on exit.
set -u
P=fd35-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
seed_lab_namespaces
seed_lab_build
N1=${P}n1; PA=veth19fd34b4; PB=veth1cfd396d; MB=4a:4c:bf:0c:45:a0; X=02:00:00:00:00:01
sleep 1
# run TITLE CMD…: prints the command's stdout and stderr (namespace names replaced by NS) and its status.
run(){ echo "== $1"; shift; "$@" > $T/o 2>&1; local rc=$?; sed "s/$P[a-z0-9]*/NS/g" $T/o; echo "rc=$rc"; }
b(){ run "bridge fdb $*" bridge -n $N1 fdb "$@"; }
k=0
cap(){ local ns=$1; shift; k=$((k+1)); echo "$k tcpdump $* ($ns)" >> $T/list
  ip netns exec ${P}$ns timeout 3 tcpdump -l "$@" > $T/$k.out 2> $T/$k.err & }
flush(){ sleep 3.2; wait; while read -r n title; do echo "== $title"; sed 's/^[0-9:.]* //' $T/$n.out; done < $T/list; rm -f $T/list $T/*.out $T/*.err; }
echo "#### bridge port: master"
b add $X dev $PA master static
b show dev $PA
b add $X dev $PA master static
b append $X dev $PA master static
b replace $X dev $PA master dynamic
b show dev $PA
b replace $X dev $PA master permanent
b show dev $PA
b replace $X dev $PA master
b show dev $PA
b replace $X dev $PB master static
b show br cni0
b del $X dev $PA master
b del $X dev $PB master
b del $X dev $PB master
b replace 02:00:00:00:00:02 dev $PA master static
b add 02:00:00:00:00:03 dev $PA master permanent
b add 02:00:00:00:00:04 dev $PA master dynamic
b add 02:00:00:00:00:05 dev $PA master
b show dev $PA
b show br cni0
b del 02:00:00:00:00:02 dev $PA master static
b del 02:00:00:00:00:03 dev $PA master
b del 02:00:00:00:00:04 dev $PA master
b del 02:00:00:00:00:05 dev $PA master
echo "#### bridge port: self (no master)"
b add $X dev $PA
b show dev $PA
b add $X dev $PA
b add $X dev $PA self static
b append 02:00:00:00:00:06 dev $PA
b replace 02:00:00:00:00:07 dev $PA self permanent
b show dev $PA
b del $X dev $PA
b del $X dev $PA
b del 02:00:00:00:00:06 dev $PA self
b del 02:00:00:00:00:07 dev $PA
b add $X dev cni0
b show br cni0
b del $X dev cni0
b add $X dev cni0 master
echo "#### errors"
b add $X dev nosuch master static
b add 02:00:00:00:00 dev $PA master static
b add zz:00:00:00:00:01 dev $PA master static
b add $X dev eth0 master static
b add $X dev flannel.1 master static
b add $X dev $PA master static dst 192.168.1.99
b show dev $PA
b del $X dev nosuch master
b del $X dev eth0 master
b add $X
b add dev $PA
b show dev nosuch
b show br nosuch
b show br $PA
b add $X dev $PA master bogus
echo "#### flannel.1"
F=flannel.1; M2=5a:bd:d3:65:b2:19; M9=02:00:00:00:00:09
b show dev $F
b add $M9 dev $F dst 192.168.1.99 self permanent
b add $M9 dev $F dst 192.168.1.99 self permanent
b add $M9 dev $F dst 192.168.1.98 self permanent
b show dev $F
b append $M9 dev $F dst 192.168.1.98 self permanent
b append $M9 dev $F dst 192.168.1.98 self permanent
b show dev $F
b replace $M9 dev $F dst 192.168.1.97 self permanent
b show dev $F
b del $M9 dev $F dst 192.168.1.98
b show dev $F
b del $M9 dev $F dst 192.168.1.98
b append $M9 dev $F dst 192.168.1.96 self permanent
b del $M9 dev $F
b show dev $F
b del $M9 dev $F
b add $M9 dev $F dst 192.168.1.99
b add $M9 dev $F dst 192.168.1.99 self
b add $M9 dev $F dst 192.168.1.99 self static
b show dev $F
b del $M9 dev $F
b add $M9 dev $F self permanent
b show dev $F
b del $M9 dev $F
b add $M9 dev $F dst 192.168.1.99 permanent
b show dev $F
b del $M9 dev $F
b add $M9 dev $F dst 192.168.1.99 self dynamic
b del $M9 dev $F
b replace $M2 dev $F dst 192.168.1.99 self permanent
b show dev $F
b replace $M2 dev $F dst 192.168.1.12 self permanent
b append 00:00:00:00:00:00 dev $F dst 192.168.1.12 self permanent
b append 00:00:00:00:00:00 dev $F dst 192.168.1.13 self permanent
b show dev $F
b del 00:00:00:00:00:00 dev $F dst 192.168.1.12
b show dev $F
b del 00:00:00:00:00:00 dev $F
b add $M9 dev $F dst 192.168.1.300 self permanent
b add $M9 dev $F dst nosuch self permanent
b add $M9 dev $F dst 192.168.1.99 self permanent master
b show
echo "#### forwarding: pod-b's MAC static on pod-a's port"
ip netns exec ${P}pa ping -c 1 -W 1 10.244.1.5 > /dev/null; ip netns exec ${P}pb ping -c 1 -W 1 10.244.1.4 > /dev/null
bridge -n $N1 link set dev $PA hairpin off
b show dev $PB
b add $MB dev $PA master static
b replace $MB dev $PA master static
b show dev $PA
b show dev $PB
cap pa -n -e -i eth0 icmp; cap pb -n -e -i eth0 icmp; sleep 1
ip netns exec ${P}pa ping -c 1 -W 1 10.244.1.5 > $T/ping; flush
echo "== ping -c 1 -W 1 10.244.1.5 (pa)"; grep 'packets transmitted' $T/ping
b show dev $PA
b show dev $PB
echo "#### does pod-b's own traffic move the static entry? (pb pings the gateway)"
b replace $MB dev $PA master static
ip netns exec ${P}pb ping -c 1 -W 1 10.244.1.1 > $T/ping; grep 'packets transmitted' $T/ping
b show dev $PA
b show dev $PB
echo "#### pod-b's MAC permanent on pod-a's port"
b replace $MB dev $PA master permanent
b show dev $PA
cap pa -n -e -i eth0 icmp; cap pb -n -e -i eth0 icmp; cap n1 -n -e -i cni0 icmp; sleep 1
ip netns exec ${P}pa ping -c 1 -W 1 10.244.1.5 > $T/ping; flush
echo "== ping -c 1 -W 1 10.244.1.5 (pa)"; grep 'packets transmitted' $T/ping
ip netns exec ${P}pb ping -c 1 -W 1 10.244.1.1 > $T/ping; grep 'packets transmitted' $T/ping
echo "(after pb pings the gateway)"
b show dev $PA
b show dev $PB
b del $MB dev $PA master
echo "#### a wrong VTEP for node-2's flannel.1 MAC"
b replace $M2 dev $F dst 192.168.1.99 self permanent
cap n2 -n -i eth0 udp port 8472; sleep 1
ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 > $T/ping; flush
echo "== ping -c 1 -W 1 10.244.2.3 (pa)"; grep 'packets transmitted' $T/ping
b replace $M2 dev $F dst 192.168.1.12 self permanent
ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 > $T/ping
echo "== ping -c 1 -W 1 10.244.2.3 (pa, dst put back)"; grep 'packets transmitted' $T/ping
