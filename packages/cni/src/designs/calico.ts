/**
 * calico, wired as calico-node (BIRD, confd, felix), the calico CNI plugin and calico-ipam wire a node.
 *
 *   CNI ADD (cni-plugin/pkg/dataplane/linux/dataplane_linux.go):
 *     ip link add eth0 type veth peer name cali<sha1("<namespace>.<pod>")[:11]>   (MTU: underlay − overhead)
 *     ip link set cali… address ee:ee:ee:ee:ee:ee up
 *     (pod)  ip addr add <ip>/32 dev eth0
 *     (pod)  ip route add 169.254.1.1 dev eth0 scope link
 *     (pod)  ip route add default via 169.254.1.1 dev eth0
 *     sysctl net.ipv4.conf.cali….proxy_arp=1 (and proxy_delay=0, forwarding=1, route_localnet=1)
 *     ip route add <ip> dev cali… scope link
 *   calico-ipam: an address from a block affine to the node (see ../ipam/calico-ipam.ts).
 *   BIRD (encapsulation none or IPIP): a static blackhole for each of the node's blocks, exported to
 *     every BGP peer with its /32s of borrowed addresses; peers install
 *       <block> via <node ip> dev eth0 proto bird               (none, or IPIP CrossSubnet in one subnet)
 *       <block> via <node ip> dev tunl0 proto bird onlink        (IPIP)
 *     and, for a peer outside the node's subnet without a tunnel, the next hop resolved recursively
 *     (bird.cfg: `gateway recursive`) through the default route: <block> via <gateway> dev eth0 proto bird.
 *   felix (VXLAN, calico_backend: vxlan — no BGP): vxlan.calico (VNI 4096, port 4789) with an address
 *     from the node's block, and for every other node
 *       <block> via <its vtep ip> dev vxlan.calico proto 80 onlink
 *       ip neigh <its vtep ip> lladdr <its vtep mac> dev vxlan.calico nud permanent
 *       bridge fdb <its vtep mac> dev vxlan.calico dst <its node ip> self permanent
 *   natOutgoing (felix's cali-nat-outgoing): pool → pool not masqueraded, pool → elsewhere MASQUERADE.
 *
 * Every node's routes (and VXLAN neighbour/FDB entries) are one entry of a shared peer set, rendered
 * on every other node: the cluster stores N entries, not N × (N − 1). BGP sessions (full mesh or route
 * reflectors) are derived from the design state when asked ({@link calicoNodeStatus}), never stored per pair.
 */
import {
  allRoutes, fail, formatCidr, formatIpv4, macFromSeed, restorablePeerOwners, shardGet, shardValues, type Action, type ClusterState, type CniDesign, type CniResult,
  type DesignReaction, type Link, type Node, type Pod, type PodAddReaction, type PodAddRequest, type RouteSpec,
} from '@podnet/core';
import {
  allBlocks, assignIp, autoAssign, blockCidr, calicoIpam, releaseHost, releaseIp,
  type CalicoAssignment, type CalicoIpamError, type CalicoIpamState, type CalicoNodeIpam,
} from '../ipam/calico-ipam.js';
import { sha1Hex } from './sha1.js';

/** BGP options (encapsulation none or IPIP: calico_backend bird). */
export interface CalicoBgpOptions {
  /** Nodes that act as route reflectors: the full node-to-node mesh is then disabled. */
  readonly routeReflectors?: readonly string[];
  /** Every node also peers with its underlay router (ToR), which then learns the pod blocks. */
  readonly peerWithUnderlay?: boolean;
  /** The cluster's AS number (calico's default 64512). */
  readonly asNumber?: number;
}

/** Options of {@link calico}. */
export interface CalicoOptions {
  /** How pod traffic crosses nodes (the IP pool's ipipMode / vxlanMode). Default `ipip`, as calico.yaml. */
  readonly encapsulation?: 'none' | 'ipip' | 'vxlan';
  /** IPIP pool mode: `Always` (default) or `CrossSubnet` (plain routes to peers in the node's own subnet). */
  readonly ipipMode?: 'Always' | 'CrossSubnet';
  /** VXLAN pool mode: `Always` (default) or `CrossSubnet`. */
  readonly vxlanMode?: 'Always' | 'CrossSubnet';
  /** The pool's blockSize: 20 to 32 (default 26). */
  readonly blockSize?: number;
  /** IPAM strictAffinity (default false: a node borrows from other nodes' blocks when no block is free). */
  readonly strictAffinity?: boolean;
  /** The pool's natOutgoing (default true). */
  readonly natOutgoing?: boolean;
  readonly bgp?: CalicoBgpOptions;
}

