/**
 * flannel with the VXLAN backend, wired as flanneld and the flannel CNI plugin (delegating to the
 * bridge plugin with host-local IPAM) wire a node:
 *
 *   flanneld at start:   ip link add flannel.1 type vxlan id 1 local <node ip> dev eth0 dstport 8472 nolearning
 *                        ip link set flannel.1 mtu 1450 up; ip addr add <subnet>.0/32 dev flannel.1
 *   for every other node: ip route add <subnet> via <subnet>.0 dev flannel.1 onlink
 *                        ip neigh add <subnet>.0 lladdr <its vtep mac> dev flannel.1 nud permanent
 *                        bridge fdb append <its vtep mac> dev flannel.1 dst <its node ip> self permanent
 *   iptables (--ip-masq): pod CIDR → pod CIDR RETURN; pod CIDR → elsewhere MASQUERADE
 *   CNI ADD (bridge):    cni0 with <subnet>.1/24 (created on the first pod), a veth per pod
 *                        (pod side eth0, MTU 1450), default route via <subnet>.1
 *
 * The per-node route/neighbour/FDB triple is one entry of a shared peer set: every node renders all
 * entries but its own, so the cluster stores N entries, not N × (N − 1).
 */
import {
  formatCidr, formatIpv4, macFromSeed, type Action, type ClusterState, type CniDesign, type CniResult, type DesignReaction,
  type Node, type Pod, type PodAddReaction, type PodAddRequest,
} from '@podnet/core';
import { allocate, defaultRange, EMPTY_HOST_LOCAL, release, type HostLocalState } from '../ipam/host-local.js';

/** Options of {@link flannel}. */
export interface FlannelOptions {
  /** Only `vxlan` is built so far. */
  readonly backend?: 'vxlan';
  /** VXLAN VNI (flannel's default 1). */
  readonly vni?: number;
  /** VXLAN UDP port (flannel's default on Linux: the kernel's 8472). */
  readonly port?: number;
  /** flanneld --ip-masq (kube-flannel.yml sets it): masquerade pod traffic leaving the pod CIDR. */
  readonly ipMasq?: boolean;
}

interface FlannelNodeState {
  readonly ipam: HostLocalState;
}

const VXLAN_OVERHEAD = 50;
const PEERSET = 'flannel';
const DEV = 'flannel.1';

/** The VTEP MAC flanneld gives flannel.1 on a node (random in reality, fixed per node here). */
export function vtepMac(node: string): string {
  return macFromSeed(`flannel.1|${node}`);
}

