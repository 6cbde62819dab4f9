#!/bin/bash
# Measures what net.ipv4.conf.default.X does for the per-device IPv4 settings podnet models — route_localnet,
# log_martians, accept_local, and for comparison forwarding, rp_filter, proxy_arp: which devices a write of
# default reaches (the ones that exist, with and without an IPv4 address, lo; the ones made afterwards), and
# whether a device made after a write takes later writes (inetdev_init copies default's values and its
# "set" bits); then what `all` does with the device's own value (OR, AND, max) for the three switches, by
# behaviour: one ICMP echo request frame per case into R's eth0, as martian-formats.sh sends them.
# Output: ../../core/src/__fixtures__/conf-default-formats.txt, pinned by
# packages/core/src/dataplane/conf-default.test.ts.
#
# Run as root: bash conf-default-formats.sh > ../../core/src/__fixtures__/conf-default-formats.txt
# Everything lives in namespaces named p37c-<pid>-*, deleted on exit (also on failure); the root namespace's
# interfaces, addresses, routes and sysctls are not touched, no module is loaded (veth only), and traffic
# stays in those namespaces. dmesg is only read (the martian lines that name this run's addresses).
#
#   cases a–c:  S: d1 (no address), d2 192.0.2.1/24, later d3 — veths whose peers live in P
#   cases d–g:  A 10.37.0.2/24 ── eth0 R 10.37.0.1/24 | eth1 10.37.1.1/24 ── B 10.37.1.2/24
set -u
P=p37c-$$-
S=${P}s; PEER=${P}p; A=${P}a; R=${P}r; B=${P}b
ALL="$S $PEER $A $R $B"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
x(){ ip netns exec "$1" "${@:2}"; }
. "$(dirname "$0")/snmp-counters.sh"
NAMES="route_localnet log_martians accept_local forwarding rp_filter proxy_arp"

fresh_s(){
  cleanup
  ip netns add $S || exit 1; ip netns add $PEER || exit 1
  ip -n $S link set lo up
  ip -n $S link add d1 type veth peer name e1 netns $PEER
  ip -n $S link add d2 type veth peer name e2 netns $PEER
  ip -n $S addr add 192.0.2.1/24 dev d2
}
# show SCOPE...: every name for each scope, one line a scope
show(){ local sc n line; for sc in "$@"; do line="$sc:"; for n in $NAMES; do line="$line $n=$(x $S cat /proc/sys/net/ipv4/conf/$sc/$n)"; done; echo "  $line"; done; }
w(){ echo "== sysctl -w $*"; x $S sysctl -q -w "$@" 2>&1; }
wall(){ local n a=""; for n in $NAMES; do a="$a net.ipv4.conf.$1.$n=$2"; done; w $a; }

echo "# kernel $(uname -r)"
echo "### (a) a new namespace: all, default, lo, d1 (no IPv4 address), d2 (192.0.2.1/24)"
fresh_s
show all default lo d1 d2
echo "### (b) default=3 for every name: which existing devices take it; then d3 made after"
wall default 3
show all default lo d1 d2
echo "== ip link add d3 type veth peer name e3 netns P"; ip -n $S link add d3 type veth peer name e3 netns $PEER
show d3
echo "### (c) default=4 again: d1 (took 3 by the copy), d3 (made after the write), d1 after its own 0; d4 made after, d3 made again"
wall default 4
show default d1 d3
wall d1 0
wall default 5
show default d1 d3
echo "== ip link add d4 type veth peer name e4 netns P"; ip -n $S link add d4 type veth peer name e4 netns $PEER
show d4
echo "== ip link del d3"; ip -n $S link del d3
echo "== ip link add d3 type veth peer name e3 netns P"; ip -n $S link add d3 type veth peer name e3 netns $PEER
show d3

