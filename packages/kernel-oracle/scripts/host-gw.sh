#!/usr/bin/env bash
# host-gw.sh — build flannel's host-gw backend in real Linux network namespaces,
# measure what the kernel does, write JSON for packages/cni/src/kernel-host-gw.test.ts.
#
#   usage: sudo bash packages/kernel-oracle/scripts/host-gw.sh OUT.json
#
# Two labs, each 3 nodes with 2 pods (the seed lab's names and addresses):
#   one-segment:  node-1..3 on rack-a (192.168.1.0/24).
#   two-segments: node-1, node-2 on rack-a; node-3 on rack-b (192.168.2.0/24);
#                 an underlay router joins the segments (192.168.1.1, 192.168.2.1).
# Per lab: all ordered pairs of pods and nodes (ping, traceroute, source address),
# `ip route` of every node, pod and the router, and the result of every route
# flanneld's host-gw backend adds (`ip route add <subnet> via <node ip> dev eth0`),
# with the kernel's error text and errno (read from the raw netlink answer, which
# is what flanneld itself sees).
#
# Safety: everything lives in network namespaces named "pn<PID>-*" that this
# script creates. Nothing is added or changed in the root namespace, traffic
# only flows between those namespaces, every probe is bounded (ping -c/-W,
# traceroute -N 1 -w 1 -q 1 -m 10, timeout), and all namespaces are deleted on exit
# (trap on EXIT/INT/TERM), also on failure.
#
# Wiring follows flannel's host-gw backend (pkg/backend/hostgw/hostgw.go: route
# Dst = lease subnet, Gw = lease PublicIP, LinkIndex = the external interface;
# pkg/backend/route_network.go routeAdd: netlink.RouteAdd, no proto, no metric),
# flanneld --ip-masq (pkg/trafficmngr/iptables masqRules), and the CNI bridge
# plugin as the flannel CNI plugin delegates to it with kube-flannel.yml's
# conflist (isDefaultGateway, hairpinMode, mtu = FLANNEL_MTU = eth0's 1500,
# host-local IPAM with routes=[FLANNEL_NETWORK]).
. "$(dirname "$0")/common.sh"
oracle_start "$@"

need=()
for t in ip bridge ping traceroute python3 timeout iptables; do
  command -v "$t" >/dev/null 2>&1 || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "missing tools: ${need[*]} — installing iproute2 iputils-ping traceroute iptables" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    iproute2 iputils-ping traceroute iptables >/dev/null || { echo "install failed" >&2; exit 2; }
fi
PY=$(command -v python3)

oracle_guard host-gw "pn$$-"  # namespace prefix unique to this run
mkdir -p "$W/rec"

LAB=""                                              # current lab: a or b
nsn() { echo "${P}${LAB}-$1"; }                     # short name -> netns name
X() { local ns=$1; shift; ip netns exec "$(nsn "$ns")" "$@"; }
must() { "$@" || die "command failed: $*"; }

# rec KEY NS 'shell command' — run in netns NS of the current lab (or "-": no
# netns, only for harmless local commands such as versions); store cmd/out/err/rc.
SEQ=0
rec() {
  local key=$1 ns=$2 cmd=$3 rc
  SEQ=$((SEQ + 1))
  local R="$W/rec/$(printf %05d $SEQ)"
  mkdir -p "$R"
  printf '%s' "$key" >"$R/key"; printf '%s' "$ns" >"$R/ns"; printf '%s' "$cmd" >"$R/cmd"
  if [ "$ns" = "-" ]; then bash -c "$cmd" >"$R/out" 2>"$R/err"; rc=$?
  else X "$ns" bash -c "$cmd" >"$R/out" 2>"$R/err"; rc=$?; fi
  echo "$rc" >"$R/rc"
  return $rc
}

# The errno of RTM_NEWROUTE <dst> via <gw> dev <dev>, sent the way flanneld's
# netlink library sends it (NLM_F_CREATE|NLM_F_EXCL|NLM_F_ACK, proto boot, scope
# universe, no NETLINK_EXT_ACK requested). Prints "errno NAME strerror".
NLPROBE=$(cat <<'PYEOF'
import socket, struct, errno, os, sys
dst, plen, gw, dev = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.bind((0, 0))
def rta(t, data):
    n = 4 + len(data)
    return struct.pack('HH', n, t) + data + b'\0' * ((4 - n % 4) % 4)
rtm = struct.pack('BBBBBBBBI', socket.AF_INET, plen, 0, 0, 254, 3, 0, 1, 0)
body = rtm + rta(1, socket.inet_aton(dst)) + rta(5, socket.inet_aton(gw)) + rta(4, struct.pack('I', socket.if_nametoindex(dev)))
s.send(struct.pack('IHHII', 16 + len(body), 24, 0x1 | 0x4 | 0x400 | 0x200, 1, 0) + body)
d = s.recv(65536)
err = -struct.unpack('i', d[16:20])[0]
print(err, errno.errorcode.get(err, 'OK'), os.strerror(err) if err else 'ok')
sys.exit(1 if err else 0)
PYEOF
)