/** calico's design state, cluster-wide: the IPAM pool and the BGP configuration (null with VXLAN). */
export interface CalicoClusterState {
  readonly ipam: CalicoIpamState;
  readonly bgp: { readonly asNumber: number; readonly routeReflectors: readonly string[]; readonly peerWithUnderlay: boolean } | null;
}

/** calico's design state for one node. */
export interface CalicoNodeState extends CalicoNodeIpam {
  /** Borrowed pod addresses on this node (each advertised as a /32). */
  readonly borrowed: readonly number[];
  /** tunl0's or vxlan.calico's address (calico-node's tunnel address), or null. */
  readonly tunnelIp: number | null;
}

/** The MAC the calico CNI plugin gives the host end of every pod veth. */
export const CALICO_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** The link-local next hop every pod's default route uses; nothing owns it: the host answers by proxy ARP. */
export const CALICO_GATEWAY = '169.254.1.1';
const VXLAN_DEV = 'vxlan.calico';
const IPIP_DEV = 'tunl0';
const VXLAN_VNI = 4096;
const VXLAN_PORT = 4789;
const FELIX_PROTO = '80';
const SET_PLAIN = 'calico';
const SET_IPIP = 'calico-ipip';
const SET_VXLAN = 'calico-vxlan';
const torSet = (segment: string) => `calico-tor-${segment}`;
/** bird.cfg's kernel protocol `scan time 2`: BIRD compares its routes with the kernel's every 2 s. */
const BIRD_SCAN_MS = 2_000;
/** felix's RouteRefreshInterval default (90 s): it programs its routes again that often. */
const FELIX_REFRESH_MS = 90_000;
/**
 * felix's tunnel device loop (int_dataplane.go: keepVXLANDeviceInSync(…, 10*time.Second, …), and IPIP's alike):
 * every 10 s it checks the device's configuration (route_mgr.go configureTunnelDevice).
 */
const DEVICE_SYNC_MS = 10_000;

/** The host-side veth name calico gives a pod: `cali` + the first 11 hex digits of sha1("<namespace>.<pod>"). */
export function calicoVethName(namespace: string, pod: string): string {
  return `cali${sha1Hex(`${namespace}.${pod}`).slice(0, 11)}`;
}

/** The MAC of a node's vxlan.calico (calico-node picks one at random and stores it on the Node; derived here). */
export function calicoVtepMac(node: string): string {
  return macFromSeed(`vxlan.calico|${node}`);
}

const EMPTY_NODE: CalicoNodeState = { blocks: [], borrowed: [], tunnelIp: null };

function bad(msg: string): never {
  return fail('INVALID_ARGUMENT', msg);
}

