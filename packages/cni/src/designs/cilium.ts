/**
 * cilium as a podnet design: eBPF programs on tc hooks forward pod traffic by an endpoint map, not by
 * per-pod kernel routes. Cluster-pool IPAM: each node's podCIDR, its first address the router IP on
 * `cilium_host`.
 *
 *   cilium-agent at start: ip link add cilium_host type veth peer name cilium_net (NOARP); <router ip>/32 on cilium_host
 *                          ip route add <podCIDR> via <router ip> dev cilium_host src <router ip>
 *                          tunnel:  ip link add cilium_vxlan type vxlan external dstport 8472
 *                                   ip route add <cluster CIDR> via <router ip> dev cilium_host src <router ip> mtu 1450
 *                          native:  auto-direct-node-routes: ip route add <their podCIDR> via <their ip> dev eth0 (same L2)
 *                          tc: eth0 ingress cil_from_netdev, cilium_host egress cil_from_host, cilium_vxlan ingress cil_from_overlay
 *                          maps: cilium_lxc (this node's endpoints and host addresses), cilium_tunnel_map (podCIDR → node)
 *   CNI ADD:               lxc<sha256(container id)[:12]> veth, pod eth0 <ip>/32,
 *                          ip route add <router ip> dev eth0 scope link; ip route add default via <router ip> dev eth0 mtu <route mtu>
 *                          tc: lxc… ingress cil_from_container; cilium_lxc[<ip>] = { lxc…, pod MAC, identity }
 *
 * What the programs do is in the engine (packet-path.md, "eBPF programs"): a destination in the endpoint
 * map is redirected to its lxc device with the TTL decremented by the program (no ICMP when it expires),
 * a podCIDR in the tunnel map is encapsulated in VXLAN (VNI = the sender's security identity), anything
 * else goes to the kernel's routing.
 *
 * Simplified, and said so in docs/designs/cilium.md: tunnel mode installs one route for the cluster CIDR
 * via cilium_host instead of one per remote node (same forwarding: the program decides); identities are
 * derived from a pod's namespace and labels, not allocated by the operator; no policy, no services.
 */
import {
  formatCidr, formatIpv4, macFromSeed, type Action, type CniDesign, type CniResult, type DesignReaction, type Node, type Pod,
  type PodAddReaction, type PodAddRequest,
} from '@podnet/core';
import { allocateOnSubnet, EMPTY_HOST_LOCAL, hostLocalDel, type HostLocalStore } from '../ipam/host-local.js';
import { sha256Hex } from '../util/hash.js';

/** Options of {@link cilium}. */
export interface CiliumOptions {
  /** `tunnel` (VXLAN, the default) or `native` routing with auto-direct-node-routes. */
  readonly routing?: 'tunnel' | 'native';
  /** enable-ipv4-masquerade (default true): pods leaving the cluster CIDR are masqueraded (iptables mode). */
  readonly masquerade?: boolean;
}

interface CiliumNodeState {
  readonly ipam: HostLocalStore;
}

const VXLAN_OVERHEAD = 50;
const PORT = 8472;

/** The host-side device cilium's CNI plugin creates for an endpoint: `lxc` and 12 hex digits of sha256(container id). */
export function lxcName(containerId: string): string {
  return `lxc${sha256Hex(containerId).slice(0, 12)}`;
}

/**
 * A pod's security identity: cilium allocates one per distinct label set (cluster-local identities start
 * at 256); podnet derives it from the namespace and labels, so pods with the same labels share it.
 */
