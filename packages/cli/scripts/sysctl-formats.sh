#!/bin/bash
# Records what `sysctl` (procps-ng) and the kernel do with the keys podnet models: reads of every key for
# conf.all, conf.default and a device, writes of odd values (2, -1, hex, octal, out of range, garbage), what
# conf.default and ip_forward do to the devices, the options (-n -q -e -N -a, bad ones, none), missing keys
# and the exit statuses; then what odd values MEAN for forwarding, measured with ping through a router:
# forwarding (ip_forward 2, -1; per device), rp_filter (5, -1; max(all, dev)) and proxy_arp (7, -1; all OR dev).
# Output: src/__fixtures__/sysctl-formats.txt, replayed by src/sysctl.test.ts (cases a–e) and pinned in
# packages/core/src/dataplane/sysctl-meaning.test.ts (cases f–h).
#
# Run as root. Everything lives in namespaces named sy36-<pid>-*, deleted on exit (also on failure); the
# root namespace's interfaces, addresses and routes are not touched, and traffic stays among A, R and B.
#
#   cases a–e:  S: d1 ── veth ── P            (S is where sysctl runs; P only holds d1's peer)
#   cases f–h:  A: a1 10.1.0.1/24 ── r1 10.1.0.2/24 :R: r2 10.2.0.2/24 ── b2 10.2.0.1/24 :B
set -u
P=sy36-$$-
S=${P}s; PEER=${P}p; A=${P}a; R=${P}r; B=${P}b
ALL="$S $PEER $A $R $B"
cleanup(){ for n in $ALL; do ip netns del "$n" 2>/dev/null; done; rm -f "/tmp/$P.conf"; }
trap cleanup EXIT INT TERM

# The sysctl keys podnet models, as `sysctl -a | grep -E` picks them (proxy_arp_pvlan, ip_forward_use_pmtu… left out).
PICK='^net\.ipv4\.(ip_forward|icmp_ratelimit|icmp_ratemask|conf\.[^.]+\.(forwarding|rp_filter|proxy_arp|send_redirects|accept_redirects|promote_secondaries)) |^net\.bridge\.bridge-nf-call-iptables '

fresh_s(){ # a new S with veth d1 (peer in P), IPv6 off so that `sysctl -a` lists fewer keys
  cleanup
  ip netns add $S || exit 1; ip netns add $PEER || exit 1
  ip -n $S link set lo up
  ip -n $S link add d1 type veth peer name e1 netns $PEER
  ip -n $S link set d1 up
}
# `CMD` in S, echoed with its exit status; stderr goes with stdout (stderr first: sysctl does not buffer it).
run(){ echo "== $*"; ip netns exec $S "$@" 2>&1; echo "rc=$?"; }
# `sysctl -a` in S, filtered to PICK.
all(){ echo "== sysctl -a $* | grep -E PICK"; ip netns exec $S sysctl -a "$@" 2>/dev/null | grep -E "$PICK"; echo "rc=${PIPESTATUS[0]}"; }
KEYS="forwarding rp_filter proxy_arp send_redirects accept_redirects promote_secondaries"
conf(){ local k ks=""; for k in $KEYS; do ks="$ks net.ipv4.conf.$1.$k"; done; run sysctl $ks; }

echo "# kernel $(uname -r), $(sysctl --version)"
echo "### (a) reads: every key podnet models, for all, default and a device, as a new namespace has them"
fresh_s
run sysctl net.ipv4.ip_forward net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask net.bridge.bridge-nf-call-iptables
conf all; conf default; conf d1
run sysctl net/ipv4/conf/d1/rp_filter
run sysctl -n net.ipv4.ip_forward net.ipv4.conf.d1.rp_filter
run sysctl -N net.ipv4.ip_forward net.ipv4.conf.d1.rp_filter
all
all -n

echo "### (b) writes of odd values: what the kernel takes (proc_dointvec: any int, base 0) and what it reads back"
fresh_s
for v in 2 -1 0x10 010 +4 abc 1x 2147483647 2147483648 -2147483648 -2147483649 ''; do
  run sysctl -w net.ipv4.ip_forward=$v
  run sysctl net.ipv4.ip_forward
done
run sysctl net.ipv4.ip_forward=1
for k in all.rp_filter d1.rp_filter all.proxy_arp d1.proxy_arp all.send_redirects d1.accept_redirects all.promote_secondaries d1.promote_secondaries default.promote_secondaries; do
  for v in 5 -1 1x; do run sysctl -w net.ipv4.conf.$k=$v; done
  run sysctl net.ipv4.conf.$k
done
for v in -5 2147483647 99999999999 0x10; do run sysctl -w net.ipv4.icmp_ratelimit=$v; run sysctl net.ipv4.icmp_ratelimit; done
for v in -5 0x10 99999999999; do run sysctl -w net.ipv4.icmp_ratemask=$v; run sysctl net.ipv4.icmp_ratemask; done
for v in 5 -1 x; do run sysctl -w net.bridge.bridge-nf-call-iptables=$v; run sysctl net.bridge.bridge-nf-call-iptables; done
all

