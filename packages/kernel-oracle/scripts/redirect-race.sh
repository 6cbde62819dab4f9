#!/bin/bash
# Measures the redirect race the kernel oracle met (docs/kernel-oracle.md, "Found with seed 2902"): a pod whose
# on-link route was deleted pings and traces a pod of its node, through the node, which forwards the packets
# back out of cni0 and sends ICMP redirects, limited per sender (ip_rt_send_redirect: the first goes, redirect
# n+1 only 20 ms << n after redirect n). The pod takes one only once its neighbour entry for the new next hop
# is valid (__ip_do_redirect starts ARP otherwise and keeps nothing). Each trial starts from fresh namespaces
# and sends, as the oracle does, one "capture" ping first (its redirect starts the ARP), then the probes:
#   side by side  — 0.3 s later, ping and traceroute at once (the oracle's first probes before this change);
#   no pause      — right after the capture, ping, then traceroute, one after the other;
#   spaced 1.1 s  — ping 1.1 s after the capture, traceroute 2.2 s after it (started by sleeps from one
#                   origin, as the oracle now runs the probes that meet redirects).
# Printed per trial: the traceroute, the ping's reply TTL, the redirects the node sent (its Icmp OutRedirects)
# and whether the pod then holds a redirected route exception (`ip route get`: `cache <redirected>`).
# Output: bash redirect-race.sh > ../src/__fixtures__/redirect-race.txt, pinned by
# packages/kernel-oracle/src/redirect-schedule.test.ts.
#
# Run as root. Everything lives in namespaces named or36-<pid>-*, deleted on exit (also on failure); the
# root namespace is not touched, no module is loaded, and traffic stays in those namespaces.
#
#   A 10.84.0.2/24 ── veth ── N: bridge cni0 10.84.0.1/24, ip_forward=1 ── veth ── B 10.84.0.3/24
#   A and B: default via 10.84.0.1. B: `ip route del 10.84.0.0/24 dev eth0` (the fault).
set -u
P=or36-$$-
N=${P}n; A=${P}a; B=${P}b
cleanup(){ for n in $N $A $B; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
x(){ nsenter --net=/run/netns/"$1" "${@:2}"; }

build(){
  cleanup
  for n in $N $A $B; do
    ip netns add $n || exit 1
    # As the oracle sets every namespace: IPv6 off, ICMP rate limits off.
    x $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
      net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
    ip -n $n link set lo up
  done
  ip -n $N link add cni0 type bridge; ip -n $N addr add 10.84.0.1/24 dev cni0; ip -n $N link set cni0 up
  x $N sysctl -qw net.ipv4.ip_forward=1
  local p i=2
  for p in $A $B; do
    ip -n $N link add v$i type veth peer name eth0 netns $p
    ip -n $N link set v$i master cni0 up
    ip -n $p addr add 10.84.0.$i/24 dev eth0; ip -n $p link set eth0 up
    ip -n $p route add default via 10.84.0.1
    i=$((i + 1))
  done
  ip -n $B route del 10.84.0.0/24 dev eth0
  sleep 1
}
redirects(){ x $N awk '/^Icmp:/{ if (!h) { for (i = 2; i <= NF; i++) if ($i == "OutRedirects") c = i; h = 1 } else print $c }' /proc/net/snmp; }
trace(){ traceroute -n -w 1 -q 1 -m 8 10.84.0.2 | tail -n +2 | awk '{ printf "%s ", $2 }'; }
ttl(){ ping -n -c 1 -W 1 10.84.0.2 | sed -n 's/.*\(ttl=[0-9]*\).*/\1/p'; }
export -f trace ttl
report(){ # TITLE: the trial's outcome, from files $W/t (trace) and $W/p (ping)
  local cache; cache=$(ip -n $B route get 10.84.0.2 | grep -o 'redirected' || echo none)
  printf '%-14s trace: %-22s ping: %-7s node sent %s redirects; pod B: %s\n' "$1" "$(cat $W/t)" "$(cat $W/p)" "$(redirects)" "$cache"
}
W=$(mktemp -d /tmp/or36.XXXXXX); trap 'cleanup; rm -rf $W' EXIT INT TERM
echo "# kernel $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for trial in 1 2 3 4 5; do
  build; x $B ping -n -c 1 -W 1 10.84.0.2 >/dev/null
  sleep 0.3
  x $B bash -c "(trace >$W/t) & (ttl >$W/p) & wait"
  report "side by side"
  build; x $B ping -n -c 1 -W 1 10.84.0.2 >/dev/null
  x $B bash -c "ttl >$W/p; trace >$W/t"
  report "no pause"
  build
  x $B bash -c "(ping -n -c 1 -W 1 10.84.0.2 >/dev/null) & (sleep 1.1; ttl >$W/p) & (sleep 2.2; trace >$W/t) & wait"
  report "spaced 1.1 s"
done
