#!/usr/bin/env bash
# real-bridge-plugin.sh — the real CNI reference `bridge` plugin with host-local IPAM, run as a runtime
# runs it on what bridge() writes as a node's /etc/cni/net.d/10-mynet.conf, written as JSON for
# packages/cni/src/designs/bridge.test.ts:
#
#   1. ADD of two pods (bridge({ ipMasq: true })'s file for a node whose podCIDR is 10.244.0.0/24), the
#      results, the links with their MTUs and masters, the addresses, routes, ip_forward and nat rules;
#   2. CHECK of the first pod, DEL of it (twice: the second finds nothing and succeeds), what is left;
#   3. ADD with the cni.dev example's IPAM route `{"dst": "0.0.0.0/0"}` beside isDefaultGateway, and ADD
#      with `"subnet": ""` (what a node without a podCIDR gets): the errors;
#   4. host-local asked for an address outside the range set (CNI_ARGS IP=10.244.5.9): the error.
#
#   usage: sudo bash packages/cni/scripts/real-bridge-plugin.sh OUT.json
#   needs: the plugins' binaries in $CNI_BIN (default /usr/lib/cni: Debian's containernetworking-plugins).
#
# Safety: the plugin runs inside a network namespace named "pnbr<PID>-host" that this script creates, on
# containers in "pnbr<PID>-*" namespaces; nothing is added or changed in the root namespace; host-local
# keeps its files in a scratch directory (`dataDir`); every command is bounded (timeout); all namespaces
# are deleted on exit (trap on EXIT/INT/TERM), also on failure.
. "$(dirname "$0")/../../kernel-oracle/scripts/common.sh"
oracle_start "$@"
CNI_BIN=${CNI_BIN:-/usr/lib/cni}
for t in ip iptables jq python3 timeout "$CNI_BIN/bridge" "$CNI_BIN/host-local"; do
  command -v "$t" >/dev/null 2>&1 || { echo "missing: $t (apt-get install -y iproute2 iptables jq containernetworking-plugins)" >&2; exit 2; }
done

oracle_guard real-bridge-plugin "pnbr$$-"
H="${P}host"
for ns in host a b c d; do ip netns add "${P}$ns"; ip -n "${P}$ns" link set lo up; done

# bridge({ ipMasq: true })'s 10-mynet.conf for node-1 (podCIDR 10.244.0.0/24); variants by name.
conf() { python3 - "$1" "$W" "${2:-}" <<'PY'
import json, sys
variant, w, prev = sys.argv[1], sys.argv[2], sys.argv[3]
c = {"cniVersion": "1.0.0", "name": "mynet", "type": "bridge", "bridge": "cni0", "isGateway": True, "isDefaultGateway": True,
     "forceAddress": False, "ipMasq": True, "hairpinMode": True, "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]]}}
if variant == "text": print(json.dumps(c, indent=2)); sys.exit()
if variant == "ipam-default-route": c["ipam"]["routes"] = [{"dst": "0.0.0.0/0"}]
if variant == "no-subnet": c["ipam"]["ranges"] = [[{"subnet": ""}]]
c["ipam"]["dataDir"] = w + "/ipam"
if prev: c["prevResult"] = json.load(open(prev))
print(json.dumps(c))
PY
}
record() { # record STEP CMD...: stdout+stderr and the exit code under STEP, one JSON line each
  local step=$1; shift
  local out rc
  out=$(timeout 10 "$@" 2>&1); rc=$?
  jq -nc --arg step "$step" --arg stdout "$out" --argjson rc "$rc" '{($step): {stdout: $stdout, rc: $rc}}' >> "$W/steps.jsonl"
}
plugin() { # plugin STEP COMMAND CONTAINER VARIANT [PREV-STEP]
  local cfg
  [ -n "${5:-}" ] && jq -r --arg s "$5" 'select(has($s)) | .[$s].stdout' "$W/steps.jsonl" > "$W/prev.json"
  cfg=$(conf "$4" "${5:+$W/prev.json}")
  printf '%s' "$cfg" | record "$1" env CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="/var/run/netns/${P}$3" CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN" \
    ip netns exec "$H" "$CNI_BIN/bridge"
}
state() { # state PREFIX: the host's links, cni0's address, routes, ip_forward, nat rules; pod a's eth0 and routes
  record "$1-host-links" ip -n "$H" -o link show
  record "$1-host-cni0" ip -n "$H" -4 -o addr show dev cni0
  record "$1-host-routes" ip -n "$H" route
  record "$1-host-forward" ip netns exec "$H" sysctl -n net.ipv4.ip_forward
  record "$1-host-nat" ip netns exec "$H" iptables -t nat -S
  record "$1-a-links" ip -n "${P}a" -o link show
  record "$1-a-addrs" ip -n "${P}a" -4 -o addr show
  record "$1-a-routes" ip -n "${P}a" route
}

jq -nc --arg stdout "$(conf text)
" '{file: {stdout: $stdout, rc: 0}}' >> "$W/steps.jsonl"
record "0-forward" ip netns exec "$H" sysctl -n net.ipv4.ip_forward
plugin 1-add-a ADD a file
plugin 1-add-b ADD b file
state 1
plugin 2-check-a CHECK a file 1-add-a
plugin 2-del-a DEL a file 1-add-a
state 2
plugin 2-del-a-again DEL a file 1-add-a
plugin 3-add-ipam-default-route ADD c ipam-default-route
plugin 3-add-no-subnet ADD d no-subnet
# A pinned address outside the range set (CNI_ARGS IP=…): host-local alone, as bridge runs it.
conf file | record 4-host-local-ip-outside env CNI_COMMAND=ADD CNI_CONTAINERID=e CNI_NETNS="/var/run/netns/${P}d" CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN" \
  CNI_ARGS='IgnoreUnknown=1;IP=10.244.5.9' ip netns exec "$H" "$CNI_BIN/host-local"

# The steps in name order, the kernel, and what the plugin says of its version.
jq -s --arg kernel "$(uname -r)" --arg plugin "$("$CNI_BIN/bridge" 2>&1)" \
  '{kernel: $kernel, plugin: $plugin, steps: (add | to_entries | sort_by(.key) | from_entries)}' "$W/steps.jsonl" > "$OUT"
echo "wrote $OUT"
