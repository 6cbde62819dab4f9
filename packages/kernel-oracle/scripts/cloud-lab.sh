#!/usr/bin/env bash
# cloud-lab.sh — build the node-side wiring of podnet's cloud designs in real network namespaces and
# record what the kernel does, as JSON (packages/cni/src/__fixtures__/kernel-cloud-lab.json).
#
#   usage: sudo bash packages/kernel-oracle/scripts/cloud-lab.sh OUT.json
#
# What is built (the VPC fabric and eBPF are not: only the Linux side of each design):
#   aws: node-1 (10.0.0.11/16 on eth0, default via 10.0.0.1) with two pods wired as aws-cni's driver does:
#        pod eth0 <ip>/32, 169.254.1.1 dev eth0 scope link, default via 169.254.1.1, permanent ARP entry
#        169.254.1.1 → host veth MAC; host route <ip> dev eni… scope link. Then the pod's default route
#        gets `mtu 1450` (cilium's route MTU) to see what a larger DF packet does.
#   gke: node-2 (10.0.0.12/16) with two pods wired as GKE's ptp plugin does: the pod gateway 10.4.1.1/32
#        scope link on every host veth, /32 host routes, and the ptp routes in the pod.
#
# Safety: every namespace is named "pn<PID>c-*", created here and deleted on exit (trap EXIT INT TERM),
# also on failure. Nothing touches the root namespace; every probe is bounded (ping -c1 -W1,
# traceroute -w 1 -q 1 -m 6).
. "$(dirname "$0")/common.sh"
oracle_start "$@"
for t in ip ping traceroute python3 timeout; do command -v "$t" >/dev/null || { echo "missing $t (apt-get install -y iproute2 iputils-ping traceroute)" >&2; exit 2; }; done

oracle_guard cloud-lab "pn$$c-"

X() { local ns=$1; shift; ip netns exec "${P}$ns" "$@"; }
must() { "$@" || die "command failed: $*"; }
mkns() { must ip netns add "${P}$1"; must X "$1" ip link set lo up; }
# rec KEY NS CMD: run CMD in NS, keep stdout, stderr and the exit code under KEY.
rec() {
  local key=$1 ns=$2 cmd=$3
  X "$ns" bash -c "$cmd" >"$W/$key.out" 2>"$W/$key.err"
  echo $? >"$W/$key.rc"
  printf '%s' "$cmd" >"$W/$key.cmd"
}

# The VPC's router and the two nodes on one segment (a veth per node into the router namespace).
mkns vpc
must X vpc sysctl -q -w net.ipv4.ip_forward=1
for n in 1 2; do
  mkns "node-$n"
  must ip -n "${P}node-$n" link add eth0 type veth peer name "n$n" netns "${P}vpc"
  must X "node-$n" ip addr add "10.0.0.1$n/16" dev eth0
  must X "node-$n" ip link set eth0 up
  must X vpc ip link set "n$n" up
  must X "node-$n" ip route add default via 10.0.0.1 dev eth0 onlink
  must X "node-$n" sysctl -q -w net.ipv4.ip_forward=1
done
must X vpc ip addr add 10.0.0.1/32 dev n1
must X vpc ip route add 10.0.0.11/32 dev n1
must X vpc ip route add 10.0.0.12/32 dev n2

# aws: two pods on node-1.
aws_pod() { # name ip hostveth hostmac
  mkns "$1"
  must ip -n "${P}node-1" link add "$3" address "$4" type veth peer name eth0 netns "${P}$1"
  must X node-1 ip link set "$3" up
  must X "$1" ip link set eth0 up
  must X "$1" ip addr add "$2/32" dev eth0
  must X "$1" ip route add 169.254.1.1 dev eth0 scope link
  must X "$1" ip route add default via 169.254.1.1 dev eth0
  must X "$1" ip neigh add 169.254.1.1 lladdr "$4" dev eth0 nud permanent
  must X node-1 ip route add "$2" dev "$3" scope link
}
aws_pod aws-a 10.0.255.254 eni0000000000a 0e:00:00:00:00:0a
aws_pod aws-b 10.0.255.253 eni0000000000b 0e:00:00:00:00:0b
rec aws_route_pod aws-a 'ip route'
rec aws_route_node node-1 'ip route'
rec aws_ping aws-a 'ping -c 1 -W 1 10.0.255.253'
rec aws_trace aws-a 'traceroute -n -w 1 -q 1 -m 6 10.0.255.253'
rec aws_node_ping node-1 'ping -c 1 -W 1 10.0.255.254'
# The route MTU attribute cilium gives pods, on the same pod.
must X aws-a ip route replace default via 169.254.1.1 dev eth0 mtu 1450
rec mtu_route aws-a 'ip route show default'
rec mtu_big aws-a 'ping -c 1 -W 1 -M do -s 1432 10.0.255.253'
rec mtu_small aws-a 'ping -c 1 -W 1 -M do -s 1422 10.0.255.253'

# gke: two pods on node-2 (ptp).
gke_pod() { # name ip hostveth
  mkns "$1"
  must ip -n "${P}node-2" link add "$3" type veth peer name eth0 netns "${P}$1"
  must X node-2 ip link set "$3" up
  must X "$1" ip link set eth0 up
  must X "$1" ip addr add "$2/32" dev eth0
  must X "$1" ip route add 10.4.1.1/32 dev eth0 scope link src "$2"
  must X "$1" ip route add 10.4.1.0/24 via 10.4.1.1 dev eth0 src "$2"
  must X "$1" ip route add default via 10.4.1.1 dev eth0
  must X node-2 ip addr add 10.4.1.1/32 dev "$3" scope link
  must X node-2 ip route add "$2/32" dev "$3" scope link
}
gke_pod gke-a 10.4.1.2 gke0000000000a
gke_pod gke-b 10.4.1.3 gke0000000000b
rec gke_route_pod gke-a 'ip route'
rec gke_ping gke-a 'ping -c 1 -W 1 10.4.1.3'
rec gke_trace gke-a 'traceroute -n -w 1 -q 1 -m 6 10.4.1.3'
rec gke_node_ping node-2 'ping -c 1 -W 1 10.4.1.2'

"$(command -v python3)" - "$W" "$OUT" "$(uname -r)" <<'PY'
import json, os, sys
w, out, kernel = sys.argv[1], sys.argv[2], sys.argv[3]
keys = sorted({f.rsplit('.', 1)[0] for f in os.listdir(w)})
rec = {}
for k in keys:
    r = lambda ext: open(os.path.join(w, f'{k}.{ext}')).read()
    rec[k] = {'cmd': r('cmd'), 'rc': int(r('rc')), 'stdout': r('out'), 'stderr': r('err')}
json.dump({'kernel': kernel, 'script': 'packages/kernel-oracle/scripts/cloud-lab.sh', 'records': rec}, open(out, 'w'), indent=2)
PY
echo "[cloud-lab] wrote $OUT" >&2
