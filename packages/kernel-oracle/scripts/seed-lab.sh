#!/usr/bin/env bash
# seed-lab.sh — build podnet's "seed lab" (flannel VXLAN, 3 nodes, 6 pods) in
# real Linux network namespaces, measure what the kernel does, write JSON.
#
#   usage: sudo bash packages/kernel-oracle/scripts/seed-lab.sh OUT.json
#
# Safety: everything lives in network namespaces named "pn<PID>-*" that this
# script creates. Nothing is added or changed in the root namespace, traffic
# only flows between those namespaces, every probe is bounded (ping -c/-W,
# traceroute -w 1 -q 1 -m 10, tcpdump -c + timeout), and all namespaces are
# deleted on exit (trap on EXIT/INT/TERM), also on failure.
#
# Wiring follows flannel's vxlan backend (pkg/backend/vxlan) and the CNI
# bridge plugin as delegated to by the flannel CNI meta-plugin with the
# kube-flannel.yml conflist (isDefaultGateway=true, hairpinMode=true, mtu from
# subnet.env, host-local IPAM with routes=[FLANNEL_NETWORK]).
# MAC addresses and host veth names are deterministic here (flannel/CNI pick
# random ones) so that the fixture is reproducible.
. "$(dirname "$0")/common.sh"
oracle_start "$@"

need=()
for t in ip bridge ping traceroute tcpdump python3 timeout; do
  command -v "$t" >/dev/null 2>&1 || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "missing tools: ${need[*]} — installing iproute2 iputils-ping traceroute tcpdump" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    iproute2 iputils-ping traceroute tcpdump >/dev/null || { echo "install failed" >&2; exit 2; }
fi
PY=$(command -v python3)

oracle_guard seed-lab "pn$$-"  # namespace prefix unique to this run
mkdir -p "$W/rec"
BGPIDS=()

oracle_on_cleanup() {
  for pid in "${BGPIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
}

nsn() { echo "${P}$1"; }                           # short name -> netns name
X() { local ns=$1; shift; ip netns exec "$(nsn "$ns")" "$@"; }   # exec in ns
must() { "$@" || die "command failed: $*"; }

# ---------------------------------------------------------------- recording
# rec KEY NS 'shell command'  — run in netns NS (or "-" for no netns: only
# used for commands that do not touch networking), store cmd/stdout/stderr/rc.
SEQ=0
newrec() {
  SEQ=$((SEQ + 1))
  R="$W/rec/$(printf %05d $SEQ)"
  mkdir -p "$R"
  printf '%s' "$1" >"$R/key"; printf '%s' "$2" >"$R/ns"; printf '%s' "$3" >"$R/cmd"
}
rec() {
  local key=$1 ns=$2 cmd=$3
  newrec "$key" "$ns" "$cmd"
  local t0 t1 rc
  t0=$(date +%s.%N)
  if [ "$ns" = "-" ]; then   # no netns: only harmless local commands (versions)
    bash -c "$cmd" >"$R/out" 2>"$R/err"; rc=$?
  else
    X "$ns" bash -c "$cmd" >"$R/out" 2>"$R/err"; rc=$?
  fi
  t1=$(date +%s.%N)
  echo "$rc" >"$R/rc"; echo "$t0 $t1" >"$R/time"
  cat "$R/out"
  return $rc
}
# bg capture: cap KEY NS 'tcpdump ...'  (must be bounded: -c and timeout)
CAPR=""; CAPPID=""
cap() {
  local key=$1 ns=$2 cmd=$3
  newrec "$key" "$ns" "$cmd"
  CAPR=$R
  date +%s.%N >"$R/t0"
  ( X "$ns" bash -c "$cmd" >"$R/out" 2>"$R/err"; echo $? >"$R/rc"; date +%s.%N >"$R/t1" ) &
  CAPPID=$!
  BGPIDS+=("$CAPPID")
  # wait until tcpdump says it is listening (max 3s)
  for _ in $(seq 30); do grep -q "listening on" "$R/err" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
}
capwait() {
  wait "$CAPPID" 2>/dev/null
  echo "$(cat "$CAPR/t0") $(cat "$CAPR/t1" 2>/dev/null || date +%s.%N)" >"$CAPR/time"
}

# ---------------------------------------------------------------- topology
NODES=(1 2 3)
PODS=(pod-a pod-b pod-c pod-d pod-e pod-f)
declare -A POD_NODE=([pod-a]=1 [pod-b]=1 [pod-c]=2 [pod-d]=2 [pod-e]=3 [pod-f]=3)
declare -A POD_IP=([pod-a]=10.244.1.4 [pod-b]=10.244.1.5 [pod-c]=10.244.2.3
                   [pod-d]=10.244.2.7 [pod-e]=10.244.3.2 [pod-f]=10.244.3.9)
node_ip()   { echo "192.168.1.1$1"; }
fl_mac()    { echo "0e:f1:a0:00:00:0$1"; }            # flannel.1 VTEP MAC
hexip()     { local IFS=.; set -- $1; printf '%02x:%02x:%02x:%02x' "$1" "$2" "$3" "$4"; }
pod_mac()   { echo "0a:58:$(hexip "${POD_IP[$1]}")"; }  # pod eth0
hveth_mac() { echo "0e:00:$(hexip "${POD_IP[$1]}")"; }  # host side veth
cni_mac()   { echo "0a:58:$(hexip "10.244.$1.1")"; }    # cni0 bridge
veth_name() { echo "veth$(printf '%s' "$1" | md5sum | cut -c1-8)"; }
declare -A EP_NS EP_IP EP_KIND
for p in "${PODS[@]}"; do EP_NS[$p]=$p; EP_IP[$p]=${POD_IP[$p]}; EP_KIND[$p]=pod; done
for n in "${NODES[@]}"; do EP_NS[node-$n]=node-$n; EP_IP[node-$n]=$(node_ip "$n"); EP_KIND[node-$n]=node; done
ENDPOINTS=(pod-a pod-b pod-c pod-d pod-e pod-f node-1 node-2 node-3)

mkns() { must ip netns add "$(nsn "$1")"; must X "$1" ip link set lo up; }
sysw() { must X "$1" sysctl -q -w "$2" >/dev/null; }

