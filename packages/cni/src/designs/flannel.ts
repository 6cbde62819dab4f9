/**
 * flannel, wired as flanneld and the flannel CNI plugin (delegating to the bridge plugin with host-local
 * IPAM) wire a node. Two backends:
 *
 * VXLAN (flannel pkg/backend/vxlan):
 *   flanneld at start:   ip link add flannel.1 type vxlan id 1 local <node ip> dev eth0 dstport 8472 nolearning
 *                        ip link set flannel.1 mtu 1450 up; ip addr add <subnet>.0/32 dev flannel.1
 *   for every other node: ip route add <subnet> via <subnet>.0 dev flannel.1 onlink
 *                        ip neigh add <subnet>.0 lladdr <its vtep mac> dev flannel.1 nud permanent
 *                        bridge fdb append <its vtep mac> dev flannel.1 dst <its node ip> self permanent
 *
 * host-gw (flannel pkg/backend/hostgw + pkg/backend/route_network.go):
 *   for every other node: ip route add <subnet> via <its node ip> dev eth0   (netlink.RouteAdd, proto boot)
 *   The kernel refuses that route when the other node is not on a connected subnet of eth0 (another L2
 *   segment): ENETUNREACH, `Error: Nexthop has invalid gateway.` in iproute2's words. flanneld logs
 *   `Error adding route to {…}: network is unreachable` and retries every 10 s; the node has no route to
 *   that subnet, so its pods cannot reach the other node's pods (see {@link flanneldLog}).
 *
 * Both:
 *   iptables (--ip-masq), flanneld's own chain FLANNEL-POSTRTG in nat, jumped to from POSTROUTING:
 *                        RETURN for kube-proxy's mark 0x4000/0x4000, <subnet> → pod CIDR, pod CIDR → <subnet>
 *                        and ! pod CIDR → <subnet>; MASQUERADE pod CIDR → ! 224.0.0.0/4 and ! pod CIDR →
 *                        pod CIDR (without --random-fully: podnet keeps a masqueraded flow's ports)
 *   iptables (--iptables-forward-rules, default on): FLANNEL-FWD in filter, jumped to from FORWARD, ACCEPTs
 *                        from and to the pod CIDR
 *   CNI ADD (bridge):    cni0 with <subnet>.1/24 (created on the first pod), a veth per pod
 *                        (pod side eth0, MTU = flannel's MTU: underlay − 50 for VXLAN, underlay for host-gw),
 *                        default route and the cluster pod CIDR via <subnet>.1
 *
 * The per-node entries every other node installs are one entry of a shared peer set: every node renders
 * all entries but its own, so the cluster stores N entries, not N × (N − 1).
 *
 * The two halves are separate, as they are on a node: {@link flannelAgent} is flanneld (the backend's
 * devices and routes, the masquerade rules, /run/flannel/subnet.env); the pods are wired by kube-flannel's
 * 10-flannel.conflist run through the CNI plugins (../contract), so `flannel()` is
 * `fromConflist(FLANNEL_CONFLIST, { agent: flannelAgent() })`.
 */
import {
  fail, shown, findNode, formatCidr, formatIpv4, kernelRoutes, macFromSeed, ownChains, refusedPeerRoutes, restorablePeerOwners, ruleKey, ruleSpecKey, shardGet, shardValues, type Action,
  type Cidr, type ClusterState, type CniDesign, type DesignReaction, type Link, type NetNs, type NfRule, type Node, type RuleSpec,
  YoungWeakMap,
} from '@podnet/core';
import { fromConflist, type NodeAgent } from '../contract/conflist-design.js';
import { SUBNET_ENV } from '../contract/plugins.js';

