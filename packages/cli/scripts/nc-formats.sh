#!/bin/bash
# Records what netcat-openbsd (`nc`, what the netshoot image ships) prints for the connect checks of a Kubernetes
# debugging session, on the seed lab built by hand (seed-lab-netns.sh: podnet's addresses, MACs and veth names),
# to pin the lab shell's `nc` (src/__fixtures__/nc-formats.txt, replayed by nc.test.ts):
#   - TCP `-zv` to a port that listens (pod-c runs `nc -lk 80`), a closed one (RST), a range, `-z` alone;
#   - a destination node-1 drops (`iptables -I FORWARD -d 10.244.2.7 -j DROP`), with `-w 1` and without (the
#     kernel's SYN retries, net.ipv4.tcp_syn_retries = 6: the elapsed time and the SYNs' spacing are printed);
#   - a neighbour that does not answer ARP, on the pod's own link and behind node-3 (ICMP host unreachable);
#   - no route on the sender (node-1 without its default route) and at a router (ICMP net unreachable);
#   - UDP `-zvu` to a port that listens (`nc -luk 53`), to a closed one (ICMP port unreachable), to a dropped one;
#   - a Service-like DNAT on node-1 (10.96.0.10:80 → pod-c), as kube-proxy's PREROUTING rule does it;
#   - names: one in /etc/hosts, one the DNS answers NXDOMAIN for (a pod-like resolv.conf pointing at a
#     responder on pod-a's 127.0.0.1 that answers NXDOMAIN to every query, as CoreDNS does for an unknown name),
#     `localhost` with IPv6 on lo (as in a pod);
#   - the argument errors: exact texts and exit statuses.
# Each case is `### (id) …`, each command `== CMD` (the pod or node it ran in), its stdout and stderr, `rc=N`;
# tcpdump captures follow as `== tcpdump … (where)` with the packets' lines (time stamps cut, except the
# -ttttt capture of the SYN retries: time since the first packet), and `== elapsed` the seconds a command took
# (the captures' sleeps deducted). Output: bash scripts/nc-formats.sh > src/__fixtures__/nc-formats.txt
#
# Run as root. Everything lives in namespaces named nc36-<pid>-*, deleted on exit (also on failure), as is the
# /etc/netns/<namespace> directory `ip netns exec` takes pod-a's resolv.conf and hosts from; the root
# namespace's interfaces, addresses and routes are not touched, no module is loaded, traffic stays inside.
set -u
P=nc36-$$-
. "$(dirname "$0")/seed-lab-netns.sh"
seed_lab_namespaces
PA=${P}pa
cleanup_nc(){ cleanup; rm -rf /etc/netns/$PA; }
trap cleanup_nc EXIT INT TERM
seed_lab_build
sleep 1
x(){ local n=$1; shift; ip netns exec ${P}$n "$@"; }
# run WHERE CMD…: the command in WHERE's namespace, its stdout and stderr, its exit status.
run(){ local n=$1; shift; echo "== $* ($n)"; x $n "$@" > $T/o 2>&1; local rc=$?; cat $T/o; echo "rc=$rc"; }
# captured WHERE 'FILTER' -- CMD…: `run` with tcpdump -n on WHERE's eth0 meanwhile (FILTER: tcpdump's words after
# -i eth0, options first), its lines after.
# tcpdump is stopped (SIGINT) 1 s after the command ended; each capture has a file of its own.
k=0
captured(){ local n=$1 f=$2; shift 3; k=$((k+1))
  ip netns exec ${P}$n tcpdump -n -l -i eth0 $f > $T/cap$k 2>/dev/null & local tp=$!
  sleep 1; run $n "$@"; sleep 1; kill -INT $tp; wait $tp 2>/dev/null
  echo "== tcpdump -n -i eth0 $f ($n)"; sed -E 's/^[0-9:.]+ //' $T/cap$k; echo "rc=0"; }

# pod-c listens on TCP 80 and UDP 53 (nc -k keeps listening after each connection).
x pc nc -lk 80 > /dev/null 2>&1 &
x pc nc -luk 53 > /dev/null 2>&1 &
x n1 iptables -I FORWARD -d 10.244.2.7 -j DROP
x n1 iptables -t nat -A PREROUTING -d 10.96.0.10 -p tcp --dport 80 -j DNAT --to-destination 10.244.2.3
# pod-a's resolver: a pod's resolv.conf with a nameserver on its own loopback that answers NXDOMAIN, and hosts.
mkdir -p /etc/netns/$PA
printf 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n' > /etc/netns/$PA/resolv.conf
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.244.1.4\tpod-a\n10.244.2.3\tweb\n' > /etc/netns/$PA/hosts
x pa python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
while True:
    d, a = s.recvfrom(512)
    # The query back as an answer: QR, its RD, RA, RCODE 3 (NXDOMAIN), no records.
    s.sendto(d[:2] + bytes([0x80 | (d[2] & 1), 0x83]) + d[4:6] + bytes(6) + d[12:], a)
' > /dev/null 2>&1 &
sleep 1