/** The host-side veth name the bridge plugin picks for a pod (random in reality, derived here). */
export function vethName(podKey: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < podKey.length; i++) h = Math.imul(h ^ podKey.charCodeAt(i), 0x01000193);
  return `veth${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** flannel (VXLAN backend) as a podnet design. */
export function flannel(options: FlannelOptions = {}): CniDesign {
  const backend = options.backend ?? 'vxlan';
  if (backend !== 'vxlan') throw new TypeError(`flannel backend "${String(backend)}" is not built yet (vxlan is)`);
  const vni = options.vni ?? 1;
  const port = options.port ?? 8472;
  const ipMasq = options.ipMasq ?? true;

  const mtuOf = (state: ClusterState, node: Node): number => (state.underlay.segments[node.segment]?.mtu ?? 1500) - VXLAN_OVERHEAD;
  const ns = (node: string) => `node/${node}`;
  const nodeState = (node: Node): FlannelNodeState => (node.cni as FlannelNodeState | null) ?? { ipam: EMPTY_HOST_LOCAL };

  return {
    name: `flannel-${backend}`,
    podMtu: 1450,
    nodeAdded(state, node): DesignReaction {
      const subnet = node.podCidr!;
      const vtep = formatIpv4(subnet.addr);
      const mac = vtepMac(node.name);
      const h = ns(node.name);
      const podCidr = formatCidr(state.podCidr);
      const actions: Action[] = [
        { op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 },
        { op: 'link.add', ns: h, name: DEV, kind: 'vxlan', mac, mtu: mtuOf(state, node), vxlan: { vni, local: formatIpv4(node.ip), dstPort: port, dev: 'eth0', learning: false } },
        { op: 'addr.add', ns: h, dev: DEV, addr: `${vtep}/32` },
        { op: 'link.set', ns: h, name: DEV, up: true },
        {
          op: 'peerset.put', set: PEERSET, dev: DEV, owner: node.name,
          routes: [{ dst: formatCidr(subnet), via: vtep, onlink: true }],
          neigh: [{ ip: vtep, mac }],
          fdb: [{ mac, dst: formatIpv4(node.ip) }],
        },
        { op: 'peerset.attach', ns: h, set: PEERSET, self: node.name },
      ];
      if (ipMasq) {
        actions.push(
          { op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: podCidr, dst: podCidr, target: 'ACCEPT', comment: 'flanneld masq: pod to pod is not masqueraded' } },
          { op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: podCidr, notDst: '224.0.0.0/4', target: 'MASQUERADE', comment: 'flanneld masq: pods to the outside' } },
        );
      }
      return { actions, nodeState: { ipam: EMPTY_HOST_LOCAL } satisfies FlannelNodeState };
    },
    nodeRemoved(_state, node): DesignReaction {
      return { actions: [{ op: 'peerset.del', set: PEERSET, owner: node.name }] };
    },
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const { node, pod } = req;
      const subnet = node.podCidr!;
      const range = defaultRange(subnet);
      if ('error' in range) return { error: { cniVersion: '0.3.1', code: 7, msg: 'Invalid Configuration', details: range.error } };
      const st = nodeState(node);
      const got = allocate(range, st.ipam, `${req.containerId} ${req.ifname}`, req.requestedIp);
      // flannel's CNI plugin delegates to bridge, which runs host-local: the error comes back wrapped twice.
      if ('error' in got) return { error: { cniVersion: '0.3.1', code: 999, msg: `failed to delegate add: failed to allocate for range 0: ${got.error}` } };
      const h = ns(node.name);
      const p = `pod/${pod.key}`;
      const mtu = mtuOf(state, node);
      const gw = formatIpv4(range.gateway);
      const veth = vethName(pod.key);
      const actions: Action[] = [];
      if (!node.host.links['cni0']) {
        actions.push(
          { op: 'link.add', ns: h, name: 'cni0', kind: 'bridge', mtu, mac: macFromSeed(`cni0|${node.name}`) },
          { op: 'addr.add', ns: h, dev: 'cni0', addr: `${gw}/${subnet.len}` },
          { op: 'link.set', ns: h, name: 'cni0', up: true },
        );
      }
      const podMac = macFromSeed(`eth0|${pod.key}|${pod.uid}`);
      const hostMac = macFromSeed(`${veth}|${pod.uid}`);
      actions.push(
        { op: 'link.add', ns: h, name: veth, kind: 'veth', mtu, mac: hostMac, master: 'cni0', up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu, up: true } },
        { op: 'addr.add', ns: p, dev: req.ifname, addr: `${formatIpv4(got.ip)}/${subnet.len}` },
        // isDefaultGateway gives the default route; flannel's IPAM routes add the cluster network.
        { op: 'route.add', ns: p, dst: 'default', via: gw, dev: req.ifname },
        { op: 'route.add', ns: p, dst: formatCidr(state.podCidr), via: gw, dev: req.ifname },
      );
      const cniMac = node.host.links['cni0']?.mac ?? macFromSeed(`cni0|${node.name}`);
      const result: CniResult = {
        cniVersion: '0.3.1',
        interfaces: [{ name: 'cni0', mac: cniMac }, { name: veth, mac: hostMac }, { name: req.ifname, mac: podMac, sandbox: req.netns }],
        ips: [{ address: `${formatIpv4(got.ip)}/${subnet.len}`, gateway: gw, interface: 2 }],
        routes: [{ dst: formatCidr(state.podCidr) }, { dst: '0.0.0.0/0', gw }],
        dns: {},
      };
      return { actions, result, nodeState: { ipam: got.state } satisfies FlannelNodeState };
    },
    podDeleted(_state, pod: Pod, node: Node): DesignReaction {
      const veth = vethName(pod.key);
      const actions: Action[] = node.host.links[veth] ? [{ op: 'link.del', ns: ns(node.name), name: veth }] : [];
      const st = nodeState(node);
      const owner = pod.ip === null ? undefined : st.ipam.allocated[formatIpv4(pod.ip)];
      return { actions, nodeState: { ipam: owner === undefined ? st.ipam : release(st.ipam, owner) } satisfies FlannelNodeState };
    },
    cniConfig(state): Record<string, string> {
      void state;
      return {
        '10-flannel.conflist': JSON.stringify({
          name: 'cbr0', cniVersion: '0.3.1',
          plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }],
        }, null, 2) + '\n',
      };
    },
  };
}