/** Options of {@link flannel}. */
export interface FlannelOptions {
  /** `vxlan` (default) or `host-gw` (net-conf.json `Backend.Type`). */
  readonly backend?: 'vxlan' | 'host-gw';
  /** VXLAN VNI (flannel's default 1). */
  readonly vni?: number;
  /** VXLAN UDP port (flannel's default on Linux: the kernel's 8472). */
  readonly port?: number;
  /** flanneld --ip-masq (kube-flannel.yml sets it): masquerade pod traffic leaving the pod CIDR. */
  readonly ipMasq?: boolean;
  /**
   * flanneld --iptables-forward-rules (default true): the FLANNEL-FWD chain, which ACCEPTs forwarded
   * traffic from and to the pod CIDR before any rule appended to FORWARD after it.
   */
  readonly iptablesForwardRules?: boolean;
  /**
   * flanneld --iptables-resync (seconds, default 5): how often flanneld checks that its iptables rules are all
   * there; when one is missing it deletes the rest of that set and appends them all again, in order, at the end
   * of their chains (pkg/trafficmngr/iptables ensureIPTables). Runs as the simulated clock advances.
   */
  readonly iptablesResync?: number;
}

/**
 * One realistic mistake built into an otherwise working flannel (for `broken`): never part of the
 * public options.
 * @internal
 */
export interface FlannelMistake {
  readonly name: string;
  /** Masquerade everything the pods send, pod-to-pod included (no pod-CIDR RETURN). */
  readonly masqueradeAll?: boolean;
  /** Every node's lease (subnet.env FLANNEL_SUBNET, hence host-local's subnet) is this one subnet. */
  readonly ipamSubnet?: (state: ClusterState) => Cidr;
  /** flanneld never installs the other nodes' routes. */
  readonly noPeerRoutes?: boolean;
  /** FLANNEL_MTU (pods and cni0) is the underlay's MTU: the backend's overhead is forgotten. */
  readonly overheadForgotten?: boolean;
}

const VXLAN_OVERHEAD = 50;
/** flannel's route_network.go routeCheckRetries: host-gw checks its routes every 10 s. */
const ROUTE_CHECK_MS = 10_000;
/** The keys of a namespace's rules (ruleKey), by its rule list: a list is shared by every state it is in. */
const presentMemo = new YoungWeakMap<readonly NfRule[], ReadonlySet<string>>();
function presentRules(rules: readonly NfRule[]): ReadonlySet<string> {
  let k = presentMemo.get(rules);
  if (k === undefined) presentMemo.set(rules, (k = new Set(rules.map(ruleKey))));
  return k;
}
/** ruleSpecKey of flanneld's own specs, which live as long as their steps' memo. */
const specKeys = new YoungWeakMap<RuleSpec, string>();
function specKey(spec: RuleSpec): string {
  let k = specKeys.get(spec);
  if (k === undefined) specKeys.set(spec, (k = ruleSpecKey(spec)));
  return k;
}

/** A loop that found everything in place. */
const NO_ACTIONS: DesignReaction = Object.freeze({ actions: Object.freeze([]) as readonly Action[] });
/** flanneld's chain for its masquerade rules (nat) and for its forward rules (filter). */
const MASQ_CHAIN = 'FLANNEL-POSTRTG';
const FWD_CHAIN = 'FLANNEL-FWD';
/**
 * A rule spec with every field of RuleSpec, in one order (those not given undefined): core's resolveRule reads
 * each field of each spec, and flanneld's specs in eight shapes made those reads megamorphic. Positional, so
 * that no object of another shape is read to make it.
 */
function rs(table: 'nat' | 'filter', chain: string, target: RuleSpec['target'], comment: string, src?: string, dst?: string, notSrc?: string, notDst?: string, mark?: string, jump?: string): RuleSpec {
  // Frozen: each lease's specs are kept and handed to every join (core checks a frozen spec's shape once).
  return Object.freeze({ table, chain, src, notSrc, dst, notDst, inIf: undefined, outIf: undefined, protocol: undefined, dport: undefined, mark, target, jump, to: undefined, comment }) as unknown as RuleSpec;
}

