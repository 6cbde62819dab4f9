/**
 * The CNI reference bridge plugin with host-local IPAM, alone (containernetworking/plugins
 * plugins/main/bridge, plugins/ipam/host-local): what a node gets with only
 * `/etc/cni/net.d/10-mynet.conf` and no node agent. Each node's file holds its podCIDR as host-local's
 * `subnet`, and CNI ADD, DEL and CHECK run it through the contract's plugins (../contract/plugins.ts),
 * as they run any configuration file:
 *
 *   CNI ADD:  ip link add cni0 type bridge; ip link set cni0 up  (first pod)
 *             ip link add vethXXXX type veth peer name eth0 netns <pod>; ip link set vethXXXX master cni0 up
 *             (in the pod) ip addr add <host-local address> dev eth0; ip route add default via <podCIDR>.1
 *             ip addr add <podCIDR>.1/<len> dev cni0 (isGateway, first pod); sysctl net.ipv4.ip_forward=1
 *             ipMasq: iptables -t nat -N CNI-<sha512(name + container ID), 24 hex digits>
 *                     iptables -t nat -A CNI-… -d <podCIDR> -j ACCEPT; … ! -d 224.0.0.0/4 -j MASQUERADE
 *                     iptables -t nat -A POSTROUTING -s <pod ip>/32 -j CNI-…
 *   CNI DEL:  (in the pod) ip link del eth0 (its host end goes with it); host-local releases the
 *             address; the jump goes, the chain is flushed and deleted.
 *
 * It is a single-node design: nothing tells a node where another node's pods are. On a cluster of
 * several nodes a pod's packet for another node's pod follows the node's default route to the underlay
 * router, which has no route to pod addresses: pods on different nodes cannot reach each other, and the
 * guarantees say so.
 */
import { checkIfName, fail, shown, formatCidr, type CniDesign, type Node } from '@podnet/core';
import { fromNodeConfig } from '../contract/conflist-design.js';
import { textMemo } from '../contract/memo.js';

/** Options of {@link bridge}: the plugin's configuration keys of the same names. */
export interface BridgeOptions {
  /** `bridge`: the bridge's name (default `cni0`). */
  readonly bridge?: string;
  /** `ipMasq`: masquerade what pods send outside their subnet (the plugin's default: false). */
  readonly ipMasq?: boolean;
  /** `mtu` of the bridge and veths (default: none in the file, so the kernel's for a new device, 1500). */
  readonly mtu?: number;
}

/** The file name of the design's configuration in /etc/cni/net.d. */
const FILE_NAME = '10-mynet.conf';

/**
 * The CNI reference bridge plugin with host-local IPAM on each node's podCIDR, as a podnet design: each
 * node's `10-mynet.conf` run by the CNI runtime. A node without a podCIDR gets `"subnet": ""`, which
 * host-local refuses at CNI ADD, so its pods do not start.
 *
 * @example
 * const sim = createSimulator({ cni: bridge({ ipMasq: true }), nodes: [{ name: 'node-1' }] });
 */
export function bridge(options: BridgeOptions = {}): CniDesign {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'bridge options must be an object');
  const name = checkIfName(options.bridge ?? 'cni0');
  const ipMasq = options.ipMasq ?? false;
  if (typeof ipMasq !== 'boolean') fail('INVALID_ARGUMENT', `bridge ipMasq must be true or false, not ${shown(ipMasq)}`);
  const mtu = options.mtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) fail('INVALID_ARGUMENT', `bridge mtu ${shown(mtu)} is out of range (68 to 65535)`);
  // The shape of the plugin's documented example (cni.dev plugins/main/bridge) on this node's podCIDR,
  // without its IPAM `routes: [{"dst": "0.0.0.0/0"}]`: with isDefaultGateway the plugin adds that route
  // again and its ADD fails ("file exists", as the real plugin does; docs/designs/bridge.md).
  const text = textMemo((subnet) => JSON.stringify({
    cniVersion: '1.0.0', name: 'mynet', type: 'bridge', bridge: name, isGateway: true, isDefaultGateway: true,
    forceAddress: false, ipMasq, hairpinMode: true, ...(mtu === undefined ? {} : { mtu }),
    ipam: { type: 'host-local', ranges: [[{ subnet }]] },
  }, null, 2) + '\n');
  return fromNodeConfig((node: Node) => text(node.podCidr ? formatCidr(node.podCidr) : ''), { name: 'bridge', fileName: FILE_NAME, podMtu: mtu ?? 1500 });
}