log "prefix ${P}, kernel $(uname -r)"
# underlay segment rack-a: a bridge in its own namespace
mkns rack-a
must X rack-a ip link add br0 address 52:54:00:ff:00:01 type bridge
must X rack-a ip link set br0 up
# gateway router 192.168.1.1
mkns rtr-rack-a
must ip -n "$(nsn rack-a)" link add p-rtr address 52:54:00:01:00:01 type veth \
  peer name eth0 address 52:54:00:00:01:01 netns "$(nsn rtr-rack-a)"
must X rack-a ip link set p-rtr master br0
must X rack-a ip link set p-rtr up
must X rtr-rack-a ip link set eth0 mtu 1500
must X rtr-rack-a ip addr add 192.168.1.1/24 brd + dev eth0
must X rtr-rack-a ip link set eth0 up
sysw rtr-rack-a net.ipv4.ip_forward=1

# nodes: eth0 on rack-a, default via router, ip_forward, flannel.1
for n in "${NODES[@]}"; do
  ns=node-$n
  mkns "$ns"
  must ip -n "$(nsn rack-a)" link add "p-node-$n" address "52:54:00:01:00:1$n" type veth \
    peer name eth0 address "52:54:00:00:01:1$n" netns "$(nsn "$ns")"
  must X rack-a ip link set "p-node-$n" master br0
  must X rack-a ip link set "p-node-$n" up
  must X "$ns" ip link set eth0 mtu 1500
  must X "$ns" ip addr add "$(node_ip "$n")/24" brd + dev eth0
  must X "$ns" ip link set eth0 up
  must X "$ns" ip route add default via 192.168.1.1 dev eth0
  sysw "$ns" net.ipv4.ip_forward=1
  # flannel vxlan backend: newVXLANDevice (MTU = extIface MTU - 50), accept_ra=0,
  # Configure(): address 10.244.N.0/32 then link up.
  must X "$ns" ip link add flannel.1 address "$(fl_mac "$n")" mtu 1450 type vxlan \
    id 1 local "$(node_ip "$n")" dev eth0 dstport 8472 nolearning
  X "$ns" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/flannel.1/accept_ra' 2>/dev/null
  must X "$ns" ip addr add "10.244.$n.0/32" dev flannel.1
  must X "$ns" ip link set flannel.1 up
done
# flannel handleSubnetEvents(EventAdded) for each remote lease: AddARP, AddFDB
# (netlink NeighSet == "replace"), then RouteReplace(onlink).
for n in "${NODES[@]}"; do
  for m in "${NODES[@]}"; do
    [ "$n" = "$m" ] && continue
    must X "node-$n" ip neigh replace "10.244.$m.0" lladdr "$(fl_mac "$m")" dev flannel.1 nud permanent
    must X "node-$n" bridge fdb replace "$(fl_mac "$m")" dev flannel.1 dst "$(node_ip "$m")" self permanent
    must X "node-$n" ip route replace "10.244.$m.0/24" via "10.244.$m.0" dev flannel.1 onlink
  done
done
# CNI bridge plugin, per pod (first ADD creates cni0). Note: addresses added via
# vishvananda/netlink get IFA_BROADCAST automatically for prefixes < /31, hence
# "brd +" on /24s (and none on flannel.1's /32).
for p in "${PODS[@]}"; do
  n=${POD_NODE[$p]}; ns=node-$n; ip4=${POD_IP[$p]}; hv=$(veth_name "$p"); gw=10.244.$n.1
  if ! X "$ns" ip link show cni0 >/dev/null 2>&1; then
    # ensureBridge: LinkAdd(name, mtu), accept_ra=0, LinkSetUp
    must X "$ns" ip link add cni0 address "$(cni_mac "$n")" mtu 1450 type bridge
    X "$ns" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/cni0/accept_ra' 2>/dev/null
    must X "$ns" ip link set cni0 up
  fi
  mkns "$p"                                   # container runtime: netns + lo up
  # ip.SetupVeth: veth pair with mtu, host side up; LinkSetMaster; hairpin on
  must ip -n "$(nsn "$ns")" link add "$hv" address "$(hveth_mac "$p")" mtu 1450 type veth \
    peer name eth0 address "$(pod_mac "$p")" mtu 1450 netns "$(nsn "$p")"
  must X "$ns" ip link set "$hv" up
  must X "$ns" ip link set "$hv" master cni0
  must X "$ns" bridge link set dev "$hv" hairpin on
  # in the pod: accept_dad=0, arp_notify=1, ipam.ConfigureIface (up, addr, routes)
  X "$p" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad' 2>/dev/null
  sysw "$p" net.ipv4.conf.eth0.arp_notify=1
  must X "$p" ip link set eth0 up
  must X "$p" ip addr add "$ip4/24" brd + dev eth0
  must X "$p" ip route add 10.244.0.0/16 via "$gw" dev eth0      # IPAM route = FLANNEL_NETWORK
  must X "$p" ip route add default via "$gw" dev eth0            # isDefaultGateway
  # isGateway: ensureAddr on the bridge (first pod only), pin bridge MAC, ip_forward
  if ! X "$ns" ip -4 addr show dev cni0 | grep -q "inet $gw/24"; then
    must X "$ns" ip addr add "$gw/24" brd + dev cni0
  fi
  must X "$ns" ip link set cni0 address "$(cni_mac "$n")"
  sysw "$ns" net.ipv4.ip_forward=1
done
sleep 2   # let bridge ports/IPv6 DAD settle

# ------------------------------------------------------------- 0. metadata
rec meta/uname - 'uname -r'                          >/dev/null
rec meta/uname-a - 'uname -a'                        >/dev/null
rec meta/iproute2 - 'ip -V'                          >/dev/null
rec meta/traceroute - 'traceroute --version'         >/dev/null
rec meta/ping - 'ping -V'                            >/dev/null
rec meta/tcpdump - 'tcpdump --version'               >/dev/null
SYSCTLS="net.ipv4.ip_forward net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter \
net.ipv4.ip_local_port_range net.ipv4.ip_default_ttl net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask \
net.ipv4.icmp_msgs_per_sec net.ipv4.icmp_msgs_burst net.ipv4.icmp_errors_use_inbound_ifaddr \
net.ipv4.conf.all.send_redirects net.ipv4.conf.all.accept_redirects net.ipv4.ip_no_pmtu_disc \
net.ipv4.route.min_pmtu net.ipv4.route.mtu_expires net.ipv4.neigh.eth0.mcast_solicit \
net.ipv4.neigh.eth0.ucast_solicit net.ipv4.neigh.eth0.app_solicit net.ipv4.neigh.eth0.retrans_time_ms \
net.ipv4.neigh.eth0.base_reachable_time_ms net.ipv4.neigh.eth0.delay_first_probe_time \
net.ipv4.conf.eth0.rp_filter net.ipv4.conf.eth0.arp_notify"
for ns in rtr-rack-a node-1 node-2 node-3 "${PODS[@]}"; do
  rec "sysctl/$ns" "$ns" "for s in $SYSCTLS; do sysctl \$s 2>/dev/null; done" >/dev/null