echo "### (c) conf.default and ip_forward: which devices they reach"
fresh_s
run sysctl -w net.ipv4.conf.default.rp_filter=2
run sysctl net.ipv4.conf.d1.rp_filter net.ipv4.conf.lo.rp_filter net.ipv4.conf.all.rp_filter
run sysctl -w net.ipv4.conf.d1.rp_filter=1 net.ipv4.conf.default.rp_filter=0
run sysctl net.ipv4.conf.d1.rp_filter net.ipv4.conf.lo.rp_filter
run sysctl -w net.ipv4.conf.default.proxy_arp=3 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.default.accept_redirects=0 net.ipv4.conf.default.promote_secondaries=1
conf d1
run sysctl -w net.ipv4.conf.default.forwarding=3
run sysctl net.ipv4.conf.d1.forwarding net.ipv4.ip_forward net.ipv4.conf.default.forwarding
run sysctl -w net.ipv4.conf.d1.forwarding=4
run sysctl net.ipv4.conf.d1.forwarding net.ipv4.ip_forward net.ipv4.conf.lo.forwarding
run ip link add d2 type veth peer name e2
conf d2
run sysctl -w net.ipv4.ip_forward=5
run sysctl net.ipv4.conf.d1.forwarding net.ipv4.conf.d2.forwarding net.ipv4.conf.default.forwarding net.ipv4.conf.all.forwarding net.ipv4.conf.all.accept_redirects net.ipv4.conf.d1.accept_redirects
run sysctl -w net.ipv4.conf.all.forwarding=0
run sysctl net.ipv4.conf.d1.forwarding net.ipv4.conf.d2.forwarding net.ipv4.conf.default.forwarding net.ipv4.ip_forward net.ipv4.conf.all.accept_redirects
run ip link del d2
run sysctl net.ipv4.conf.d2.forwarding
run sysctl -w net.ipv4.conf.d2.forwarding=1
run sysctl -w net.ipv4.conf.nope.rp_filter=1

echo "### (d) options, bad input, missing keys and exit statuses"
fresh_s
run sysctl -q -w net.ipv4.ip_forward=1
run sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.d1.rp_filter=x
run sysctl nope.key
run sysctl nope.a net.ipv4.ip_forward nope.b nope.c
run sysctl -n nope.x net.ipv4.ip_forward
run sysctl -q nope.key
run sysctl -e nope.key net.ipv4.ip_forward
run sysctl -w nope.key=1
run sysctl -w nope.a=1 nope.b=2
run sysctl -e -w nope.key=1 net.ipv4.ip_forward=0
run sysctl -w net.ipv4.ip_forward=abc net.ipv4.conf.all.rp_filter=q
run sysctl -w nope.key=1 net.ipv4.ip_forward=abc
run sysctl -w x
run sysctl -w bridge
run sysctl -w net.ipv4.ip_forward
run sysctl bridge -w net.ipv4.ip_forward=1
run sysctl -w net.ipv4.ip_forward=0 x.y
run sysctl net.ipv4.ip_forward=0
run sysctl
run sysctl -z
run sysctl --bogus
run sysctl -x net.ipv4.ip_forward
run sysctl -p /nonexistent/sysctl.conf
run sysctl -p /etc
# A file of settings: comments, a blank line, a good one, garbage, unknown keys ("-" before one), a bad value.
CONF=/tmp/$P.conf
printf '# comment\n; comment\n\nnet.ipv4.ip_forward = 2\nbogus line\n-nope.key = 1\nnope.key2=1\n net.ipv4.conf.all.rp_filter=abc\nx\n' > $CONF
for o in "" -q -e; do echo "== sysctl $o -p FILE"; ip netns exec $S sysctl $o -p $CONF 2>&1 | sed "s|$CONF|FILE|"; echo "rc=${PIPESTATUS[0]}"; done
rm -f $CONF

echo "### (e) the kernel's own table: which names exist"
fresh_s
run sysctl net.ipv4.conf.d1.forwarding net.ipv4.conf.lo.forwarding net.ipv4.conf.e1.forwarding
run sysctl net.ipv4.conf.all.ip_forward
run sysctl net.ipv4.forwarding
# conf.default reaches a device that never had an IPv4 address (devinet_copy_dflt_conf skips a device whose
# state bits are set; adding an address sets them all, ipv4_devconf_setall); lo has 127.0.0.1.
run ip addr add 192.0.2.1/24 dev d1
run sysctl -w net.ipv4.conf.default.rp_filter=2 net.ipv4.conf.default.proxy_arp=1
run sysctl net.ipv4.conf.d1.rp_filter net.ipv4.conf.d1.proxy_arp net.ipv4.conf.lo.rp_filter
# Which stream the usage goes to: none of it to stdout without arguments, all of it with a bad option.
echo "== sysctl 2>/dev/null"; ip netns exec $S sysctl 2>/dev/null; echo "rc=$?"
echo "== sysctl -z 2>/dev/null | head -3"; ip netns exec $S sysctl -z 2>/dev/null | head -3; echo "rc=${PIPESTATUS[0]}"

