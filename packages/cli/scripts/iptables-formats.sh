#!/bin/bash
# Records what real iptables (v1.8.9, nf_tables) prints for the rules podnet models: flanneld's chains
# (FLANNEL-POSTRTG, FLANNEL-FWD) and chains of one's own (-N, -X, jumps, RETURN, ! -s, -m mark), SNAT/DNAT, filter DROP/REJECT/ACCEPT with interface, protocol and port matches; -L (with and without
# -n, --line-numbers, -v), -S, iptables-save, -R; and the errors of rules that do not exist, unknown targets,
# chains, tables and options. The transcript is src/__fixtures__/iptables-formats.txt: each "== CMD" section
# holds what CMD printed (stdout and stderr) and "rc=N". iptables.test.ts replays the "node" sections on
# node-1 of the seed lab, whose tables start with flanneld's rules for node-1 added here first (as flanneld's
# pkg/trafficmngr/iptables makes them: --ip-masq and --iptables-forward-rules, without --random-fully, which
# podnet's MASQUERADE does not model), and compares.
# Run as root: everything lives in network namespaces named pnipt<pid>-*, deleted on exit (trap); nothing
# touches the root namespace's interfaces, routes or rules, and no module is loaded.
set -u
P=pnipt$$-
A=${P}node; E=${P}empty
cleanup(){ ip netns del $A 2>/dev/null; ip netns del $E 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $A; ip netns add $E
ip -n $A link set lo up
# iptables-save's date changes every run: the header and footer keep "on DATE".
undate(){ sed 's/ on [A-Z][a-z][a-z] .*/ on DATE/'; }
inns(){ local ns=$1; shift; ip netns exec $ns "$@" 2>&1 | undate; echo "rc=${PIPESTATUS[0]}"; }
empty(){ echo "== empty: $*"; inns $E "$@"; }
# The title quotes an argument with a space as a shell would need it ("a comment").
title(){ local t="" a; for a in "$@"; do case "$a" in *" "*) t+=" \"$a\"";; *) t+=" $a";; esac; done; echo "==$t"; }
run(){ title "$@"; inns $A "$@"; }
echo "== no CAP_NET_ADMIN: iptables -L -n"; inns $E setpriv --inh-caps=-net_admin --bounding-set=-net_admin iptables -L -n
echo "== no CAP_NET_ADMIN: iptables -A FORWARD -j DROP"; inns $E setpriv --inh-caps=-net_admin --bounding-set=-net_admin iptables -A FORWARD -j DROP
empty iptables-save
empty iptables -t nat -S
empty iptables -t nat -L -n
empty iptables -L
empty iptables-save
echo "== seed: flanneld's rules (node-1 of the seed lab has them)"
M=(-m comment --comment "flanneld masq"); F=(-m comment --comment "flanneld forward")
inns $A iptables -t nat -N FLANNEL-POSTRTG
inns $A iptables -t nat -A POSTROUTING "${M[@]}" -j FLANNEL-POSTRTG
inns $A iptables -t nat -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 "${M[@]}" -j RETURN
inns $A iptables -t nat -A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 "${M[@]}" -j RETURN
inns $A iptables -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 "${M[@]}" -j RETURN
inns $A iptables -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 "${M[@]}" -j RETURN
inns $A iptables -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 "${M[@]}" -j MASQUERADE
inns $A iptables -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 "${M[@]}" -j MASQUERADE
inns $A iptables -t filter -N FLANNEL-FWD
inns $A iptables -t filter -A FORWARD "${F[@]}" -j FLANNEL-FWD
inns $A iptables -t filter -A FLANNEL-FWD -s 10.244.0.0/16 "${F[@]}" -j ACCEPT
inns $A iptables -t filter -A FLANNEL-FWD -d 10.244.0.0/16 "${F[@]}" -j ACCEPT
run iptables -t nat -S
run iptables -t nat -L -n
run iptables -t nat -L
run iptables -t nat -L FLANNEL-POSTRTG -n --line-numbers
run iptables -t nat -S FLANNEL-POSTRTG
run iptables -L -n
run iptables-save
# Chains of one's own: made, jumped to, listed, refused where iptables refuses, deleted.
run iptables -N FLANNEL-FWD
run iptables -N POSTROUTING
run iptables -N ACCEPT
run iptables -N AAAAAAAAAAAAAAAAAAAAAAAAAAAAA
run iptables -N -bad
run iptables -N MY-CHAIN
run iptables -N ANOTHER
run iptables -A MY-CHAIN -s 10.244.2.0/24 -j RETURN
run iptables -A MY-CHAIN -m mark --mark 0x1 -j DROP
run iptables -A MY-CHAIN -m mark --mark 0x4000/0x4000 -j REJECT
run iptables -A MY-CHAIN -j ANOTHER
run iptables -A ANOTHER -j MY-CHAIN
run iptables -A MY-CHAIN -j MY-CHAIN
run iptables -A ANOTHER ! -s 10.244.0.0/16 -d 10.244.2.3 -j DROP
run iptables -I FORWARD -j MY-CHAIN
run iptables -A FORWARD -j NOSUCH
run iptables -A NOSUCH -j DROP
run iptables -A FORWARD -j RETURN
run iptables -L -n
run iptables -L MY-CHAIN -n --line-numbers
run iptables -L ANOTHER
run iptables -S
run iptables -S MY-CHAIN
# -R: the rule numbered N in its place; the number is required.
run iptables -R MY-CHAIN 1 -s 10.244.3.0/24 -j RETURN
run iptables -R MY-CHAIN 9 -j DROP
run iptables -R MY-CHAIN 0 -j DROP
run iptables -R MY-CHAIN x -j DROP
run iptables -R MY-CHAIN -j DROP
run iptables -R NOSUCH 1 -j DROP
run iptables -R MY-CHAIN 1 -j NOSUCH
run iptables -R MY-CHAIN 3 -j MY-CHAIN
run iptables -S MY-CHAIN
run iptables-save -t filter
run iptables -X MY-CHAIN
run iptables -X ANOTHER
run iptables -X NOSUCH
run iptables -X FORWARD
run iptables -D FORWARD -j MY-CHAIN
run iptables -X MY-CHAIN
run iptables -F MY-CHAIN
run iptables -X MY-CHAIN
run iptables -S
run iptables -F ANOTHER
run iptables -D FORWARD -j RETURN
run iptables -X
run iptables -S
run iptables -t nat -N MASQ-CHAIN
run iptables -t nat -A MASQ-CHAIN -j MASQUERADE
run iptables -t nat -A PREROUTING -j MASQ-CHAIN
run iptables -t nat -A POSTROUTING -j MASQ-CHAIN
run iptables -t nat -N DNAT-CHAIN
run iptables -t nat -A PREROUTING -j DNAT-CHAIN
run iptables -t nat -A DNAT-CHAIN -j DNAT --to-destination 10.244.1.4
run iptables -t nat -A DNAT-CHAIN -j SNAT --to-source 10.244.1.1
run iptables -t nat -S
run iptables -t nat -D POSTROUTING -j MASQ-CHAIN
run iptables -t nat -D PREROUTING -j DNAT-CHAIN
run iptables -t nat -F MASQ-CHAIN
run iptables -t nat -F DNAT-CHAIN
run iptables -t nat -X MASQ-CHAIN
run iptables -t nat -X DNAT-CHAIN
run iptables -t nat -R POSTROUTING 1 -s 10.244.1.0/24 ! -d 10.244.0.0/16 -m comment --comment "replaced" -j MASQUERADE
run iptables -t nat -S POSTROUTING
run iptables -t nat -R POSTROUTING 1 -j DNAT --to-destination 10.244.1.4
run iptables -t nat -R POSTROUTING 1 -j DROP
run iptables -t nat -R POSTROUTING 1 -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
run iptables -t nat -S POSTROUTING
run iptables -t nat -A POSTROUTING -s 10.244.1.5/24 -j MASQUERADE
run iptables -t nat -A POSTROUTING -o eth0 -j SNAT --to-source 192.168.1.11
run iptables -t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -j DNAT --to-destination 10.244.1.4
run iptables -t nat -A PREROUTING -i eth0 -p icmp -j DNAT --to-destination 10.244.1.5
run iptables -A FORWARD -j DROP
run iptables -A FORWARD -i cni0 -o cni0 -j ACCEPT
run iptables -A INPUT -p icmp -j REJECT
run iptables -A FORWARD -s 10.244.2.3 -p tcp --dport 443 -j REJECT
run iptables -A OUTPUT -d 10.244.2.3/32 -m comment --comment "a comment" -j DROP
run iptables -I FORWARD 2 -p udp -j ACCEPT
run iptables -A FORWARD -s 10.244.1.0/24 -d 10.244.2.0/24 -i cni0 -o eth0 -p udp --dport 8472 -m comment --comment "all matches" -j REJECT
run iptables -t nat -A POSTROUTING -s 10.244.1.0/24 -d 10.244.2.0/24 -o eth0 -p tcp --dport 80 -m comment --comment "all matches" -j MASQUERADE
run iptables -t nat -L -n
run iptables -t nat -L
run iptables -L -n
run iptables -L
run iptables -nL FORWARD --line-numbers
run iptables -t nat -L POSTROUTING --line-numbers -n
run iptables -L -n -v
run iptables -S
run iptables -t nat -S
run iptables -t nat -S POSTROUTING
run iptables -S FORWARD
run iptables-save
run iptables-save -t nat
run iptables-save -t bogus
run iptables
run iptables -D FORWARD -s 1.2.3.4 -j DROP
run iptables -A FORWARD -j NOSUCH
run iptables -L NOSUCH
run iptables -S NOSUCH
run iptables -A NOSUCH -j DROP
run iptables -A POSTROUTING -j DROP
run iptables -t nat -A FORWARD -j ACCEPT
run iptables -t bogus -L
run iptables -A FORWARD --bogus -j DROP
run iptables -D FORWARD 9
run iptables -I FORWARD 9 -j DROP
run iptables -I FORWARD 0 -j DROP
run iptables -D FORWARD x
run iptables -t nat -A POSTROUTING -j DROP
run iptables -A FORWARD -j MASQUERADE
run iptables -t nat -A PREROUTING -j MASQUERADE
run iptables -t nat -I POSTROUTING -j DNAT --to-destination 10.244.1.4
run iptables -t nat -A POSTROUTING -j REJECT
run iptables -t nat -A POSTROUTING -j SNAT
run iptables -t nat -A PREROUTING -j DNAT
run iptables -t nat -A POSTROUTING -o eth0 -j SNAT --to-source 192.168.1.300
run iptables -A FORWARD -p tcp --dport 99999 -j DROP
run iptables -A FORWARD --dport 80 -j DROP
run iptables -t nat -A POSTROUTING -p icmp --dport 80 -j ACCEPT
run iptables -A FORWARD -s 10.0.0.300 -j DROP
run iptables -A FORWARD -d 10.244.2.3/33 -j DROP
run iptables -A FORWARD -j
run iptables -A
run iptables -A INPUT -o eth0 -j DROP
run iptables -A OUTPUT -i eth0 -j DROP
run iptables -t nat -A PREROUTING -o eth0 -j ACCEPT
run iptables -A FORWARD -d 10.244.2.3/24 -j DROP
run iptables -A FORWARD -s 0.0.0.0/0 -j DROP
run iptables -nL FORWARD
run iptables -D FORWARD -d 10.244.2.0/24 -m comment --comment x -j DROP
run iptables -D FORWARD -d 10.244.2.0/24 -j DROP
run iptables -t nat -D POSTROUTING -s 10.244.1.0/24 -j MASQUERADE
run iptables -t nat -I POSTROUTING 2 -s 10.1.0.0/16 -j MASQUERADE
run iptables -t nat -L POSTROUTING -n --line-numbers
run iptables -D FORWARD 1
run iptables -S FORWARD
run iptables -F FORWARD
run iptables -S
run iptables -t nat -F
run iptables -t nat -S
run iptables -F NOSUCH
run iptables-save
echo "== podnet refuses: iptables -A FORWARD -p sctp -j DROP"; inns $A iptables -A FORWARD -p sctp -j DROP
echo "== podnet refuses: iptables -A FORWARD (a rule without a target)"; inns $A iptables -A FORWARD
echo "== podnet refuses: iptables -E FLANNEL-FWD FOO"; inns $A iptables -E FLANNEL-FWD FOO
echo "== podnet refuses: iptables -S (sctp, no target, renamed chain)"; inns $A iptables -S