done

# ------------------------------------------------------- 1. all pairs probes
log "probing all ordered pairs"
for f in "${ENDPOINTS[@]}"; do
  for t in "${ENDPOINTS[@]}"; do
    [ "$f" = "$t" ] && continue
    dst=${EP_IP[$t]}
    rec "pair/$f/$t/routeget" "$f" "ip route get $dst" >/dev/null
    rec "pair/$f/$t/ping" "$f" "ping -c 1 -W 1 $dst" >/dev/null
    rec "pair/$f/$t/traceroute" "$f" "traceroute -n -q 1 -w 1 -m 10 $dst" >/dev/null
    sleep 1   # let ICMP error rate-limit tokens (1/s, burst 6) refill
  done
done

# ------------------------------------------------------- 2. state snapshots
log "snapshotting state"
for n in "${NODES[@]}"; do
  ns=node-$n
  rec "node/$ns/ipRoute" "$ns" 'ip route show'                   >/dev/null
  rec "node/$ns/ipRouteLocal" "$ns" 'ip route show table local'  >/dev/null
  rec "node/$ns/flannelLink" "$ns" 'ip -d link show flannel.1'   >/dev/null
  rec "node/$ns/cni0Link" "$ns" 'ip -d link show cni0'           >/dev/null
  rec "node/$ns/ipNeigh" "$ns" 'ip neigh show'                   >/dev/null
  rec "node/$ns/bridgeFdb" "$ns" 'bridge fdb show'               >/dev/null
  rec "node/$ns/bridgeLink" "$ns" 'bridge link show'             >/dev/null
  rec "node/$ns/ipAddr" "$ns" 'ip addr show'                     >/dev/null
  rec "node/$ns/ipLink" "$ns" 'ip link show'                     >/dev/null
done
for p in "${PODS[@]}"; do
  rec "pod/$p/ipRoute" "$p" 'ip route show'   >/dev/null
  rec "pod/$p/ipAddr" "$p" 'ip addr show'     >/dev/null
  rec "pod/$p/ipLink" "$p" 'ip link show'     >/dev/null
  rec "pod/$p/ipNeigh" "$p" 'ip neigh show'   >/dev/null
done
rec "router/rtr-rack-a/ipRoute" rtr-rack-a 'ip route show'   >/dev/null
rec "router/rtr-rack-a/ipAddr" rtr-rack-a 'ip addr show'     >/dev/null
rec "router/rtr-rack-a/ipNeigh" rtr-rack-a 'ip neigh show'   >/dev/null
rec "segment/rack-a/bridgeFdb" rack-a 'bridge fdb show br br0'  >/dev/null
rec "segment/rack-a/ipLink" rack-a 'ip link show'            >/dev/null

# ------------------------------------------------------------ 3. experiments
log "experiments"
PA=10.244.1.4; PB=10.244.1.5; PC=10.244.2.3
HVA=$(veth_name pod-a)

# a. TTL
for ttl in 1 2 3 4; do
  sleep 1
  rec "exp/a/ttl$ttl" pod-a "ping -c 1 -W 1 -t $ttl $PC" >/dev/null
done

# b. MTU / DF
sleep 1
rec exp/b/df1422 pod-a "ping -c 1 -W 1 -M do -s 1422 $PC" >/dev/null
rec exp/b/df1423 pod-a "ping -c 1 -W 1 -M do -s 1423 $PC" >/dev/null
rec exp/b/df1423-routeget pod-a "ip route get $PC" >/dev/null
rec exp/b/nodf1423 pod-a "ping -c 1 -W 1 -M dont -s 1423 $PC" >/dev/null
rec exp/b/set-mtu1500 node-1 "ip link set $HVA mtu 1500 && ip netns exec $(nsn pod-a) ip link set eth0 mtu 1500 && ip link show $HVA && ip link show cni0 && ip netns exec $(nsn pod-a) ip link show eth0" >/dev/null
rec exp/b/mtu1500-routeget-before pod-a "ip route get $PC" >/dev/null
cap exp/b/mtu1500-tcpdump-pod-a pod-a "timeout 6 tcpdump -l -n -v -c 4 -i eth0 icmp"
rec exp/b/mtu1500-df1472-first pod-a "ping -c 1 -W 1 -M do -s 1472 $PC" >/dev/null
capwait
rec exp/b/mtu1500-routeget-after pod-a "ip route get $PC" >/dev/null
rec exp/b/mtu1500-df1472-second pod-a "ping -c 1 -W 1 -M do -s 1472 $PC" >/dev/null
rec exp/b/mtu1500-flush-cache pod-a "ip route flush cache; ip route get $PC" >/dev/null
rec exp/b/mtu1500-nodf1472 pod-a "ping -c 1 -W 1 -M dont -s 1472 $PC" >/dev/null
rec exp/b/mtu1500-df1422 pod-a "ping -c 1 -W 1 -M do -s 1422 $PC" >/dev/null
# same-node peer over the bridge only (no flannel.1 on the path): pod-b mtu 1450
HVB=$(veth_name pod-b)
cap exp/b/mtu1500-tcpdump-pod-b-hostveth node-1 "timeout 3 tcpdump -l -n -v -c 2 -i $HVB icmp"
rec exp/b/mtu1500-df1472-to-pod-b pod-a "ping -c 1 -W 1 -M do -s 1472 $PB" >/dev/null
capwait
rec exp/b/mtu1500-df1422-to-pod-b pod-a "ping -c 1 -W 1 -M do -s 1422 $PB" >/dev/null
rec exp/b/restore-mtu1450 node-1 "ip link set $HVA mtu 1450 && ip netns exec $(nsn pod-a) ip link set eth0 mtu 1450 && ip netns exec $(nsn pod-a) ip route flush cache && ip link show cni0" >/dev/null
rec exp/b/restored-check pod-a "ping -c 1 -W 1 $PC" >/dev/null

