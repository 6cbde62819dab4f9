/**
 * The CNI reference bridge plugin with host-local IPAM, alone (containernetworking/plugins
 * plugins/main/bridge, plugins/ipam/host-local): what a node gets with only
 * `/etc/cni/net.d/10-mynet.conf` and no node agent.
 *
 *   CNI ADD:  ip link add cni0 type bridge; ip addr add <podCIDR>.1/<len> dev cni0; ip link set cni0 up  (first pod)
 *             ip link add vethXXXX type veth peer name eth0 netns <pod>; ip link set vethXXXX master cni0 up
 *             (in the pod) ip addr add <host-local address> dev eth0; ip route add default via <podCIDR>.1
 *             ipMasq: iptables -t nat -A POSTROUTING -s <pod ip>/32 -d <podCIDR> -j ACCEPT
 *                     iptables -t nat -A POSTROUTING -s <pod ip>/32 ! -d 224.0.0.0/4 -j MASQUERADE
 *   CNI DEL:  ip link del vethXXXX; host-local releases the address; the masquerade rules go.
 *
 * It is a single-node design: nothing tells a node where another node's pods are. On a cluster of
 * several nodes a pod's packet for another node's pod follows the node's default route to the underlay
 * router, which has no route to pod addresses: pods on different nodes cannot reach each other, and the
 * guarantees say so.
 */
import { checkIfName, fail, formatCidr, type ClusterState, type CniDesign, type DesignReaction, type Node } from '@podnet/core';
import { bridgeAdd, bridgeDel, type BridgeNodeState } from './bridge-plugin.js';
import { EMPTY_HOST_LOCAL } from '../ipam/host-local.js';

/** Options of {@link bridge}: the plugin's configuration keys of the same names. */
export interface BridgeOptions {
  /** `bridge`: the bridge's name (default `cni0`). */
  readonly bridge?: string;
  /** `ipMasq`: masquerade what pods send outside their subnet (the plugin's default: false). */
  readonly ipMasq?: boolean;
  /** `mtu` of the bridge and veths (default: the node's underlay MTU). */
  readonly mtu?: number;
}

/** The CNI reference bridge plugin with host-local IPAM on each node's podCIDR, as a podnet design. */
export function bridge(options: BridgeOptions = {}): CniDesign {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'bridge options must be an object');
  const name = checkIfName(options.bridge ?? 'cni0');
  const ipMasq = options.ipMasq ?? false;
  if (typeof ipMasq !== 'boolean') fail('INVALID_ARGUMENT', `bridge ipMasq must be true or false, not ${String(ipMasq)}`);
  const mtu = options.mtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) fail('INVALID_ARGUMENT', `bridge mtu ${String(mtu)} is out of range (68 to 65535)`);
  const config = (state: ClusterState, node: Node) => ({
    bridge: name, mtu: mtu ?? state.underlay.segments[node.segment]?.mtu ?? 1500, subnet: node.podCidr!, routes: [], ipMasq, cniVersion: '1.0.0', network: 'mynet',
  });
  return {
    name: 'bridge',
    podMtu: mtu ?? 1500,
    nodeAdded(): DesignReaction {
      // isGateway: the plugin turns on forwarding so the bridge's address routes for the pods.
      return { actions: [], nodeState: { ipam: EMPTY_HOST_LOCAL } satisfies BridgeNodeState };
    },
    nodeRemoved(): DesignReaction {
      return { actions: [] };
    },
    podAdded(state, req) {
      const r = bridgeAdd(state, req, config(state, req.node));
      if ('error' in r) return r;
      // isGateway: enableIPForward (net.ipv4.ip_forward = 1), as the plugin does on every ADD.
      return { ...r, actions: [{ op: 'sysctl.set', ns: `node/${req.node.name}`, key: 'net.ipv4.ip_forward', value: 1 }, ...r.actions] };
    },
    podDeleted(state, pod, node) {
      return bridgeDel(pod, node, config(state, node));
    },
    cniConfig(state, node): Record<string, string> {
      void state;
      // The shape of the plugin's documented example (cni.dev plugins/main/bridge), on this node's podCIDR.
      return {
        '10-mynet.conf': JSON.stringify({
          cniVersion: '1.0.0', name: 'mynet', type: 'bridge', bridge: name, isGateway: true, isDefaultGateway: true,
          forceAddress: false, ipMasq, hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: node.podCidr ? formatCidr(node.podCidr) : '' }]], routes: [{ dst: '0.0.0.0/0' }] },
        }, null, 2) + '\n',
      };
    },
  };
}