/** One step of flanneld's iptables setup: a chain it makes, or a rule it appends. */
interface IptablesStep {
  readonly chain?: { readonly table: 'nat' | 'filter'; readonly chain: string };
  readonly rule?: RuleSpec;
}
/** Lease addresses {@link flannelAgent} keeps the written subnet.env of. */
const LEASE_LIMIT = 20_000;

/** A subnet.env flanneld wrote for a lease (its address is the key), with the other numbers it was written from. */
interface Lease {
  readonly net: number;
  readonly netLen: number;
  readonly len: number;
  readonly mtu: number;
  readonly files: Readonly<Record<string, string>>;
}
const PEERSET = 'flannel';
const DEV = 'flannel.1';

/** What kube-flannel.yml writes to /etc/cni/net.d/10-flannel.conflist (ConfigMap kube-flannel-cfg, cni-conf.json): the same for both backends. */
export const FLANNEL_CONFLIST = `${JSON.stringify({
  name: 'cbr0', cniVersion: '0.3.1',
  plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }],
}, null, 2)}\n`;

/** The VTEP MAC flanneld gives flannel.1 on a node (random in reality, fixed per node here). */
export function vtepMac(node: string): string {
  return macFromSeed(`flannel.1|${node}`);
}

function backendOf(options: FlannelOptions): 'vxlan' | 'host-gw' {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'flannel options must be an object');
  const backend = options.backend ?? 'vxlan';
  if (backend !== 'vxlan' && backend !== 'host-gw') fail('INVALID_ARGUMENT', `flannel backend "${shown(backend)}" is not modelled (vxlan and host-gw are)`);
  return backend;
}