echo "# kernel $(uname -r), $(dpkg-query -W -f='netcat-openbsd ${Version}' netcat-openbsd), $(tcpdump --version 2>&1 | head -1), tcp_syn_retries $(x pa sysctl -n net.ipv4.tcp_syn_retries), tcp_syn_linear_timeouts $(x pa sysctl -n net.ipv4.tcp_syn_linear_timeouts)"
# The kernel's own timeout, in the background from pod-b while the other cases run (about two minutes).
( s=$(date +%s.%N)
  x pb timeout 200 tcpdump -n -l -ttttt -i eth0 tcp > $T/slow.cap 2>/dev/null & tp=$!
  sleep 1; x pb nc -zv 10.244.2.7 80 > $T/slow.out 2>&1; echo "rc=$?" >> $T/slow.out
  e=$(date +%s.%N); awk "BEGIN{printf \"== elapsed\\n%d s\\nrc=0\\n\", $e - $s - 1}" >> $T/slow.out
  sleep 1; kill $tp ) &
SLOW=$!

echo "### (open) a port that listens, on another node"
captured pa 'tcp' -- nc -zv 10.244.2.3 80
captured pa '-v tcp' -- nc -zv 10.244.2.3 80
echo "### (closed) a closed port: RST"
captured pa 'tcp' -- nc -zv 10.244.2.3 81
echo "### (range) a port range"
run pa nc -zv 10.244.2.3 79-81
run pa nc -zv 10.244.2.3 80 81
echo "### (quiet) -z without -v: nothing printed, the exit status says"
run pa nc -z 10.244.2.3 80
run pa nc -z 10.244.2.3 81
run pa nc -z 10.244.2.3 79-81
run pa nc -z 10.244.2.3 81-82
echo "### (svcname) a port by its service name, and -n"
run pa nc -zv 10.244.2.3 http
run pa nc -zvn 10.244.2.3 80
run pa nc -zv 10.244.2.3 8080
echo "### (filtered) node-1 drops: -w 1"
captured pa 'tcp' -- nc -zv -w 1 10.244.2.7 80
run pa nc -z -w 1 10.244.2.7 80
run pa nc -zv -w 0 10.244.2.7 80
captured pa 'tcp' -- nc -zv -w 2 10.244.2.7 80
echo "### (arp) a neighbour that does not answer ARP: on pod-a's link (pod-a's own ARP), behind node-3 (ICMP)"
s=$(date +%s); captured pa 'tcp or arp' -- nc -zv 10.244.1.99 80; echo "== elapsed"; echo "$(( $(date +%s) - s - 2 )) s"; echo "rc=0"
s=$(date +%s); captured pa 'tcp or icmp' -- nc -zv 10.244.3.99 80; echo "== elapsed"; echo "$(( $(date +%s) - s - 2 )) s"; echo "rc=0"
run pa nc -zv -w 1 10.244.3.99 80
echo "### (svc) a ClusterIP: node-1's PREROUTING DNATs 10.96.0.10:80 to pod-c"
captured pa 'tcp' -- nc -zv 10.96.0.10 80
run pa nc -zv 10.96.0.10 81
echo "### (udp) UDP: a port that listens, a closed one (ICMP port unreachable), a dropped one"
captured pa 'udp or icmp' -- nc -zvu 10.244.2.3 53
captured pa 'udp or icmp' -- nc -zvu 10.244.2.3 54
captured pa 'udp or icmp' -- nc -zu 10.244.2.3 54
captured pa 'udp or icmp' -- nc -zu 10.244.2.3 53
captured pa 'udp or icmp' -- nc -zvu 10.244.2.7 53
captured pa 'udp or icmp' -- nc -zvu -w 1 10.244.2.3 53
run pa nc -zvu 10.244.2.3 52-54
echo "### (names) names: in /etc/hosts, unknown to the DNS (NXDOMAIN), localhost with IPv6 on lo"
run pa nc -zv web 80
run pa nc -zv nosuch 80
run pa nc -zv nosuch.default.svc.cluster.local 80
x pa sysctl -qw net.ipv6.conf.lo.disable_ipv6=0
run pa nc -zv localhost 80
run pa nc -zv 127.0.0.1 80
echo "### (noroute) no route: on the sender (node-1 without its default route), at a router (node-1 for pod-a)"
x n1 ip route del default
run n1 nc -zv 172.16.0.1 80
run n1 nc -zvu 172.16.0.1 53
run n1 nc -zu 172.16.0.1 53
run n1 nc -z 172.16.0.1 80
captured pa 'tcp or icmp' -- nc -zv 172.16.0.1 80
run pa nc -zvu 172.16.0.1 53
x n1 ip route add default via 192.168.1.1 dev eth0
echo "### (args) argument errors"
run pa nc
run pa nc -zv 10.244.2.3
run pa nc -zv 10.244.2.3 abc
run pa nc -zv 10.244.2.3 0
run pa nc -zv 10.244.2.3 70000
run pa nc -zv 10.244.2.3 81-79
run pa nc -zv 10.244.2.3 80-
run pa nc -Q 10.244.2.3 80
run pa nc -zv -w x 10.244.2.3 80
run pa nc -zv -w
run pa nc -zv 10.244.2.3.1 80
echo "### (timeout) no -w: the kernel's SYN retries give up (pod-b to pod-d, which node-1 drops)"
wait $SLOW
echo "== nc -zv 10.244.2.7 80 (pb)"; cat $T/slow.out
echo "== tcpdump -n -ttttt -i eth0 tcp (pb)"; cat $T/slow.cap; echo "rc=0"
