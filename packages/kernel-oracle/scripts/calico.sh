#!/usr/bin/env bash
# calico.sh — build calico topologies in real Linux network namespaces, measure
# what the kernel does, and write a JSON fixture podnet's tests compare with.
#
#   usage: sudo bash packages/kernel-oracle/scripts/calico.sh OUT.json
#
# Labs (pod IPs are the ones podnet's calico-ipam hands out for the same spec):
#   none       one segment rack-a, 3 nodes, 2 pods each, BIRD's routes
#   none-cross rack-a (node-1, node-2) and rack-b (node-3) joined by a router;
#              BIRD's routes with the next hop resolved recursively for node-3
#   none-tor   the same, and the router has the blocks (ToR peering)
#   vxlan      the two segments, felix's VXLAN routes/neighbours/FDB
# IPIP is not measured: this kernel has no ipip support ("Unknown device type").
#
# Safety: everything lives in network namespaces named "pn<PID>-*" made here.
# Nothing is added or changed in the root namespace, traffic only flows between
# those namespaces, every probe is bounded (ping -c 1 -W 1, traceroute -n -q 1
# -w 1 -m 10), and every namespace is deleted on exit (trap), also on failure.
#
# Wiring follows calico's CNI plugin (cni-plugin/pkg/dataplane/linux/
# dataplane_linux.go: veth with host side ee:ee:ee:ee:ee:ee, proxy_arp=1,
# proxy_delay=0, pod routes 169.254.1.1 scope link + default via it, <ip>/32,
# host route <ip> dev caliX scope link), BIRD (blackhole per block, peers'
# blocks "via <node ip> dev eth0 proto bird") and felix's VXLAN manager
# (vxlan.calico VNI 4096 port 4789, "<block> via <vtep> dev vxlan.calico proto 80 onlink").
. "$(dirname "$0")/common.sh"
oracle_start "$@"
for t in ip bridge ping traceroute iptables python3 sha1sum timeout; do
  command -v "$t" >/dev/null 2>&1 || { echo "missing tool: $t (apt-get install -y iproute2 iputils-ping traceroute)" >&2; exit 2; }
done

oracle_guard calico-lab "pn$$-"
mkdir -p "$W/rec"

nsn() { echo "${P}$1"; }
X() { local ns=$1; shift; ip netns exec "$(nsn "$ns")" "$@"; }
must() { "$@" || die "command failed: $*"; }

SEQ=0
LAB=""
rec() {   # rec KEY NS 'command' — stored under the current lab
  local key=$1 ns=$2 cmd=$3
  SEQ=$((SEQ + 1))
  local R; R="$W/rec/$(printf %05d $SEQ)"; mkdir -p "$R"
  printf '%s' "$LAB" >"$R/lab"; printf '%s' "$key" >"$R/key"; printf '%s' "$ns" >"$R/ns"; printf '%s' "$cmd" >"$R/cmd"
  timeout 20 ip netns exec "$(nsn "$ns")" bash -c "$cmd" >"$R/out" 2>"$R/err"; echo $? >"$R/rc"
}

NODES=(node-1 node-2 node-3)
PODS=(pod-a pod-b pod-c pod-d pod-e pod-f)
declare -A POD_NODE=([pod-a]=node-1 [pod-b]=node-1 [pod-c]=node-2 [pod-d]=node-2 [pod-e]=node-3 [pod-f]=node-3)
declare -A NODE_BLOCK=([node-1]=10.244.0.0/26 [node-2]=10.244.0.64/26 [node-3]=10.244.0.128/26)
declare -A NODE_TUN=([node-1]=10.244.0.0 [node-2]=10.244.0.64 [node-3]=10.244.0.128)
declare -A NODE_IP NODE_SEG POD_IP
cali() { echo "cali$(printf '%s' "default.$1" | sha1sum | cut -c1-11)"; }

# ICMP rate limiting (net.ipv4.icmp_ratelimit, per destination, 6-message burst) made every
# traceroute after the first few from one pod lose its hop: podnet does not model it, so each
# namespace here turns it off (a per-namespace sysctl).
mkns() {
  must ip netns add "$(nsn "$1")"; must X "$1" ip link set lo up
  must X "$1" sysctl -q -w net.ipv4.icmp_ratelimit=0 >/dev/null
  must X "$1" sysctl -q -w net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 >/dev/null
}
sysw() { must X "$1" sysctl -q -w "$2" >/dev/null; }