/** flanneld (VXLAN or host-gw backend) on every node: what connects the nodes, without the pods. */
export function flannelAgent(options: FlannelOptions = {}, mistake: FlannelMistake | null = null): NodeAgent {
  const backend = backendOf(options);
  const vni = options.vni ?? 1;
  const port = options.port ?? 8472;
  const ipMasq = options.ipMasq ?? true;
  for (const k of ['ipMasq', 'iptablesForwardRules'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'boolean') fail('INVALID_ARGUMENT', `flannel ${k} must be true or false, not ${shown(options[k])}`);
  }
  const overhead = backend === 'vxlan' ? VXLAN_OVERHEAD : 0;
  // flanneld writes FLANNEL_MTU = the external interface's MTU minus the backend's overhead into
  // subnet.env; the CNI plugin passes it to the bridge plugin as `mtu`.
  const backendMtu = (state: ClusterState, node: Node): number => (state.underlay.segments[node.segment]?.mtu ?? 1500) - overhead;
  const podMtu = (state: ClusterState, node: Node): number => backendMtu(state, node) + (mistake?.overheadForgotten ? overhead : 0);
  const ns = (node: string) => `node/${node}`;
  const forwardRules = options.iptablesForwardRules ?? true;
  const resync = options.iptablesResync ?? 5;
  if (!Number.isInteger(resync) || resync < 1) fail('INVALID_ARGUMENT', `flannel iptablesResync must be a whole number of seconds, 1 or more, not ${shown(resync)}`);
  const resyncMs = resync * 1000;
  /**
   * flanneld's iptables rules for a node whose lease is `subnet` in the cluster's `cluster` (its
   * trafficmngr/iptables masqRules and forwardRules, in their order), with the chains they need first.
   */
  const iptablesOnce = (cluster: string, subnet: string): readonly IptablesStep[] => {
    if (mistake?.masqueradeAll) return [{ rule: rs('nat', 'POSTROUTING', 'MASQUERADE', 'masquerade pods (no pod-CIDR RETURN)', cluster, undefined, undefined, '224.0.0.0/4') }];
    const out: IptablesStep[] = [];
    if (ipMasq) {
      const c = 'flanneld masq';
      out.push(
        { chain: { table: 'nat', chain: MASQ_CHAIN } },
        { rule: rs('nat', 'POSTROUTING', 'JUMP', c, undefined, undefined, undefined, undefined, undefined, MASQ_CHAIN) },
        // Not what kube-proxy marked for its own masquerade (no double NAT).
        { rule: rs('nat', MASQ_CHAIN, 'RETURN', c, undefined, undefined, undefined, undefined, '0x4000/0x4000') },
        // Nothing within the overlay is masqueraded.
        { rule: rs('nat', MASQ_CHAIN, 'RETURN', c, subnet, cluster) },
        { rule: rs('nat', MASQ_CHAIN, 'RETURN', c, cluster, subnet) },
        // Nor traffic from outside to this node's pods.
        { rule: rs('nat', MASQ_CHAIN, 'RETURN', c, undefined, subnet, cluster) },
        // Pods to anywhere but multicast, and anything else headed for the overlay.
        { rule: rs('nat', MASQ_CHAIN, 'MASQUERADE', c, cluster, undefined, undefined, '224.0.0.0/4') },
        { rule: rs('nat', MASQ_CHAIN, 'MASQUERADE', c, undefined, cluster, cluster) },
      );
    }
    if (forwardRules) {
      const c = 'flanneld forward';
      out.push(
        { chain: { table: 'filter', chain: FWD_CHAIN } },
        { rule: rs('filter', 'FORWARD', 'JUMP', c, undefined, undefined, undefined, undefined, undefined, FWD_CHAIN) },
        { rule: rs('filter', FWD_CHAIN, 'ACCEPT', c, cluster) },
        { rule: rs('filter', FWD_CHAIN, 'ACCEPT', c, undefined, cluster) },
      );
    }
    return out;
  };
  /**
   * The iptables steps by cluster CIDR and lease (each node's rule objects and CIDR text were ~1.2 % of the
   * bytes an at-end run allocated when the rules were one list for every node). Cleared when it holds
   * {@link LEASE_LIMIT}.
   */
  const iptablesMemo = new Map<string, readonly IptablesStep[]>();
  const iptablesSteps = (net: Cidr, subnet: Cidr): readonly IptablesStep[] => {
    const key = `${net.addr}/${net.len} ${subnet.addr}/${subnet.len}`;
    let steps = iptablesMemo.get(key);
    if (steps === undefined) {
      if (iptablesMemo.size >= LEASE_LIMIT) iptablesMemo.clear();
      iptablesMemo.set(key, (steps = iptablesOnce(formatCidr(net), formatCidr(subnet))));
    }
    return steps;
  };
  const iptables = (h: string, net: Cidr, subnet: Cidr): Action[] =>
    iptablesSteps(net, subnet).map((s): Action => (s.chain !== undefined ? { op: 'chain.new', ns: h, table: s.chain.table, chain: s.chain.chain } : { op: 'rule.append', ns: h, rule: s.rule! }));
  /**
   * flanneld's iptables bootstrap of a set of its rules (ipTablesCleanAndBuild): rule by rule, the chain made if
   * it is gone, the rule deleted if it is there, and appended again.
   */
  const bootstrap = (host: NetNs, h: string, set: readonly IptablesStep[], out: Action[]): void => {
    const present = presentRules(host.rules);
    for (const s of set) {
      if (s.chain !== undefined) {
        if (!ownChains(host, s.chain.table).includes(s.chain.chain)) out.push({ op: 'chain.new', ns: h, table: s.chain.table, chain: s.chain.chain });
        continue;
      }
      if (present.has(specKey(s.rule!))) out.push({ op: 'rule.del', ns: h, rule: s.rule! });
      out.push({ op: 'rule.append', ns: h, rule: s.rule! });
    }
  };
  /** flanneld's ensure loop on one set of its rules (ensureIPTables): nothing when the set is all there, else its bootstrap. */
  const ensure = (host: NetNs, h: string, set: readonly IptablesStep[], out: Action[]): void => {
    const present = presentRules(host.rules);
    if (set.every((s) => (s.chain !== undefined ? ownChains(host, s.chain.table).includes(s.chain.chain) : present.has(specKey(s.rule!))))) return;
    bootstrap(host, h, set, out);
  };
  /**
   * The subnet.env written per lease, by the lease's address, with the numbers it was written from. Keyed by
   * numbers, not by the node's podCIDR object: the clusters of a property run are new objects, their leases
   * the same few numbers, and the same numbers give the same record and text in this cluster and the next.
   * The plugin's memo, by the record, then finds what it read of it and the delegate it made, instead of
   * parsing the text and building the delegate again (steady-state at-end property runs: parseSubnetEnv,
   * flannelDelegate and this were ~1.7 % of a run, mostly those misses). Cleared when it holds
   * {@link LEASE_LIMIT} addresses.
   */
  const leases = new Map<number, Lease[]>();
  /**
   * flannel.1 as flanneld makes it at start (newVXLANDevice: LinkAdd with the VNI, the port, the node's address
   * and eth0 as local end, learning off, MTU = the underlay's less 50; then vxlanDevice.Configure: its lease's
   * first address as a /32, and up). The MAC is the node's fixed {@link vtepMac}: flanneld makes a random one
   * each time unless --persistent-mac, and then publishes it in its lease for the other nodes to use.
   */
  const vtepDevice = (state: ClusterState, node: Node): Action[] => {
    const h = ns(node.name);
    return [
      { op: 'link.add', ns: h, name: DEV, kind: 'vxlan', mac: vtepMac(node.name), mtu: backendMtu(state, node), vxlan: { vni, local: formatIpv4(node.ip), dstPort: port, dev: 'eth0', learning: false } },
      { op: 'addr.add', ns: h, dev: DEV, addr: `${formatIpv4(node.podCidr!.addr)}/32` },
      { op: 'link.set', ns: h, name: DEV, up: true },
    ];
  };
  /**
   * A node's lease as the other nodes' flanneld use it (VXLAN): the route to its subnet through its VTEP address
   * (the subnet's first), the VTEP's ARP entry with flannel.1's MAC, the FDB entry sending that MAC to the node.
   */
  const vxlanLease = (node: Node, mac: string): Action => {
    const vtep = formatIpv4(node.podCidr!.addr);
    return {
      op: 'peerset.put', set: PEERSET, dev: DEV, owner: node.name,
      routes: [{ dst: formatCidr(node.podCidr!), via: vtep, onlink: true }],
      neigh: [{ ip: vtep, mac }],
      fdb: [{ mac, dst: formatIpv4(node.ip) }],
    };
  };
  /**
   * What makes flanneld's ensureLink delete a device named flannel.1 that is there and make it again
   * (vxlanLinksIncompat), or null when it keeps it: another kind, VNI, underlay device or local address, and
   * the port only when net-conf.json gives one (Port 0, the default, is compared with nothing). The MTU, the
   * MAC and learning are not compared: a device that differs only in those is kept as it is.
   */
  const incompatible = (link: Link, node: Node): string | null => {
    if (link.kind !== 'vxlan') return `link type: vxlan vs ${link.kind}`;
    if (link.vni !== vni) return `vni: ${vni} vs ${link.vni}`;
    if (link.dev !== 'eth0') return `vtep (external) interface: eth0 vs ${link.dev}`;
    if (link.local !== node.ip) return `vtep (external) IP: ${formatIpv4(node.ip)} vs ${formatIpv4(link.local)}`;
    if (options.port !== undefined && link.dstPort !== port) return `port: ${port} vs ${link.dstPort}`;
    return null;
  };
  /**
   * After flanneld made flannel.1 again (or found one someone made again by hand), handleSubnetEvents for every
   * other lease: AddARP, AddFDB, RouteReplace. The device's deletion took the namespace's use of the peer set
   * along (with every route, neighbour and FDB entry on it), so the node uses the set again; a route holding a
   * lease route's place (its prefix and metric) is replaced, as RouteReplace replaces it, an address's prefix
   * route too (the address stays). Measured (kernel 6.18, `pnf32-…` namespaces): with `10.244.2.0/24 via
   * 192.168.1.12 dev eth0`, or with 10.244.3.200/24 on eth0, `ip route replace 10.244.x.0/24 via 10.244.x.0 dev
   * flannel.1 onlink` leaves only the onlink route of that prefix (`ip route add` of it: File exists).
   */
  const useLeasesAgain = (state: ClusterState, node: Node, devGoes: boolean, out: Action[]): void => {
    const set = state.peerSets[PEERSET];
    if (set === undefined) return;
    const h = ns(node.name);
    const host = node.host;
    // Routes on a flannel.1 deleted first (devGoes) go with it.
    const inPlace = [...host.routes, ...kernelRoutes(host)].filter((r) => !devGoes || r.dev !== DEV);
    for (const e of shardValues(set.entries)) {
      if (e.owner === node.name) continue;
      for (const r of e.routes) {
        for (const x of inPlace) {
          if (x.dst.addr !== r.dst.addr || x.dst.len !== r.dst.len || x.metric !== r.metric) continue;
          out.push({ op: 'route.del', ns: h, dst: formatCidr(x.dst), metric: x.metric, ...(x.via !== null ? { via: formatIpv4(x.via) } : {}), ...(x.dev !== null ? { dev: x.dev } : {}) });
        }
      }
    }
    out.push({ op: 'peerset.attach', ns: h, set: PEERSET, self: node.name });
  };
  return {
    name: 'flanneld',
    podMtu: 1500 - (mistake?.overheadForgotten ? 0 : overhead),
    nodeAdded(state, node): DesignReaction {
      const subnet = node.podCidr!;
      const h = ns(node.name);
      const actions: Action[] = [{ op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 }];
      if (backend === 'vxlan') {
        const mac = vtepMac(node.name);
        actions.push(...vtepDevice(state, node));
        if (!mistake?.noPeerRoutes) actions.push(vxlanLease(node, mac), { op: 'peerset.attach', ns: h, set: PEERSET, self: node.name });
      } else if (!mistake?.noPeerRoutes) {
        // host-gw: GetRoute(lease) = { Dst: lease.Subnet, Gw: lease.PublicIP, LinkIndex: extIface }.
        actions.push(
          { op: 'peerset.put', set: PEERSET, dev: 'eth0', owner: node.name, routes: [{ dst: formatCidr(subnet), via: formatIpv4(node.ip) }], neigh: [], fdb: [] },
          { op: 'peerset.attach', ns: h, set: PEERSET, self: node.name },
        );
      }
      // flanneld's masquerade rules name its lease (FLANNEL_SUBNET), as subnet.env does (files(), below).
      actions.push(...iptables(h, state.podCidr, mistake?.ipamSubnet?.(state) ?? subnet));
      return { actions };
    },
    nodeRemoved(state, node): DesignReaction {
      return { actions: state.peerSets[PEERSET] && !mistake?.noPeerRoutes ? [{ op: 'peerset.del', set: PEERSET, owner: node.name }] : [] };
    },
    restarted(state, node): DesignReaction {
      // flanneld at start: flannel.1 is made again when it is gone or incompatible (ensureLink), gets its address
      // and is set up (vxlanDevice.Configure), every other lease's entries are set again as handleSubnetEvents
      // sets them for the leases it lists (AddARP, AddFDB and RouteReplace; host-gw's routeAdd replaces a route
      // of another gateway), and its iptables rules are bootstrapped: each one there deleted, then all appended
      // (ipTablesBootstrap), whatever was missing.
      const h = ns(node.name);
      const host = node.host;
      const out: Action[] = [];
      // Whether the node no longer uses the leases (its flannel.1 was deleted, or is deleted now): all set again.
      let unused = false;
      if (backend === 'vxlan') {
        // ensureLink: LinkAdd; on EEXIST the device there is kept, unless it is incompatible: deleted, added again.
        const dev = host.links[DEV];
        const make = dev === undefined || incompatible(dev, node) !== null;
        if (make) {
          if (dev !== undefined) out.push({ op: 'link.del', ns: h, name: DEV });
          out.push(...vtepDevice(state, node));
        } else {
          const vtep = node.podCidr!.addr;
          if (!dev.addrs.some((x) => x.ip === vtep)) out.push({ op: 'addr.add', ns: h, dev: DEV, addr: `${formatIpv4(vtep)}/32` });
          if (!dev.up) out.push({ op: 'link.set', ns: h, name: DEV, up: true });
        }
        // flanneld publishes the MAC of the device it made or kept in its lease (newSubnetAttrs: dev.MACAddr()), and
        // the other nodes set their ARP and FDB entries for it again.
        const mac = make ? vtepMac(node.name) : dev.mac;
        const lease = state.peerSets[PEERSET] === undefined ? undefined : shardGet(state.peerSets[PEERSET].entries, node.name);
        if (lease !== undefined && lease.neigh[0]?.mac !== mac) out.push(vxlanLease(node, mac));
        // A flannel.1 made again by hand after a deletion is kept, and has none of the leases' entries either.
        unused = make || !host.peerSets.some((r) => r.set === PEERSET);
        if (unused && !mistake?.noPeerRoutes) useLeasesAgain(state, node, make, out);
      }
      if (!unused && !mistake?.noPeerRoutes) {
        // RouteReplace: a route put in a lease route's place by hand gives way; a gateway off the link does not.
        for (const owner of restorablePeerOwners(state, host, PEERSET, true)) out.push({ op: 'peerset.restore', ns: h, set: PEERSET, owner, replace: true });
      }
      bootstrap(host, h, iptablesSteps(state.podCidr, mistake?.ipamSubnet?.(state) ?? node.podCidr!), out);
      return { actions: out };
    },
    tick(state, node, from, to): DesignReaction {
      // The loop's timer starts with flanneld (the node's join): it runs at created + k × the resync period.
      const runs = (t: number): number => Math.floor((t - node.created) / resyncMs);
      const out: Action[] = [];
      // host-gw's route check (pkg/backend/route_network.go routeCheck, every routeCheckRetries = 10 s): each
      // other lease's route that is gone is added again, unless a route of its prefix and metric is in its
      // place (RouteAdd: File exists) or its gateway is no longer on the link (network is unreachable).
      const checks = (t: number): number => Math.floor((t - node.created) / ROUTE_CHECK_MS);
      if (backend === 'host-gw' && !mistake?.noPeerRoutes && checks(to) >= 1 && checks(to) !== checks(from)) {
        for (const owner of restorablePeerOwners(state, node.host, PEERSET)) out.push({ op: 'peerset.restore', ns: ns(node.name), set: PEERSET, owner });
      }
      if (runs(to) < 1 || runs(to) === runs(from)) return out.length === 0 ? NO_ACTIONS : { actions: out };
      const all = iptablesSteps(state.podCidr, mistake?.ipamSubnet?.(state) ?? node.podCidr!);
      // The masquerade set and the forward set are two loops (SetupAndEnsureMasqRules, SetupAndEnsureForwardRules).
      const split = all.findIndex((s, i) => i > 0 && s.chain !== undefined);
      for (const set of split < 0 ? [all] : [all.slice(0, split), all.slice(split)]) if (set.length > 0) ensure(node.host, ns(node.name), set, out);
      return out.length === 0 ? NO_ACTIONS : { actions: out };
    },
    files(state, node): Readonly<Record<string, string>> {
      // flanneld writes the node's lease: the subnet with its first address, the MTU pods get.
      const subnet = mistake?.ipamSubnet?.(state) ?? node.podCidr!;
      const mtu = podMtu(state, node);
      // Every CNI ADD on the node reads the file: the same numbers give the same record (which the plugin's
      // memo then finds without reading it again).
      const net = state.podCidr;
      let written = leases.get(subnet.addr);
      if (written !== undefined) {
        for (let i = 0; i < written.length; i++) {
          const l = written[i]!;
          if (l.net === net.addr && l.netLen === net.len && l.len === subnet.len && l.mtu === mtu) return l.files;
        }
      } else {
        if (leases.size >= LEASE_LIMIT) leases.clear();
        leases.set(subnet.addr, (written = []));
      }
      const files = Object.freeze({
        [SUBNET_ENV]: `FLANNEL_NETWORK=${formatCidr(net)}\nFLANNEL_SUBNET=${formatIpv4((subnet.addr + 1) >>> 0)}/${subnet.len}\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=${ipMasq}\n`,
      });
      if (written.length >= 8) written.length = 0;
      written.push({ net: net.addr, netLen: net.len, len: subnet.len, mtu, files });
      return files;
    },
  };
}

