#!/usr/bin/env bash
# mtu-mismatch.sh — broken.mtuMismatch() in real Linux network namespaces: flannel VXLAN on two nodes
# (flannel.1 MTU 1450 = 1500 - 50) whose pods, veths and cni0 all have MTU 1500, the overhead forgotten.
# Records what ping prints for full-size DF packets to a pod on the other node (twice: the second try
# meets the path MTU the first one taught the pod), without DF, and to a pod on the same node.
#
#   usage: sudo bash packages/kernel-oracle/scripts/mtu-mismatch.sh OUT.json
#
# Safety: as seed-lab.sh — everything in network namespaces "pn<PID>-m-*" made here, nothing in the root
# namespace, bounded probes (ping -c 1 -W 2), every namespace deleted on exit (trap EXIT/INT/TERM).
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

oracle_guard mtu-mismatch "pn$$-"  # namespace prefix unique to this run
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

mkns() { must ip netns add "$(nsn "$1")"; must X "$1" ip link set lo up; }
sysw() { must X "$1" sysctl -q -w "$2" >/dev/null; }

LAB=m
log "building"
mkns rack-a
must X rack-a ip link add br0 type bridge
must X rack-a ip link set br0 up
declare -A POD_NODE=([pod-a]=1 [pod-b]=1 [pod-c]=2)
declare -A POD_IP=([pod-a]=10.244.1.4 [pod-b]=10.244.1.5 [pod-c]=10.244.2.3)
for n in 1 2; do
  ns=node-$n
  mkns "$ns"
  must ip -n "$(nsn rack-a)" link add "p-node-$n" type veth peer name eth0 netns "$(nsn "$ns")"
  must X rack-a ip link set "p-node-$n" master br0
  must X rack-a ip link set "p-node-$n" up
  must X "$ns" ip addr add "192.168.1.1$n/24" brd + dev eth0
  must X "$ns" ip link set eth0 up
  sysw "$ns" net.ipv4.ip_forward=1
  must X "$ns" ip link add flannel.1 address "0e:f1:a0:00:00:0$n" mtu 1450 type vxlan id 1 local "192.168.1.1$n" dev eth0 dstport 8472 nolearning
  must X "$ns" ip addr add "10.244.$n.0/32" dev flannel.1
  must X "$ns" ip link set flannel.1 up
  must X "$ns" ip link add cni0 mtu 1500 type bridge
  must X "$ns" ip link set cni0 up
  must X "$ns" ip addr add "10.244.$n.1/24" brd + dev cni0
done
for n in 1 2; do
  m=$((3 - n))
  must X "node-$n" ip neigh replace "10.244.$m.0" lladdr "0e:f1:a0:00:00:0$m" dev flannel.1 nud permanent
  must X "node-$n" bridge fdb replace "0e:f1:a0:00:00:0$m" dev flannel.1 dst "192.168.1.1$m" self permanent
  must X "node-$n" ip route replace "10.244.$m.0/24" via "10.244.$m.0" dev flannel.1 onlink
done
for p in pod-a pod-b pod-c; do
  n=${POD_NODE[$p]}
  mkns "$p"
  must ip -n "$(nsn "node-$n")" link add "h-$p" mtu 1500 type veth peer name eth0 mtu 1500 netns "$(nsn "$p")"
  must X "node-$n" ip link set "h-$p" master cni0
  must X "node-$n" ip link set "h-$p" up
  must X "$p" ip link set eth0 up
  must X "$p" ip addr add "${POD_IP[$p]}/24" brd + dev eth0
  must X "$p" ip route add 10.244.0.0/16 via "10.244.$n.1" dev eth0
  must X "$p" ip route add default via "10.244.$n.1" dev eth0
done
sleep 2
rec meta/uname - 'uname -r'
rec mtu/pod-a pod-a 'ip link show eth0 | head -1'
rec mtu/cni0 node-1 'ip link show cni0 | head -1'
rec mtu/flannel node-1 'ip link show flannel.1 | head -1'
rec ping/small pod-a 'ping -c 1 -W 2 10.244.2.3'
rec ping/df1472-first pod-a 'ping -c 1 -W 2 -M do -s 1472 10.244.2.3'
rec routeget/after-first pod-a 'ip route get 10.244.2.3'
rec ping/df1472-second pod-a 'ping -c 1 -W 2 -M do -s 1472 10.244.2.3'
rec ping/nodf1472 pod-a 'ping -c 1 -W 2 -M dont -s 1472 10.244.2.3'
rec ping/df1472-same-node pod-a 'ping -c 1 -W 2 -M do -s 1472 10.244.1.5'
rec ping/df1422 pod-a 'ping -c 1 -W 2 -M do -s 1422 10.244.2.3'

log "assembling JSON -> $OUT"
export MTU_W="$W" MTU_P="$P" MTU_OUT="$OUT"
"$PY" - <<'PYEOF' || die "JSON assembly failed"
import json, os, glob, datetime, re
W = os.environ["MTU_W"]; P = os.environ["MTU_P"]; OUT = os.environ["MTU_OUT"]
recs = {}
for d in sorted(glob.glob(os.path.join(W, "rec", "*"))):
    r = lambda f: open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
    clean = lambda s: re.sub(re.escape(P) + r"m-", "", s)
    recs[r("key")] = {"ns": r("ns"), "cmd": clean(r("cmd")), "rc": int(r("rc").strip()), "stdout": clean(r("out")), "stderr": clean(r("err"))}
doc = {
    "meta": {"generatedBy": "packages/kernel-oracle/scripts/mtu-mismatch.sh",
             "generatedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "kernel": recs.pop("meta/uname")["stdout"].strip(),
             "wiring": "flannel VXLAN, 2 nodes on one segment; flannel.1 mtu 1450; cni0, veths and pod eth0 mtu 1500; pod-a, pod-b on node-1, pod-c on node-2"},
    "steps": {k: v for k, v in recs.items()},
}
with open(OUT, "w") as fh:
    json.dump(doc, fh, indent=1)
    fh.write("\n")
print("wrote", OUT, len(recs), "steps")
PYEOF
log "done"
