#!/bin/bash
# Measures what net.ipv4.icmp_ratelimit=0 (what the kernel oracle sets in every namespace it makes) does to
# the per-source limit ip_error puts on Net/Host Unreachable (net.ipv4.route.error_cost/error_burst): both
# limits keep their tokens in the same inet_peer, and inet_peer_xrlim_allow caps the tokens at
# XRLIM_BURST_FACTOR × icmp_ratelimit, which is 0 there. Bursts of packets from S that each call for an ICMP
# error at R, back to back, and how many errors R's counters (/proc/net/snmp, Icmp: Out*) say went out.
# Output (bash icmp-ratelimit-zero.sh > ../core/src/__fixtures__/icmp-ratelimit-zero.txt), pinned by
# packages/core/src/dataplane/icmp-ratelimit.test.ts ("icmp_ratelimit 0"); see docs/kernel-oracle.md,
# "Found with seed 2901".
#
# Run as root. Everything lives in namespaces named or35-<pid>-*, deleted on exit (also on failure); the
# root namespace is not touched, no module is loaded, and traffic stays in those namespaces.
#
#   S 10.0.0.2/24 (and more) ── eth0 R 10.0.0.1 | eth1 10.0.1.1/24 ── F 10.0.1.2/24
#   S: default via R. R forwards; it has no default route (10.9.9.9 is unrouted at R). F: default via R.
# Each experiment sends from its own source address on S, so each starts with a fresh inet_peer at R.
set -u
P=or35-$$-
. "$(dirname "$0")/icmp-lab.sh"
icmp_lab_build "" $(seq 10 29)
echo "# kernel $(uname -r)"

# sched SRC STEP...: one python process on S sends echo requests from SRC at set times (STEP is
# MS:DST:TTL, milliseconds after the start) and prints, for each, the ICMP error or reply that came back
# within 1.5 s (matched by the echo sequence its quote carries), so the gaps are the kernel's, not the
# shell's (a program started in a namespace takes tens to hundreds of ms here).
sched(){ x $S python3 - "$@" <<'EOF2'
import socket, struct, sys, time, select
src, steps = sys.argv[1], [a.split(':') for a in sys.argv[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.bind((src, 0))
def ck(b):
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16; return ~t & 0xffff
names = {(3, 0): 'net unreachable', (3, 1): 'host unreachable', (11, 0): 'time exceeded', (0, 0): 'echo reply'}
got, t0, ident = {}, time.monotonic(), 0x3535
def take(until):
    while True:
        left = until - time.monotonic()
        if left <= 0: return
        if not select.select([s], [], [], left)[0]: return
        d, a = s.recvfrom(2048)
        ihl = (d[0] & 15) * 4; t, c = d[ihl], d[ihl + 1]
        if t == 0: seq = struct.unpack('!H', d[ihl + 6:ihl + 8])[0]
        else: q = d[ihl + 8:]; qh = (q[0] & 15) * 4; seq = struct.unpack('!H', q[qh + 6:qh + 8])[0]
        got.setdefault(seq, '%s from %s' % (names.get((t, c), '%d/%d' % (t, c)), a[0]))
for i, (ms, dst, ttl) in enumerate(steps):
    take(t0 + int(ms) / 1000)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(ttl))
    h = struct.pack('!BBHHH', 8, 0, 0, ident, i) + b'podnet35'
    s.sendto(h[:2] + struct.pack('!H', ck(h)) + h[4:], (dst, 0))
take(time.monotonic() + 1.5)
for i, (ms, dst, ttl) in enumerate(steps): print('  +%s ms to %s ttl %s: %s' % (ms, dst, ttl, got.get(i, 'nothing')))
EOF2
}
# count TITLE KIND SRC DST N [extra]: a burst from S, then what R's counters moved by
count(){
  local title=$1; shift
  local a b; a=$(counters $R); burst "$@"; sleep 0.2; b=$(counters $R)
  echo "$title: sent $4: $(delta "$a" "$b")"
}
# trace SRC: traceroute as the kernel oracle runs it, to 10.9.9.9 (unrouted at R, its first hop), one line
trace(){ x $S traceroute -n -q 1 -w 1 -m 8 -s "$1" 10.9.9.9 | tail -n +2 | tr -s ' ' | tr '\n' ' '; }
U=10.9.9.9; T=10.0.1.2
for rl in 1000 0; do
  x $R sysctl -qw net.ipv4.icmp_ratelimit=$rl net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
  echo "## in R: $(x $R sysctl net.ipv4.icmp_ratelimit net.ipv4.icmp_msgs_per_sec | tr '\n' ' ')"
  [ $rl = 1000 ] && o=10 || o=20
  echo "### (k) 20 echo requests to $U (unrouted at R: ip_error), back to back"
  count "after 0s" ping 10.0.0.$o $U 20
  echo "### (l) echo requests to $U, one source, at 0, 10, 500, 1010, 1020, 2100 ms"
  sched 10.0.0.$((o + 1)) 0:$U:64 10:$U:64 500:$U:64 1010:$U:64 1020:$U:64 2100:$U:64
  echo "### (m) a TTL-1 echo request through R (time exceeded) at 0; echo requests to $U at 20, 600, 1100 ms"
  sched 10.0.0.$((o + 2)) 0:$T:1 20:$U:64 600:$U:64 1100:$U:64
  echo "### (n) one to $U at 0 (a fresh bucket: 5 s of tokens, 4 left); TTL-1 through R at 20; to $U at 40, 1100"
  sched 10.0.0.$((o + 3)) 0:$U:64 20:$T:1 40:$U:64 1100:$U:64
  echo "### (o) traceroute to $U (its 8 probes all meet R's ip_error), R's counters; then at once another"
  a=$(counters $R); echo "traceroute: $(trace 10.0.0.$((o + 4)))"; b=$(counters $R); echo "  R: $(delta "$a" "$b")"
  a=$(counters $R); echo "traceroute: $(trace 10.0.0.$((o + 4)))"; b=$(counters $R); echo "  R: $(delta "$a" "$b")"
  echo "### (p) two traceroutes to $U from one source, side by side; 1.1 s later one more"
  a=$(counters $R); trace 10.0.0.$((o + 5)) >/tmp/or35-$$-p1 & trace 10.0.0.$((o + 5)) >/tmp/or35-$$-p2; wait
  b=$(counters $R); echo "traceroute: $(cat /tmp/or35-$$-p1)"; echo "traceroute: $(cat /tmp/or35-$$-p2)"; echo "  R: $(delta "$a" "$b")"
  rm -f /tmp/or35-$$-p1 /tmp/or35-$$-p2; sleep 1.1
  a=$(counters $R); echo "1.1 s later: $(trace 10.0.0.$((o + 5)))"; b=$(counters $R); echo "  R: $(delta "$a" "$b")"
  sleep 7
done
