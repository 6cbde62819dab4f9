/**
 * Pods addressed from the cloud network, routed by the cloud's route table: no overlay, no encapsulation.
 * Each node's podCIDR is a prefix the VPC itself routes to that node, installed in the underlay router
 * (namespace `underlay`, podnet's stand-in for the VPC's router) when the node joins and removed when it leaves.
 *
 * - `gke`: GKE VPC-native clusters. The node's podCIDR is an alias IP range of its NIC, drawn from the
 *   subnet's secondary range for pods; the VPC delivers the range to the VM. On the node GKE's ptp-style
 *   plugin gives each pod a veth (host side `gke…`), host-local addresses from the podCIDR, the podCIDR's
 *   first address as the gateway on every host veth (scope link) and a /32 route per pod.
 * - `azure`: AKS kubenet. The node's podCIDR is a user-defined route (`<podCIDR> → <node IP>`, next hop
 *   type VirtualAppliance) in the subnet's route table; on the node kubenet is the bridge plugin with
 *   host-local: bridge `cbr0` with the podCIDR's first address, a veth per pod, default route via cbr0.
 *
 * Both masquerade pod traffic leaving the private ranges (ip-masq-agent's default non-masquerade CIDRs:
 * 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) and never pod-to-pod.
 *
 * Azure CNI (pods with VNet addresses on the node's NIC) is the other Azure design: it is the model
 * {@link awsVpc} already builds (addresses the fabric assigns to a NIC), so `azure` here is kubenet.
 */
import {
  formatCidr, formatIpv4, macFromSeed, type Action, type ClusterState, type CniDesign, type CniResult, type DesignReaction, type Node,
  type Pod, type PodAddReaction, type PodAddRequest,
} from '@podnet/core';
import { allocateOnSubnet, EMPTY_HOST_LOCAL, hostLocalDel, type HostLocalStore } from '../ipam/host-local.js';
import { sha1Hex } from '../util/hash.js';
import { vethName } from '../contract/plugins.js';

/** Options of {@link nativeVpc}. */
export interface NativeVpcOptions {
  readonly provider: 'gke' | 'azure';
  /** Pod MTU (GKE's default 1460, Azure's 1500). */
  readonly mtu?: number;
}

interface NativeNodeState {
  readonly ipam: HostLocalStore;
}

/** ip-masq-agent's default nonMasqueradeCIDRs (the RFC 1918 ranges). */
const NON_MASQUERADE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** The host-side veth name on a GKE node: `gke` and 11 hex digits (GKE derives them from the pod; podnet hashes namespace.pod). */
export function gkeVethName(namespace: string, pod: string): string {
  return `gke${sha1Hex(`${namespace}.${pod}`).slice(0, 11)}`;
}

