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
S=${P}s; R=${P}r; F=${P}f
ALL="$S $R $F"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
x(){ ip netns exec "$1" "${@:2}"; }
ip -n $S link add eth0 type veth peer name eth0 netns $R
ip -n $R link add eth1 mtu 1300 type veth peer name eth0 netns $F
ip -n $F link set eth0 mtu 1300
for n in $S $R $F; do ip -n $n link set eth0 up; done; ip -n $R link set eth1 up
ip -n $S addr add 10.0.0.2/24 dev eth0
for i in 3 4 5 6 7 8 9; do ip -n $S addr add 10.0.0.$i/24 dev eth0; done
ip -n $R addr add 10.0.0.1/24 dev eth0; ip -n $R addr add 10.0.1.1/24 dev eth1
ip -n $F addr add 10.0.1.2/24 dev eth0
ip -n $S route add default via 10.0.0.1; ip -n $F route add default via 10.0.1.1
x $R sysctl -qw net.ipv4.ip_forward=1
sleep 1
x $S ping -c1 -W1 10.0.1.2 >/dev/null || { echo "setup: S cannot reach F"; exit 1; }

echo "# kernel $(uname -r)"
for n in R F; do eval ns=\$$n; echo "# sysctls in $n:"; x $ns sysctl net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask net.ipv4.icmp_msgs_per_sec net.ipv4.icmp_msgs_burst; done

# counters NS: the Icmp Out* counters of namespace NS, as NAME=VALUE pairs
counters(){ x "$1" awk '/^Icmp:/{ if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 } else for (i = 2; i <= NF; i++) if (n[i] ~ /^Out/) printf "%s=%s ", n[i], $i }' /proc/net/snmp; }
# delta BEFORE AFTER: the counters that changed, as NAME+DIFF
delta(){ python3 - "$1" "$2" <<'EOF'
import sys
a = dict(kv.split('=') for kv in sys.argv[1].split())
b = dict(kv.split('=') for kv in sys.argv[2].split())
print(' '.join(f'{k}+{int(b[k]) - int(a[k])}' for k in b if int(b[k]) != int(a[k])) or 'none')
EOF
}
# burst KIND SRC DST N [extra]: N packets back to back from S (bound to SRC), in one python process
burst(){ x $S python3 - "$@" <<'EOF'
import socket, sys
kind, src, dst, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == 'ping':   # ICMP echo requests (raw socket), TTL from argv[5] or 64
    import struct
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0)); s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(sys.argv[5]) if len(sys.argv) > 5 else 64)
    def ck(b):
        t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16; return ~t & 0xffff
    for i in range(n):
        h = struct.pack('!BBHHH', 8, 0, 0, 0x3232, i) + b'podnet32'
        s.sendto(h[:2] + struct.pack('!H', ck(h)) + h[4:], (dst, 0))
else:                # UDP datagrams to port 33434+; 'ttl1': TTL 1; 'udp': to a closed port; 'df': 1400 bytes, DF
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    if kind == 'ttl1': s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
    size = 8
    if kind == 'df':
        s.setsockopt(socket.IPPROTO_IP, 10, 3)   # IP_MTU_DISCOVER = IP_PMTUDISC_PROBE: DF set, local PMTU ignored
        size = 1400
    for i in range(n):
        try: s.sendto(b'p' * size, (dst, 33434 + i))
        except OSError as e: print('send', i, e)
EOF
}
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