# ---- what the values mean: frames into R's eth0 ---------------------------------------------------------
# fresh_net [SYSCTL...]: A, R, B wired; the sysctls written in R before its devices are made
fresh_net(){
  cleanup
  for n in $A $R $B; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  [ $# -gt 0 ] && { echo "== R, before its devices exist: sysctl -w $*"; x $R sysctl -q -w "$@"; }
  ip -n $A link add eth0 type veth peer name eth0 netns $R
  ip -n $R link add eth1 type veth peer name eth0 netns $B
  for n in $A $R $B; do ip -n $n link set eth0 up; done; ip -n $R link set eth1 up
  ip -n $A addr add 10.37.0.2/24 dev eth0
  ip -n $R addr add 10.37.0.1/24 dev eth0; ip -n $R addr add 10.37.1.1/24 dev eth1
  ip -n $B addr add 10.37.1.2/24 dev eth0
  ip -n $A route add default via 10.37.0.1; ip -n $B route add default via 10.37.1.1
  x $R sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
  sleep 1
  x $A ping -c1 -W1 10.37.1.2 >/dev/null || { echo "setup: A cannot reach B"; exit 1; }
  x $R ping -c1 -W1 10.37.1.2 >/dev/null
  RMAC=$(ip -n $R -br link show eth0 | awk '{print $3}')
}
frame(){ x $A python3 - "$1" "$2" "$RMAC" <<'EOF'
import socket, struct, sys
src, dst, mac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(':', ''))
def ck(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16; return ~t & 0xffff
icmp = struct.pack('!BBHHH', 8, 0, 0, 0x3737, 1) + b'conf-dflt'
icmp = icmp[:2] + struct.pack('!H', ck(icmp)) + icmp[4:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0x3737, 0, 64, 1, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack('!H', ck(ip)) + ip[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
me = open('/sys/class/net/eth0/address').read().strip()
s.send(mac + bytes.fromhex(me.replace(':', '')) + b'\x08\x00' + ip + icmp)
EOF
}
# case_ SRC DST: one frame; what R and B counted, and the martian lines of dmesg that name 10.37.x.x
case_(){
  local r0 b0 m0
  m0=$(dmesg | tail -1 | sed -E 's/^\[ *([0-9.]+)\].*/\1/'); r0=$(snmp_counters $R InReceives InDelivers InEchos); b0=$(snmp_counters $B InReceives)
  frame "$1" "$2"; sleep 0.3
  echo "case src=$1 dst=$2: R $(snmp_delta "$r0" "$(snmp_counters $R InReceives InDelivers InEchos)"); B $(snmp_delta "$b0" "$(snmp_counters $B InReceives)")"
  dmesg | awk -v t="$m0" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s) } s + 0 > t + 0' | grep -E 'martian .*10\.37\.' | sed -E 's/^\[[ 0-9.]+\] /  log: /'
}
# pair NAME ALL DEV SRC DST: R's all.NAME and eth0.NAME written, as read back, then the case
pair(){
  x $R sysctl -qw net.ipv4.conf.all.$1=$2 net.ipv4.conf.eth0.$1=$3
  echo "== R: all.$1=$(x $R cat /proc/sys/net/ipv4/conf/all/$1) eth0.$1=$(x $R cat /proc/sys/net/ipv4/conf/eth0/$1)"
  case_ "$4" "$5"
}

echo "### (d) route_localnet: all and eth0 (a 127/8 destination to R, a 127/8 source forwarded to B)"
fresh_net
for p in "0 0" "1 0" "0 1" "1 1" "0 5" "-1 0" "0 0"; do set -- $p; pair route_localnet $1 $2 10.37.0.2 127.0.0.5; done
for p in "0 0" "1 0" "0 1"; do set -- $p; pair route_localnet $1 $2 127.0.0.5 10.37.1.2; done
x $R sysctl -qw net.ipv4.conf.all.route_localnet=0 net.ipv4.conf.eth0.route_localnet=0
echo "### (e) accept_local: all and eth0 (R's own 10.37.1.1 as the source, to R and forwarded to B)"
for p in "0 0" "1 0" "0 1" "1 1" "0 5" "0 0"; do set -- $p; pair accept_local $1 $2 10.37.1.1 10.37.0.1; done
for p in "0 0" "1 0" "0 1"; do set -- $p; pair accept_local $1 $2 10.37.1.1 10.37.1.2; done
x $R sysctl -qw net.ipv4.conf.all.accept_local=0 net.ipv4.conf.eth0.accept_local=0
echo "### (f) log_martians: all and eth0 (a 127.0.0.1 source to R, a martian source)"
for p in "0 0" "1 0" "0 1" "1 1" "0 5" "0 0"; do set -- $p; sleep 1; pair log_martians $1 $2 127.0.0.1 10.37.0.1; done
echo "### (g) default=1 for the three in R before eth0 and eth1 are made, all 0: what eth0 reads and does"
fresh_net net.ipv4.conf.default.route_localnet=1 net.ipv4.conf.default.accept_local=1 net.ipv4.conf.default.log_martians=1
for n in route_localnet accept_local log_martians; do echo "== R: all.$n=$(x $R cat /proc/sys/net/ipv4/conf/all/$n) default.$n=$(x $R cat /proc/sys/net/ipv4/conf/default/$n) eth0.$n=$(x $R cat /proc/sys/net/ipv4/conf/eth0/$n) lo.$n=$(x $R cat /proc/sys/net/ipv4/conf/lo/$n)"; done
case_ 10.37.0.2 127.0.0.5
case_ 10.37.1.1 10.37.0.1
sleep 1
case_ 224.0.0.5 10.37.0.1
echo "== R: sysctl -w net.ipv4.conf.default.{route_localnet,accept_local,log_martians}=0 (eth0 exists)"
x $R sysctl -qw net.ipv4.conf.default.route_localnet=0 net.ipv4.conf.default.accept_local=0 net.ipv4.conf.default.log_martians=0
for n in route_localnet accept_local log_martians; do echo "== R: eth0.$n=$(x $R cat /proc/sys/net/ipv4/conf/eth0/$n)"; done
case_ 10.37.0.2 127.0.0.5