# c. UDP to a closed port
sleep 1
cap exp/c/tcpdump-pod-a pod-a "timeout 6 tcpdump -l -n -v -c 2 -i eth0 icmp"
rec exp/c/udp-connected-socket pod-a "$PY - <<'EOF'
import socket, errno
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('$PC', 9999))
s.send(b'x')
try:
    s.recv(100)
    print('received data')
except ConnectionRefusedError as e:
    print('recv error: errno=%d %s (%s)' % (e.errno, errno.errorcode[e.errno], e.strerror))
except socket.timeout:
    print('timeout (no ICMP)')
EOF" >/dev/null
capwait
sleep 1
rec exp/c/traceroute-U pod-a "traceroute -U -n -q 1 -w 1 -m 10 $PC" >/dev/null

# d. non-existent pod IPs (remote node, same node)
sleep 1
rec exp/d/remote-W1 pod-a "ping -c 1 -W 1 10.244.2.99" >/dev/null
sleep 4
X node-2 ip neigh del 10.244.2.99 dev cni0 2>/dev/null
cap exp/d/remote-tcpdump-pod-a pod-a "timeout 8 tcpdump -l -n -v -c 2 -i eth0 icmp"
rec exp/d/remote-W5 pod-a "ping -c 1 -W 5 10.244.2.99" >/dev/null
capwait
rec exp/d/remote-neigh-node-2 node-2 "ip neigh show 10.244.2.99" >/dev/null
rec exp/d/remote-neigh-node-2-later node-2 "sleep 2; ip neigh show 10.244.2.99" >/dev/null
sleep 1
rec exp/d/local-W1 pod-a "ping -c 1 -W 1 10.244.1.99" >/dev/null
sleep 4
X pod-a ip neigh del 10.244.1.99 dev eth0 2>/dev/null
rec exp/d/local-W5 pod-a "ping -c 1 -W 5 10.244.1.99" >/dev/null
rec exp/d/local-neigh-pod-a pod-a "ip neigh show 10.244.1.99" >/dev/null
rec exp/d/local-W5-again-immediately pod-a "ping -c 1 -W 5 10.244.1.99" >/dev/null
rec exp/d/local-timing-ping-c3 pod-a "ping -c 3 -W 5 10.244.1.99" >/dev/null

# e. no route
rec exp/e/del-default pod-a "ip route del default; ip route show" >/dev/null
rec exp/e/ping-node-2 pod-a "ping -c 1 -W 1 192.168.1.12" >/dev/null
rec exp/e/routeget-node-2 pod-a "ip route get 192.168.1.12" >/dev/null
rec exp/e/traceroute-node-2 pod-a "traceroute -n -q 1 -w 1 -m 10 192.168.1.12" >/dev/null
rec exp/e/ping-pod-c-still-via-16 pod-a "ping -c 1 -W 1 $PC" >/dev/null
rec exp/e/del-16-too pod-a "ip route del 10.244.0.0/16; ip route show" >/dev/null
rec exp/e/ping-pod-c-no-route pod-a "ping -c 1 -W 1 $PC" >/dev/null
rec exp/e/restore pod-a "ip route add 10.244.0.0/16 via 10.244.1.1 dev eth0 && ip route add default via 10.244.1.1 dev eth0 && ip route show" >/dev/null

# f. route to 10.244.2.0/24 deleted on node-1 -> default route -> rack router
sleep 1
rec exp/f/del-route node-1 "ip route del 10.244.2.0/24; ip route show" >/dev/null
rec exp/f/node-1-routeget node-1 "ip route get $PC from $PA iif cni0" >/dev/null
rec exp/f/router-routeget-back rtr-rack-a "ip route get $PA" >/dev/null
rec exp/f/router-routeget-fwd rtr-rack-a "ip route get $PC from $PA iif eth0" >/dev/null
cap exp/f/tcpdump-router rtr-rack-a "timeout 5 tcpdump -l -n -e -v -c 4 -i eth0 not ip6 and not arp"
rec exp/f/ping pod-a "ping -c 1 -W 2 $PC" >/dev/null
capwait
sleep 1
rec exp/f/traceroute pod-a "traceroute -n -q 1 -w 1 -m 10 $PC" >/dev/null
rec exp/f/node-1-ping-from-node node-1 "ping -c 1 -W 2 $PC" >/dev/null
rec exp/f/node-1-routeget-from-node node-1 "ip route get $PC" >/dev/null
rec exp/f/restore node-1 "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink && ip route show" >/dev/null
rec exp/f/restored-check pod-a "ping -c 1 -W 1 $PC" >/dev/null

# g. route add errors
rec exp/g/offlink-gw-existing-prefix node-1 "ip route add 10.244.2.0/24 via 192.168.2.12 dev eth0" >/dev/null
rec exp/g/offlink-gw-new-prefix node-1 "ip route add 10.99.0.0/16 via 192.168.2.12 dev eth0" >/dev/null
rec exp/g/offlink-gw-no-dev node-1 "ip route add 10.99.0.0/16 via 192.168.2.12" >/dev/null
rec exp/g/onlink-gw-existing-prefix node-1 "ip route add 10.244.2.0/24 via 192.168.1.12 dev eth0" >/dev/null
rec exp/g/flannel-gw-without-onlink node-1 "ip route add 10.99.0.0/16 via 10.244.9.0 dev flannel.1" >/dev/null
rec exp/g/flannel-gw-with-onlink node-1 "ip route add 10.99.0.0/16 via 10.244.9.0 dev flannel.1 onlink && ip route show 10.99.0.0/16 && ip route del 10.99.0.0/16" >/dev/null
rec exp/g/gw-is-local-address node-1 "ip route add 10.99.0.0/16 via 192.168.1.11 dev eth0" >/dev/null
rec exp/g/gw-is-local-address-show node-1 "ip route show 10.99.0.0/16; ip route del 10.99.0.0/16" >/dev/null
rec exp/g/unknown-dev node-1 "ip route add 10.99.0.0/16 dev nosuchdev" >/dev/null
rec exp/g/del-missing node-1 "ip route del 10.98.0.0/16" >/dev/null
rec exp/g/final-routes node-1 "ip route show" >/dev/null

