#!/bin/bash
# Measures which packets the kernel's IPv4 input drops as martians (net/ipv4/route.c ip_route_input_slow:
# martian_source / martian_destination, and fib_validate_source), in what order the checks run, what counts
# them, what log_martians writes and what route_localnet changes; then what the sending side does with a
# martian destination or source. Output: ../core/src/__fixtures__/martian-formats.txt, pinned by
# packages/core/src/dataplane/martian.test.ts.
#
# Run as root: bash martian-formats.sh > ../../core/src/__fixtures__/martian-formats.txt
# Everything lives in namespaces named mt36-<pid>-*, deleted on exit (also on failure); the
# root namespace is not touched, no module is loaded, and traffic stays in those namespaces. dmesg is only
# read (the lines with "martian" that appeared during a case).
#
#   A 10.0.0.2/24 ── eth0 R 10.0.0.1/24 | eth1 10.0.1.1/24 ── B 10.0.1.2/24
#   A: default via R. B: default via R. R forwards, rp_filter 0, no default route.
# Each case is one ICMP echo request that A writes as a whole Ethernet frame (AF_PACKET) to R's eth0 MAC, so
# any source and destination reach R's IPv4 input as they are. Per case the script prints what moved in R's
# and B's counters (/proc/net/snmp and /proc/net/netstat, per namespace), the echo replies and ICMP errors A
# received, R's eth0 rx_dropped, and the martian lines dmesg gained.
set -u
P=mt36-$$-
A=${P}a; R=${P}r; B=${P}b
ALL="$A $R $B"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
x(){ ip netns exec "$1" "${@:2}"; }
. "$(dirname "$0")/snmp-counters.sh"
for n in $ALL; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
ip -n $A link add eth0 type veth peer name eth0 netns $R
ip -n $R link add eth1 type veth peer name eth0 netns $B
for n in $ALL; do ip -n $n link set eth0 up; done; ip -n $R link set eth1 up
ip -n $A addr add 10.0.0.2/24 dev eth0
ip -n $R addr add 10.0.0.1/24 dev eth0; ip -n $R addr add 10.0.1.1/24 dev eth1
ip -n $B addr add 10.0.1.2/24 dev eth0
ip -n $A route add default via 10.0.0.1; ip -n $B route add default via 10.0.1.1
x $R sysctl -qw net.ipv4.ip_forward=1
for n in $ALL; do x $n sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0; done
sleep 1
x $A ping -c1 -W1 10.0.1.2 >/dev/null || { echo "setup: A cannot reach B"; exit 1; }
RMAC=$(ip -n $R -br link show eth0 | awk '{print $3}')

# counters NS: the counters of NS that matter here, NAME=VALUE
counters(){ snmp_counters "$1" InReceives InDelivers ForwDatagrams InAddrErrors InHdrErrors InNoRoutes InDiscards \
  IPReversePathFilter OutMsgs OutDestUnreachs OutEchoReps InEchoReps InDestUnreachs InBcastPkts InEchos OutRequests; }
rxdrop(){ x "$1" cat /sys/class/net/$2/statistics/rx_dropped; }
delta(){ snmp_delta "$@"; }
# frame SRC DST: one ICMP echo request, TTL 64, in an Ethernet frame from A's eth0 to R's eth0
frame(){ x $A python3 - "$1" "$2" "$RMAC" <<'EOF'
import socket, struct, sys
src, dst, mac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(':', ''))
def ck(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16; return ~t & 0xffff
icmp = struct.pack('!BBHHH', 8, 0, 0, 0x3636, 1) + b'martian!'
icmp = icmp[:2] + struct.pack('!H', ck(icmp)) + icmp[4:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0x3636, 0, 64, 1, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack('!H', ck(ip)) + ip[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
me = open('/sys/class/net/eth0/address').read().strip()
s.send(mac + bytes.fromhex(me.replace(':', '')) + b'\x08\x00' + ip + icmp)
EOF
}
# case SRC DST: send, then print what R, B and A counted and what dmesg gained
case_(){
  local r0 b0 a0 d0 m0 r1 b1 a1 d1
  m0=$(dmesg | tail -1 | sed -E 's/^\[ *([0-9.]+)\].*/\1/'); r0=$(counters $R); b0=$(counters $B); a0=$(counters $A); d0=$(rxdrop $R eth0)
  frame "$1" "$2"; sleep 0.3
  r1=$(counters $R); b1=$(counters $B); a1=$(counters $A); d1=$(rxdrop $R eth0)
  echo "case src=$1 dst=$2"
  echo "  R: $(delta "$r0" "$r1") rx_dropped+$((d1 - d0))"
  echo "  B: $(delta "$b0" "$b1")"
  echo "  A: $(delta "$a0" "$a1")"
  # the ring buffer is full (its line count stays put): the lines stamped after the last one before the case
  dmesg | awk -v t="$m0" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) } s + 0 > t + 0' | grep -E 'martian|ll header' | sed -E 's/^\[[ 0-9.]+\] /  log: /'
}