/** flannel (VXLAN or host-gw backend) as a podnet design: flanneld plus kube-flannel's conflist. */
export function flannel(options: FlannelOptions = {}): CniDesign {
  return flannelWith(options, null);
}

/** {@link flannel} with one mistake built in (see `broken`). @internal */
export function flannelWith(options: FlannelOptions, mistake: FlannelMistake | null): CniDesign {
  const agent = flannelAgent(options, mistake);
  return fromConflist(FLANNEL_CONFLIST, { agent, name: mistake?.name ?? `flannel-${backendOf(options)}`, fileName: '10-flannel.conflist' });
}

/**
 * flanneld's network configuration as kube-flannel.yml ships it (ConfigMap `kube-flannel-cfg`, key
 * `net-conf.json`, mounted at /etc/kube-flannel/net-conf.json): the cluster pod CIDR and the backend.
 */
export function flannelNetConf(state: ClusterState, options: FlannelOptions = {}): string {
  const backend = options.backend ?? 'vxlan';
  if (backend !== 'vxlan' && backend !== 'host-gw') fail('INVALID_ARGUMENT', `flannel backend "${shown(backend)}" is not modelled (vxlan and host-gw are)`);
  return JSON.stringify({ Network: formatCidr(state.podCidr), EnableNFTables: false, Backend: { Type: backend } }, null, 2) + '\n';
}