# h. ARP between pods on the same bridge
rec exp/h/flush pod-a "ip neigh flush dev eth0; ip neigh show" >/dev/null
X pod-b ip neigh flush dev eth0
X node-1 ip neigh flush dev cni0
cap exp/h/tcpdump-pod-b pod-b "timeout 5 tcpdump -l -n -e -c 4 -i eth0 arp or icmp"
rec exp/h/ping-pod-b pod-a "ping -c 1 -W 1 $PB" >/dev/null
capwait
rec exp/h/neigh-after-pod-b pod-a "ip neigh show" >/dev/null
rec exp/h/node-1-neigh-after-pod-b node-1 "ip neigh show dev cni0" >/dev/null
rec exp/h/ping-pod-c pod-a "ping -c 1 -W 1 $PC" >/dev/null
rec exp/h/neigh-after-pod-c pod-a "ip neigh show" >/dev/null
rec exp/h/cni0-fdb node-1 "bridge fdb show br cni0" >/dev/null
rec exp/h/neigh-after-6s pod-a "sleep 6; ip neigh show" >/dev/null
rec exp/h/neigh-after-40s pod-a "sleep 35; ip neigh show" >/dev/null

# i. route line formats, incl. linkdown of a port-less bridge (scratch netns)
rec exp/i/node-1-routes node-1 "ip route show" >/dev/null
rec exp/i/node-1-routes-d node-1 "ip -d route show" >/dev/null
mkns scratch
rec exp/i/portless-bridge scratch "ip link add cni0 mtu 1450 type bridge && ip link set cni0 up && ip addr add 10.244.9.1/24 dev cni0 && sleep 1.5 && ip route show && ip link show cni0" >/dev/null
rec exp/i/bridge-one-port-down scratch "ip link add vethx type veth peer name vethy && ip link set vethx master cni0 && ip link set vethx up && sleep 1.5 && ip route show && ip link show cni0" >/dev/null
rec exp/i/bridge-one-port-up scratch "ip link set vethy up && sleep 1.5 && ip route show && ip link show cni0" >/dev/null
rec exp/i/bridge-port-removed scratch "ip link del vethx && sleep 1.5 && ip route show && ip link show cni0" >/dev/null
rec exp/i/bridge-admin-down scratch "ip link set cni0 down && sleep 1.5 && ip route show; ip link show cni0" >/dev/null
rec exp/i/flannel-routes-vs-admin-down scratch "ip link add flannel.1 mtu 1450 type vxlan id 1 local 192.168.1.19 dstport 8472 nolearning && ip addr add 10.244.9.0/32 dev flannel.1 && echo '# flannel.1 down, address added:' && ip route show && ip route show table local dev flannel.1 && ip link set flannel.1 up && ip route add 10.244.8.0/24 via 10.244.8.0 dev flannel.1 onlink && sleep 1.5 && echo '# flannel.1 up + onlink route:' && ip route show && ip link set flannel.1 down && sleep 1.5 && echo '# after ip link set flannel.1 down:' && ip route show" >/dev/null
ip netns del "$(nsn scratch)"

# j. node-1 addr/link verbatim
rec exp/j/ip-addr node-1 "ip addr show" >/dev/null
rec exp/j/ip-link node-1 "ip link show" >/dev/null
rec exp/j/ip-br-addr node-1 "ip -br addr show" >/dev/null
rec exp/j/pod-a-ip-addr pod-a "ip addr show" >/dev/null

# k. tcpdump on node-1 eth0 during one ping pod-a -> pod-c
sleep 1
cap exp/k/tcpdump-eth0 node-1 "timeout 5 tcpdump -l -n -e -v -c 10 -i eth0 not ip6"
rec exp/k/ping pod-a "ping -c 1 -W 1 $PC" >/dev/null
capwait
cap exp/k/tcpdump-eth0-vxlan node-1 "timeout 5 tcpdump -l -n -e -v -c 10 -T vxlan -i eth0 udp port 8472"
rec exp/k/ping2 pod-a "ping -c 1 -W 1 $PC" >/dev/null
capwait
cap exp/k/tcpdump-flannel1 node-1 "timeout 5 tcpdump -l -n -e -v -c 4 -i flannel.1"
rec exp/k/ping3 pod-a "ping -c 1 -W 1 $PC" >/dev/null
capwait
# outer UDP source port for different inner flows
cap exp/k/srcports node-1 "timeout 10 tcpdump -l -n -c 20 -T vxlan -i eth0 udp port 8472"
for i in 1 2 3; do rec "exp/k/srcport-ping-a-c-$i" pod-a "ping -c 1 -W 1 $PC" >/dev/null; done
rec exp/k/srcport-ping-a-c-x3 pod-a "ping -c 3 -i 0.2 -W 1 $PC" >/dev/null
rec exp/k/srcport-ping-b-c pod-b "ping -c 1 -W 1 $PC" >/dev/null
rec exp/k/srcport-ping-a-d pod-a "ping -c 1 -W 1 10.244.2.7" >/dev/null
rec exp/k/srcport-udp-a-c pod-a "for p in 1111 2222; do printf x | timeout 2 nc -u -w 1 $PC \$p; done; true" >/dev/null
capwait

# l. strict rp_filter on node-2 vs. the asymmetric pod -> remote node path
sleep 1
rec exp/l/set-rpfilter-1 node-2 "sysctl -w net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1" >/dev/null
rec exp/l/ping-pod-a-to-node-2 pod-a "ping -c 1 -W 1 192.168.1.12" >/dev/null
rec exp/l/ping-node-2-to-pod-a node-2 "ping -c 1 -W 1 $PA" >/dev/null
rec exp/l/ping-pod-c-to-node-1 pod-c "ping -c 1 -W 1 192.168.1.11" >/dev/null
rec exp/l/set-rpfilter-2 node-2 "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2" >/dev/null
rec exp/l/ping-pod-a-to-node-2-loose pod-a "ping -c 1 -W 1 192.168.1.12" >/dev/null
rec exp/l/restore node-2 "sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0" >/dev/null

# m. ICMP error rate limiting (why traceroute shows '*' when probing fast)
sleep 7
rec exp/m/ttl1-burst pod-a "ping -c 12 -i 0.05 -t 1 -W 1 $PC" >/dev/null
sleep 7
rec exp/m/ttl1-burst-spaced pod-a "ping -c 6 -i 1.05 -t 1 -W 1 $PC" >/dev/null

