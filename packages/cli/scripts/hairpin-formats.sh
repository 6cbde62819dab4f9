#!/bin/bash
# Records what the kernel does with hairpin mode on a bridge port, and what iproute2 prints about it, on
# node-1 of the seed lab built by hand (seed-lab-netns.sh: the same cni0, veth names, MACs and addresses as
# podnet's seed lab), to pin the lab shell's bridge ports (src/__fixtures__/hairpin-formats.txt, read by
# bridge-hairpin.test.ts):
#   - `bridge link show`, `bridge -d link show` and `ip -d link show` of a port, hairpin on and off;
#   - `bridge link set dev X hairpin on|off` and `ip link set dev X type bridge_slave hairpin on|off`, and
#     their errors (a device that is no bridge port, an unknown device, a bad value);
#   - tcpdump -n -e -i eth0 in pod-a (and pod-b) while pod-a ARPs for the gateway and for pod-b, hairpin off
#     and on (br_forward.c should_deliver: `(p->flags & BR_HAIRPIN_MODE) || skb->dev != p->dev`), and pod-a's
#     neighbour table afterwards (what its stack made of its own request);
#   - a unicast hairpin: a static `bridge fdb replace MAC dev PORT master static` entry sends pod-b's MAC
#     back to pod-a's port (`fdb add` says "File exists" while the bridge holds the learned entry), so
#     pod-a's ping to pod-b comes back to pod-a (hairpin on) or is dropped (off).
# Run as root: everything lives in namespaces named hp35-<pid>-*, deleted on exit.
set -u
P=hp35-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
seed_lab_namespaces
seed_lab_build
N1=${P}n1; PA=veth19fd34b4; PB=veth1cfd396d
sleep 1
# run TITLE CMD…: prints the command's stdout and stderr (namespace names replaced by NS) and its status.
run(){ echo "== $1"; shift; "$@" > $T/o 2>&1; local rc=$?; sed "s/$P[a-z0-9]*/NS/g" $T/o; echo "rc=$rc"; }
k=0
cap(){ local ns=$1; shift; k=$((k+1)); echo "$k tcpdump $* ($ns)" >> $T/list
  ip netns exec ${P}$ns timeout 3 tcpdump -l "$@" > $T/$k.out 2> $T/$k.err & }
