/**
 * A CNI design written from scratch: every node gets a bridge `sr0` holding the first address of its
 * podCIDR, pods hang off it by veth pairs, and each node has a static route to every other node's
 * podCIDR via that node's IP (what flannel's host-gw does, without flanneld).
 *
 * `staticRoutes({ fixed: false })` has the bug a first version of this design usually has: a joining
 * node learns routes to the nodes already there, but they are never told about it.
 */
import { formatCidr, formatIpv4, listNodes, macFromSeed, sandboxId, type Action, type CniDesign, type Node } from '@podnet/core';
import { allocateFromSet, defaultRange, EMPTY_HOST_LOCAL, hostLocalDel, type HostLocalStore } from '@podnet/cni';

const route = (on: Node, to: Node): Action => ({ op: 'route.add', ns: `node/${on.name}`, dst: formatCidr(to.podCidr!), via: formatIpv4(to.ip), dev: 'eth0' });

export function staticRoutes({ fixed }: { fixed: boolean }): CniDesign {
  const ipam = (n: Node) => (n.cni as { ipam: HostLocalStore } | null)?.ipam ?? EMPTY_HOST_LOCAL;
  return {
    name: fixed ? 'static-routes' : 'static-routes (first version)',
    nodeAdded(state, node) {
      const gw = `${formatIpv4(node.podCidr!.addr + 1)}/${node.podCidr!.len}`;
      const others = listNodes(state).filter((o) => o.name !== node.name);
      const actions: Action[] = [
        { op: 'link.add', ns: `node/${node.name}`, name: 'sr0', kind: 'bridge', up: true },
        { op: 'addr.add', ns: `node/${node.name}`, dev: 'sr0', addr: gw },
        ...others.map((o) => route(node, o)),
        // The fix: the nodes already there learn the way to the new one.
        ...(fixed ? others.map((o) => route(o, node)) : []),
      ];
      return { actions, nodeState: { ipam: EMPTY_HOST_LOCAL } };
    },
    nodeRemoved(state, node) {
      const dst = formatCidr(node.podCidr!);
      return { actions: listNodes(state).filter((o) => o.name !== node.name).map((o): Action => ({ op: 'route.del', ns: `node/${o.name}`, dst })) };
    },
    podAdded(_state, { pod, node, requestedIp, containerId, ifname }) {
      const range = defaultRange(node.podCidr!);
      if ('error' in range) return { error: { cniVersion: '1.0.0', code: 7, msg: range.error } };
      const got = allocateFromSet([range], ipam(node), 0, containerId, ifname, requestedIp);
      if ('error' in got) return { error: { cniVersion: '1.0.0', code: 11, msg: got.error } };
      const veth = `sr${pod.uid.slice(0, 8)}`;
      const gw = formatIpv4(range.gateway);
      const addr = `${formatIpv4(got.ip)}/${node.podCidr!.len}`;
      const mac = macFromSeed(pod.uid);
      return {
        actions: [
          { op: 'link.add', ns: `node/${node.name}`, name: veth, kind: 'veth', master: 'sr0', up: true, peer: { ns: `pod/${pod.key}`, name: ifname, mac, up: true } },
          { op: 'addr.add', ns: `pod/${pod.key}`, dev: ifname, addr },
          { op: 'route.add', ns: `pod/${pod.key}`, dst: 'default', via: gw, dev: ifname },
        ],
        result: { cniVersion: '1.0.0', interfaces: [{ name: ifname, mac, sandbox: `/var/run/netns/${pod.uid}` }], ips: [{ address: addr, gateway: gw, interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw }], dns: {} },
        nodeState: { ipam: got.store },
      };
    },
    podDeleted(_state, pod, node) {
      return { actions: [], nodeState: { ipam: hostLocalDel(ipam(node), sandboxId(pod), 'eth0') } };
    },
  };
}