# n. which source address an ICMP error uses: route back to the sender, not the
#    inbound interface (icmp_errors_use_inbound_ifaddr=0). Make node-1 send
#    pod-a -> pod-c traffic host-gw style over eth0 so that it enters node-2 on
#    eth0 while node-2's route back to 10.244.1.4 is via flannel.1.
sleep 2
rec exp/n/node-1-hostgw-route node-1 "ip route replace 10.244.2.0/24 via 192.168.1.12 dev eth0 && ip route show" >/dev/null
rec exp/n/ttl2-default pod-a "ping -c 1 -W 1 -t 2 $PC" >/dev/null
rec exp/n/ttl3-default pod-a "ping -c 1 -W 1 -t 3 $PC" >/dev/null
sleep 1
rec exp/n/traceroute-default pod-a "traceroute -n -q 1 -w 1 -m 10 $PC" >/dev/null
rec exp/n/set-inbound-ifaddr node-2 "sysctl -w net.ipv4.icmp_errors_use_inbound_ifaddr=1" >/dev/null
sleep 1
rec exp/n/ttl2-inbound-ifaddr pod-a "ping -c 1 -W 1 -t 2 $PC" >/dev/null
rec exp/n/restore node-2 "sysctl -w net.ipv4.icmp_errors_use_inbound_ifaddr=0" >/dev/null
rec exp/n/restore-route node-1 "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink && ip route show" >/dev/null

# o. flannel's --ip-masq iptables rules (kube-flannel.yml default), if iptables
#    works inside a netns. Before/after for pod -> node / router traffic.
flannel_masq() {  # flannel pkg/trafficmngr/iptables masqRules(), node N
  local n=$1
  cat <<EOR
iptables -t nat -N FLANNEL-POSTRTG
iptables -t nat -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
iptables -t nat -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
iptables -t nat -A FLANNEL-POSTRTG -s 10.244.$n.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN
iptables -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.$n.0/24 -m comment --comment "flanneld masq" -j RETURN
iptables -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.$n.0/24 -m comment --comment "flanneld masq" -j RETURN
iptables -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
iptables -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
EOR
}
if command -v iptables >/dev/null 2>&1 && X node-1 iptables -t nat -S >/dev/null 2>&1; then
  sleep 1
  rec exp/o/before-ping-router pod-a "ping -c 1 -W 1 192.168.1.1" >/dev/null
  rec exp/o/before-rpfilter1-ping-node-2 node-2 "sysctl -q -w net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1; ip netns exec $(nsn pod-a) ping -c 1 -W 1 192.168.1.12; rc=\$?; sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0; exit \$rc" >/dev/null
  for n in "${NODES[@]}"; do
    rec "exp/o/install-node-$n" "node-$n" "set -e; $(flannel_masq "$n"); iptables -t nat -S" >/dev/null
  done
  sleep 1
  rec exp/o/after-ping-router pod-a "ping -c 1 -W 1 192.168.1.1" >/dev/null
  sleep 1
  rec exp/o/after-traceroute-router pod-a "traceroute -n -q 1 -w 1 -m 10 192.168.1.1" >/dev/null
  cap exp/o/after-tcpdump-node-2-eth0 node-2 "timeout 5 tcpdump -l -n -c 2 -i eth0 icmp"
  rec exp/o/after-ping-node-2 pod-a "ping -c 1 -W 1 192.168.1.12" >/dev/null
  capwait
  sleep 1
  rec exp/o/after-traceroute-node-2 pod-a "traceroute -n -q 1 -w 1 -m 10 192.168.1.12" >/dev/null
  rec exp/o/after-rpfilter1-ping-node-2 node-2 "sysctl -q -w net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1; ip netns exec $(nsn pod-a) ping -c 1 -W 1 192.168.1.12; rc=\$?; sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0; exit \$rc" >/dev/null
  sleep 1
  rec exp/o/after-traceroute-pod-c pod-a "traceroute -n -q 1 -w 1 -m 10 $PC" >/dev/null
  rec exp/o/after-node-1-ping-pod-c node-1 "ping -c 1 -W 1 $PC" >/dev/null
  cap exp/o/after-tcpdump-node-2-flannel node-2 "timeout 5 tcpdump -l -n -c 2 -i flannel.1 icmp"
  rec exp/o/after-node-1-ping-pod-c-from-eth0-ip node-1 "ping -c 1 -W 1 -I 192.168.1.11 $PC" >/dev/null
  capwait
  rec exp/o/counters-node-1 node-1 "iptables -t nat -L FLANNEL-POSTRTG -v -n -x" >/dev/null
  for n in "${NODES[@]}"; do
    X "node-$n" iptables -t nat -D POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
    X "node-$n" iptables -t nat -F FLANNEL-POSTRTG
    X "node-$n" iptables -t nat -X FLANNEL-POSTRTG
  done
else
  newrec exp/o/skipped - "iptables unavailable in netns"; echo 0 >"$R/rc"; echo "0 0" >"$R/time"
  echo "iptables not available: experiment o skipped" >"$R/out"; : >"$R/err"
fi

