#!/bin/bash
# Measures which packets the kernel drops because their source is an address of the namespace that receives
# them (net/ipv4/fib_frontend.c fib_validate_source: with rp_filter 0, `if (inet_lookup_ifaddr_rcu(net, src))`
# returns -EINVAL unless accept_local), in the cases where NAT moves addresses around it, on node-1 of the
# seed lab built by hand (seed-lab-netns.sh), to pin podnet's input checks (src/__fixtures__/own-source-formats.txt,
# read by bridge-hairpin.test.ts):
#   (a) kube-proxy's hairpin case without its MASQUERADE: pod-a pings a DNAT on node-1 that sends the packet
#       back to pod-a (br_netfilter, hairpin on), so the request comes back as 10.244.1.4 > 10.244.1.4;
#   (b) the same with accept_local 1 in pod-a;
#   (c) a hostPort-like DNAT of node-1's own 192.168.1.11 to pod-a, pinged from node-2: pod-a's reply comes in
#       by cni0 from 10.244.1.4 and leaves as 192.168.1.11 (de-DNAT in POSTROUTING, after the input route);
#   (d) pod-a writes (raw socket, IP_HDRINCL) echo requests whose source is node-1's 10.244.1.1: to node-1
#       itself and to pod-c on node-2, accept_local 0 then 1 on node-1 (all), 0 again.
# Per case: what tcpdump printed in pod-a (eth0 and, for (b), lo), ping's summary, and the counters that moved
# in pod-a, node-1 and pod-c (/proc/net/snmp, /proc/net/netstat of each namespace).
# Run as root: bash own-source-formats.sh > ../src/__fixtures__/own-source-formats.txt
# Everything lives in namespaces named os36-<pid>-*, deleted on exit (also on failure); the root namespace is
# not touched, no module is loaded (br_netfilter must be loaded already), traffic stays in those namespaces.
set -u
P=os36-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
. "$(dirname "$0")/snmp-counters.sh"
seed_lab_namespaces
seed_lab_build
N1=${P}n1; N2=${P}n2; PA=veth19fd34b4
x(){ ip netns exec "$@"; }
sleep 1
[ -e /proc/sys/net/bridge ] || { echo "br_netfilter is not loaded"; exit 1; }
x $N1 sysctl -qw net.bridge.bridge-nf-call-iptables=1
# counters NS: the counters of NS that matter here, NAME=VALUE
counters(){ snmp_counters "$1" InReceives InDelivers ForwDatagrams InAddrErrors InNoRoutes InDiscards IPReversePathFilter \
  InEchos OutEchoReps InEchoReps OutRequests InDestUnreachs; }
delta(){ snmp_delta "$@"; }
WHO="pa n1 pc"
snap(){ local n; for n in $WHO; do counters ${P}$n > $T/c0.$n; done; }
moved(){ local n; for n in $WHO; do echo "  $n: $(delta "$(cat $T/c0.$n)" "$(counters ${P}$n)")"; done; }
k=0
cap(){ local ns=$1; shift; k=$((k+1)); echo "$k tcpdump $* ($ns)" >> $T/list
  x ${P}$ns timeout 3 tcpdump -l "$@" > $T/$k.out 2> $T/$k.err & }
flush(){ sleep 3.2; wait; while read -r n title; do echo "== $title"; sed 's/^[0-9:.]* //' $T/$n.out; done < $T/list; rm -f $T/list $T/*.out $T/*.err; }
# ping_case TITLE NS TARGET: pod-a's captures while NS pings TARGET once; ping's summary; what the counters moved
ping_case(){ echo "#### $1"
  cap pa -n -e -i eth0 icmp; [ "$1" != "${1#(b)}" ] && cap pa -n -i lo icmp; sleep 1
  snap; x ${P}$2 ping -c 1 -W 1 $3 > $T/ping; sleep 0.3; local m; m=$(moved); flush
  echo "== ping -c 1 -W 1 $3 ($2)"; grep 'packets transmitted' $T/ping; echo "== counters"; echo "$m"; }
x $N1 iptables -t nat -A PREROUTING -d 10.96.0.10 -p icmp -j DNAT --to-destination 10.244.1.4
ping_case "(a) DNAT to itself, no MASQUERADE, hairpin on" pa 10.96.0.10
x ${P}pa sysctl -qw net.ipv4.conf.all.accept_local=1
ping_case "(b) the same, accept_local 1 in pod-a" pa 10.96.0.10
x ${P}pa sysctl -qw net.ipv4.conf.all.accept_local=0
x $N1 iptables -t nat -A PREROUTING -d 192.168.1.11 -p icmp -j DNAT --to-destination 10.244.1.4
ping_case "(c) node-2 pings node-1's 192.168.1.11, DNATed to pod-a" n2 192.168.1.11
x $N1 iptables -t nat -F
# spoof DST: one echo request from 10.244.1.1 (node-1's cni0) to DST, written by pod-a with IP_HDRINCL
spoof(){ echo "case src=10.244.1.1 dst=$1"; snap
  x ${P}pa python3 - "$1" <<'PY'
import socket, struct, sys
def ck(b):
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16; return ~t & 0xffff
icmp = struct.pack('!BBHHH', 8, 0, 0, 0x3636, 1) + b'own-src!'
icmp = icmp[:2] + struct.pack('!H', ck(icmp)) + icmp[4:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0x3636, 0, 64, 1, 0, socket.inet_aton('10.244.1.1'), socket.inet_aton(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + icmp, (sys.argv[1], 0))
PY
  sleep 0.5; moved; }
echo "#### (d) pod-a sends from node-1's 10.244.1.1, accept_local 0 on node-1"
x ${P}pa ping -c 1 -W 1 10.244.1.1 > /dev/null; x ${P}pa ping -c 1 -W 1 10.244.2.3 > /dev/null
spoof 10.244.1.1; spoof 10.244.2.3
echo "#### (e) the same, accept_local 1 on node-1 (all)"
x $N1 sysctl -qw net.ipv4.conf.all.accept_local=1
spoof 10.244.1.1; spoof 10.244.2.3
echo "#### (f) the same, accept_local 1 on node-1's cni0 only"
x $N1 sysctl -qw net.ipv4.conf.all.accept_local=0 net.ipv4.conf.cni0.accept_local=1
spoof 10.244.1.1; spoof 10.244.2.3
echo "#### (g) accept_local 1 on node-1's eth0 only (not the device it comes in by)"
x $N1 sysctl -qw net.ipv4.conf.cni0.accept_local=0 net.ipv4.conf.eth0.accept_local=1
spoof 10.244.1.1; spoof 10.244.2.3