echo "# kernel $(uname -r)"
echo "# R: eth0 10.0.0.1/24 (from A 10.0.0.2), eth1 10.0.1.1/24 (to B 10.0.1.2); ip_forward 1, rp_filter 0"
echo "# each case: one ICMP echo request frame from A to R's eth0 MAC; what moved after it"
echo "### (a) log_martians 0, route_localnet 0: sources, to R itself"
for s in 10.0.0.2 127.0.0.1 127.0.0.5 224.0.0.5 255.255.255.255 0.0.0.0 0.1.2.3 10.0.0.1 10.0.1.1 240.0.0.1; do case_ $s 10.0.0.1; done
echo "### (b) sources, forwarded to B"
for s in 10.0.0.2 127.0.0.5 0.0.0.0 224.0.0.5 10.0.1.1 10.0.0.1; do case_ $s 10.0.1.2; done
echo "### (c) destinations, and which check comes first"
case_ 10.0.0.2 0.0.0.5
case_ 10.0.0.2 0.0.0.0
case_ 0.0.0.0 0.0.0.0
case_ 10.0.0.2 127.0.0.1
case_ 10.0.0.2 127.0.0.5
case_ 10.0.0.2 255.255.255.255
case_ 0.0.0.0 255.255.255.255
case_ 10.0.0.2 10.0.0.255
case_ 127.0.0.1 0.0.0.5
case_ 0.0.0.1 127.0.0.1
case_ 127.0.0.1 127.0.0.1
case_ 224.0.0.5 255.255.255.255
case_ 255.255.255.255 0.0.0.5
case_ 10.0.0.2 224.0.0.5
echo "### (d) log_martians 1 on R (all)"
x $R sysctl -qw net.ipv4.conf.all.log_martians=1
case_ 127.0.0.1 10.0.0.1
case_ 10.0.0.2 0.0.0.5
case_ 10.0.0.2 127.0.0.1
case_ 10.0.0.1 10.0.1.2
echo "### (e) rp_filter 1 on R (all), log_martians 1: B's source arriving from A's side"
x $R sysctl -qw net.ipv4.conf.all.rp_filter=1
case_ 10.0.1.2 10.0.0.1
case_ 10.0.1.2 10.0.1.1
case_ 10.0.9.9 10.0.1.2
x $R sysctl -qw net.ipv4.conf.all.rp_filter=0
x $R sysctl -qw net.ipv4.conf.all.log_martians=0
# with KEY SRC DST [SRC DST ...]: the cases with R's KEY at 1, then KEY back to 0
with(){
  local k=$1; shift
  x $R sysctl -qw "$k=1"
  while [ $# -gt 1 ]; do case_ "$1" "$2"; shift 2; done
  x $R sysctl -qw "$k=0"
}
echo "### (f) log_martians 1 on R's eth0 only"
with net.ipv4.conf.eth0.log_martians 127.0.0.1 10.0.0.1
echo "### (g) route_localnet 1 on R's eth0"
# R's neighbour entry for B fresh first: else R would ARP for B from 127.0.0.5 (the forwarded packet's
# source, local to R), which B refuses, and 127.0.0.5 -> B would end at R for want of B's MAC.
x $R ping -c 1 -W 1 10.0.1.2 >/dev/null
with net.ipv4.conf.eth0.route_localnet 10.0.0.2 127.0.0.1 10.0.0.2 127.0.0.5 127.0.0.5 10.0.0.1 127.0.0.1 10.0.0.1 127.0.0.5 10.0.1.2
echo "### (h) route_localnet 1 on R's all"
with net.ipv4.conf.all.route_localnet 10.0.0.2 127.0.0.1 127.0.0.5 10.0.0.1
echo "### (i) the sending side, in A: the command's output, what left A's eth0, what R counted"
# sent CMD...: run CMD in A while tcpdump watches A's eth0
sent(){
  local r0 out="/tmp/${P}dump"
  if [ "$1" = python3 ]; then echo "\$ $LABEL"; else echo "\$ $*"; fi
  x $A timeout 3 tcpdump -l -n -i eth0 -c 1 ip 2>/dev/null > "$out" & sleep 0.5
  r0=$(counters $R)
  x $A "$@" 2>&1 | grep -vE '^$|^---|^rtt' | sed 's/^/  /'; echo "  exit ${PIPESTATUS[0]}"
  sleep 0.3; echo "  R: $(delta "$r0" "$(counters $R)")"; wait
  if grep -q . "$out"; then sed -E 's/^[0-9:.]+ /  on A eth0: /' "$out"; else echo "  on A eth0: nothing"; fi; rm -f "$out"
}
sent ping -c 1 -W 1 0.0.0.5
sent ping -c 1 -W 1 0.0.0.0
sent ping -c 1 -W 1 127.0.0.5
sent ping -c 1 -W 1 -I 127.0.0.1 10.0.1.2
LABEL="a UDP socket bound to 127.0.0.1 sends to 10.0.1.2:9" sent python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))
try: s.sendto(b'x', ('10.0.1.2', 9)); print('sent')
except OSError as e: print('udp bound to 127.0.0.1, sendto 10.0.1.2:9: error', e.errno, e.strerror)"
LABEL="a UDP socket sends to 0.0.0.5:9" sent python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try: s.sendto(b'x', ('0.0.0.5', 9)); print('udp sendto 0.0.0.5:9: sent')
except OSError as e: print('udp sendto 0.0.0.5:9: error', e.errno, e.strerror)"