/** calico as a podnet design. Invalid options fail with `INVALID_ARGUMENT`. */
export function calico(options: CalicoOptions = {}): CniDesign {
  if (options === null || typeof options !== 'object') bad('calico options must be an object');
  const encapsulation = options.encapsulation ?? 'ipip';
  if (!['none', 'ipip', 'vxlan'].includes(encapsulation)) bad(`calico encapsulation "${String(encapsulation)}" is not one of none, ipip, vxlan`);
  const ipipMode = options.ipipMode ?? 'Always';
  const vxlanMode = options.vxlanMode ?? 'Always';
  if (ipipMode !== 'Always' && ipipMode !== 'CrossSubnet') bad(`ipipMode "${String(ipipMode)}" is not Always or CrossSubnet`);
  if (vxlanMode !== 'Always' && vxlanMode !== 'CrossSubnet') bad(`vxlanMode "${String(vxlanMode)}" is not Always or CrossSubnet`);
  if (options.ipipMode !== undefined && encapsulation !== 'ipip') bad('ipipMode needs encapsulation "ipip"');
  if (options.vxlanMode !== undefined && encapsulation !== 'vxlan') bad('vxlanMode needs encapsulation "vxlan"');
  const blockSize = options.blockSize ?? 26;
  if (!Number.isInteger(blockSize) || blockSize < 20 || blockSize > 32) bad(`IP pool blockSize ${String(blockSize)} must be between 20 and 32`);
  const strictAffinity = options.strictAffinity ?? false;
  const natOutgoing = options.natOutgoing ?? true;
  const bgp = options.bgp ?? {};
  if (encapsulation === 'vxlan' && options.bgp !== undefined) bad('bgp options need encapsulation none or ipip: with VXLAN calico runs without BGP (calico_backend: vxlan)');
  const reflectors = bgp.routeReflectors ?? [];
  if (!Array.isArray(reflectors) || reflectors.some((r) => typeof r !== 'string')) bad('bgp.routeReflectors must be a list of node names');
  const asNumber = bgp.asNumber ?? 64512;
  if (!Number.isInteger(asNumber) || asNumber < 1 || asNumber > 4294967295) bad(`AS number ${String(asNumber)} is out of range`);
  const tor = bgp.peerWithUnderlay ?? false;

  const birdProto = encapsulation === 'vxlan' ? FELIX_PROTO : 'bird';
  const overhead = encapsulation === 'ipip' ? 20 : encapsulation === 'vxlan' ? 50 : 0;
  const tunnelDev = encapsulation === 'ipip' ? IPIP_DEV : encapsulation === 'vxlan' ? VXLAN_DEV : null;
  const crossSubnet = (encapsulation === 'ipip' && ipipMode === 'CrossSubnet') || (encapsulation === 'vxlan' && vxlanMode === 'CrossSubnet');
  const tunnelSet = encapsulation === 'ipip' ? SET_IPIP : SET_VXLAN;

  const mtuOf = (state: ClusterState, node: Node): number => (state.underlay.segments[node.segment]?.mtu ?? 1500) - overhead;
  const hns = (node: string) => `node/${node}`;
  const nodeState = (node: Node): CalicoNodeState => (node.cni as CalicoNodeState | null) ?? EMPTY_NODE;

  /** The routes every other node installs for this node's blocks and borrowed addresses, for one set. */
  const entryRoutes = (ipam: CalicoIpamState, node: Node, st: CalicoNodeState, set: string): RouteSpec[] => {
    const dsts = [...st.blocks.map((i) => formatCidr(blockCidr(ipam, i))), ...st.borrowed.map((ip) => `${formatIpv4(ip)}/32`)];
    if (set === SET_VXLAN) return dsts.map((dst) => ({ dst, via: formatIpv4(st.tunnelIp!), onlink: true, proto: FELIX_PROTO }));
    if (set === SET_IPIP) return dsts.map((dst) => ({ dst, via: formatIpv4(node.ip), onlink: true, proto: 'bird' }));
    return dsts.map((dst) => ({ dst, via: formatIpv4(node.ip), proto: birdProto }));
  };

  /** The sets this design publishes each node in (the ToR set is per segment). */
  const setsOf = (node: Node): string[] => {
    const sets: string[] = [];
    if (encapsulation === 'none' || crossSubnet) sets.push(SET_PLAIN);
    if (tunnelDev !== null) sets.push(tunnelSet);
    if (tor && encapsulation !== 'vxlan') sets.push(torSet(node.segment));
    return sets;
  };

  const devOf = (set: string, node: Node): string => set === SET_IPIP ? IPIP_DEV : set === SET_VXLAN ? VXLAN_DEV : set === SET_PLAIN ? 'eth0' : node.segment;

  const publish = (ipam: CalicoIpamState, node: Node, st: CalicoNodeState): Action[] => setsOf(node).map((set) => {
    const vx = set === SET_VXLAN;
    const mac = calicoVtepMac(node.name);
    return {
      op: 'peerset.put', set, dev: devOf(set, node), owner: node.name, group: node.segment,
      routes: entryRoutes(ipam, node, st, set),
      neigh: vx ? [{ ip: formatIpv4(st.tunnelIp!), mac }] : [],
      fdb: vx ? [{ mac, dst: formatIpv4(node.ip) }] : [],
    } satisfies Action;
  });

  const blackhole = (ipam: CalicoIpamState, node: Node, index: number): Action =>
    ({ op: 'route.add', ns: hns(node.name), type: 'blackhole', dst: formatCidr(blockCidr(ipam, index)), proto: birdProto });

  /** Applies an assignment to the node's state; returns the actions a new block or a borrowed address needs. */
  const afterAssign = (a: CalicoAssignment, node: Node, st: CalicoNodeState, isPod: boolean): { st: CalicoNodeState; actions: Action[] } => {
    const next: CalicoNodeState = { ...st, blocks: a.node.blocks, borrowed: a.borrowed && isPod ? [...st.borrowed, a.ip] : st.borrowed };
    const actions: Action[] = [];
    if (a.claimed !== null) actions.push(blackhole(a.state, node, a.claimed));
    return { st: next, actions };
  };

  /** The tunnel device as calico-node makes it on a node whose tunnel address is `tunnelIp`: link, /32, up. */
  const tunnelDevice = (state: ClusterState, node: Node, tunnelIp: number): Action[] => {
    const h = hns(node.name);
    const mtu = mtuOf(state, node);
    const link: Action = tunnelDev === IPIP_DEV
      ? { op: 'link.add', ns: h, name: IPIP_DEV, kind: 'ipip', mtu, up: true }
      : {
        op: 'link.add', ns: h, name: VXLAN_DEV, kind: 'vxlan', mtu, mac: calicoVtepMac(node.name), up: true,
        vxlan: { vni: VXLAN_VNI, local: formatIpv4(node.ip), dstPort: VXLAN_PORT, dev: 'eth0', learning: false },
      };
    return [link, { op: 'addr.add', ns: h, dev: tunnelDev!, addr: `${formatIpv4(tunnelIp)}/32` }];
  };
  /** How a node uses the other nodes' entries of the tunnel set (all of them, or with CrossSubnet those of other subnets). */
  const tunnelAttach = (node: Node): Action => crossSubnet
    ? { op: 'peerset.attach', ns: hns(node.name), set: tunnelSet, self: node.name, group: node.segment, match: 'other' }
    : { op: 'peerset.attach', ns: hns(node.name), set: tunnelSet, self: node.name };
  /**
   * What makes felix delete vxlan.calico and make it again (route_mgr.go vxlanLinksIncompat, comparing the
   * device it wants with the one there): another kind, VNI, underlay device, local address, port or MAC (felix
   * sets each of them, the MAC from the Node's VTEP). The MTU and learning are not compared.
   */
  const vxlanIncompatible = (link: Link, node: Node): boolean => link.kind !== 'vxlan' || link.vni !== VXLAN_VNI || link.dev !== 'eth0'
    || link.local !== node.ip || link.dstPort !== VXLAN_PORT || link.mac !== calicoVtepMac(node.name);
  /**
   * felix's tunnel device loop, once (configureTunnelDevice): the device made when it is gone (LinkAdd) or,
   * with VXLAN, incompatible (deleted and made again), its MTU set, any other address deleted and its own
   * added, and set up. tunl0 is the ipip module's fallback device, which the kernel does not delete. A device
   * made again has none of the other nodes' entries: felix's route table and VXLAN FDB resync a device that
   * appears or comes up, so the node uses the tunnel set again, and what an add would take back is put back;
   * a route holding a tunnel route's place stays, as calico's loops here treat one, so its owner's route stays
   * hidden (whether felix's route table replaces such a route is not checked against its source).
   */
  const deviceSync = (state: ClusterState, node: Node, out: Action[]): void => {
    const st = nodeState(node);
    if (tunnelDev === null || st.tunnelIp === null) return;
    const h = hns(node.name);
    const host = node.host;
    const dev = host.links[tunnelDev];
    if (dev === undefined || (tunnelDev === VXLAN_DEV && vxlanIncompatible(dev, node))) {
      if (dev !== undefined) out.push({ op: 'link.del', ns: h, name: tunnelDev });
      out.push(...tunnelDevice(state, node, st.tunnelIp), tunnelAttach(node));
      // Routes on the device deleted go with it; what else holds a tunnel route's place keeps it.
      const inPlace = allRoutes(state, host).filter((r) => r.dev !== tunnelDev);
      const set = state.peerSets[tunnelSet];
      for (const e of set === undefined ? [] : shardValues(set.entries)) {
        if (e.owner === node.name || (crossSubnet && e.group === node.segment)) continue;
        const r = e.routes.find((x) => inPlace.some((y) => y.dst.addr === x.dst.addr && y.dst.len === x.dst.len && y.metric === x.metric));
        if (r !== undefined) out.push({ op: 'route.del', ns: h, dst: formatCidr(r.dst), dev: tunnelDev, metric: r.metric, ...(r.via !== null ? { via: formatIpv4(r.via) } : {}) });
      }
      return;
    }
    const mtu = mtuOf(state, node);
    if (dev.mtu !== mtu) out.push({ op: 'link.set', ns: h, name: tunnelDev, mtu });
    for (const a of dev.addrs) if (a.ip !== st.tunnelIp || a.len !== 32) out.push({ op: 'addr.del', ns: h, dev: tunnelDev, addr: `${formatIpv4(a.ip)}/${a.len}` });
    if (!dev.addrs.some((a) => a.ip === st.tunnelIp && a.len === 32)) out.push({ op: 'addr.add', ns: h, dev: tunnelDev, addr: `${formatIpv4(st.tunnelIp)}/32` });
    if (!dev.up) {
      out.push({ op: 'link.set', ns: h, name: tunnelDev, up: true });
      if (tunnelDev === VXLAN_DEV) for (const owner of restorablePeerOwners(state, host, tunnelSet)) out.push({ op: 'peerset.restore', ns: h, set: tunnelSet, owner });
    }
  };
  /**
   * calico-node's loops that are due: felix's device loop, BIRD's kernel scan (every 2 s) and felix's route
   * refresh (every 90 s), as {@link CniDesign.agentTick} describes them.
   */
  const loops = (state: ClusterState, node: Node, due: { readonly device: boolean; readonly bird: boolean; readonly felix: boolean }): DesignReaction => {
    const { bird, felix } = due;
    const actions: Action[] = [];
    if (due.device) deviceSync(state, node, actions);
    // A device made again in this run has the tunnel set attached afresh: nothing of it to restore.
    const remade = actions.some((a) => a.op === 'peerset.attach');
    if (!bird && !felix) return { actions };
    const host = node.host;
    const h = hns(node.name);
    const table = allRoutes(state, host);
    const taken = (dst: { readonly addr: number; readonly len: number }, metric = 0): boolean => table.some((x) => x.dst.addr === dst.addr && x.dst.len === dst.len && x.metric === metric);
    if (encapsulation === 'vxlan' ? felix : bird) {
      // The other nodes' entries this node lost, that an add would take back.
      for (const set of new Set([SET_PLAIN, tunnelSet])) {
        if (remade && set === tunnelSet) continue;
        for (const owner of restorablePeerOwners(state, host, set)) if (!actions.some((a) => a.op === 'peerset.restore' && a.set === set && a.owner === owner)) actions.push({ op: 'peerset.restore', ns: h, set, owner });
      }
      const ipam = calicoState(state).ipam;
      for (const b of nodeState(node).blocks) {
        const dst = blockCidr(ipam, b);
        if (!taken(dst)) actions.push(blackhole(ipam, node, b));
      }
    }
    if (felix) {
      for (const key in node.pods) {
        const pod = node.pods[key]!;
        if (pod.netns === null || pod.ip === null) continue;
        const veth = calicoVethName(pod.namespace, pod.name);
        if (host.links[veth] !== undefined && !taken({ addr: pod.ip, len: 32 })) actions.push({ op: 'route.add', ns: h, dst: `${formatIpv4(pod.ip)}/32`, dev: veth, scope: 'link' });
      }
    }
    return { actions };
  };

  return {
    name: `calico-${encapsulation}${crossSubnet ? '-crosssubnet' : ''}`,
    podMtu: 1500 - overhead,
    clusterCreated(state): DesignReaction {
      if (state.podCidr.len > blockSize) bad(`the IP pool ${formatCidr(state.podCidr)} is smaller than one /${blockSize} block`);
      const bgpState = encapsulation === 'vxlan' ? null : { asNumber, routeReflectors: [...reflectors], peerWithUnderlay: tor };
      return { actions: [], clusterState: { ipam: calicoIpam(state.podCidr, blockSize), bgp: bgpState } satisfies CalicoClusterState };
    },
    nodeAdded(state, node): DesignReaction {
      const cs = calicoState(state);
      let { ipam } = cs;
      const h = hns(node.name);
      const seg = state.underlay.segments[node.segment];
      if (!seg) return fail('SEGMENT_NOT_FOUND', `node ${node.name} is on segment "${node.segment}", which the cluster does not declare`);
      let st: CalicoNodeState = EMPTY_NODE;
      const actions: Action[] = [{ op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 }];
      if (tunnelDev !== null) {
        // calico-node allocates the tunnel device's address from the pool at start (handle
        // ipip-tunnel-addr-<node> / vxlan-tunnel-addr-<node>): the node claims its first block now.
        const a = autoAssign(ipam, st, node.name, strictAffinity);
        if ('error' in a) return fail('CNI_FAILED', `calico-node on ${node.name}: cannot allocate the ${tunnelDev} address: ${a.error}`);
        ipam = a.state;
        const done = afterAssign(a, node, st, false);
        st = { ...done.st, tunnelIp: a.ip };
        actions.push(...tunnelDevice(state, node, a.ip), ...done.actions);
      }
      actions.push(...publish(ipam, node, st));
      const gw = formatIpv4(seg.gateway);
      const group = node.segment;
      if (encapsulation === 'none') {
        actions.push(
          { op: 'peerset.attach', ns: h, set: SET_PLAIN, self: node.name, group, match: 'same' },
          { op: 'peerset.attach', ns: h, set: SET_PLAIN, self: node.name, group, match: 'other', via: gw },
        );
      } else if (crossSubnet) {
        actions.push({ op: 'peerset.attach', ns: h, set: SET_PLAIN, self: node.name, group, match: 'same' }, tunnelAttach(node));
      } else {
        actions.push(tunnelAttach(node));
      }
      if (tor && encapsulation !== 'vxlan') actions.push({ op: 'peerset.attach', ns: 'underlay', set: torSet(node.segment), self: '' });
      if (natOutgoing) {
        const pool = formatCidr(state.podCidr);
        actions.push(
          { op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: pool, dst: pool, target: 'ACCEPT', comment: 'cali-nat-outgoing: pool to pool is not masqueraded' } },
          { op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: pool, notDst: pool, target: 'MASQUERADE', comment: 'cali-nat-outgoing: pool to the outside' } },
        );
      }
      return { actions, clusterState: { ...cs, ipam } satisfies CalicoClusterState, nodeState: st };
    },
    nodeRemoved(state, node): DesignReaction {
      const cs = calicoState(state);
      let { ipam } = cs;
      const st = nodeState(node);
      if (st.tunnelIp !== null) ipam = releaseIp(ipam, st.tunnelIp).state;
      for (const ip of st.borrowed) ipam = releaseIp(ipam, ip).state;
      ipam = releaseHost(ipam, st);
      const actions: Action[] = setsOf(node).filter((s) => state.peerSets[s]).map((set) => ({ op: 'peerset.del', set, owner: node.name }));
      return { actions, clusterState: { ...cs, ipam } satisfies CalicoClusterState, nodeState: EMPTY_NODE };
    },
    agentTick(state, node, from, to): DesignReaction {
      // calico-node's loops, from its start (the node's join): felix checks its tunnel device every 10 s;
      // BIRD's kernel protocol scans the kernel table every 2 s (bird.cfg `scan time 2`) and installs again the
      // routes it exports that the kernel lost (another node's blocks, the node's own blackholes); felix
      // refreshes the routes it programs every RouteRefreshInterval (90 s): the workload routes, and with VXLAN
      // the other nodes' routes, neighbour and FDB entries and the blackholes. What holds a route's place (a
      // route of its prefix and metric) stays.
      const runs = (period: number, t: number): number => Math.floor((t - node.created) / period);
      const every = (period: number): boolean => runs(period, to) >= 1 && runs(period, to) !== runs(period, from);
      return loops(state, node, { device: every(DEVICE_SYNC_MS), bird: encapsulation !== 'vxlan' && every(BIRD_SCAN_MS), felix: every(FELIX_REFRESH_MS) });
    },
    agentRestarted(state, node): DesignReaction {
      // calico-node starting again (its pod deleted): felix configures its tunnel device and programs all its
      // routes at once, BIRD installs every route it exports: each loop's first run.
      return loops(state, node, { device: true, bird: encapsulation !== 'vxlan', felix: true });
    },
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const { node, pod } = req;
      const cs = calicoState(state);
      const { ipam } = cs;
      const st = nodeState(node);
      const got: CalicoAssignment | CalicoIpamError = req.requestedIp === null
        ? autoAssign(ipam, st, node.name, strictAffinity)
        : assignIp(ipam, st, node.name, req.requestedIp, strictAffinity);
      if ('error' in got) return { error: { cniVersion: '0.3.1', code: 999, msg: got.error } };
      const done = afterAssign(got, node, st, true);
      const h = hns(node.name);
      const p = `pod/${pod.key}`;
      const mtu = mtuOf(state, node);
      const veth = calicoVethName(pod.namespace, pod.name);
      const ip = formatIpv4(got.ip);
      const podMac = macFromSeed(`eth0|${pod.key}|${pod.uid}`);
      const actions: Action[] = [
        ...done.actions,
        { op: 'link.add', ns: h, name: veth, kind: 'veth', mtu, mac: CALICO_VETH_MAC, up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu, up: true } },
        { op: 'addr.add', ns: p, dev: req.ifname, addr: `${ip}/32` },
        { op: 'route.add', ns: p, dst: `${CALICO_GATEWAY}/32`, dev: req.ifname, scope: 'link' },
        { op: 'route.add', ns: p, dst: 'default', via: CALICO_GATEWAY, dev: req.ifname },
        { op: 'sysctl.set', ns: h, key: `net.ipv4.conf.${veth}.proxy_arp`, value: 1 },
        { op: 'route.add', ns: h, dst: `${ip}/32`, dev: veth, scope: 'link' },
      ];
      if (got.claimed !== null || got.borrowed) actions.push(...publish(got.state, node, done.st));
      const result: CniResult = {
        cniVersion: '0.3.1',
        interfaces: [{ name: req.ifname, mac: podMac, sandbox: req.netns }],
        ips: [{ address: `${ip}/32` }],
        routes: [],
        dns: {},
      };
      return { actions, result, clusterState: { ...cs, ipam: got.state } satisfies CalicoClusterState, nodeState: done.st };
    },
    podDeleted(state, pod: Pod, node: Node): DesignReaction {
      const veth = calicoVethName(pod.namespace, pod.name);
      const actions: Action[] = node.host.links[veth] ? [{ op: 'link.del', ns: hns(node.name), name: veth }] : [];
      if (pod.ip === null) return { actions };
      const cs = calicoState(state);
      const { ipam } = cs;
      const st = nodeState(node);
      const rel = releaseIp(ipam, pod.ip);
      let next = st;
      if (st.borrowed.includes(pod.ip)) {
        next = { ...st, borrowed: st.borrowed.filter((ip) => ip !== pod.ip) };
        actions.push(...publish(rel.state, node, next));
      }
      return { actions, clusterState: { ...cs, ipam: rel.state } satisfies CalicoClusterState, nodeState: next };
    },
    cniConfig(): Record<string, string> {
      return {
        '10-calico.conflist': JSON.stringify({
          name: 'k8s-pod-network', cniVersion: '0.3.1',
          plugins: [
            {
              type: 'calico', log_level: 'info', datastore_type: 'kubernetes', mtu: 1500 - overhead,
              ipam: { type: 'calico-ipam' }, policy: { type: 'k8s' }, kubernetes: { kubeconfig: '/etc/cni/net.d/calico-kubeconfig' },
            },
            { type: 'portmap', snat: true, capabilities: { portMappings: true } },
          ],
        }, null, 2) + '\n',
      };
    },
  };
}

