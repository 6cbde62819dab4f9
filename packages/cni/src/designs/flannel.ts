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
 *
 * The two halves are separate, as they are on a node: {@link flannelAgent} is flanneld (the VXLAN device,
 * the peer set, the masquerade rules, /run/flannel/subnet.env); the pods are wired by kube-flannel's
 * 10-flannel.conflist run through the CNI plugins (../contract), so `flannel()` is
 * `fromConflist(FLANNEL_CONFLIST, { agent: flannelAgent() })`.
 */
import {
  formatCidr, formatIpv4, macFromSeed, type Action, type ClusterState, type CniDesign, type DesignReaction, type Node,
} from '@podnet/core';
import { fromConflist, type NodeAgent } from '../contract/conflist-design.js';
import { SUBNET_ENV } from '../contract/plugins.js';

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

const VXLAN_OVERHEAD = 50;
const PEERSET = 'flannel';
const DEV = 'flannel.1';

/** What kube-flannel.yml writes to /etc/cni/net.d/10-flannel.conflist (ConfigMap kube-flannel-cfg, cni-conf.json). */
export const FLANNEL_CONFLIST = `${JSON.stringify({
  name: 'cbr0', cniVersion: '0.3.1',
  plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }],
}, null, 2)}\n`;

/** The VTEP MAC flanneld gives flannel.1 on a node (random in reality, fixed per node here). */
export function vtepMac(node: string): string {
  return macFromSeed(`flannel.1|${node}`);
}

/** flanneld (VXLAN backend) on every node: what connects the nodes, without the pods. */
export function flannelAgent(options: FlannelOptions = {}): NodeAgent {
  if (options === null || typeof options !== 'object') throw new TypeError('flannel options must be an object');
  const backend = options.backend ?? 'vxlan';
  if (backend !== 'vxlan') throw new TypeError(`flannel backend "${String(backend)}" is not built yet (vxlan is)`);
  const vni = options.vni ?? 1;
  const port = options.port ?? 8472;
  const ipMasq = options.ipMasq ?? true;
  const mtuOf = (state: ClusterState, node: Node): number => (state.underlay.segments[node.segment]?.mtu ?? 1500) - VXLAN_OVERHEAD;
  const ns = (node: string) => `node/${node}`;
  return {
    name: 'flanneld',
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
      return { actions };
    },
    nodeRemoved(_state, node): DesignReaction {
      return { actions: [{ op: 'peerset.del', set: PEERSET, owner: node.name }] };
    },
    files(state, node): Record<string, string> {
      // flanneld writes the node's lease: the subnet with its first address, the MTU of flannel.1.
      const subnet = node.podCidr!;
      return {
        [SUBNET_ENV]: `FLANNEL_NETWORK=${formatCidr(state.podCidr)}\nFLANNEL_SUBNET=${formatIpv4((subnet.addr + 1) >>> 0)}/${subnet.len}\nFLANNEL_MTU=${mtuOf(state, node)}\nFLANNEL_IPMASQ=${ipMasq}\n`,
      };
    },
  };
}

/** flannel (VXLAN backend) as a podnet design: flanneld plus kube-flannel's conflist. */
export function flannel(options: FlannelOptions = {}): CniDesign {
  const agent = flannelAgent(options);
  return fromConflist(FLANNEL_CONFLIST, { agent, name: `flannel-${options.backend ?? 'vxlan'}`, fileName: '10-flannel.conflist' });
}