NODES=(1 2 3)
PODS=(pod-a pod-b pod-c pod-d pod-e pod-f)
declare -A POD_NODE=([pod-a]=1 [pod-b]=1 [pod-c]=2 [pod-d]=2 [pod-e]=3 [pod-f]=3)
declare -A POD_IP=([pod-a]=10.244.1.4 [pod-b]=10.244.1.5 [pod-c]=10.244.2.3
                   [pod-d]=10.244.2.7 [pod-e]=10.244.3.2 [pod-f]=10.244.3.9)
ENDPOINTS=(pod-a pod-b pod-c pod-d pod-e pod-f node-1 node-2 node-3)
declare -A NODE_IP NODE_SEG
veth_name() { echo "veth$(printf '%s' "$1" | md5sum | cut -c1-8)"; }
ep_ip() { case "$1" in node-*) echo "${NODE_IP[${1#node-}]}" ;; *) echo "${POD_IP[$1]}" ;; esac; }

mkns() { must ip netns add "$(nsn "$1")"; must X "$1" ip link set lo up; }
sysw() { must X "$1" sysctl -q -w "$2" >/dev/null; }

# flanneld --ip-masq rules for node N (pkg/trafficmngr/iptables masqRules).
flannel_masq() {
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

# build_lab LAB SEGMENTS... — SEGMENTS are "name:cidr-prefix" (e.g. rack-a:192.168.1);
# NODE_SEG/NODE_IP must be set.
build_lab() {
  LAB=$1; shift
  log "lab $LAB: building"
  mkns underlay
  sysw underlay net.ipv4.ip_forward=1
  for s in "$@"; do
    local seg=${s%%:*} pre=${s#*:}
    mkns "$seg"                                   # the segment: a bridge in its own netns
    must X "$seg" ip link add br0 type bridge
    must X "$seg" ip link set br0 up
    # the underlay router's leg on this segment is named after the segment, as in podnet
    must ip -n "$(nsn "$seg")" link add p-rtr type veth peer name "$seg" netns "$(nsn underlay)"
    must X "$seg" ip link set p-rtr master br0
    must X "$seg" ip link set p-rtr up
    must X underlay ip addr add "$pre.1/24" brd + dev "$seg"
    must X underlay ip link set "$seg" up
  done
  for n in "${NODES[@]}"; do
    local ns=node-$n seg=${NODE_SEG[$n]} ip=${NODE_IP[$n]}
    mkns "$ns"
    must ip -n "$(nsn "$seg")" link add "p-node-$n" type veth peer name eth0 netns "$(nsn "$ns")"
    must X "$seg" ip link set "p-node-$n" master br0
    must X "$seg" ip link set "p-node-$n" up
    must X "$ns" ip addr add "$ip/24" brd + dev eth0
    must X "$ns" ip link set eth0 up
    must X "$ns" ip route add default via "${ip%.*}.1" dev eth0
    sysw "$ns" net.ipv4.ip_forward=1
    must X "$ns" bash -c "set -e; $(flannel_masq "$n")"
  done
  sleep 1
  # flanneld host-gw, handleSubnetEvents(EventAdded) for every other node's lease:
  # log "Subnet added: <subnet> via <PublicIP>", then netlink.RouteAdd.
  for n in "${NODES[@]}"; do
    for m in "${NODES[@]}"; do
      [ "$n" = "$m" ] && continue
      rec "$LAB/routeAdd/node-$n/node-$m" "node-$n" "ip route add 10.244.$m.0/24 via ${NODE_IP[$m]} dev eth0"
      rec "$LAB/routeAddErrno/node-$n/node-$m" "node-$n" "ip route show 10.244.$m.0/24 | grep -q . && echo 'exists' || python3 -c \"\$NLPROBE\" 10.244.$m.0 24 ${NODE_IP[$m]} eth0"
    done
  done
  # CNI bridge plugin, per pod (first ADD creates cni0), MTU = FLANNEL_MTU = 1500.
  for p in "${PODS[@]}"; do
    local n=${POD_NODE[$p]} ns=node-${POD_NODE[$p]} ip4=${POD_IP[$p]} hv gw=10.244.${POD_NODE[$p]}.1
    hv=$(veth_name "$p")
    if ! X "$ns" ip link show cni0 >/dev/null 2>&1; then
      must X "$ns" ip link add cni0 mtu 1500 type bridge
      must X "$ns" ip link set cni0 up
    fi
    mkns "$p"
    must ip -n "$(nsn "$ns")" link add "$hv" mtu 1500 type veth peer name eth0 mtu 1500 netns "$(nsn "$p")"
    must X "$ns" ip link set "$hv" up
    must X "$ns" ip link set "$hv" master cni0
    must X "$ns" bridge link set dev "$hv" hairpin on
    must X "$p" ip link set eth0 up
    must X "$p" ip addr add "$ip4/24" brd + dev eth0
    must X "$p" ip route add 10.244.0.0/16 via "$gw" dev eth0
    must X "$p" ip route add default via "$gw" dev eth0
    if ! X "$ns" ip -4 addr show dev cni0 | grep -q "inet $gw/24"; then
      must X "$ns" ip addr add "$gw/24" brd + dev cni0
    fi
  done
  sleep 2
}

probe_lab() {
  log "lab $LAB: probing all ordered pairs"
  for f in "${ENDPOINTS[@]}"; do
    for t in "${ENDPOINTS[@]}"; do
      [ "$f" = "$t" ] && continue
      local dst
      dst=$(ep_ip "$t")
      rec "$LAB/pair/$f/$t/routeget" "$f" "ip route get $dst"
      rec "$LAB/pair/$f/$t/ping" "$f" "ping -c 1 -W 1 $dst"
      # ICMP errors are rate-limited per destination host: a router's "net unreachable" (ip_error)
      # costs 1 s of a 5 s bucket, other errors 1 s of 6 (icmp_ratelimit). Space the probes so every
      # error a probe causes is sent, and send traceroute's probes one at a time (-N 1), as podnet
      # does: with its default of 16 probes at once, one unreachable destination drains the bucket.
      sleep 1.5
      rec "$LAB/pair/$f/$t/traceroute" "$f" "traceroute -n -N 1 -q 1 -w 1 -m 10 $dst"
      sleep 1.5
    done
  done
  for n in "${NODES[@]}"; do rec "$LAB/table/node-$n" "node-$n" 'ip route show'; done
  for p in "${PODS[@]}"; do rec "$LAB/table/$p" "$p" 'ip route show'; done
  rec "$LAB/table/underlay" underlay 'ip route show'
}

export NLPROBE
rec meta/uname - 'uname -r'
rec meta/iproute2 - 'ip -V'
rec meta/traceroute - 'traceroute --version 2>&1 | head -1'
rec meta/ping - 'ping -V | head -1'

NODE_IP=([1]=192.168.1.11 [2]=192.168.1.12 [3]=192.168.1.13)
NODE_SEG=([1]=rack-a [2]=rack-a [3]=rack-a)
build_lab a rack-a:192.168.1
probe_lab

NODE_IP=([1]=192.168.1.11 [2]=192.168.1.12 [3]=192.168.2.13)
NODE_SEG=([1]=rack-a [2]=rack-a [3]=rack-b)
build_lab b rack-a:192.168.1 rack-b:192.168.2
probe_lab
# What the refused route leaves: node-1's route to pod-e, and the router's.
rec b/exp/node-1-routeget-pod-e node-1 'ip route get 10.244.3.2 from 10.244.1.4 iif cni0'
rec b/exp/router-routeget-pod-e underlay 'ip route get 10.244.3.2 from 10.244.1.4 iif rack-a'
rec b/exp/router-routeget-back underlay 'ip route get 10.244.1.4'

log "assembling JSON -> $OUT"
export HOSTGW_W="$W" HOSTGW_P="$P" HOSTGW_OUT="$OUT"
"$PY" - <<'PYEOF' || die "JSON assembly failed"
import json, os, re, glob, datetime

W = os.environ["HOSTGW_W"]; P = os.environ["HOSTGW_P"]; OUT = os.environ["HOSTGW_OUT"]
recs = {}
for d in sorted(glob.glob(os.path.join(W, "rec", "*"))):
    r = lambda f: open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
    rc = r("rc").strip()
    clean = lambda s: re.sub(re.escape(P) + r"[ab]-", "", s)
    recs[r("key")] = {"ns": r("ns"), "cmd": clean(r("cmd")), "rc": int(rc), "stdout": clean(r("out")), "stderr": clean(r("err"))}

def hops_of(text):
    hops = []
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\s+(.*)$", line)
        if not m:
            continue
        rest = m.group(2).split()
        hops.append(None if not rest or rest[0] == "*" else rest[0])
    return hops

def lab(name, letter, endpoints, node_ips):
    pairs = []
    for f in endpoints:
        for t in endpoints:
            if f == t:
                continue
            k = f"{letter}/pair/{f}/{t}/"
            pr, tr, rg = recs[k + "ping"], recs[k + "traceroute"], recs[k + "routeget"]
            m = re.search(r"\bsrc (\S+)", rg["stdout"])
            pairs.append({
                "from": f, "to": t, "dst": re.sub(r"^.* ", "", pr["cmd"]),
                "ping": pr["rc"] == 0,
                "pingLines": [l for l in pr["stdout"].splitlines() if l.startswith("From ") or " bytes from " in l or l.startswith("ping: ")],
                "hops": hops_of(tr["stdout"]),
                "traceroute": tr["stdout"] + tr["stderr"],
                "src": m.group(1) if m else None,
                "routeGet": (rg["stdout"] + rg["stderr"]).strip(),
            })
    route_adds = []
    for key, r in recs.items():
        m = re.match(rf"^{letter}/routeAdd/(node-\d)/(node-\d)$", key)
        if m:
            e = recs[f"{letter}/routeAddErrno/{m.group(1)}/{m.group(2)}"]["stdout"].split(" ", 2)
            route_adds.append({"node": m.group(1), "peer": m.group(2), "cmd": r["cmd"], "rc": r["rc"],
                               "stderr": r["stderr"].strip(),
                               "errno": None if e[0].strip() in ("exists", "0") else {"code": int(e[0]), "name": e[1], "strerror": e[2].strip()}})
    tables = {k.split("/", 2)[2]: v["stdout"] for k, v in recs.items() if k.startswith(f"{letter}/table/")}
    exps = {k.split("/", 2)[2]: {"cmd": v["cmd"], "ns": v["ns"], "rc": v["rc"], "out": (v["stdout"] + v["stderr"]).strip()}
            for k, v in recs.items() if k.startswith(f"{letter}/exp/")}
    return {"name": name, "nodes": node_ips, "pairs": pairs, "routeAdds": route_adds, "tables": tables, "experiments": exps}

endpoints = ["pod-a", "pod-b", "pod-c", "pod-d", "pod-e", "pod-f", "node-1", "node-2", "node-3"]
doc = {
    "meta": {
        "generatedBy": "packages/kernel-oracle/scripts/host-gw.sh",
        "generatedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kernel": recs["meta/uname"]["stdout"].strip(),
        "iproute2": recs["meta/iproute2"]["stdout"].strip(),
        "traceroute": recs["meta/traceroute"]["stdout"].strip(),
        "ping": recs["meta/ping"]["stdout"].strip(),
        "commands": {"ping": "ping -c 1 -W 1 <dst>", "traceroute": "traceroute -n -N 1 -q 1 -w 1 -m 10 <dst>", "src": "ip route get <dst>"},
        "wiring": [
            "flanneld host-gw: for every other node M, ip route add 10.244.M.0/24 via <M's eth0 IP> dev eth0 (netlink.RouteAdd: proto boot, metric 0)",
            "flanneld --ip-masq rules (FLANNEL-POSTRTG) on every node",
            "cni0 bridge mtu 1500 with 10.244.N.1/24; per pod a veth (mtu 1500, hairpin) on cni0; pod routes 10.244.0.0/16 and default via 10.244.N.1",
            "underlay: one bridge namespace per segment; a router namespace 'underlay' with one leg per segment, named after it, holding the segment's .1",
        ],
    },
    "labs": {
        "one-segment": lab("one-segment", "a", endpoints, {"node-1": "192.168.1.11", "node-2": "192.168.1.12", "node-3": "192.168.1.13"}),
        "two-segments": lab("two-segments", "b", endpoints, {"node-1": "192.168.1.11", "node-2": "192.168.1.12", "node-3": "192.168.2.13"}),
    },
}
with open(OUT, "w") as fh:
    json.dump(doc, fh, indent=1)
    fh.write("\n")
for k, l in doc["labs"].items():
    print(k, "pairs:", len(l["pairs"]), "ok:", sum(p["ping"] for p in l["pairs"]), "refused routes:", sum(1 for r in l["routeAdds"] if r["rc"] != 0))
PYEOF
log "done"