/** A native-VPC design: GKE VPC-native (alias IP ranges) or AKS kubenet (route-table UDRs). */
export function nativeVpc(options: NativeVpcOptions): CniDesign {
  if (options === null || typeof options !== 'object' || (options.provider !== 'gke' && options.provider !== 'azure')) {
    throw new TypeError(`nativeVpc needs { provider: 'gke' | 'azure' }, not ${JSON.stringify(options)}`);
  }
  const gke = options.provider === 'gke';
  const mtu = options.mtu ?? (gke ? 1460 : 1500);
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9000) throw new RangeError(`mtu ${String(mtu)} is out of range (576 to 9000)`);
  const ns = (n: string) => `node/${n}`;
  const st = (node: Node): NativeNodeState => (node.cni as NativeNodeState | null) ?? { ipam: EMPTY_HOST_LOCAL };
  const hostVeth = (pod: Pod) => (gke ? gkeVethName(pod.namespace, pod.name) : vethName(pod.key));

  return {
    name: gke ? 'gke-vpc-native' : 'azure-kubenet',
    podMtu: mtu,
    nodeAdded(state, node): DesignReaction {
      const h = ns(node.name);
      const cidr = formatCidr(node.podCidr!);
      const actions: Action[] = [
        { op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 },
        // The cloud's route table: GKE's alias range on the VM's NIC, Azure's user-defined route.
        { op: 'route.add', ns: 'underlay', dst: cidr, via: formatIpv4(node.ip) },
        ...NON_MASQUERADE.map((dst): Action => ({ op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', dst, target: 'ACCEPT', comment: 'ip-masq-agent: local traffic is not subject to MASQUERADE' } })),
        { op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', target: 'MASQUERADE', comment: 'ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)' } },
      ];
      void state;
      return { actions, nodeState: { ipam: EMPTY_HOST_LOCAL } satisfies NativeNodeState };
    },
    nodeRemoved(state, node): DesignReaction {
      // Only remove the route if it is still there (a lab may have deleted it by hand).
      const has = state.underlay.router.routes.some((r) => r.dst.addr === node.podCidr!.addr && r.dst.len === node.podCidr!.len && r.via === node.ip);
      return { actions: has ? [{ op: 'route.del', ns: 'underlay', dst: formatCidr(node.podCidr!), via: formatIpv4(node.ip) }] : [] };
    },
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const { node, pod } = req;
      const subnet = node.podCidr!;
      const got = allocateOnSubnet(subnet, st(node).ipam, req, '0.3.1');
      if ('error' in got) return got;
      const { range } = got;
      const h = ns(node.name);
      const p = `pod/${pod.key}`;
      const ip = formatIpv4(got.ip);
      const gw = formatIpv4(range.gateway);
      const veth = hostVeth(pod);
      const hostMac = macFromSeed(`${veth}|${pod.uid}`);
      const podMac = macFromSeed(`eth0|${pod.key}|${pod.uid}`);
      const actions: Action[] = [];
      let result: CniResult;
      if (gke) {
        // ptp: the pod's subnet route is replaced by a /32 to the gateway and the subnet via it; the
        // gateway address sits on the host veth (scope link), and the host routes the pod's /32 to it.
        actions.push(
          { op: 'link.add', ns: h, name: veth, kind: 'veth', mtu, mac: hostMac, up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu, up: true } },
          { op: 'addr.add', ns: p, dev: req.ifname, addr: `${ip}/32` },
          { op: 'route.add', ns: p, dst: `${gw}/32`, dev: req.ifname, scope: 'link', src: ip },
          { op: 'route.add', ns: p, dst: formatCidr(subnet), via: gw, dev: req.ifname, src: ip },
          { op: 'route.add', ns: p, dst: 'default', via: gw, dev: req.ifname },
          { op: 'addr.add', ns: h, dev: veth, addr: `${gw}/32`, scope: 'link' },
          { op: 'route.add', ns: h, dst: `${ip}/32`, dev: veth, scope: 'link' },
        );
        result = {
          cniVersion: '0.3.1',
          interfaces: [{ name: veth, mac: hostMac }, { name: req.ifname, mac: podMac, sandbox: req.netns }],
          ips: [{ address: `${ip}/${subnet.len}`, gateway: gw, interface: 1 }],
          routes: [{ dst: '0.0.0.0/0' }],
          dns: {},
        };
      } else {
        // kubenet: the bridge plugin with host-local, bridge cbr0 holding the gateway.
        if (!node.host.links['cbr0']) {
          actions.push(
            { op: 'link.add', ns: h, name: 'cbr0', kind: 'bridge', mtu, mac: macFromSeed(`cbr0|${node.name}`) },
            { op: 'addr.add', ns: h, dev: 'cbr0', addr: `${gw}/${subnet.len}` },
            { op: 'link.set', ns: h, name: 'cbr0', up: true },
          );
        }
        actions.push(
          { op: 'link.add', ns: h, name: veth, kind: 'veth', mtu, mac: hostMac, master: 'cbr0', up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu, up: true } },
          { op: 'addr.add', ns: p, dev: req.ifname, addr: `${ip}/${subnet.len}` },
          { op: 'route.add', ns: p, dst: 'default', via: gw, dev: req.ifname },
        );
        const cbr = node.host.links['cbr0']?.mac ?? macFromSeed(`cbr0|${node.name}`);
        result = {
          cniVersion: '0.3.1',
          interfaces: [{ name: 'cbr0', mac: cbr }, { name: veth, mac: hostMac }, { name: req.ifname, mac: podMac, sandbox: req.netns }],
          ips: [{ address: `${ip}/${subnet.len}`, gateway: gw, interface: 2 }],
          routes: [{ dst: '0.0.0.0/0', gw }],
          dns: {},
        };
      }
      void state;
      return { actions, result, nodeState: { ipam: got.store } satisfies NativeNodeState };
    },
    podDeleted(_state, pod: Pod, node: Node): DesignReaction {
      const veth = hostVeth(pod);
      const actions: Action[] = node.host.links[veth] ? [{ op: 'link.del', ns: ns(node.name), name: veth }] : [];
      const s = st(node);
      const owner = pod.ip === null ? undefined : s.ipam.allocated[formatIpv4(pod.ip)];
      return { actions, nodeState: { ipam: owner === undefined ? s.ipam : hostLocalDel(s.ipam, owner.id, owner.ifname) } satisfies NativeNodeState };
    },
    cniConfig(state: ClusterState, node: Node): Record<string, string> {
      void state;
      const ranges = [[{ subnet: formatCidr(node.podCidr!) }]];
      const conf = gke
        ? { name: 'k8s-pod-network', cniVersion: '0.3.1', plugins: [{ type: 'ptp', mtu, ipam: { type: 'host-local', ranges, routes: [{ dst: '0.0.0.0/0' }] } }, { type: 'portmap', capabilities: { portMappings: true } }] }
        : { name: 'kubenet', cniVersion: '0.1.0', type: 'bridge', bridge: 'cbr0', mtu, addIf: 'eth0', isGateway: true, ipMasq: false, hairpinMode: false, ipam: { type: 'host-local', ranges, routes: [{ dst: '0.0.0.0/0' }] } };
      return { [gke ? '10-gke-ptp.conflist' : '10-kubenet.conf']: JSON.stringify(conf, null, 2) + '\n' };
    },
  };
}
