#!/bin/bash
# Records how procps' `sysctl` names a device whose name holds a dot (flannel.1, vxlan.calico): sysctl(8)
# swaps `.` and `/` in a key, so `net.ipv4.conf.flannel/1.forwarding` is /proc/sys/net/ipv4/conf/flannel.1/forwarding,
# and `net.ipv4.conf.flannel.1.forwarding` is a path that does not exist. The kernel oracle's faults write
# per-device sysctls of flannel.1 this way. Output: src/__fixtures__/sysctl-slash.txt, pinned by
# src/sysctl.test.ts ("a device with a dot in its name"); cases read with the path form too.
#
# Run as root. Everything lives in one namespace named oq36-<pid>-s, deleted on exit (also on failure); the
# root namespace is not touched. A veth named `a.1` stands for flannel.1 (no module beyond veth is needed).
set -u
S=oq36-$$-s
cleanup(){ ip netns del "$S" 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $S || exit 1
ip -n $S link add a.1 type veth peer name b.1 || exit 1
run(){ echo "== $*"; ip netns exec $S "$@" 2>&1; echo "rc=$?"; }
echo "# kernel $(uname -r), $(sysctl --version)"
echo "### (a) a device whose name holds a dot, written with a slash"
run sysctl -w net.ipv4.conf.a/1.forwarding=0
run sysctl net.ipv4.conf.a/1.forwarding
run cat /proc/sys/net/ipv4/conf/a.1/forwarding
run sysctl -w net.ipv4.conf.a.1.forwarding=0
run sysctl -w net.ipv4.conf.a/1.rp_filter=5
run sysctl -w net.ipv4.conf.a/1.proxy_arp=1
run sysctl -w net.ipv4.conf.a/1.route_localnet=1
run sysctl net.ipv4.conf.a/1.rp_filter net.ipv4.conf.a/1.proxy_arp net.ipv4.conf.a/1.route_localnet
# The path form (the first separator a slash): dots are the name's own, and sysctl prints the key swapped.
run sysctl net/ipv4/conf/a.1/forwarding
run sysctl -w net/ipv4/conf/a.1/proxy_arp=0
run sysctl net.ipv4.conf.a.1.forwarding
echo "== sysctl -a | grep -F a/1.forwarding"; ip netns exec $S sysctl -a 2>/dev/null | grep -F a/1.forwarding; echo "rc=$?"