/**
 * What flanneld's host-gw backend logs on a node about the other nodes' leases (pkg/backend/route_network.go
 * handleSubnetEvents and routeAdd), without klog's header: `Subnet added: <subnet> via <public ip>` for
 * each, and for each route the kernel refused `Error adding route to {<netlink.Route>}: network is
 * unreachable` — the Go text of ENETUNREACH, since flanneld's netlink library does not ask for the kernel's
 * extended ack (`ip route add` would print `Error: Nexthop has invalid gateway.`). Leases in subnet order.
 */
export function flanneldLog(state: ClusterState, nodeName: string): string[] {
  const node = findNode(state, nodeName);
  if (!node) return fail('NODE_NOT_FOUND', `node "${shown(nodeName)}" does not exist`, { node: nodeName });
  const ref = node.host.peerSets.find((r) => r.set === PEERSET);
  const set = state.peerSets[PEERSET];
  if (!ref || !set || set.dev !== 'eth0') {
    return fail('UNSUPPORTED', `node ${nodeName} does not run flannel's host-gw backend (no "${PEERSET}" routes on eth0)`, { node: nodeName });
  }
  const refused = new Map(refusedPeerRoutes(state, node.host).map((r) => [r.owner, r]));
  const ifindex = node.host.links['eth0']!.ifindex;
  const out: string[] = [];
  const entries = [...shardValues(set.entries)].filter((e) => e.owner !== ref.self).sort((a, b) => a.routes[0]!.dst.addr - b.routes[0]!.dst.addr);
  for (const e of entries) {
    for (const r of e.routes) {
      const dst = formatCidr(r.dst);
      const gw = formatIpv4(r.via!);
      out.push(`Subnet added: ${dst} via ${gw}`);
      const bad = refused.get(e.owner);
      if (bad) out.push(`Error adding route to {Ifindex: ${ifindex} Dst: ${dst} Src: <nil> Gw: ${gw} Flags: [] Table: 0 Realm: 0}: ${bad.strerror}`);
    }
  }
  return out;
}