flush(){ sleep 3.2; wait; while read -r n title; do echo "== $title"; sed 's/^[0-9:.]* //' $T/$n.out; done < $T/list; rm -f $T/list $T/*.out $T/*.err; }
state(){ local s=$1
  run "bridge link show ($s)" bridge -n $N1 link show
  run "bridge -d link show ($s)" bridge -n $N1 -d link show
  run "bridge link show dev $PA ($s)" bridge -n $N1 link show dev $PA
  run "ip -d link show dev $PA ($s)" ip -n $N1 -d link show dev $PA
}
# ARP for TARGET from pod-a, the neighbour tables flushed first, captured in pod-a and pod-b.
arp(){ ip -n ${P}pa neigh flush all; ip -n ${P}pb neigh flush all; ip -n $N1 neigh flush dev cni0
  cap pa -n -e -i eth0 arp; cap pb -n -e -i eth0 arp; sleep 1
  ip netns exec ${P}pa ping -c 1 -W 1 $1 > /dev/null; flush
  run "ip neigh show (pa, after ARP for $1)" ip -n ${P}pa neigh show; }
echo "#### hairpin on (seed_lab_pod sets it, as flannel's bridge plugin does)"
state on
arp 10.244.1.1
arp 10.244.1.5
echo "#### setting and errors"
run "bridge link set dev $PA hairpin off" bridge -n $N1 link set dev $PA hairpin off
run "ip link set dev $PB type bridge_slave hairpin off" ip -n $N1 link set dev $PB type bridge_slave hairpin off
run "bridge link set dev $PA hairpin off (again)" bridge -n $N1 link set dev $PA hairpin off
run "bridge link set dev cni0 hairpin on" bridge -n $N1 link set dev cni0 hairpin on
run "bridge link set dev eth0 hairpin on" bridge -n $N1 link set dev eth0 hairpin on
run "bridge link set dev nosuch hairpin on" bridge -n $N1 link set dev nosuch hairpin on
run "bridge link set dev $PA hairpin maybe" bridge -n $N1 link set dev $PA hairpin maybe
run "bridge link set dev $PA hairpin" bridge -n $N1 link set dev $PA hairpin
run "bridge link show dev nosuch" bridge -n $N1 link show dev nosuch
run "bridge link show dev eth0" bridge -n $N1 link show dev eth0
run "bridge -d link show dev cni0" bridge -n $N1 -d link show dev cni0
run "bridge link set dev $PA" bridge -n $N1 link set dev $PA
run "ip link set dev cni0 type bridge_slave hairpin on" ip -n $N1 link set dev cni0 type bridge_slave hairpin on
run "ip link set dev eth0 type bridge_slave hairpin on" ip -n $N1 link set dev eth0 type bridge_slave hairpin on
run "ip link set dev nosuch type bridge_slave hairpin on" ip -n $N1 link set dev nosuch type bridge_slave hairpin on
run "ip link set dev $PA type bridge_slave hairpin maybe" ip -n $N1 link set dev $PA type bridge_slave hairpin maybe
run "ip link set dev $PA type bridge_slave hairpin" ip -n $N1 link set dev $PA type bridge_slave hairpin
echo "#### hairpin off"
state off
arp 10.244.1.1
arp 10.244.1.5
echo "#### unicast hairpin: pod-b's MAC pinned to pod-a's port"
run "bridge fdb add 4a:4c:bf:0c:45:a0 dev $PA master static" bridge -n $N1 fdb add 4a:4c:bf:0c:45:a0 dev $PA master static
for s in off on; do
  bridge -n $N1 link set dev $PA hairpin $s
  echo "#### unicast, hairpin $s"
  ip netns exec ${P}pa ping -c 1 -W 1 10.244.1.1 > /dev/null
  ip -n ${P}pa neigh replace 10.244.1.5 lladdr 4a:4c:bf:0c:45:a0 dev eth0 nud reachable
  # Learning moves even a static entry when its MAC comes in by another port (br_fdb_update): set it each time.
  run "bridge fdb replace 4a:4c:bf:0c:45:a0 dev $PA master static" bridge -n $N1 fdb replace 4a:4c:bf:0c:45:a0 dev $PA master static
  run "bridge fdb show dev $PA (before)" bridge -n $N1 fdb show dev $PA
  cap pa -n -e -i eth0 icmp; cap pb -n -e -i eth0 icmp; cap pa -p -n -e -i eth0 icmp; sleep 1
  ip netns exec ${P}pa ping -c 1 -W 1 10.244.1.5 > $T/ping; flush
  echo "== ping -c 1 -W 1 10.244.1.5 (pa)"; grep 'packets transmitted' $T/ping
  run "bridge fdb show dev $PA (after)" bridge -n $N1 fdb show dev $PA
  run "ip neigh show (pa, unicast, hairpin $s)" ip -n ${P}pa neigh show
done
echo "#### a port that leaves its bridge and comes back starts with hairpin off (br_del_if frees the port)"
bridge -n $N1 link set dev $PA hairpin on
run "bridge -d link show dev $PA (on)" bridge -n $N1 -d link show dev $PA
ip -n $N1 link set dev $PA nomaster; ip -n $N1 link set dev $PA master cni0
run "bridge -d link show dev $PA (nomaster, master cni0)" bridge -n $N1 -d link show dev $PA
echo "#### a pod reaching itself through a DNAT on its node, bridged (kube-proxy's hairpin case)"
# br_netfilter (loaded on the host, not by this script) routes a bridged packet whose destination PREROUTING
# changed; out of the same bridge it is bridged again from the port it came in by (skb->dev = physindev), so
# it goes back to the pod only with hairpin on. The MASQUERADE is kube-proxy's for a pod to itself: without
# it the pod would drop a packet from its own address (martian source).
ip netns exec $N1 sysctl -q -w net.bridge.bridge-nf-call-iptables=1; echo "bridge-nf-call-iptables=1 rc=$?"
ip netns exec $N1 iptables -t nat -A PREROUTING -d 10.96.0.10 -p icmp -j DNAT --to-destination 10.244.1.4
ip netns exec $N1 iptables -t nat -A POSTROUTING -s 10.244.1.4 -d 10.244.1.4 -j MASQUERADE
for s in on off; do
  bridge -n $N1 link set dev $PA hairpin $s
  echo "#### DNAT to itself, hairpin $s"
  cap pa -n -e -i eth0 icmp; sleep 1
  ip netns exec ${P}pa ping -c 1 -W 1 10.96.0.10 > $T/ping; flush
  echo "== ping -c 1 -W 1 10.96.0.10 (pa)"; grep 'packets transmitted' $T/ping
done