# ------------------------------------------------------------ 4. assemble
log "assembling JSON -> $OUT"
export SEEDLAB_W="$W" SEEDLAB_P="$P" SEEDLAB_OUT="$OUT"
export SEEDLAB_ENDPOINTS="${ENDPOINTS[*]}"
ENDPOINT_SPEC=""
for e in "${ENDPOINTS[@]}"; do
  if [ "${EP_KIND[$e]}" = pod ]; then
    n=${POD_NODE[$e]}
    ENDPOINT_SPEC+="$e,pod,${EP_IP[$e]},node-$n,$(pod_mac "$e"),$(veth_name "$e"),$(hveth_mac "$e") "
  else
    n=${e#node-}
    ENDPOINT_SPEC+="$e,node,${EP_IP[$e]},$e,52:54:00:00:01:1$n,$(fl_mac "$n"),$(cni_mac "$n") "
  fi
done
export SEEDLAB_ENDPOINT_SPEC="$ENDPOINT_SPEC"
"$PY" - <<'PYEOF' || die "JSON assembly failed"
import json, os, re, glob, datetime

W = os.environ["SEEDLAB_W"]; P = os.environ["SEEDLAB_P"]; OUT = os.environ["SEEDLAB_OUT"]

def clean(s):
    return s.replace(P, "")

recs = {}
order = []
for d in sorted(glob.glob(os.path.join(W, "rec", "*"))):
    r = lambda f: open(os.path.join(d, f), encoding="utf-8", errors="replace").read() if os.path.exists(os.path.join(d, f)) else ""
    key = r("key")
    t = r("time").split()
    rc = r("rc").strip()
    rec = {
        "ns": r("ns"), "cmd": clean(r("cmd")),
        "rc": int(rc) if rc.lstrip("-").isdigit() else None,
        "stdout": clean(r("out")), "stderr": clean(r("err")),
        "durationSec": round(float(t[1]) - float(t[0]), 3) if len(t) == 2 else None,
    }
    recs[key] = rec
    order.append(key)

def out(key):
    return recs[key]["stdout"]

def parse_trace(text):
    hops, flags = [], []
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\s+(.*)$", line)
        if not m:
            continue
        rest = m.group(2).split()
        if not rest or rest[0] == "*":
            hops.append(None); flags.append(None)
        else:
            hops.append(rest[0])
            fl = [x for x in rest[1:] if x.startswith("!")]
            flags.append(" ".join(fl) if fl else None)
    return hops, flags

def parse_src(text):
    m = re.search(r"\bsrc (\S+)", text)
    return m.group(1) if m else None

def ping_errors(text):
    res = []
    for line in text.splitlines():
        m = re.match(r"^From (\S+) icmp_seq=\d+ (.*)$", line)
        if m:
            res.append({"from": m.group(1), "text": m.group(2)})
    return res

def ping_ok(rec):
    return rec["rc"] == 0 and re.search(r"\b1 received\b|\b[1-9]\d* received", rec["stdout"]) is not None

spec = {}
for item in os.environ["SEEDLAB_ENDPOINT_SPEC"].split():
    name, kind, ip, node, a, b, c = item.split(",")
    spec[name] = dict(kind=kind, ip=ip, node=node, a=a, b=b, c=c)
endpoints = os.environ["SEEDLAB_ENDPOINTS"].split()

pairs = []
for f in endpoints:
    for t in endpoints:
        if f == t:
            continue
        k = f"pair/{f}/{t}/"
        pr, tr, rg = recs[k + "ping"], recs[k + "traceroute"], recs[k + "routeget"]
        hops, flags = parse_trace(tr["stdout"])
        pairs.append({
            "from": f, "to": t, "dst": spec[t]["ip"],
            "ping": ping_ok(pr),
            "hops": hops,
            "hopFlags": flags,
            "src": parse_src(rg["stdout"]),
            "routeGet": rg["stdout"].strip(),
            "pingErrors": ping_errors(pr["stdout"]),
            "pingCmd": pr["cmd"], "pingOutput": pr["stdout"] + pr["stderr"],
            "tracerouteCmd": tr["cmd"], "tracerouteOutput": tr["stdout"] + tr["stderr"],
        })

def sysctl_map(ns):
    m = {}
    for line in out(f"sysctl/{ns}").splitlines():
        if " = " in line:
            k, v = line.split(" = ", 1)
            m[k.strip()] = v.strip()
    return m

nodes = {}
for n in ("node-1", "node-2", "node-3"):
    k = f"node/{n}/"
    nodes[n] = {
        "eth0Ip": spec[n]["ip"], "eth0Mac": spec[n]["a"], "flannelMac": spec[n]["b"], "cni0Mac": spec[n]["c"],
        "podCidr": "10.244.%s.0/24" % n[-1],
        "ipRoute": out(k + "ipRoute"), "ipRouteLocal": out(k + "ipRouteLocal"),
        "flannelLink": out(k + "flannelLink"), "cni0Link": out(k + "cni0Link"),
        "ipNeigh": out(k + "ipNeigh"), "bridgeFdb": out(k + "bridgeFdb"), "bridgeLink": out(k + "bridgeLink"),
        "ipAddr": out(k + "ipAddr"), "ipLink": out(k + "ipLink"),
        "sysctl": sysctl_map(n),
    }
pods = {}
for p in [e for e in endpoints if spec[e]["kind"] == "pod"]:
    k = f"pod/{p}/"
    pods[p] = {
        "ip": spec[p]["ip"], "node": spec[p]["node"], "eth0Mac": spec[p]["a"],
        "hostVeth": spec[p]["b"], "hostVethMac": spec[p]["c"],
        "ipRoute": out(k + "ipRoute"), "ipAddr": out(k + "ipAddr"), "ipLink": out(k + "ipLink"),
        "ipNeigh": out(k + "ipNeigh"), "sysctl": sysctl_map(p),
    }
router = {"ns": "rtr-rack-a", "ip": "192.168.1.1", "ipRoute": out("router/rtr-rack-a/ipRoute"),
          "ipAddr": out("router/rtr-rack-a/ipAddr"), "ipNeigh": out("router/rtr-rack-a/ipNeigh"),
          "sysctl": sysctl_map("rtr-rack-a")}
segment = {"ns": "rack-a", "bridgeFdb": out("segment/rack-a/bridgeFdb"), "ipLink": out("segment/rack-a/ipLink")}

experiments = {}
for key in order:
    if not key.startswith("exp/"):
        continue
    _, letter, step = key.split("/", 2)
    e = experiments.setdefault(letter, {"steps": []})
    r = dict(recs[key]); r["step"] = step
    r["icmpErrors"] = ping_errors(r["stdout"])
    experiments[letter]["steps"].append(r)

def step(letter, name):
    for s in experiments[letter]["steps"]:
        if s["step"] == name:
            return s
    raise KeyError(letter + "/" + name)

# derived summaries
experiments["a"]["title"] = "TTL-limited ping pod-a -> pod-c: who answers Time Exceeded"
experiments["a"]["observed"] = {
    f"ttl{t}": {"ok": ping_ok(step("a", f"ttl{t}")), "icmpErrors": ping_errors(step("a", f"ttl{t}")["stdout"])}
    for t in (1, 2, 3, 4)}
experiments["b"]["title"] = "MTU / DF pod-a -> pod-c (flannel.1 mtu 1450), then pod-a eth0+host veth mtu 1500"
experiments["b"]["observed"] = {
    s["step"]: {"rc": s["rc"], "ok": ping_ok(s), "icmpErrors": s["icmpErrors"],
                "text": (s["stdout"] + s["stderr"]).strip()}
    for s in experiments["b"]["steps"] if "ping" in s["cmd"] or "route get" in s["cmd"]}
experiments["c"]["title"] = "UDP to a closed port on pod-c from pod-a"
experiments["d"]["title"] = "ping non-existent pod IPs 10.244.2.99 (remote node) and 10.244.1.99 (same node) from pod-a"
experiments["d"]["observed"] = {
    s["step"]: {"ok": ping_ok(s), "icmpErrors": s["icmpErrors"], "durationSec": s["durationSec"]}
    for s in experiments["d"]["steps"] if s["cmd"].startswith("ping")}
experiments["e"]["title"] = "ping from a pod whose default route was deleted"
experiments["f"]["title"] = "node-1 loses the route to 10.244.2.0/24: traffic follows default to the rack router"
experiments["g"]["title"] = "ip route add error texts"
experiments["g"]["observed"] = {s["step"]: {"rc": s["rc"], "stderr": s["stderr"].strip(), "stdout": s["stdout"].strip()}
                                for s in experiments["g"]["steps"]}
experiments["h"]["title"] = "ARP across cni0 between same-node pods; pod-a neighbour table"
experiments["i"]["title"] = "ip route line formats (node-1) and linkdown on a port-less bridge (scratch netns)"
experiments["j"]["title"] = "node-1 ip addr / ip link verbatim"
experiments["k"]["title"] = "tcpdump on node-1 eth0 during ping pod-a -> pod-c (VXLAN outer header)"
ports = []
lines = step("k", "srcports")["stdout"].splitlines()
for i in range(len(lines) - 1):
    m = re.search(r"IP (\S+)\.(\d+) > (\S+)\.8472: VXLAN", lines[i])
    if m:
        inner = lines[i + 1].strip()
        if inner.startswith("IP "):
            inner = inner[3:]
        ports.append({"outerSrc": m.group(1), "srcPort": int(m.group(2)), "outerDst": m.group(3),
                      "inner": inner})
experiments["k"]["observed"] = {"vxlanFlows": ports}
experiments["l"]["title"] = "strict rp_filter on node-2 vs. the asymmetric pod-a -> node-2 path"
experiments["n"]["title"] = "ICMP error source address = route back to the sender (not the inbound interface) unless icmp_errors_use_inbound_ifaddr=1"
experiments["n"]["observed"] = {s["step"]: {"ok": ping_ok(s), "icmpErrors": s["icmpErrors"]}
                                for s in experiments["n"]["steps"] if s["cmd"].startswith("ping")}
experiments["o"]["title"] = "flannel --ip-masq iptables rules (MASQUERADE pod -> non-cluster) before/after"
experiments["m"]["title"] = "ICMP Time Exceeded rate limiting (burst 6, then 1/s per destination)"
experiments["m"]["observed"] = {s["step"]: {"timeExceededReplies": sum(1 for x in s["icmpErrors"] if "Time to live exceeded" in x["text"])}
                                for s in experiments["m"]["steps"]}

meta = {
    "generatedBy": "packages/kernel-oracle/scripts/seed-lab.sh",
    "generatedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "kernel": out("meta/uname").strip(),
    "unameA": out("meta/uname-a").strip(),
    "iproute2": out("meta/iproute2").strip(),
    "traceroute": (out("meta/traceroute") + recs["meta/traceroute"]["stderr"]).strip().splitlines()[0],
    "ping": out("meta/ping").strip().splitlines()[0],
    "tcpdump": out("meta/tcpdump").strip().splitlines()[0],
    "namespacePrefixStripped": P,
    "note": "Namespace prefix was stripped from all recorded text (e.g. 'link-netns rack-a'). MACs and host veth names are deterministic (set by the script).",
    "wiring": [
        "flannel.1: ip link add flannel.1 address <mac> mtu 1450 type vxlan id 1 local 192.168.1.1N dev eth0 dstport 8472 nolearning; accept_ra=0; addr 10.244.N.0/32; up",
        "per remote node M (flannel handleSubnetEvents order): ip neigh replace 10.244.M.0 lladdr <macM> dev flannel.1 nud permanent; bridge fdb replace <macM> dev flannel.1 dst 192.168.1.1M self permanent; ip route replace 10.244.M.0/24 via 10.244.M.0 dev flannel.1 onlink (flannel uses netlink NeighSet/RouteReplace = replace semantics)",
        "cni0: ip link add cni0 mtu 1450 type bridge; accept_ra=0; up; address 10.244.N.1/24 added after the first pod's veth is attached (bridge plugin isGateway); MAC pinned; ip_forward=1",
        "pod: veth mtu 1450, host side vethXXXXXXXX master cni0 + hairpin on (kube-flannel conflist hairpinMode=true); pod eth0 arp_notify=1, accept_dad=0, addr IP/24, routes '10.244.0.0/16 via 10.244.N.1' (flannel CNI IPAM routes = FLANNEL_NETWORK) and 'default via 10.244.N.1' (isDefaultGateway=true)",
        "NOT installed for the main probes: flannel's --ip-masq iptables rules (experiment o installs them and shows the difference); no kube-proxy rules",
        "deterministic MACs: flannel.1 0e:f1:a0:00:00:0N, cni0 0a:58:0a:f4:0N:01, pod eth0 0a:58:<ip hex>, host veth 0e:00:<ip hex>, node eth0 52:54:00:00:01:1N, router eth0 52:54:00:00:01:01"
    ],
    "commands": {"ping": "ping -c 1 -W 1 <dst>", "traceroute": "traceroute -n -q 1 -w 1 -m 10 <dst>",
                 "src": "ip route get <dst> (in the source netns)"},
}
topology = {
    "segment": {"name": "rack-a", "cidr": "192.168.1.0/24", "gateway": "192.168.1.1", "mtu": 1500},
    "endpoints": [{"name": e, "kind": spec[e]["kind"], "ip": spec[e]["ip"], "node": spec[e]["node"]} for e in endpoints],
    "flannel": {"vni": 1, "dstport": 8472, "device": "flannel.1", "mtu": 1450, "network": "10.244.0.0/16"},
}
doc = {"meta": meta, "topology": topology, "pairs": pairs, "nodes": nodes, "pods": pods,
       "router": router, "segment": segment, "experiments": experiments}
with open(OUT, "w") as fh:
    json.dump(doc, fh, indent=1, sort_keys=False)
    fh.write("\n")
print("wrote", OUT, "pairs:", len(pairs), "ok:", sum(p["ping"] for p in pairs))
PYEOF
log "done"
