# The two-router-port lab of icmp-ratelimit.sh and icmp-ratelimit-zero.sh, and their helpers. Source it with $P
# set, then call icmp_lab_build.
#
#   S 10.0.0.2/24 (and the extra sources) ── eth0 R 10.0.0.1 | eth1 10.0.1.1/24 ── F 10.0.1.2/24
#   S: default via R. R forwards; it has no default route (10.9.9.9 is unrouted at R). F: default via R.
# Everything lives in namespaces named $P{s,r,f}, deleted on exit (also on failure).

x(){ ip netns exec "$1" "${@:2}"; }

# icmp_lab_build MTU SRC...: the three namespaces, the R–F link at MTU (its default when empty), S with
# 10.0.0.2 and 10.0.0.SRC for each SRC; exits when S cannot reach F.
icmp_lab_build(){
  local mtu=$1 n i; shift
  S=${P}s; R=${P}r; F=${P}f
  ALL="$S $R $F"
  cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
  trap cleanup EXIT INT TERM
  for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  ip -n $S link add eth0 type veth peer name eth0 netns $R
  ip -n $R link add eth1 ${mtu:+mtu $mtu} type veth peer name eth0 netns $F
  [ -n "$mtu" ] && ip -n $F link set eth0 mtu $mtu
  for n in $S $R $F; do ip -n $n link set eth0 up; done; ip -n $R link set eth1 up
  ip -n $S addr add 10.0.0.2/24 dev eth0
  for i in "$@"; do ip -n $S addr add 10.0.0.$i/24 dev eth0; done
  ip -n $R addr add 10.0.0.1/24 dev eth0; ip -n $R addr add 10.0.1.1/24 dev eth1
  ip -n $F addr add 10.0.1.2/24 dev eth0
  ip -n $S route add default via 10.0.0.1; ip -n $F route add default via 10.0.1.1
  x $R sysctl -qw net.ipv4.ip_forward=1
  sleep 1
  x $S ping -c1 -W1 10.0.1.2 >/dev/null || { echo "setup: S cannot reach F"; exit 1; }
}

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
