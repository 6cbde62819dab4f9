/**
 * Deliberately broken designs: each is flannel with ONE mistake people really make, so that a student can
 * see what the guarantees (or, for the MTU, the packet dispositions) report and trace it back to the
 * mistake. Each mistake is named in the design's `name` and described below.
 */
import { type CniDesign } from '@podnet/core';
import { flannelWith } from './flannel.js';

/**
 * flannel VXLAN whose masquerade rule has no exception for pod-to-pod traffic: every node has
 * `iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE` and not flanneld's
 * `-s 10.244.0.0/16 -d 10.244.0.0/16 -j RETURN` before it — the rule people write by hand (or an
 * ip-masq-agent whose nonMasqueradeCIDRs forgot the pod CIDR). A pod's packet to another node's pod leaves
 * by flannel.1 with the source rewritten to that node's flannel.1 address, so the receiver sees the node,
 * not the pod: the `no-nat` guarantee reports it at the hop where the source changed.
 */
function masquerade(): CniDesign {
  return flannelWith({ backend: 'vxlan' }, { name: 'broken-masquerade', masqueradeAll: true });
}

/**
 * flannel VXLAN whose CNI configuration pins one subnet for every node: host-local's `subnet` is the first
 * node block (10.244.0.0/24 by default) on every node instead of the node's own podCIDR — what happens when
 * one node's `/etc/cni/net.d` file, written with its own range, is copied to every node. Each node's IPAM
 * hands out the same addresses (and gives every cni0 the same gateway address): the `unique-ip` guarantee
 * reports each duplicate pod IP, and pods whose address belongs to another node's podCIDR are unreachable.
 */
function overlappingIpam(): CniDesign {
  return flannelWith({ backend: 'vxlan' }, {
    name: 'broken-overlapping-ipam',
    ipamSubnet: (state) => ({ addr: state.podCidr.addr, len: state.nodeCidrMaskSize }),
  });
}

/**
 * flannel host-gw whose agent never installs the routes to the other nodes' pod subnets (as if flanneld
 * were not running, or crashed after the CNI plugin wired the pods). Pods on one node reach each other
 * over cni0, but a packet for another node's pod follows the node's default route to the underlay router,
 * which has no route to pod addresses and drops it: the `no-nat` guarantee reports every cross-node pair
 * as unreachable, naming the router where the packet died and the route the node used instead.
 */
function missingRoutes(): CniDesign {
  return flannelWith({ backend: 'host-gw' }, { name: 'broken-missing-routes', noPeerRoutes: true });
}

/**
 * flannel VXLAN whose pods get MTU 1500 although flannel.1 has 1450 (the underlay's 1500 minus VXLAN's 50
 * bytes): the CNI `mtu` set by hand to the NIC's MTU, forgetting the encapsulation overhead. Small packets
 * work, so the guarantees (probed with 84-byte pings) pass; a full-size packet with DF to another node's
 * pod is refused at flannel.1: the node answers ICMP "Frag needed and DF set (mtu = 1450)"
 * (disposition `fragmentationNeeded`), and the sender's next attempt fails locally with
 * `ping: local error: message too long, mtu=1450`. Where ICMP is filtered, TCP connections stall.
 */
function mtuMismatch(): CniDesign {
  return flannelWith({ backend: 'vxlan' }, { name: 'broken-mtu-mismatch', overheadForgotten: true });
}

/** Designs with one realistic mistake each, for the guarantees (and the dispositions) to catch. */
export const broken = { masquerade, overlappingIpam, missingRoutes, mtuMismatch } as const;
