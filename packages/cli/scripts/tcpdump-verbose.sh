#!/bin/bash
# Records what real tcpdump prints with -v, -vv, -e -v and -x/-xx/-X on the seed lab built by hand (the same
# namespaces, MACs and addresses as seed-lab-kernel.sh, so lines compare character for character), to pin the
# lab shell's verbose decode (src/__fixtures__/tcpdump-verbose.txt, read by tcpdump.test.ts):
#   - pod-a (10.244.1.4, node-1) pings pod-c (10.244.2.3, node-2): captured at once on pod-a's eth0, node-1's
#     cni0, flannel.1 and eth0, node-2's eth0, flannel.1 and cni0, and pod-c's eth0 (the TTL per routed hop,
#     the DF flag, the IP ids, the outer and inner headers of flannel's VXLAN, decoded as OTV on UDP 8472);
#   - pod-d's ARP for pod-c (-v, -vv, -e -v, and -x/-xx/-X, whose bytes are all known);
#   - traceroute -n -q 1 -N 1 from pod-a to pod-f (10.244.3.9): UDP probes, ICMP time exceeded and port
#     unreachable quoting the probe;
#   - a TCP SYN from pod-a to a closed port of pod-c and the kernel's RST (bash's /dev/tcp).
# Each scenario runs twice (runs "1" and "2") so the fixture shows which fields vary from run to run.
# Run as root: everything lives in namespaces named pnt33-<pid>-*, deleted on exit.
set -u
P=pnt33-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
seed_lab_namespaces
seed_lab_build
sleep 1
# Warm every neighbour table on the way, so the captures below see the ping and not ARP.
ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 >/dev/null
ip netns exec ${P}pa ping -c 1 -W 1 10.244.3.9 >/dev/null
k=0
# cap NS OPTIONS…: starts a capture in the background; its output goes to a numbered file, named in $T/list.
cap(){ local ns=$1; shift; k=$((k+1)); echo "$k tcpdump $* ($ns)" >> $T/list
  ip netns exec ${P}$ns timeout 4 tcpdump -l "$@" > $T/$k.out 2> $T/$k.err & }
# flush: waits for the captures, then prints each one's lines under its title (stderr is pinned elsewhere).
flush(){ sleep 4.2; wait; while read -r n title; do echo "== $title"; cat $T/$n.out; done < $T/list; rm -f $T/list $T/*.out $T/*.err; }
for run in 1 2; do
  echo "#### run $run"
  for v in -v -vv; do
    cap pa -n $v -i eth0 icmp; cap n1 -n $v -i cni0 icmp; cap n1 -n $v -i flannel.1 icmp; cap n1 -n $v -i eth0 udp
    cap n2 -n $v -i eth0 udp; cap n2 -n $v -i flannel.1 icmp; cap n2 -n $v -i cni0 icmp; cap pc -n $v -i eth0 icmp
    sleep 1.5; ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 >/dev/null; flush
  done
  cap pc -n -e -v -i eth0 icmp; cap n2 -n -e -v -i eth0 udp; cap n2 -n -e -vv -i eth0 udp
  sleep 1.5; ip netns exec ${P}pa ping -c 1 -W 1 10.244.2.3 >/dev/null; flush
  for o in "-v" "-vv" "-e -v" "-x" "-xx" "-X" "-v -x"; do
    ip -n ${P}pd neigh flush all; ip -n ${P}pc neigh flush all
    cap pd -n $o -i eth0 arp; sleep 1.5; ip netns exec ${P}pd ping -c 1 -W 1 10.244.2.3 >/dev/null; flush
  done
  for v in -v -vv "-e -v"; do
    cap pa -n $v -i eth0 icmp or udp; cap n1 -n $v -i flannel.1 icmp or udp
    sleep 1.5; ip netns exec ${P}pa traceroute -n -q 1 -N 1 10.244.3.9 >/dev/null; flush
  done
  for v in -v -vv; do
    cap pa -n $v -i eth0 tcp; sleep 1.5; ip netns exec ${P}pa bash -c 'echo > /dev/tcp/10.244.2.3/80' 2>/dev/null; flush
  done
done
