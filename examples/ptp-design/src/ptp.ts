/**
 * A design in the style of the reference CNI `ptp` plugin, with static host routes between nodes:
 *
 * - each pod gets a veth pair; in the pod, `eth0` holds the pod's address as a /32, a link-scope route to the
 *   node's gateway address and `default via <gateway> dev eth0`;
 * - on the host, the veth end holds the gateway address (the node's podCIDR's first address) as a /32 — the
 *   same address on every veth of the node, as ptp does — and a /32 route to the pod through the veth;
 * - between nodes, one route per other node's podCIDR via that node's underlay IP: static routes, so every
 *   node must sit on one L2 segment (`checkDesign(…, { segments: 1 })`).
 *
 * IPAM is a set of taken addresses per node (the node's design state), on the node's podCIDR, skipping the
 * network address, the gateway and the broadcast address.
 */
import {
  type Action,
  type CniDesign,
  type CniResult,
  type ClusterState,
  type Node,
  type Pod,
  broadcastOf,
  cidrContains,
  formatCidr,
  formatIpv4,
  hostNsId,
  podNsId,
  shardValues,
} from '@podnet/core';

/** The node's design state: the addresses its pods hold, dotted → pod key. */
export interface PtpNodeState {
  readonly taken: Readonly<Record<string, string>>;
}

/** What can be got wrong; each flag is one realistic mistake (the fixed design has none). */
export interface PtpBugs {
  /** Forget the pod's link-scope route to its gateway: the default route via a gateway on no connected subnet. */
  readonly noGatewayRoute?: boolean;
  /** Forget to release the pod's address at CNI DEL (host-local's store then leaks one address per pod). */
  readonly leakIpOnDelete?: boolean;
  /** Give the pods an MTU larger than the underlay's. */
  readonly podMtu?: number;
  /** Forget to put the gateway address on the host veth (pods cannot resolve their default gateway). */
  readonly noGatewayAddress?: boolean;
}

const stateOf = (node: Node): PtpNodeState => (node.cni as PtpNodeState | undefined) ?? { taken: {} };

/** The node's gateway address: the first address of its podCIDR. */
export function gatewayOf(node: Node): number {
  if (node.podCidr === null) throw new Error(`node ${node.name} has no podCIDR`);
  return node.podCidr.addr + 1;
}

/** The host end of a pod's veth: `veth` + 8 hex digits of an FNV-1a hash of the pod key. */
export function hostVethName(pod: Pod): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < pod.key.length; i++) h = Math.imul(h ^ pod.key.charCodeAt(i), 0x01000193) >>> 0;
  return `veth${h.toString(16).padStart(8, '0')}`;
}

function peerRoutes(state: ClusterState, node: Node): Action[] {
  const actions: Action[] = [];
  for (const other of shardValues(state.nodes)) {
    if (other.name === node.name || other.podCidr === null || node.podCidr === null) continue;
    // this node → the other's pods, and the other → this node's pods
    actions.push({ op: 'route.replace', ns: hostNsId(node.name), dst: formatCidr(other.podCidr), via: formatIpv4(other.ip), dev: 'eth0' });
    actions.push({ op: 'route.replace', ns: hostNsId(other.name), dst: formatCidr(node.podCidr), via: formatIpv4(node.ip), dev: 'eth0' });
  }
  return actions;
}

export function ptp(bugs: PtpBugs = {}): CniDesign {
  const mtu = bugs.podMtu ?? 1500;
  return {
    name: bugs.noGatewayRoute || bugs.leakIpOnDelete || bugs.podMtu || bugs.noGatewayAddress ? 'ptp-host-routes (buggy)' : 'ptp-host-routes',
    podMtu: mtu,
    nodeAdded: (state, node) => ({
      actions: [{ op: 'sysctl.set', ns: hostNsId(node.name), key: 'net.ipv4.ip_forward', value: 1 }, ...peerRoutes(state, node)],
      nodeState: { taken: {} } satisfies PtpNodeState,
    }),
    nodeRemoved: (state, node) => {
      const actions: Action[] = [];
      if (node.podCidr !== null) {
        for (const other of shardValues(state.nodes)) {
          if (other.name === node.name) continue;
          actions.push({ op: 'route.del', ns: hostNsId(other.name), dst: formatCidr(node.podCidr), via: formatIpv4(node.ip), dev: 'eth0' });
        }
      }
      return { actions };
    },
    podAdded: (_state, req) => {
      const { pod, node } = req;
      const fail = (msg: string) => ({ error: { cniVersion: '1.0.0', code: 999, msg } });
      if (node.podCidr === null) return fail(`node ${node.name} has no podCIDR`);
      const cidr = node.podCidr;
      const gw = gatewayOf(node);
      const { taken } = stateOf(node);
      let ip: number | null = null;
      if (req.requestedIp !== null) {
        const want = req.requestedIp;
        if (!cidrContains(cidr, want) || want === cidr.addr || want === gw || want === broadcastOf(cidr.addr, cidr.len)) {
          return fail(`requested IP ${formatIpv4(want)} is not allocatable in ${formatCidr(cidr)}`);
        }
        if (taken[formatIpv4(want)] !== undefined) return fail(`requested IP ${formatIpv4(want)} is taken`);
        ip = want;
      } else {
        for (let a = gw + 1; a < broadcastOf(cidr.addr, cidr.len); a++) {
          if (taken[formatIpv4(a)] === undefined) { ip = a; break; }
        }
        if (ip === null) return fail(`no IP addresses available in ${formatCidr(cidr)}`);
      }
      const host = hostNsId(node.name);
      const podNs = podNsId(pod.key);
      const veth = hostVethName(pod);
      const ipText = formatIpv4(ip);
      const gwText = formatIpv4(gw);
      const actions: Action[] = [
        { op: 'link.add', ns: host, name: veth, kind: 'veth', mtu, up: true, peer: { ns: podNs, name: req.ifname, mtu, up: true } },
        ...(bugs.noGatewayAddress ? [] : [{ op: 'addr.add', ns: host, dev: veth, addr: `${gwText}/32` } as const]),
        { op: 'route.add', ns: host, dst: `${ipText}/32`, dev: veth, scope: 'link' },
        { op: 'addr.add', ns: podNs, dev: req.ifname, addr: `${ipText}/32` },
        ...(bugs.noGatewayRoute ? [] : [{ op: 'route.add', ns: podNs, dst: `${gwText}/32`, dev: req.ifname, scope: 'link' } as const]),
        { op: 'route.add', ns: podNs, dst: 'default', via: gwText, dev: req.ifname },
      ];
      const result: CniResult = {
        cniVersion: '1.0.0',
        interfaces: [{ name: veth, mac: '' }, { name: req.ifname, mac: '', sandbox: req.netns }],
        ips: [{ address: `${ipText}/32`, gateway: gwText, interface: 1 }],
        routes: [{ dst: '0.0.0.0/0', gw: gwText }],
        dns: {},
      };
      return { actions, result, nodeState: { taken: { ...taken, [ipText]: pod.key } } satisfies PtpNodeState };
    },
    podDeleted: (_state, pod, node) => {
      const { taken } = stateOf(node);
      const rest: Record<string, string> = {};
      for (const [a, k] of Object.entries(taken)) if (k !== pod.key || bugs.leakIpOnDelete) rest[a] = k;
      const veth = hostVethName(pod);
      // CNI DEL is idempotent: only delete the veth if it is still there.
      const actions: Action[] = node.host.links[veth] ? [{ op: 'link.del', ns: hostNsId(node.name), name: veth }] : [];
      return { actions, nodeState: { taken: rest } satisfies PtpNodeState };
    },
  };
}
