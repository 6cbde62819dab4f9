#!/bin/bash
# Records what the kernel counts, and how iproute2 (6.1) and iptables (1.8.9, nf_tables) print it, on the seed lab
# built by hand (seed-lab-netns.sh: the same namespaces, MACs and addresses as podnet's seed lab), to pin the lab
# shell's `ip -s link` and `iptables -L -v` / `-Z` (src/__fixtures__/counters-formats.txt, read by counters.test.ts):
#   - "== fmt …" sections: the exact output of `ip -s link show dev X` (veth, bridge, vxlan, lo), `ip -s -s link`,
#     `ip -s link` (all devices), `iptables -L -n -v`, `-L -n -v -x`, `-t nat -L -n -v`, `-Z`, `-Z CHAIN`, and the
#     same after a flood that makes the numbers wide (iptables' K/M suffixes, iproute2's widened columns);
#   - "== delta …" sections: the counters that moved on every device of every namespace (rx/tx packets, bytes,
#     dropped; `ip -s -j link` before and after) and every iptables rule or policy that counted on node-1 and
#     node-2 (`iptables-save -c`, zeroed before), for one scenario each: a cold ping pod-a → pod-c (every
#     non-permanent neighbour flushed), the same warm, a ping to pod-b on the same node, a traceroute, a ping
#     with TTL 1 (dropped on node-1), a ping dropped by a FORWARD DROP rule on node-1.
# IPv6 is off in every namespace (all and default disable_ipv6), so router solicitations and MLD reports move no
# counter; lo is up everywhere. flanneld's rules (FLANNEL-POSTRTG, FLANNEL-FWD, as iptables-formats.sh adds them)
# are on node-1 and node-2.
# Run as root: everything lives in namespaces named ct35-<pid>-*, deleted on exit (trap); nothing touches the
# root namespace's interfaces, addresses or routes, and no module is loaded.
set -u
P=ct35-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
seed_lab_namespaces
seed_lab_build
M=(-m comment --comment "flanneld masq"); F=(-m comment --comment "flanneld forward")
for i in 1 2; do N=${P}n$i; x(){ ip netns exec $N iptables "$@"; }
  x -t nat -N FLANNEL-POSTRTG
  x -t nat -A POSTROUTING "${M[@]}" -j FLANNEL-POSTRTG
  x -t nat -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 "${M[@]}" -j RETURN
  x -t nat -A FLANNEL-POSTRTG -s 10.244.$i.0/24 -d 10.244.0.0/16 "${M[@]}" -j RETURN
  x -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.$i.0/24 "${M[@]}" -j RETURN
  x -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.$i.0/24 "${M[@]}" -j RETURN
  x -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 "${M[@]}" -j MASQUERADE
  x -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 "${M[@]}" -j MASQUERADE
  x -t filter -N FLANNEL-FWD
  x -t filter -A FORWARD "${F[@]}" -j FLANNEL-FWD
  x -t filter -A FLANNEL-FWD -s 10.244.0.0/16 "${F[@]}" -j ACCEPT
  x -t filter -A FLANNEL-FWD -d 10.244.0.0/16 "${F[@]}" -j ACCEPT
done
sleep 2
# snap FILE: every namespace's devices and their counters, one line each: ns dev rxp rxb rxd txp txb txd rxerr txerr.
snap(){ for n in $NSES; do ip -n ${P}$n -s -j link | jq -r --arg n $n '.[] | [$n, .ifname, .stats64.rx.packets, .stats64.rx.bytes, .stats64.rx.dropped, .stats64.tx.packets, .stats64.tx.bytes, .stats64.tx.dropped, .stats64.rx.errors, .stats64.tx.errors] | @tsv'; done > "$1"; }
zero(){ for i in 1 2; do ip netns exec ${P}n$i iptables -Z; ip netns exec ${P}n$i iptables -t nat -Z; done; }
# delta TITLE CMD…: the counters CMD moved (devices: ns dev rx p/b/dropped tx p/b/dropped; rules: node, then
# `iptables-save -c` lines with non-zero counters).
delta(){ local t=$1; shift; zero; snap $T/a; "$@" >/dev/null 2>&1; sleep 0.5; snap $T/b
  echo "== delta $t"
  paste $T/a $T/b | awk -F'\t' '{ d=0; for (k=3;k<=10;k++) if ($(k+10)!=$k) d=1; if (d) printf "%s %s rx %d %d %d tx %d %d %d\n", $1, $2, $13-$3, $14-$4, $15-$5, $16-$6, $17-$7, $18-$8 }'
  for i in 1 2; do ip netns exec ${P}n$i iptables-save -c | grep -v '^#' | grep -v '\[0:0\]' | grep '\[' | sed "s/^/n$i /"; done; }
pin(){ ip netns exec ${P}$1 "${@:2}"; }
# Every neighbour entry that is not permanent, in the namespaces on pod-a → pod-c's path.
flushall(){ for n in pa n1 n2 pc pb wire; do ip -n ${P}$n neigh flush all nud reachable nud stale nud delay nud probe nud failed nud incomplete 2>/dev/null; ip -n ${P}$n neigh flush all 2>/dev/null; done
  for i in 1 2; do for j in 1 2 3; do [ $i = $j ] && continue; FM=$(ip -n ${P}n$j -j link show flannel.1 | jq -r '.[0].address'); ip -n ${P}n$i neigh replace 10.244.$j.0 lladdr $FM dev flannel.1 nud permanent; done; done; }
