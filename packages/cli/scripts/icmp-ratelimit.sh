#!/bin/bash
# Measures the kernel's rate limit on the ICMP errors it sends (net/ipv4/icmp.c icmpv4_xrlim_allow /
# inet_peer_xrlim_allow, icmp_global_allow): bursts of packets that each call for an ICMP error, sent back to
# back, and how many errors the sending namespace's counters (/proc/net/snmp, Icmp: Out*) say went out, then
# again after 1 s and 2 s. Output: ../core/src/__fixtures__/icmp-ratelimit.txt, pinned by
# packages/core/src/dataplane/icmp-ratelimit.test.ts.
#
# Run as root. Everything lives in namespaces named pni32-<pid>-*, deleted on exit (also on failure); the
# root namespace is not touched, no module is loaded, and traffic stays in those namespaces.
#
#   S 10.0.0.2/24 (and .3 .. .9) ── eth0 R 10.0.0.1 | eth1 10.0.1.1/24 mtu 1300 ── F 10.0.1.2/24
#   S: default via R. R forwards; it has no default route (10.9.9.9 is unrouted at R). F: default via R.
# Each experiment sends from its own source address on S, so each starts with a fresh inet_peer at R (the
# bucket is per destination of the error, i.e. per source of the offending packet).
set -u
P=pni32-$$-
. "$(dirname "$0")/icmp-lab.sh"
icmp_lab_build 1300 3 4 5 6 7 8 9

echo "# kernel $(uname -r)"
for n in R F; do eval ns=\$$n; echo "# sysctls in $n:"; x $ns sysctl net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask net.ipv4.icmp_msgs_per_sec net.ipv4.icmp_msgs_burst; done

# measure TITLE NS KIND SRC DST N [extra]: a burst, then the counters NS moved by; again after 1 s and 2 s
measure(){
  local title=$1 ns=$2; shift 2
  echo "### $title"
  for pause in 0 1 2; do
    [ $pause -gt 0 ] && sleep $pause
    local a b; a=$(counters $ns); burst "$@"; sleep 0.2; b=$(counters $ns)
    echo "after ${pause}s: sent $4: $(delta "$a" "$b")"
  done
}
N=20
measure "(a) $N UDP datagrams with TTL 1 through R (time exceeded from R)" $R ttl1 10.0.0.3 10.0.1.2 $N
measure "(a2) $N ICMP echo requests with TTL 1 through R (time exceeded from R)" $R ping 10.0.0.4 10.0.1.2 $N 1
measure "(b) $N ICMP echo requests to 10.9.9.9, unrouted at R (net unreachable from R, ip_error)" $R ping 10.0.0.5 10.9.9.9 $N
measure "(c) $N UDP datagrams to a closed port on F (port unreachable from F)" $F udp 10.0.0.6 10.0.1.2 $N
measure "(d) $N UDP datagrams of 1400 bytes, DF, through R's 1300-byte eth1 (fragmentation needed from R)" $R df 10.0.0.7 10.0.1.2 $N
measure "(e) $N ICMP echo requests to R (echo replies)" $R ping 10.0.0.8 10.0.0.1 $N
echo "### (f) $N UDP datagrams to a closed port on 127.0.0.1 inside F (port unreachable over loopback)"
a=$(counters $F); x $F python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range($N): s.sendto(b'p', ('127.0.0.1', 33434 + i))"; sleep 0.2; b=$(counters $F)
echo "after 0s: sent $N: $(delta "$a" "$b")"
echo "### (g) the (a) source again, 6 s after its last burst: the bucket refilled to its cap"
sleep 6
a=$(counters $R); burst ttl1 10.0.0.3 10.0.1.2 $N; sleep 0.2; b=$(counters $R)
echo "after 6s: sent $N: $(delta "$a" "$b")"
echo "### (h) two sources interleaved, $N each, TTL 1 (one bucket per source)"
a=$(counters $R); burst ttl1 10.0.0.9 10.0.1.2 $N & burst ttl1 10.0.0.2 10.0.1.2 $N; wait; sleep 0.2; b=$(counters $R)
echo "after 0s: sent $((2 * N)): $(delta "$a" "$b")"
echo "### (i) host-gw.sh's pacing against R's ip_error: ping -c 1 -W 1, 1.5 s, traceroute -n -N 1 -q 1 -w 1 -m 10, 1.5 s; five unrouted addresses, from 10.0.0.2"
# (h) sent from 10.0.0.2 moments ago: let its bucket refill (7 s > 6 s) first
sleep 7
for i in 1 2 3 4 5; do
  a=$(counters $R); s=$(date +%s%N)
  x $S ping -c 1 -W 1 -I 10.0.0.2 10.9.9.$i | grep -o 'From .*' | sed "s/^/ping $i: /"
  b=$(counters $R); echo "  $(( ($(date +%s%N) - s) / 1000000 )) ms; R: $(delta "$a" "$b")"; sleep 1.5
  a=$(counters $R); s=$(date +%s%N)
  x $S traceroute -n -N 1 -q 1 -w 1 -m 10 -s 10.0.0.2 10.9.9.$i | sed -n '2p' | sed "s/^/traceroute $i: /"
  b=$(counters $R); echo "  $(( ($(date +%s%N) - s) / 1000000 )) ms; R: $(delta "$a" "$b")"; sleep 1.5
done
echo "### (j) the same, paced tighter: nothing between the commands but the 1.5 s sleeps; R's counters read once, at the end; from 10.0.0.4"
a=$(counters $R)
for i in 1 2 3 4 5; do
  x $S ping -c 1 -W 1 -I 10.0.0.4 10.9.9.$i | grep -o 'From .*' | sed "s/^/ping $i: /"; sleep 1.5
  x $S traceroute -n -N 1 -q 1 -w 1 -m 10 -s 10.0.0.4 10.9.9.$i | sed -n '2p' | sed "s/^/traceroute $i: /"; sleep 1.5
done
b=$(counters $R); echo "R: $(delta "$a" "$b")"
