#!/bin/bash
# Records what real conntrack (conntrack-tools v1.4.7, kernel nf_conntrack) prints and does for the flows
# podnet tracks: a ping masqueraded by a router namespace, kept after its MASQUERADE rule is deleted (the
# entry decided the flow's NAT on its first packet), a new ping identifier after the deletion (a new flow,
# not translated), timeouts counting down, UDP and TCP entries, -L with its filters (-p, -s, -d, --src-nat,
# --dst-nat), -D with filters, -F, and the errors of bad arguments and of a missing CAP_NET_ADMIN.
# The transcript is src/__fixtures__/conntrack-formats.txt: each "== CMD" section holds what CMD printed
# (stdout, then stderr after a "-- stderr" line) and "rc=N"; "## NOTE" lines say what the script did
# between sections (sleeps, rule deletions, what the receiver saw). conntrack.test.ts replays them.
# Topology: client 10.0.1.2 — router (10.0.1.1 | 10.0.2.1, MASQUERADE -o to-b) — server 10.0.2.2.
# Run as root: everything lives in network namespaces named pnct31-<pid>-*, deleted on exit (trap);
# nothing touches the root namespace's interfaces, routes or rules, and no module is loaded.
set -u
P=pnct31-$$-
C=${P}c; R=${P}r; S=${P}s
TMP=$(mktemp -d)
cleanup(){ for n in $C $R $S; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $n 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
ip netns add $C; ip netns add $R; ip netns add $S
ip -n $C link add eth0 type veth peer name to-c netns $R
ip -n $S link add eth0 type veth peer name to-s netns $R
ip -n $C addr add 10.0.1.2/24 dev eth0; ip -n $C link set eth0 up; ip -n $C link set lo up
ip -n $S addr add 10.0.2.2/24 dev eth0; ip -n $S link set eth0 up; ip -n $S link set lo up
ip -n $R addr add 10.0.1.1/24 dev to-c; ip -n $R addr add 10.0.2.1/24 dev to-s
ip -n $R link set to-c up; ip -n $R link set to-s up; ip -n $R link set lo up
ip -n $C route add default via 10.0.1.1
ip -n $S route add default via 10.0.2.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip netns exec $R iptables -t nat -A POSTROUTING -o to-s -j MASQUERADE
# stdout, then stderr, then the status; the version line's count is kept as printed.
run(){ echo "== $*"; ip netns exec $R "$@" >"$TMP/o" 2>"$TMP/e"; local rc=$?; cat "$TMP/o"; if [ -s "$TMP/e" ]; then echo "-- stderr"; cat "$TMP/e"; fi; echo "rc=$rc"; }
note(){ echo "## NOTE $*"; }
# What the server saw: the source of each echo request, by tcpdump in its namespace.
seen(){ ip netns exec $S timeout 4 tcpdump -l -n -i eth0 -c "$1" icmp 2>/dev/null | sed -E 's/^[0-9:.]+ //' | sed 's/, seq.*//' > "$TMP/seen" & }
showseen(){ wait; while read -r l; do note "server saw: $l"; done < "$TMP/seen"; }
run conntrack -L
seen 2; sleep 0.5
note "ping -c1 -e 4660 10.0.2.2 from the client (MASQUERADE in place)"
ip netns exec $C ping -c1 -W1 -e 4660 10.0.2.2 >/dev/null; showseen
run conntrack -L
run conntrack -L -n
run conntrack -L --src-nat
run conntrack -L -g
run conntrack -L --dst-nat
run conntrack -L -p icmp
run conntrack -L -p udp
run conntrack -L -s 10.0.1.2
run conntrack -L -s 10.0.2.2
run conntrack -L -d 10.0.2.2
note "sleep 5"
sleep 5
run conntrack -L
note "iptables -t nat -D POSTROUTING -o to-s -j MASQUERADE"
ip netns exec $R iptables -t nat -D POSTROUTING -o to-s -j MASQUERADE
seen 2; sleep 0.5
note "ping -c1 -e 4660 10.0.2.2 from the client (same identifier, rule deleted)"
ip netns exec $C ping -c1 -W1 -e 4660 10.0.2.2 >/dev/null; showseen
run conntrack -L
seen 2; sleep 0.5
note "ping -c1 -e 4661 10.0.2.2 from the client (new identifier, rule deleted)"
ip netns exec $C ping -c1 -W1 -e 4661 10.0.2.2 >/dev/null; showseen
run conntrack -L
run conntrack -L -n
note "iptables -t nat -A POSTROUTING -o to-s -j MASQUERADE"
ip netns exec $R iptables -t nat -A POSTROUTING -o to-s -j MASQUERADE
seen 2; sleep 0.5
note "ping -c1 -e 4661 10.0.2.2 from the client (identifier of the untranslated flow, rule back)"
ip netns exec $C ping -c1 -W1 -e 4661 10.0.2.2 >/dev/null; showseen
note "ping without -e twice: identifiers"
ip netns exec $C ping -c1 -W1 10.0.2.2 >/dev/null; ip netns exec $C ping -c1 -W1 10.0.2.2 >/dev/null
run conntrack -L -p icmp -s 10.0.1.2
# Kubernetes' case: the nat table keeps another rule that needs conntrack (kube-proxy's DNATs, flanneld's
# masquerade), so the namespace keeps tracking after the MASQUERADE is deleted.
note "iptables -t nat -A PREROUTING -d 192.0.2.1 -p tcp -j DNAT --to-destination 10.0.2.2 (matches nothing here)"
ip netns exec $R iptables -t nat -A PREROUTING -d 192.0.2.1 -p tcp -j DNAT --to-destination 10.0.2.2
seen 2; sleep 0.5
note "ping -c1 -e 4662 10.0.2.2 from the client (MASQUERADE and the DNAT in place)"
ip netns exec $C ping -c1 -W1 -e 4662 10.0.2.2 >/dev/null; showseen
note "iptables -t nat -D POSTROUTING -o to-s -j MASQUERADE (the DNAT stays)"
ip netns exec $R iptables -t nat -D POSTROUTING -o to-s -j MASQUERADE
note "sleep 2"
sleep 2
seen 2; sleep 0.5
note "ping -c1 -e 4662 10.0.2.2 from the client (same identifier, MASQUERADE deleted, DNAT kept)"
ip netns exec $C ping -c1 -W1 -e 4662 10.0.2.2 >/dev/null; showseen
seen 2; sleep 0.5
note "ping -c1 -e 4663 10.0.2.2 from the client (new identifier, MASQUERADE deleted, DNAT kept)"
ip netns exec $C ping -c1 -W1 -e 4663 10.0.2.2 >/dev/null; showseen
run conntrack -L -p icmp
run conntrack -L -p icmp --src-nat
run conntrack -L -p icmp -n
run conntrack -L -p icmp -s 10.0.1.2 -d 10.0.2.2
run conntrack -L -p icmp -s 10.0.1
run conntrack -L -p icmp -s 10.0.1.0/24
run conntrack -L -p icmp -p udp
note "iptables -t nat -A POSTROUTING -o to-s -j MASQUERADE"
ip netns exec $R iptables -t nat -A POSTROUTING -o to-s -j MASQUERADE
seen 2; sleep 0.5
note "ping -c1 -e 4663 10.0.2.2 from the client (the untranslated flow's identifier, MASQUERADE back)"
ip netns exec $C ping -c1 -W1 -e 4663 10.0.2.2 >/dev/null; showseen
run conntrack -D -p icmp -s 10.0.1.2 -d 10.0.2.2
seen 2; sleep 0.5
note "ping -c1 -e 4663 10.0.2.2 from the client (after conntrack -D)"
ip netns exec $C ping -c1 -W1 -e 4663 10.0.2.2 >/dev/null; showseen
# UDP: one datagram unanswered (port unreachable from the server), one answered by an echo server.
note "udp 10.0.1.2:40000 -> 10.0.2.2:9 (closed port)"
ip netns exec $C python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("10.0.1.2",40000));s.sendto(b"x",("10.0.2.2",9))'
ip netns exec $S python3 -c '
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("10.0.2.2",7));s.settimeout(5)
for _ in range(2):
  d,a=s.recvfrom(100);s.sendto(d,a)' &