/** One BGP session as `calicoctl node status` lists it. */
export interface CalicoBgpPeer {
  readonly address: string;
  /** The peer's node name, or `underlay` for the ToR router. */
  readonly node: string;
  /** `node-to-node mesh`; `global` for a BGPPeer selecting the route reflectors; `node specific` for the ToR. */
  readonly type: 'node-to-node mesh' | 'global' | 'node specific';
  readonly state: 'up';
  readonly info: 'Established';
}

function calicoState(state: ClusterState): CalicoClusterState {
  const c = state.cni as CalicoClusterState | null;
  if (!c || typeof c !== 'object' || !('ipam' in c)) return fail('INVALID_ARGUMENT', 'the cluster does not run the calico design');
  return c;
}

/**
 * The BGP sessions of a node, as BIRD's protocols list them: with the full mesh, one per other node;
 * with route reflectors, a client peers with every reflector and a reflector with every other node; with
 * ToR peering, one more to the segment's router. Derived from the design state and the node list when
 * asked (O(nodes)), never stored per pair. Empty with VXLAN (no BGP).
 */
export function calicoBgpPeers(state: ClusterState, nodeName: string): CalicoBgpPeer[] {
  const { bgp } = calicoState(state);
  const self = shardGet(state.nodes, nodeName);
  if (!self) return fail('NODE_NOT_FOUND', `node "${nodeName}" not found`);
  if (bgp === null) return [];
  const rr = bgp.routeReflectors;
  const nodes = [...shardValues(state.nodes)].filter((n) => n.name !== nodeName).sort((a, b) => a.ip - b.ip);
  const peers: CalicoBgpPeer[] = [];
  for (const n of nodes) {
    const type = rr.length === 0 ? 'node-to-node mesh' : rr.includes(nodeName) || rr.includes(n.name) ? 'global' : null;
    if (type !== null) peers.push({ address: formatIpv4(n.ip), node: n.name, type, state: 'up', info: 'Established' });
  }
  if (bgp.peerWithUnderlay) {
    const seg = state.underlay.segments[self.segment]!;
    peers.push({ address: formatIpv4(seg.gateway), node: 'underlay', type: 'node specific', state: 'up', info: 'Established' });
  }
  return peers;
}

