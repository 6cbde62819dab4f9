#!/bin/bash
# Records how the kernel checks a gateway when the prefix it is on has two routes, the first through another
# device (what the kernel oracle's faults `ip route prepend 192.168.1.0/24 dev cni0` then `ip route prepend
# 192.168.1.0/24 via 192.168.1.1 dev eth0` made): fib_check_nh_v4_gw looks the gateway up with the given
# device as flowi4_oif. Output: src/__fixtures__/gateway-oif.txt, pinned by packages/core/src/ops/route-verbs.test.ts.
#
# Run as root. One namespace oq36-<pid>-g with two veths (peers in it too), deleted on exit (also on failure).
set -u
G=oq36-$$-g
cleanup(){ ip netns del "$G" 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $G || exit 1
ip -n $G link add d1 type veth peer name e1
ip -n $G link add d2 type veth peer name e2
for d in d1 e1 d2 e2; do ip -n $G link set $d up; done
ip -n $G addr add 10.0.0.1/24 dev d1
run(){ echo "== $*"; ip -n $G "$@" 2>&1; echo "rc=$?"; }
echo "# kernel $(uname -r), $(ip -V)"
echo "### (a) a gateway on a prefix whose first route is another device's"
run route prepend 10.0.0.0/24 dev d2
run route show
run route add 10.9.0.0/16 via 10.0.0.2
run route add 10.8.0.0/16 via 10.0.0.2 dev d1
run route prepend 10.0.0.0/24 via 10.0.0.3 dev d1
run route show