flushall
delta "ping -c 1 pod-a → pod-c (cold: neighbours flushed)" pin pa ping -c 1 -W 1 10.244.2.3
delta "ping -c 1 pod-a → pod-c (warm)" pin pa ping -c 1 -W 1 10.244.2.3
delta "ping -c 1 pod-a → pod-b (same node, warm)" bash -c "ip netns exec ${P}pa ping -c 1 -W 1 10.244.1.5; true"
delta "ping -c 1 pod-a → pod-b (same node, warm, again)" pin pa ping -c 1 -W 1 10.244.1.5
delta "traceroute -n -q 1 -N 1 pod-a → pod-c (warm)" pin pa traceroute -n -q 1 -N 1 10.244.2.3
delta "ping -c 1 -t 1 pod-a → pod-c (TTL 1: node-1 answers time exceeded)" pin pa ping -c 1 -W 1 -t 1 10.244.2.3
pin n1 iptables -A FORWARD -d 10.244.2.3 -j DROP
delta "ping -c 1 pod-a → pod-c with node-1: iptables -A FORWARD -d 10.244.2.3 -j DROP (appended after FLANNEL-FWD)" pin pa ping -c 1 -W 1 10.244.2.3
pin n1 iptables -I FORWARD 1 -d 10.244.2.3 -j DROP
delta "ping -c 1 pod-a → pod-c with node-1: iptables -I FORWARD 1 -d 10.244.2.3 -j DROP" pin pa ping -c 1 -W 1 10.244.2.3
pin n1 iptables -D FORWARD 1; pin n1 iptables -D FORWARD -d 10.244.2.3 -j DROP
delta "ping -c 1 pod-a → node-2 (192.168.1.12, the node's own address)" pin pa ping -c 1 -W 1 192.168.1.12
delta "ping -c 1 node-1 → pod-a (host to its pod)" pin n1 ping -c 1 -W 1 10.244.1.4
delta "ping -c 1 pod-a → 10.244.1.4 (itself)" pin pa ping -c 1 -W 1 10.244.1.4
delta "ping -c 1 node-1 → 192.168.1.11 (itself: lo)" pin n1 ping -c 1 -W 1 192.168.1.11
# Drops a device counts: a frame larger than the receiving veth end's MTU, and a frame for a pod whose eth0 is down.
pin pa ip link set eth0 mtu 1400
delta "ping -c 1 -s 1400 -M do node-1 → pod-a with pod-a's eth0 at mtu 1400 (the veth drops it)" pin n1 ping -c 1 -s 1400 -M do -W 1 10.244.1.4
pin pa ip link set eth0 mtu 1450
pin pa ip link set eth0 down
delta "ping -c 1 node-1 → pod-a with pod-a's eth0 down (NO-CARRIER on its veth)" pin n1 ping -c 1 -W 1 10.244.1.4
pin pa ip link set eth0 up
pin pa ip route add default via 10.244.1.1 2>/dev/null; pin pa ip route add 10.244.0.0/16 via 10.244.1.1 dev eth0 2>/dev/null
sleep 1
# Formats, after a warm ping so that some numbers are not zero.
fmt(){ echo "== fmt ($1) ${*:2}"; pin "$@" 2>&1; echo "rc=$?"; }
zero; pin pa ping -c 2 -W 1 10.244.2.3 >/dev/null
fmt pa ip -s link show dev eth0
fmt pa ip -s -s link show dev eth0
fmt pa ip -s link
fmt pa ip -s -s link
fmt n1 ip -s link show dev cni0
fmt n1 ip -s link show dev flannel.1
fmt n1 ip -s link show dev lo
fmt n1 ip -s link show dev veth19fd34b4
fmt n1 ip -s link
fmt n1 ip -s -s link show dev flannel.1
fmt n1 ip -s -s link show dev cni0
fmt n1 ip -s -s link show dev eth0
fmt n1 ip -s link show dev nosuch
fmt n1 iptables -L -n -v
fmt n1 iptables -L -n -v -x
fmt n1 iptables -t nat -L -n -v
fmt n1 iptables -t nat -L -n -v -x
fmt n1 iptables -L -v
fmt n1 iptables -L FORWARD -n -v
fmt n1 iptables -t nat -L FLANNEL-POSTRTG -n -v --line-numbers
fmt n1 iptables -S -v
fmt n1 iptables-save -c
fmt n1 iptables -t nat -Z FLANNEL-POSTRTG
fmt n1 iptables -t nat -L -n -v
fmt n1 iptables -Z FORWARD
fmt n1 iptables -L -n -v
fmt n1 iptables -Z NOSUCH
fmt n1 iptables -Z
fmt n1 iptables -t nat -Z
fmt n1 iptables -t nat -L -n -v
fmt n1 iptables -L -n -v -Z
# Wide numbers: a flood ping pod-a → pod-b (same node, through node-1's FORWARD) and pod-a → pod-c.
pin pa ping -f -q -c 120000 -s 1 10.244.1.5 >/dev/null 2>&1
pin pa ping -f -q -c 20000 -s 1400 10.244.2.3 >/dev/null 2>&1
fmt n1 iptables -L -n -v
fmt n1 iptables -L -n -v -x
fmt n1 iptables -t nat -L -n -v
fmt pa ip -s link show dev eth0
fmt n1 ip -s link show dev cni0
fmt n1 ip -s link