# ---- what the values mean: ping through R -------------------------------------------------------
fresh_net(){
  cleanup
  for n in $A $R $B; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
  for n in $A $R $B; do ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
  ip -n $A link add a1 type veth peer name r1 netns $R
  ip -n $B link add b2 type veth peer name r2 netns $R
  ip -n $A addr add 10.1.0.1/24 dev a1; ip -n $A link set a1 up
  ip -n $R addr add 10.1.0.2/24 dev r1; ip -n $R link set r1 up
  ip -n $R addr add 10.2.0.2/24 dev r2; ip -n $R link set r2 up
  ip -n $B addr add 10.2.0.1/24 dev b2; ip -n $B link set b2 up
  ip -n $A route add default via 10.1.0.2
  ip -n $B route add default via 10.2.0.2
  ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
  ping_ab >/dev/null 2>&1  # neighbours resolved before the cases (ping_ab below may run with forwarding off)
}
ping_ab(){ ip netns exec $A ping -c 1 -W 1 ${1:+-I $1} 10.2.0.1 >/dev/null 2>&1; }
echoes(){ ip netns exec $B awk '$1=="Icmp:" { if (n) { print $c; exit } for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; n = 1 }' /proc/net/snmp; }
# `sysctl -w` in R; then one ping A → B: its exit status and how many echo requests reached B.
case_(){
  local before after rc
  echo "== R: sysctl -w $*${SRC:+; A: ping -I $SRC}"
  ip netns exec $R sysctl -q -w "$@" || echo "(sysctl failed)"
  before=$(echoes); ping_ab "${SRC:-}"; rc=$?; after=$(echoes)
  echo "request reached B: $((after - before))"
  echo "rc=$rc"
}

echo "### (f) forwarding: any non-zero value forwards; the device the packet came in by decides (IN_DEV_FORWARD)"
fresh_net
for v in 0 1 2 -1 0x10; do case_ net.ipv4.ip_forward=$v; done
case_ net.ipv4.ip_forward=1 net.ipv4.conf.r1.forwarding=0
# Writing the value ip_forward already has changes nothing (devinet_sysctl_forward acts only on a change):
# r1 stays 0.
case_ net.ipv4.ip_forward=1
echo "== R: sysctl net.ipv4.conf.r1.forwarding"; ip netns exec $R sysctl net.ipv4.conf.r1.forwarding; echo "rc=$?"
case_ net.ipv4.ip_forward=0 net.ipv4.ip_forward=1 net.ipv4.conf.r2.forwarding=0
case_ net.ipv4.ip_forward=0 net.ipv4.conf.r1.forwarding=1 net.ipv4.conf.r2.forwarding=1
case_ net.ipv4.ip_forward=0 net.ipv4.conf.r1.forwarding=7 net.ipv4.conf.r2.forwarding=-1
case_ net.ipv4.ip_forward=1 net.ipv4.conf.default.forwarding=0

echo "### (g) rp_filter: max(all, r1) decides; 1 is strict, any other non-zero value loose"
# A sends from 10.9.0.1, which R routes back out of r2 (strict fails, loose passes); then with no route back.
fresh_net
ip -n $A addr add 10.9.0.1/32 dev a1
ip -n $R route add 10.9.0.0/24 via 10.2.0.1 dev r2
SRC=10.9.0.1
for p in "0 0" "1 0" "2 0" "5 0" "-1 0" "0 1" "2 1" "-1 1" "1 5" "0 -1" "0 2" "-2 -1"; do
  set -- $p; case_ net.ipv4.conf.all.rp_filter=$1 net.ipv4.conf.r1.rp_filter=$2
done
ip -n $R route del 10.9.0.0/24
echo "(R has no route back to 10.9.0.1)"
for p in "0 0" "2 0" "5 0" "-1 0" "0 3"; do
  set -- $p; case_ net.ipv4.conf.all.rp_filter=$1 net.ipv4.conf.r1.rp_filter=$2
done
unset SRC

echo "### (h) proxy_arp: all OR r1, any non-zero value answers (with forwarding on)"
# A reaches 10.2.0.0/24 on-link out of a1: it ARPs for 10.2.0.1 and only R's proxy ARP can answer.
fresh_net
ip -n $A route del default; ip -n $A route add 10.2.0.0/24 dev a1
for p in "0 0 1" "7 0 1" "0 7 1" "0 -1 1" "-1 0 1" "1 0 0" "0 1 2"; do
  set -- $p
  ip -n $A neigh flush dev a1
  case_ net.ipv4.conf.all.proxy_arp=$1 net.ipv4.conf.r1.proxy_arp=$2 net.ipv4.ip_forward=$3
done