/** `calicoctl node status` on a node, laid out as the tool prints it (SINCE is not modelled: 00:00:00). */
export function calicoNodeStatus(state: ClusterState, nodeName: string): string {
  const peers = calicoBgpPeers(state, nodeName);
  const rows = peers.map((p) => [p.address, p.type, p.state, '00:00:00', p.info]);
  const head = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = `+${w.map((n) => '-'.repeat(n + 2)).join('+')}+`;
  const fmt = (r: readonly string[]) => `|${r.map((c, i) => ` ${c.padEnd(w[i]!)} `).join('|')}|`;
  const v4 = peers.length === 0 ? ['No IPv4 peers found.'] : [line, fmt(head), line, ...rows.map(fmt), line];
  return ['Calico process is running.', '', 'IPv4 BGP status', ...v4, '', 'IPv6 BGP status', 'No IPv6 peers found.', ''].join('\n');
}

/** One IPAM block, as `calicoctl ipam show --show-blocks` lists it. */
export interface CalicoBlockInfo {
  readonly cidr: string;
  /** The node it is affine to, or null (a block whose node is gone, kept while addresses are in use). */
  readonly affinity: string | null;
  readonly inUse: number;
  readonly size: number;
}

/** Every IPAM block that exists, in pool order. */
export function calicoBlocks(state: ClusterState): CalicoBlockInfo[] {
  const { ipam } = calicoState(state);
  const size = 2 ** (32 - ipam.blockSize);
  return [...allBlocks(ipam)].map((b) => ({ cidr: formatCidr(blockCidr(ipam, b.index)), affinity: b.affinity, inUse: size - b.unallocated.length, size }));
}