export function ciliumIdentity(pod: Pick<Pod, 'namespace' | 'labels'>): number {
  const text = `${pod.namespace}|${Object.keys(pod.labels).sort().map((k) => `${k}=${pod.labels[k]}`).join(',')}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return 256 + ((h >>> 0) % (65536 - 256));
}

/** cilium as a podnet design. */
export function cilium(options: CiliumOptions = {}): CniDesign {
  const routing = options.routing ?? 'tunnel';
  if (routing !== 'tunnel' && routing !== 'native') throw new TypeError(`cilium routing must be tunnel or native, not "${String(routing)}"`);
  const tunnel = routing === 'tunnel';
  const masq = options.masquerade ?? true;
  const ns = (n: string) => `node/${n}`;
  const st = (node: Node): CiliumNodeState => (node.cni as CiliumNodeState | null) ?? { ipam: EMPTY_HOST_LOCAL };
  const routerIp = (node: Node) => formatIpv4((node.podCidr!.addr + 1) >>> 0);
  const directSet = (segment: string) => `cilium-direct-routes/${segment}`;

  return {
    name: `cilium-${routing}`,
    podMtu: tunnel ? 1450 : 1500,
    nodeAdded(state, node): DesignReaction {
      const h = ns(node.name);
      const underMtu = state.underlay.segments[node.segment]?.mtu ?? 1500;
      const router = routerIp(node);
      const cidr = formatCidr(node.podCidr!);
      const hostMac = macFromSeed(`cilium_host|${node.name}`);
      const actions: Action[] = [
        { op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 },
        { op: 'link.add', ns: h, name: 'cilium_host', kind: 'veth', mtu: underMtu, mac: hostMac, up: true, peer: { ns: h, name: 'cilium_net', mac: macFromSeed(`cilium_net|${node.name}`), up: true } },
        { op: 'addr.add', ns: h, dev: 'cilium_host', addr: `${router}/32`, scope: 'link' },
        // cilium_host is NOARP: the kernel addresses frames to the device's own MAC instead of resolving.
        { op: 'neigh.add', ns: h, dev: 'cilium_host', ip: router, mac: hostMac },
        { op: 'route.add', ns: h, dst: `${router}/32`, dev: 'cilium_host', scope: 'link' },
        { op: 'route.add', ns: h, dst: cidr, via: router, dev: 'cilium_host', src: router },
      ];
      if (tunnel) {
        actions.push(
          { op: 'link.add', ns: h, name: 'cilium_vxlan', kind: 'vxlan', mtu: underMtu, mac: macFromSeed(`cilium_vxlan|${node.name}`), up: true, vxlan: { vni: 0, local: formatIpv4(node.ip), dstPort: PORT, dev: 'eth0', learning: false, external: true } },
          { op: 'route.add', ns: h, dst: formatCidr(state.podCidr), via: router, dev: 'cilium_host', src: router, mtu: underMtu - VXLAN_OVERHEAD },
          { op: 'tc.attach', ns: h, dev: 'cilium_vxlan', direction: 'ingress', obj: 'bpf_overlay.o', sec: 'cil_from_overlay' },
          { op: 'bpf.map.update', map: 'cilium_tunnel_map', key: cidr, value: { endpoint: formatIpv4(node.ip), owner: node.name } },
        );
      } else {
        // auto-direct-node-routes: every node on the same L2 segment routes this podCIDR to this node.
        actions.push(
          { op: 'peerset.put', set: directSet(node.segment), dev: 'eth0', owner: node.name, routes: [{ dst: cidr, via: formatIpv4(node.ip) }], neigh: [], fdb: [] },
          { op: 'peerset.attach', ns: h, set: directSet(node.segment), self: node.name },
        );
      }
      actions.push(
        { op: 'tc.attach', ns: h, dev: 'eth0', direction: 'ingress', obj: 'bpf_host.o', sec: 'cil_from_netdev' },
        { op: 'tc.attach', ns: h, dev: 'cilium_host', direction: 'egress', obj: 'bpf_host.o', sec: 'cil_from_host', ...(tunnel ? { encapDev: 'cilium_vxlan' } : {}) },
        // The node's own addresses are in the endpoint map as host entries (ENDPOINT_F_HOST).
        { op: 'bpf.map.update', map: 'cilium_lxc', ns: h, key: formatIpv4(node.ip), value: { host: true, identity: 1 } },
        { op: 'bpf.map.update', map: 'cilium_lxc', ns: h, key: router, value: { host: true, identity: 1 } },
      );
      if (masq) {
        actions.push({ op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: cidr, notDst: formatCidr(state.podCidr), target: 'MASQUERADE', comment: 'cilium masquerade non-cluster' } });
      }
      return { actions, nodeState: { ipam: EMPTY_HOST_LOCAL } satisfies CiliumNodeState };
    },
    nodeRemoved(state, node): DesignReaction {
      const actions: Action[] = [];
      if (tunnel) {
        const key = formatCidr(node.podCidr!);
        if (state.underlay.tunnelMap) actions.push({ op: 'bpf.map.delete', map: 'cilium_tunnel_map', key });
      } else actions.push({ op: 'peerset.del', set: directSet(node.segment), owner: node.name });
      return { actions };
    },
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const { node, pod } = req;
      const subnet = node.podCidr!;
      // cluster-pool IPAM: the node's podCIDR, its first address kept for cilium_host.
      const got = allocateOnSubnet(subnet, st(node).ipam, req, '0.3.1', (msg) => `unable to allocate IP via local cilium agent: ${msg}`);
      if ('error' in got) return got;
      const h = ns(node.name);
      const p = `pod/${pod.key}`;
      const ip = formatIpv4(got.ip);
      const router = routerIp(node);
      const underMtu = state.underlay.segments[node.segment]?.mtu ?? 1500;
      const lxc = lxcName(req.containerId);
      const lxcMac = macFromSeed(`${lxc}|${pod.uid}`);
      const podMac = macFromSeed(`eth0|${pod.key}|${pod.uid}`);
      const identity = ciliumIdentity(pod);
      const actions: Action[] = [
        { op: 'link.add', ns: h, name: lxc, kind: 'veth', mtu: underMtu, mac: lxcMac, up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu: underMtu, up: true } },
        { op: 'addr.add', ns: p, dev: req.ifname, addr: `${ip}/32` },
        { op: 'route.add', ns: p, dst: `${router}/32`, dev: req.ifname, scope: 'link' },
        { op: 'route.add', ns: p, dst: 'default', via: router, dev: req.ifname, mtu: tunnel ? underMtu - VXLAN_OVERHEAD : underMtu },
        { op: 'tc.attach', ns: h, dev: lxc, direction: 'ingress', obj: 'bpf_lxc.o', sec: 'cil_from_container', ...(tunnel ? { encapDev: 'cilium_vxlan' } : {}) },
        { op: 'bpf.map.update', map: 'cilium_lxc', ns: h, key: ip, value: { dev: lxc, mac: podMac, identity } },
      ];
      const result: CniResult = {
        cniVersion: '0.3.1',
        interfaces: [{ name: lxc, mac: lxcMac }, { name: req.ifname, mac: podMac, sandbox: req.netns }],
        ips: [{ address: `${ip}/32`, gateway: router, interface: 1 }],
        routes: [{ dst: `${router}/32` }, { dst: '0.0.0.0/0', gw: router }],
        dns: {},
      };
      return { actions, result, nodeState: { ipam: got.store } satisfies CiliumNodeState };
    },
    podDeleted(_state, pod: Pod, node: Node): DesignReaction {
      const h = ns(node.name);
      const s = st(node);
      const owner = pod.ip === null ? undefined : s.ipam.allocated[formatIpv4(pod.ip)];
      const actions: Action[] = [];
      if (pod.ip !== null && node.host.lxcMap?.[String(pod.ip)]) actions.push({ op: 'bpf.map.delete', map: 'cilium_lxc', ns: h, key: formatIpv4(pod.ip) });
      const dev = pod.ip === null ? undefined : node.host.lxcMap?.[String(pod.ip)]?.dev;
      if (dev && node.host.links[dev]) actions.push({ op: 'link.del', ns: h, name: dev });
      return { actions, nodeState: { ipam: owner === undefined ? s.ipam : hostLocalDel(s.ipam, owner.id, owner.ifname) } satisfies CiliumNodeState };
    },
    cniConfig(): Record<string, string> {
      return { '05-cilium.conflist': JSON.stringify({ cniVersion: '0.3.1', name: 'cilium', plugins: [{ type: 'cilium-cni', 'enable-debug': false }] }, null, 2) + '\n' };
    },
  };
}