# build LAB SEGMENTS(1|2) MODE(none|vxlan) TOR(0|1)
build() {
  local segs=$1 mode=$2 tor=$3 mtu=1500
  [ "$mode" = vxlan ] && mtu=1450
  NODE_IP=([node-1]=192.168.1.11 [node-2]=192.168.1.12 [node-3]=192.168.1.13)
  NODE_SEG=([node-1]=a [node-2]=a [node-3]=a)
  if [ "$segs" = 2 ]; then NODE_IP[node-3]=192.168.2.13; NODE_SEG[node-3]=b; fi
  if [ "$mode" = vxlan ]; then
    POD_IP=([pod-a]=10.244.0.1 [pod-b]=10.244.0.2 [pod-c]=10.244.0.65 [pod-d]=10.244.0.66 [pod-e]=10.244.0.129 [pod-f]=10.244.0.130)
  else
    POD_IP=([pod-a]=10.244.0.0 [pod-b]=10.244.0.1 [pod-c]=10.244.0.64 [pod-d]=10.244.0.65 [pod-e]=10.244.0.128 [pod-f]=10.244.0.129)
  fi
  # underlay: a bridge per segment and a router joining them (podnet's "underlay")
  mkns underlay
  sysw underlay net.ipv4.ip_forward=1
  local s
  for s in a $( [ "$segs" = 2 ] && echo b ); do
    mkns "seg-$s"
    must X "seg-$s" ip link add br0 type bridge
    must X "seg-$s" ip link set br0 up
    local gw=192.168.1.1; [ "$s" = b ] && gw=192.168.2.1
    must ip -n "$(nsn "seg-$s")" link add p-rtr type veth peer name "rack-$s" netns "$(nsn underlay)"
    must X "seg-$s" ip link set p-rtr master br0
    must X "seg-$s" ip link set p-rtr up
    must X underlay ip addr add "$gw/24" brd + dev "rack-$s"
    must X underlay ip link set "rack-$s" up
  done
  local n m p
  for n in "${NODES[@]}"; do
    local s=${NODE_SEG[$n]} gw=192.168.1.1
    [ "$s" = b ] && gw=192.168.2.1
    mkns "$n"
    must ip -n "$(nsn "seg-$s")" link add "p-$n" type veth peer name eth0 netns "$(nsn "$n")"
    must X "seg-$s" ip link set "p-$n" master br0
    must X "seg-$s" ip link set "p-$n" up
    must X "$n" ip addr add "${NODE_IP[$n]}/24" brd + dev eth0
    must X "$n" ip link set eth0 up
    must X "$n" ip route add default via "$gw" dev eth0
    sysw "$n" net.ipv4.ip_forward=1
    # felix's natOutgoing (cali-nat-outgoing): pool -> pool untouched, pool -> elsewhere MASQUERADE.
    must X "$n" iptables -w -t nat -A POSTROUTING -s 10.244.0.0/16 -d 10.244.0.0/16 -j ACCEPT
    must X "$n" iptables -w -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE
    if [ "$mode" = vxlan ]; then
      local i=${n#node-}
      must X "$n" ip link add vxlan.calico address "66:00:00:00:00:0$i" mtu 1450 type vxlan id 4096 local "${NODE_IP[$n]}" dev eth0 dstport 4789 nolearning
      must X "$n" ip addr add "${NODE_TUN[$n]}/32" dev vxlan.calico
      must X "$n" ip link set vxlan.calico up
      must X "$n" ip route add blackhole "${NODE_BLOCK[$n]}" proto 80
    else
      must X "$n" ip route add blackhole "${NODE_BLOCK[$n]}" proto bird
    fi
  done
  for n in "${NODES[@]}"; do
    local gw=192.168.1.1; [ "${NODE_SEG[$n]}" = b ] && gw=192.168.2.1
    for m in "${NODES[@]}"; do
      [ "$n" = "$m" ] && continue
      if [ "$mode" = vxlan ]; then
        local j=${m#node-}
        must X "$n" ip neigh replace "${NODE_TUN[$m]}" lladdr "66:00:00:00:00:0$j" dev vxlan.calico nud permanent
        must X "$n" bridge fdb replace "66:00:00:00:00:0$j" dev vxlan.calico dst "${NODE_IP[$m]}" self permanent
        must X "$n" ip route replace "${NODE_BLOCK[$m]}" via "${NODE_TUN[$m]}" dev vxlan.calico proto 80 onlink
      elif [ "${NODE_SEG[$n]}" = "${NODE_SEG[$m]}" ]; then
        must X "$n" ip route add "${NODE_BLOCK[$m]}" via "${NODE_IP[$m]}" dev eth0 proto bird
      else
        # BIRD "gateway recursive": the peer's next hop resolved through the default route.
        must X "$n" ip route add "${NODE_BLOCK[$m]}" via "$gw" dev eth0 proto bird
      fi
    done
    if [ "$tor" = 1 ]; then
      must X underlay ip route add "${NODE_BLOCK[$n]}" via "${NODE_IP[$n]}" dev "rack-${NODE_SEG[$n]}" proto bird
    fi
  done
  for p in "${PODS[@]}"; do
    n=${POD_NODE[$p]}; local c; c=$(cali "$p")
    mkns "$p"
    must ip -n "$(nsn "$p")" link add eth0 mtu "$mtu" type veth peer name "$c" mtu "$mtu" netns "$(nsn "$n")"
    must X "$n" ip link set "$c" address ee:ee:ee:ee:ee:ee
    must X "$n" ip link set "$c" up
    must X "$p" ip link set eth0 up
    must X "$p" ip route add 169.254.1.1 dev eth0 scope link
    must X "$p" ip route add default via 169.254.1.1 dev eth0
    must X "$p" ip addr add "${POD_IP[$p]}/32" dev eth0
    sysw "$n" "net.ipv4.conf.$c.proxy_arp=1"
    sysw "$n" "net.ipv4.neigh.$c.proxy_delay=0"
    sysw "$n" "net.ipv4.conf.$c.forwarding=1"
    must X "$n" ip route add "${POD_IP[$p]}" dev "$c" scope link
  done
}

teardown() {
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${P}"); do ip netns del "$ns" 2>/dev/null; done
}

measure() {
  local e f t dst
  local EPS=("${PODS[@]}" "${NODES[@]}")
  declare -A IPOF
  for p in "${PODS[@]}"; do IPOF[$p]=${POD_IP[$p]}; done
  for n in "${NODES[@]}"; do IPOF[$n]=${NODE_IP[$n]}; done
  for e in "${EPS[@]}"; do rec "endpoint/$e" "$e" "echo ${IPOF[$e]}"; done
  for f in "${EPS[@]}"; do
    for t in "${EPS[@]}"; do
      [ "$f" = "$t" ] && continue
      dst=${IPOF[$t]}
      rec "pair/$f/$t/routeget" "$f" "ip route get $dst"
      rec "pair/$f/$t/ping" "$f" "ping -c 1 -W 1 $dst"
      # The router's "Destination Net Unreachable" is rate limited per sender by ip_error()
      # (net.ipv4.route.error_cost = 1 s, error_burst = 5 s: global, not ours to change):
      # where the router sends errors, space the probes out so that each gets its answer.
      [ "$LAB" = none-cross ] && sleep 1
      rec "pair/$f/$t/traceroute" "$f" "traceroute -n -q 1 -w 1 -m 10 $dst"
      [ "$LAB" = none-cross ] && sleep 1
    done
  done
  for e in "${EPS[@]}" underlay; do rec "route/$e" "$e" "ip route"; done
  for e in "${EPS[@]}"; do rec "neigh/$e" "$e" "ip neigh show"; done
}

log "prefix ${P}, kernel $(uname -r)"
LAB=none;       build 1 none 0;  measure
# Proxy ARP: what the kernel needs to answer for 169.254.1.1, which nobody owns.
rec exp/proxyarp/neigh-before pod-a "ip neigh show"
rec exp/proxyarp/no-default-route node-1 "ip route del default; ip route get 169.254.1.1 iif $(cali pod-a) from ${POD_IP[pod-a]} 2>&1"
rec exp/proxyarp/ping-without-default pod-a "ip neigh flush dev eth0; ping -c 1 -W 1 ${POD_IP[pod-c]}; ip neigh show"
rec exp/proxyarp/restore-default node-1 "ip route add default via 192.168.1.1 dev eth0"
rec exp/proxyarp/ping-with-default pod-a "ip neigh flush dev eth0; ping -c 1 -W 1 ${POD_IP[pod-c]}; ip neigh show"
rec exp/proxyarp/no-forwarding node-1 "sysctl -w net.ipv4.ip_forward=0"
rec exp/proxyarp/ping-node-without-forwarding pod-a "ip neigh flush dev eth0; ping -c 1 -W 1 ${NODE_IP[node-1]}; ip neigh show"
rec exp/proxyarp/forwarding-again node-1 "sysctl -w net.ipv4.ip_forward=1"
rec exp/proxyarp/ping-node-with-forwarding pod-a "ip neigh flush dev eth0; ping -c 1 -W 1 ${NODE_IP[node-1]}; ip neigh show"
teardown
LAB=none-cross; build 2 none 0;  measure; teardown
LAB=none-tor;   build 2 none 1;  measure; teardown
LAB=vxlan;      build 2 vxlan 0; measure; teardown

export CAL_W="$W" CAL_P="$P" CAL_OUT="$OUT"
python3 - <<'PYEOF' || die "JSON assembly failed"
import json, os, re, glob, subprocess
W, P, OUT = os.environ["CAL_W"], os.environ["CAL_P"], os.environ["CAL_OUT"]
labs, experiments = {}, {}
def rd(d, f):
    p = os.path.join(d, f)
    return open(p, encoding="utf-8", errors="replace").read() if os.path.exists(p) else ""
for d in sorted(glob.glob(os.path.join(W, "rec", "*"))):
    lab, key = rd(d, "lab"), rd(d, "key")
    r = {"ns": rd(d, "ns"), "cmd": rd(d, "cmd"), "rc": int(rd(d, "rc").strip() or -1), "stdout": rd(d, "out").replace(P, ""), "stderr": rd(d, "err").replace(P, "")}
    if key.startswith("exp/"):
        _, name, step = key.split("/", 2)
        experiments.setdefault(name, []).append({"step": step, **r})
        continue
    L = labs.setdefault(lab, {"endpoints": {}, "pairs": {}, "routes": {}, "neigh": {}})
    parts = key.split("/")
    if parts[0] == "endpoint": L["endpoints"][parts[1]] = r["stdout"].strip()
    elif parts[0] == "route": L["routes"][parts[1]] = r["stdout"]
    elif parts[0] == "neigh": L["neigh"][parts[1]] = r["stdout"]
    elif parts[0] == "pair": L["pairs"].setdefault(parts[1] + ">" + parts[2], {})[parts[3]] = r
out = {"kernel": os.uname().release, "iproute2": subprocess.run(["ip", "-V"], capture_output=True, text=True).stdout.strip(), "labs": {}, "experiments": experiments}
for name, L in labs.items():
    pairs = []
    for k, v in L["pairs"].items():
        f, t = k.split(">")
        hops = []
        for line in v["traceroute"]["stdout"].splitlines():
            m = re.match(r"^\s*(\d+)\s+(\S+)", line)
            if m: hops.append(None if m.group(2) == "*" else m.group(2))
        src = re.search(r"\bsrc (\S+)", v["routeget"]["stdout"])
        pairs.append({"from": f, "to": t, "dst": L["endpoints"][t], "ping": v["ping"]["rc"] == 0,
                      "pingOutput": v["ping"]["stdout"], "hops": hops, "src": src.group(1) if src else None,
                      "traceroute": v["traceroute"]["stdout"]})
    out["labs"][name] = {"endpoints": L["endpoints"], "pairs": pairs, "routes": L["routes"], "neigh": L["neigh"]}
with open(OUT, "w") as fh: json.dump(out, fh, indent=1, sort_keys=True); fh.write("\n")
print("wrote", OUT)
PYEOF