sleep 0.5
note "udp 10.0.1.2:40001 -> 10.0.2.2:7 answered"
ip netns exec $C python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("10.0.1.2",40001));s.settimeout(2);s.sendto(b"x",("10.0.2.2",7));s.recv(10)'
run conntrack -L -p udp
note "sleep 3; the same udp flow answered again"
sleep 3
ip netns exec $C python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("10.0.1.2",40001));s.settimeout(2);s.sendto(b"x",("10.0.2.2",7));s.recv(10)'
wait
run conntrack -L -p udp
# TCP: a refused connection (RST), one established and left open, one closed.
note "tcp 10.0.1.2:41000 -> 10.0.2.2:81 (closed port, RST)"
ip netns exec $C python3 -c '
import socket
s=socket.socket();s.bind(("10.0.1.2",41000));s.settimeout(2)
try: s.connect(("10.0.2.2",81))
except Exception as e: pass'
ip netns exec $S python3 -c '
import socket,time
s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("10.0.2.2",80));s.listen(5);s.settimeout(8)
a,_=s.accept();b,_=s.accept();b.close();time.sleep(6)' &
sleep 0.5
note "tcp 10.0.1.2:41001 -> 10.0.2.2:80 established, left open; 10.0.1.2:41002 -> 10.0.2.2:80 closed by both"
ip netns exec $C python3 -c '
import socket,time
s=socket.socket();s.bind(("10.0.1.2",41001));s.connect(("10.0.2.2",80))
t=socket.socket();t.bind(("10.0.1.2",41002));t.connect(("10.0.2.2",80));time.sleep(0.5);t.close();time.sleep(3)' &
sleep 2
run conntrack -L -p tcp
wait
# SYN to an address nobody answers: SYN_SENT, UNREPLIED.
note "tcp 10.0.1.2:41003 -> 10.0.2.9:80 (no answer)"
ip netns exec $C python3 -c '
import socket
s=socket.socket();s.bind(("10.0.1.2",41003));s.settimeout(1)
try: s.connect(("10.0.2.9",80))
except Exception: pass'
run conntrack -L -p tcp -d 10.0.2.9
run conntrack -L -o extended
# Deleting.
run conntrack -D -p udp
run conntrack -D -p udp
run conntrack -D -s 10.0.1.2 -p icmp
run conntrack -D -d 10.0.2.9
run conntrack -D -s 10.0.9.9
run conntrack -L
run conntrack -F
run conntrack -L
run conntrack -F
# Errors.
run conntrack
run conntrack -L -p foo
run conntrack -L -s 10.0.1
run conntrack -L -s
run conntrack -X
run conntrack -L --bogus
run conntrack -D
run conntrack -L -n -g
run conntrack -L -n 10.0.2.1
run conntrack -D -x
run conntrack -L extra
echo "== no CAP_NET_ADMIN: conntrack -L"
ip netns exec $R setpriv --inh-caps=-net_admin --bounding-set=-net_admin conntrack -L >"$TMP/o" 2>"$TMP/e"; rc=$?; cat "$TMP/o"; [ -s "$TMP/e" ] && { echo "-- stderr"; cat "$TMP/e"; }; echo "rc=$rc"
echo "== no CAP_NET_ADMIN: conntrack -F"
ip netns exec $R setpriv --inh-caps=-net_admin --bounding-set=-net_admin conntrack -F >"$TMP/o" 2>"$TMP/e"; rc=$?; cat "$TMP/o"; [ -s "$TMP/e" ] && { echo "-- stderr"; cat "$TMP/e"; }; echo "rc=$rc"
