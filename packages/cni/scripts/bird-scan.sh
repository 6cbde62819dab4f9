#!/bin/bash
# What BIRD does with routes it exported that someone deletes or replaces by hand (calico-node: bird.cfg's kernel
# protocol has `learn; persist; scan time 2` and routes of metric 0). Needs bird2 (Debian: apt-get install bird2).
# Run as root: everything is in the network namespace pnb31-a, deleted on exit with BIRD stopped (trap); nothing
# touches the root namespace. Measured 2026-11-28, BIRD 2.0.12, kernel 6.18: both deleted routes were back 3 s
# later; the one replaced by hand (same prefix and metric) stayed replaced. docs/designs/calico.md quotes it.
N=pnb31-a
D=/tmp/pnb31
cleanup(){ [ -f $D/pid ] && kill $(cat $D/pid) 2>/dev/null; ip netns del $N 2>/dev/null; rm -rf $D; }
trap cleanup EXIT
cleanup; mkdir -p $D
ip netns add $N
ip -n $N link set lo up
ip -n $N link add d0 type veth peer name d1
ip -n $N addr add 192.168.7.1/24 dev d0
ip -n $N link set d0 up; ip -n $N link set d1 up
cat > $D/bird.conf <<'CONF'
router id 192.168.7.1;
protocol device { scan time 2; }
protocol static { ipv4; route 10.99.0.0/26 blackhole; route 10.99.1.0/26 via 192.168.7.2; }
protocol kernel { ipv4 { import all; export all; }; learn; persist; scan time 2; metric 0; }
CONF
ip netns exec $N bird -c $D/bird.conf -s $D/sock -P $D/pid
sleep 3
echo "--- routes after start"; ip -n $N route
ip -n $N route del blackhole 10.99.0.0/26
ip -n $N route del 10.99.1.0/26 via 192.168.7.2
echo "--- right after del"; ip -n $N route | grep 10.99 || echo none
sleep 3
echo "--- 3 s later"; ip -n $N route | grep 10.99 || echo none
ip -n $N route replace 10.99.1.0/26 dev d0
sleep 3
echo "--- replaced by hand, 3 s later"; ip -n $N route | grep 10.99 || echo none
