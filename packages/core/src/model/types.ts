/**
 * The world as plain, frozen data. Everything here is readonly and changed only through the pure
 * transitions in `ops/` (immer underneath), so a state can be kept, compared by identity, shared between
 * snapshots and used as a WeakMap key for derived indexes.
 *
 * The tree mirrors the hierarchy: cluster → nodes → network namespaces (the host's and the pods') →
 * links, addresses, routes, neighbours, FDB entries, sysctls, netfilter rules; pods → containers that
 * share one namespace; underlay segments and their router.
 */
import type { Cidr, Ipv4 } from '../addr/ipv4.js';
import type { Mac } from '../addr/mac.js';
import type { Shards } from '../util/shards.js';
import type { DevconfName } from './sysctl.js';

/**
 * Identifies a network namespace: `node/<node>` (a node's host namespace), `pod/<namespace>/<name>`
 * (a pod's, shared by its containers) or `underlay` (the router between underlay segments).
 */
export type NsId = string;

/** An address configured on a link, as `ip addr` shows it. */
export interface IfAddr {
  readonly ip: Ipv4;
  readonly len: number;
  readonly scope: 'global' | 'link' | 'host';
  /**
   * True while the address has no kernel prefix route (`proto kernel scope link`), for one of two causes,
   * which {@link IfAddr.noprefixrouteFlag} tells apart:
   * - the route was deleted (`ip route del 10.1.1.0/24 dev eth0`, what the ptp plugin does) or replaced by a
   *   route of its prefix and metric (`ip route replace`, flanneld's RouteReplace). The address stays without
   *   it, until its link goes down and up: then the kernel adds it again (NETDEV_UP → fib_add_ifaddr), after
   *   the routes of that prefix already there, and this goes back to false;
   * - the address was added with `noprefixroute` (then `noprefixrouteFlag` is set too): it never gets one.
   * Measured (kernel 6.18, packages/cli/scripts/prefix-route-formats.sh). Losing and regaining carrier
   * (NETDEV_CHANGE) brings nothing back.
   */
  readonly noPrefixRoute?: boolean;
  /**
   * The address carries IFA_F_NOPREFIXROUTE (`ip addr add 10.1.1.2/24 dev eth0 noprefixroute`; `ip addr`
   * prints `noprefixroute` after the scope): the kernel never adds its prefix route, also not when its link
   * comes up again (fib_add_ifaddr skips it). Its local and broadcast routes it still gets. Implies
   * {@link IfAddr.noPrefixRoute}, which addr.add sets with it.
   */
  readonly noprefixrouteFlag?: boolean;
  /**
   * Where this address's prefix route stands among the prefix routes of the same prefix on the namespace's
   * other links. The kernel keeps the routes of one prefix and metric in the order they came and uses the
   * first; a prefix route comes when its address is added to an up link, or its link comes up (appended:
   * fib_magic's NLM_F_APPEND), with its broadcast route. Set then, and only when another up link has an
   * address of that prefix: one more than the largest there (absent counts as 0; equal ones go in link
   * order); the routes present are listed in this order. Measured (kernel 6.18,
   * scripts/prefix-route-formats.sh, case a5): 192.0.2.1/24 on d1, then 192.0.2.5/24 on d3, then d1 down and
   * up: `ip route` lists d3's first, `ip route get 192.0.2.7` goes by d3, `ip route del 192.0.2.0/24` takes
   * d3's, and `ip route show table local` lists `broadcast 192.0.2.255 dev d3` before `dev d1`.
   */
  readonly prefixOrder?: number;
  /**
   * IFA_F_SECONDARY: when this address was added, its device already had one of the same prefix and length
   * (`ip addr add 192.0.2.5/24 dev d1` beside 192.0.2.1/24; `ip addr` prints `scope global secondary d1`).
   * A secondary address is local (ARP answers for it, packets to it are delivered) but gets no prefix or
   * broadcast route of its own, its local route takes the primary's address as source, and the kernel never
   * picks it as a source address (inet_select_addr skips secondaries). It goes at the end of the device's
   * list. When its primary is deleted, the first secondary of that prefix becomes primary if
   * promote_secondaries is on ({@link Sysctls.promoteSecondaries}), and gets the prefix route; else every
   * secondary of the prefix goes with it. Measured (kernel 6.18, packages/cli/scripts/secondary-addr-formats.sh).
   */
  readonly secondary?: true;
}

/**
 * An eBPF program attached to a link's tc hook (`tc filter add dev X ingress bpf da obj O sec S`). The
 * engine runs what the named section does (see packet-path.md, "eBPF programs"); podnet models cilium's
 * `cil_from_container`, `cil_from_overlay`, `cil_from_netdev` and `cil_from_host`.
 */
export interface TcProg {
  /** The object file (`bpf_lxc.o`, `bpf_host.o`, `bpf_overlay.o`). */
  readonly obj: string;
  /** The program's section (`cil_from_container`). */
  readonly sec: string;
  /** ENCAP_IFINDEX as the program was compiled with it: tunnel mode, encapsulate on this device. */
  readonly encapDev?: string;
}

interface LinkBase {
  readonly name: string;
  readonly ifindex: number;
  readonly mtu: number;
  readonly mac: Mac;
  /** Administrative state (`ip link set dev X up`). */
  readonly up: boolean;
  readonly addrs: readonly IfAddr[];
  /** The bridge this link is a port of (`ip link set X master cni0`), or null. */
  readonly master: string | null;
  /**
   * Hairpin mode of this link's bridge port (`bridge link set dev X hairpin on`, netlink's IFLA_BRPORT_MODE:
   * BR_HAIRPIN_MODE), on only while the link is a port: absent is off, the kernel's default, and a port that
   * leaves its bridge loses it (br_del_if frees the port; measured: after `nomaster` and `master cni0` again,
   * `bridge -d link` says `hairpin off`). With it on, the bridge sends a frame back out of this port when it
   * came in by it (br_forward.c should_deliver: `(p->flags & BR_HAIRPIN_MODE) || skb->dev != p->dev`): a
   * flood's copy, and a unicast frame whose FDB entry points at this port.
   */
  readonly hairpin?: boolean;
  /** eBPF programs on the link's tc hooks (clsact), if any. */
  readonly tc?: { readonly ingress?: TcProg; readonly egress?: TcProg };
}

export interface LoopbackLink extends LinkBase {
  readonly kind: 'loopback';
}
/** One end of a veth pair; the other end may live in another namespace. */
export interface VethLink extends LinkBase {
  readonly kind: 'veth';
  readonly peer: { readonly ns: NsId; readonly name: string };
}
export interface BridgeLink extends LinkBase {
  readonly kind: 'bridge';
  /**
   * Whether a port was ever attached. A new bridge has carrier until its first port comes (the kernel
   * only recomputes a bridge's carrier from its ports when ports change), so its routes are not
   * `linkdown`; once ports came, it has carrier only while one of them has.
   */
  readonly hadPorts?: boolean;
  /**
   * Whether its MTU was set with `ip link set BR mtu N`. Until then the kernel keeps a bridge's MTU at the
   * smallest of its ports' whenever a port joins, leaves or changes its MTU (br_mtu_auto_adjust,
   * net/bridge/br_if.c); the MTU given to `ip link add BR mtu N type bridge` does not count as set.
   */
  readonly mtuSetByUser?: boolean;
}
/** A VXLAN device (`ip link add flannel.1 type vxlan id 1 local … dev eth0 dstport 8472 nolearning`). */
export interface VxlanLink extends LinkBase {
  readonly kind: 'vxlan';
  readonly vni: number;
  readonly local: Ipv4;
  readonly dstPort: number;
  /** Underlay device the encapsulated packets leave by. */
  readonly dev: string;
  readonly learning: boolean;
  /** `external` (collect metadata): any VNI is accepted, the sender sets VNI and remote per packet (cilium_vxlan). */
  readonly external?: boolean;
}
/** An IPIP tunnel device (`tunl0`): encapsulates IPv4 in IPv4 towards the route's gateway. */
export interface IpipLink extends LinkBase {
  readonly kind: 'ipip';
  readonly local: Ipv4 | null;
}
/** A physical NIC attached to an underlay segment. */
export interface PhysicalLink extends LinkBase {
  readonly kind: 'physical';
  readonly segment: string;
}
export type Link = LoopbackLink | VethLink | BridgeLink | VxlanLink | IpipLink | PhysicalLink;
export type LinkKind = Link['kind'];

/** A route of the main table, as `ip route` shows it. */
export interface Route {
  readonly dst: Cidr;
  readonly via: Ipv4 | null;
  readonly dev: string | null;
  readonly proto: 'kernel' | 'boot' | 'static' | 'bird' | 'dhcp' | string;
  readonly scope: 'global' | 'link' | 'host';
  readonly src: Ipv4 | null;
  readonly onlink: boolean;
  readonly metric: number;
  readonly type: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';
  /** The route's MTU attribute (`mtu 1450`): packets taking it are held to it (cilium's pod default route). */
  readonly mtu?: number;
  /**
   * A main-table route that `ip route append` put after an address's prefix route of its prefix and metric
   * (NLM_F_APPEND links it after the last alias of its key, and the kernel's prefix route was there first):
   * it is listed, looked up and deleted after that prefix route, not before it as an added route is.
   * Measured (kernel 6.18, scripts/route-verbs-formats.sh, case d): with 192.0.2.1/24 on d1, `ip route append
   * 192.0.2.0/24 via 198.51.100.1` is listed after `192.0.2.0/24 dev d1 proto kernel …`, `ip route get
   * 192.0.2.7` answers `dev d1`, and `ip route del 192.0.2.0/24` takes the prefix route. Dropped once its
   * prefix has no prefix route (deleted, its link down, its address gone).
   */
  readonly afterPrefixRoute?: true;
}

/** Neighbour (ARP) entry. Dynamic entries age; `confirmed` is the simulated time of the last confirmation. */
export interface NeighEntry {
  readonly dev: string;
  readonly ip: Ipv4;
  readonly mac: Mac | null;
  readonly permanent: boolean;
  /** FAILED: resolution was tried and nobody answered. */
  readonly failed: boolean;
  readonly confirmed: number;
}

/**
 * Forwarding database entry. On a bridge (`dev` = the bridge) it maps a MAC to a port; on a VXLAN
 * device it maps a MAC to a remote VTEP (`dst`).
 */
export interface FdbEntry {
  readonly dev: string;
  readonly mac: Mac;
  /** The bridge port (for bridge FDBs). */
  readonly port: string | null;
  /** The remote VTEP (for VXLAN FDBs). */
  readonly dst: Ipv4 | null;
  readonly permanent: boolean;
  /** A MAC of the bridge itself or of one of its ports (delivered up, never forwarded). */
  readonly local: boolean;
  readonly updated: number;
}

/** The sysctls that change forwarding. Names follow `net.ipv4.*`. */
export interface Sysctls {
  /**
   * net.ipv4.ip_forward (= net.ipv4.conf.all.forwarding) non-zero. Writing it with a new value sets every
   * device's forwarding and default's to it; the device a packet comes in by decides (model/sysctl.ts).
   */
  readonly ipForward: boolean;
  /**
   * net.ipv4.conf.all.rp_filter: 0 off, 1 strict, 2 loose; another integer written is in {@link conf} (and
   * here 2 above 2, 0 below 0). The kernel filters by max(all, the device's own): model/sysctl.ts rpFilterOn.
   */
  readonly rpFilter: 0 | 1 | 2;
  /** net.ipv4.conf.<dev>.proxy_arp non-zero, by device (all OR the device's own answers: devconfOr). */
  readonly proxyArp: Readonly<Record<string, boolean>>;
  /**
   * net.bridge.bridge-nf-call-iptables (br_netfilter): IPv4 frames bridged between two ports of a bridge of
   * this namespace pass iptables' PREROUTING (conntrack, nat), FORWARD (filter) and POSTROUTING (nat), each
   * seeing the bridge as `-i` and `-o`. On by default: Kubernetes nodes load br_netfilter (kubeadm's
   * preflight requires this sysctl at 1), and since Linux 5.3 every new namespace gets its own copy, 1
   * (measured: `cat /proc/sys/net/bridge/bridge-nf-call-iptables` in a new namespace prints 1).
   */
  readonly bridgeNfCallIptables: boolean;
  /** ICMP redirect settings; absent while every one is at the kernel's default (see {@link RedirectSysctls}). */
  readonly redirects?: RedirectSysctls;
  /**
   * net.ipv4.icmp_ratelimit, ms: what one ICMP error of a type in {@link icmpRatemask} costs in its
   * destination's bucket (see {@link NetNs.icmpPeers}); 0 sends every such error but empties the
   * destination's bucket, so the next route error to it waits a second (ip_error's limit; measured,
   * icmp-ratelimit-zero.txt). Absent: 1000, the kernel's default.
   */
  readonly icmpRatelimit?: number;
  /**
   * net.ipv4.icmp_ratemask: bit n set limits ICMP type n. Absent: 6168 (0x1818: destination unreachable 3,
   * source quench 4, time exceeded 11, parameter problem 12), the kernel's default.
   */
  readonly icmpRatemask?: number;
  /**
   * net.ipv4.icmp_echo_ignore_broadcasts: whether an echo request to a broadcast (255.255.255.255, or a subnet
   * broadcast of the receiver) is taken in unanswered (IcmpInEchos counts it). Absent: true, the kernel's
   * default. Measured (bcast-formats.txt, Linux 6.18): with it 0 in pod-b and node-1, pod-a's `ping -b
   * 10.244.1.255` is answered by both, each from the address its route back to pod-a takes as source.
   */
  readonly icmpEchoIgnoreBroadcasts?: boolean;
  /**
   * net.ipv4.conf.{all,<dev>}.promote_secondaries: whether deleting a primary address promotes the first
   * secondary address of its prefix (IFA_F_SECONDARY) instead of deleting them all. The kernel promotes on a
   * device when `all` OR the device's own value is 1 (IN_DEV_PROMOTE_SECONDARIES). Absent: `all` 1 and
   * every device 0 — the kernel's default is 0, but systemd's sysctl.d/50-default.conf, which Kubernetes
   * nodes' distributions apply at boot, sets `net.ipv4.conf.all.promote_secondaries = 1`, and a new network
   * namespace copies the initial namespace's IPv4 settings (devconf_inherit_init_net 0).
   */
  readonly promoteSecondaries?: PromoteSysctls;
  /**
   * The integers written to net.ipv4.conf.{all,default,<dev>}.* that the fields above cannot say, by scope
   * (`all`, `default`, a device) and name: any int the kernel takes (`ip_forward=2`, `rp_filter=-1`,
   * `proxy_arp=7`), a device's own forwarding and rp_filter, and conf.default's forwarding, rp_filter,
   * proxy_arp and promote_secondaries. A value 0 or 1 (rp_filter all: 0–2) of those lives in its field
   * instead and boolean fields hold "non-zero" for the ones here. Absent: nothing of the kind written. Read it
   * with model/sysctl.ts devconfValue, which falls back to the fields (and to 0 for the three below).
   *
   * It is the only store of three switches the kernel reads as `all` OR the device's own value non-zero, 0
   * for every scope while unset (measured: packages/cli/scripts/conf-default-formats.sh, Linux 6.18):
   * - `route_localnet`: whether a packet that came in by a device may have a 127/8 source or destination.
   *   Off, ip_route_input_slow drops it as a martian (route.c, IN_DEV_NET_ROUTE_LOCALNET). Measured
   *   (martian-formats.txt): with it on for the device, 127.0.0.5 → the router is delivered and 127.0.0.5 →
   *   beyond it forwarded; 127.0.0.1, the address of `lo`, is a martian source still.
   * - `log_martians`: whether the kernel logs the martians dropped on a device (IN_DEV_LOG_MARTIANS). podnet
   *   has no kernel log: a martian's drop note quotes the line dmesg would show.
   * - `accept_local`: whether a packet that came in by a device may have a source that is an address of the
   *   namespace. Off, fib_validate_source drops it as a martian source, for the namespace or forwarded
   *   (IN_DEV_ACCEPT_LOCAL). Measured (own-source-formats.txt): node-1's 10.244.1.1 sent to node-1 or beyond
   *   by a pod is dropped; with it on for `all` or for cni0 (the device it comes in by) it is delivered or
   *   forwarded, with it on for eth0 only it is dropped still.
   *
   * A device made later takes conf.default's value of each name as its own; writing conf.default also
   * reaches the devices without an IPv4 address that never set their own for the names devinet copies
   * (log_martians, accept_local, rp_filter, proxy_arp, the redirects), not for route_localnet, forwarding or
   * promote_secondaries (model/sysctl.ts defaultCopiesToDevices).
   */
  readonly conf?: DevconfValues;
  /**
   * By device, the names whose value there a write of conf.default copied (devinet_copy_dflt_conf): not the
   * device's own (the kernel leaves its "set" bit clear), so the next write of default replaces it again — a
   * value written to the device itself, or taken from default when the device was made, stays. Measured
   * (conf-default-formats.sh case (c), Linux 6.18): d1, with no address, takes default's rp_filter,
   * proxy_arp, log_martians and accept_local 3, then 4; d3, made while default was 3, keeps 3. Absent: none.
   */
  readonly confCopied?: Readonly<Record<string, readonly DevconfName[]>>;
}

/**
 * A `net.ipv4.conf` switch the kernel reads as `all` OR the device's own value non-zero (IN_DEV_ORCONF): the
 * ints written, as `all` and the devices whose own value is set (absent: 0).
 *
 * @deprecated Sysctls no longer holds these records: route_localnet, log_martians and accept_local are in
 * {@link Sysctls.conf} with the other per-device settings, conf.default included. Read them with
 * `readSysctl(ns, 'net.ipv4.conf.eth0.route_localnet')` or `devconfOr(ns.sysctl, 'eth0', 'route_localnet')`;
 * write them with `sysctl -w` or the `sysctl.set` action.
 */
export interface ConfSwitch {
  readonly all: number;
  readonly dev: Readonly<Record<string, number>>;
}

/** `net.ipv4.conf.SCOPE.NAME` integers by scope and name (see {@link Sysctls.conf}). */
export type DevconfValues = Readonly<Record<string, Readonly<Partial<Record<DevconfName, number>>>>>;

/** `net.ipv4.conf.{all,<dev>}.promote_secondaries` (see {@link Sysctls.promoteSecondaries}). */
export interface PromoteSysctls {
  readonly all: boolean;
  /** The devices whose own value is set (absent: 0). */
  readonly dev: Readonly<Record<string, boolean>>;
}

/**
 * `net.ipv4.conf.{all,default,<dev>}.send_redirects` and `accept_redirects`. A device takes `default`'s
 * value when it is made (the per-device records hold those that differ from 1). The kernel sends a
 * redirect when `all` OR the device's `send_redirects` is 1 (IN_DEV_TX_REDIRECTS), and accepts one on a
 * forwarding device when `all` AND the device's `accept_redirects` are 1, on any other when either is
 * (IN_DEV_RX_REDIRECTS). Writing `ip_forward` sets `all.accept_redirects` to its opposite
 * (inet_forward_change; measured: 0 after `ip_forward=1`, while `default` and `eth0` stay 1).
 */
export interface RedirectSysctls {
  readonly sendAll: boolean;
  readonly sendDefault: boolean;
  readonly send: Readonly<Record<string, boolean>>;
  /** null: the opposite of ip_forward, as the last write of ip_forward left it. */
  readonly acceptAll: boolean | null;
  readonly acceptDefault: boolean;
  readonly accept: Readonly<Record<string, boolean>>;
}

/** A route exception (see NetNs.pmtu). */
export interface RouteException {
  readonly mtu: number;
  readonly expires: number;
  readonly gw?: number;
  readonly via?: number;
  readonly dev?: string;
  /**
   * The next hop it hangs on (the route it was learnt through, but for its destination: every route with
   * the same gateway, device, metric, protocol, scope, source, type, MTU and flags shares it, as the kernel's
   * fib_info). Used only through such a route; gone when no route has that next hop any more (`ip route
   * del`, a `replace` that changes it, the device going down). Absent: any route (states made before).
   */
  readonly nh?: string;
  /**
   * Whether a route lookup has used it since it was learnt: the kernel caches the route of the next lookup
   * for its destination on it (rt_bind_exception: fnhe_rth_output), and `ip route show cache` dumps only an
   * exception with a cached route (fnhe_dump_bucket). Measured (scripts/route-cache-formats.sh, Linux 6.18):
   * after `ping -M do -s 1400 -c1` learnt a path MTU, `ip route show cache` lists nothing until the next
   * packet to that destination (or `ip route get`) looked it up; likewise after a redirect. Absent: not yet.
   */
  readonly cached?: boolean;
}

/**
 * What a namespace remembers of one sender it sent ICMP redirects to (see {@link NetNs.redirectPeers}): the
 * kernel's inet_peer `n_redirects` and `rate_last`, which ip_rt_send_redirect (net/ipv4/route.c) reads to
 * limit redirects per source address.
 */
export interface RedirectPeer {
  /** Redirects sent since the last reset (n_redirects); at 9 (ip_rt_redirect_number) no more are sent. */
  readonly n: number;
  /**
   * Simulated ms of the last redirect sent (rate_last); once 9 were sent, of the last packet that would
   * have had one (each refreshes it, so a sender that keeps sending stays silenced).
   */
  readonly last: number;
}

/**
 * What a namespace remembers of one address it sent ICMP errors to (see {@link NetNs.icmpPeers}): the
 * kernel's inet_peer `rate_tokens` and `rate_last`, the token bucket inet_peer_xrlim_allow (net/ipv4/inetpeer.c)
 * and ip_error (net/ipv4/route.c) keep per destination.
 */
export interface IcmpPeer {
  /** Tokens in the bucket, in ms (rate_tokens; the kernel counts jiffies). */
  readonly tokens: number;
  /** Simulated ms of the last time the bucket was consulted (rate_last). */
  readonly last: number;
}

/** Netfilter hook a rule lives in. */
export type NfChain = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/**
 * A netfilter rule in iptables' vocabulary. Unset matchers match everything. `chain` is a built-in hook
 * ({@link NfChain}) or a chain of the namespace's own ({@link NetNs.nfChains}, `iptables -N`); a rule whose
 * target is `JUMP` goes on in the chain `jump` names (`-j FLANNEL-POSTRTG`), whose `RETURN` (or end) comes
 * back to the rule after the jump.
 */
export interface NfRule {
  readonly table: 'nat' | 'filter';
  readonly chain: string;
  readonly src: Cidr | null;
  readonly dst: Cidr | null;
  readonly notDst: Cidr | null;
  /** `! -s`: sources outside this prefix. */
  readonly notSrc: Cidr | null;
  /**
   * `-m mark --mark VALUE/MASK`: the packet's mark ANDed with `mask` is `value`. Nothing in podnet marks a
   * packet (no MARK target), so every packet's mark is 0: kube-proxy's `0x4000/0x4000`, which flannel
   * RETURNs on, never matches here, as on a node where no Service masquerade marked the packet.
   */
  readonly mark: { readonly value: number; readonly mask: number } | null;
  readonly inIf: string | null;
  readonly outIf: string | null;
  readonly protocol: 'icmp' | 'udp' | 'tcp' | null;
  readonly dport: number | null;
  readonly target: 'ACCEPT' | 'DROP' | 'REJECT' | 'MASQUERADE' | 'SNAT' | 'DNAT' | 'RETURN' | 'JUMP';
  /** The chain a `JUMP` goes on in (null for every other target). */
  readonly jump: string | null;
  /** SNAT/DNAT address. */
  readonly to: Ipv4 | null;
  readonly toPort: number | null;
  readonly comment: string | null;
}

/**
 * A connection-tracking entry for a translated flow, so replies are translated back and later packets of the
 * flow keep the translation its first packet was given (the kernel's nat table sees only a connection's first
 * packet). Live while `expires` is after the simulated clock (`ClusterState.now`); each packet of the flow
 * moves `expires` on by the protocol's timeout (nf_conntrack_proto_{icmp,udp,tcp}.c, the sysctls
 * `net.netfilter.nf_conntrack_icmp_timeout`, `_udp_timeout`, `_udp_timeout_stream`, `_tcp_timeout_syn_sent`).
 */
export interface ConntrackEntry {
  readonly protocol: number;
  /** Original direction. */
  readonly origSrc: Ipv4;
  readonly origDst: Ipv4;
  /** What the reply carries (its source and destination after translation). */
  readonly replySrc: Ipv4;
  readonly replyDst: Ipv4;
  /** Transport identity of the reply direction (`sport>dport` for UDP/TCP, the echo identifier for ICMP). */
  readonly replyL4: string;
  /** Simulated time (ms) of the flow's first packet. */
  readonly created: number;
  /** Simulated time (ms) at which the entry times out unless another packet of the flow refreshes it. */
  readonly expires: number;
  /** A packet was seen in the reply direction (IPS_SEEN_REPLY; `[UNREPLIED]` in `conntrack -L` until then). */
  readonly replied: boolean;
  /**
   * IPS_ASSURED (`[ASSURED]`): a UDP flow still answered 2 s after its first packet (its "stream" timeout), a
   * TCP connection once established.
   */
  readonly assured: boolean;
  /** A TCP flow's state as nf_conntrack_proto_tcp tracks it from the segments' flags; null for other protocols. */
  readonly tcp: TcpCtState | null;
}

/** nf_conntrack's TCP states (`conntrack -L` prints them), those podnet's segments reach. */
export type TcpCtState = 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE';

/** A cluster-wide set of per-node entries that several nodes include, shared instead of copied. */
export interface PeerSetRef {
  readonly set: string;
  /** This namespace's own node: its own entry is not rendered or used here. */
  readonly self: string;
  /**
   * Owners whose routes were deleted here (`ip route del` of a shared route, or the set's device going
   * down, which takes its routes and neighbours but not its permanent FDB entries): not used or shown.
   */
  readonly hidden?: readonly string[];
  /**
   * Neighbour entries deleted here (`ip neigh del` of a shared one), as `OWNER IP` (the address as a
   * number): not used or shown. The kernel keeps a node's routes, neighbours and FDB entries in separate
   * tables, so deleting one leaves the others.
   */
  readonly hiddenNeigh?: readonly string[];
  /** FDB entries deleted here (`bridge fdb del` of a shared one), as `OWNER MAC`: not used or shown. */
  readonly hiddenFdb?: readonly string[];

  /**
   * This namespace's group (for calico: its node's subnet). With `match`, only entries whose
   * {@link PeerEntry.group} is the `same` as this one, or an `other` one, are used here: how calico's
   * CrossSubnet mode sends same-subnet peers plain routes and the others tunnel routes, without storing
   * a per-node list.
   */
  readonly group?: string;
  readonly match?: 'same' | 'other';
  /**
   * A gateway that replaces each used entry route's own: what a BGP speaker installs when the peer's
   * next hop is not on a connected subnet and it resolves it through its own route to it (BIRD's
   * `gateway recursive`, which calico's bird.cfg sets).
   */
  readonly via?: Ipv4;
}

/** A network namespace. */
export interface NetNs {
  readonly id: NsId;
  readonly links: Readonly<Record<string, Link>>;
  /** Explicit routes of the main table; the kernel's prefix routes are derived from addresses. */
  readonly routes: readonly Route[];
  /** Key `${dev}|${ip}`. */
  readonly neigh: Readonly<Record<string, NeighEntry>>;
  /** Key `${dev}|${mac}`. */
  readonly fdb: Readonly<Record<string, FdbEntry>>;
  readonly sysctl: Sysctls;
  readonly rules: readonly NfRule[];
  /**
   * Chains of the namespace's own (`iptables -t TABLE -N NAME`), as `TABLE NAME`, in the order they were
   * made (flanneld's `nat FLANNEL-POSTRTG` and `filter FLANNEL-FWD` on a flannel node). Their rules are in
   * {@link NetNs.rules} with `chain` their name. Every namespace has the field, so that all keep one hidden class.
   */
  readonly nfChains: readonly string[];
  /**
   * The filter table's built-in chains whose policy is DROP (`iptables -P FORWARD DROP`, what Docker sets on
   * a node); the others ACCEPT. A packet that reaches the end of such a chain, or a RETURN in it, is dropped.
   */
  readonly nfDropPolicy: readonly NfChain[];
  readonly conntrack: readonly ConntrackEntry[];
  readonly peerSets: readonly PeerSetRef[];
  /** Ports something listens on in this namespace, as `proto/port` (`udp/8081`, `tcp/8080`). */
  readonly listening: readonly string[];
  /**
   * Route exceptions (the kernel's fib_nh_exception, one per destination on each next hop): path MTUs
   * learned from ICMP fragmentation-needed (`ip route get` shows them as `cache expires …sec mtu N`; kept for
   * net.ipv4.route.mtu_expires = 600 s) and gateways learned from ICMP redirects (`cache <redirected>
   * expires …sec`; net.ipv4.route.gc_timeout = 300 s). Keyed by destination and next hop
   * ({@link exceptionKey}: `167837701|unicast …`; a state made before exceptions had next hops keys them
   * by the destination alone) → MTU (0: none learned), expiry (simulated ms) and, for a redirect, the new
   * gateway `gw` and the route's gateway `via` and device `dev` it replaces (the exception hangs on that
   * next hop, `nh`).
   */
  readonly pmtu: Readonly<Record<string, RouteException>>;
  /**
   * The per-sender limit on the ICMP redirects this namespace sends (ip_rt_send_redirect): sender's address
   * (decimal IPv4) → {@link RedirectPeer}. The first redirect to a sender is sent; the next only when more
   * than 20 ms << n (ip_rt_redirect_load, HZ/50) have passed since the last (n redirects sent), none after 9
   * (ip_rt_redirect_number), and all forgotten after 20.48 s (ip_rt_redirect_silence) without one. Kept
   * by the simulated clock (`ClusterState.now`): the sends of one instant redirect a sender once. Learned
   * by traffic, as neighbours are; a sender silent for 20.48 s stays listed and counts as new.
   */
  readonly redirectPeers: Readonly<Record<string, RedirectPeer>>;
  /**
   * The per-destination limit on the ICMP errors this namespace sends (icmpv4_xrlim_allow,
   * inet_peer_xrlim_allow): destination's address (decimal IPv4, the offending packet's source) →
   * {@link IcmpPeer}. A new destination's bucket holds 6 × icmp_ratelimit (XRLIM_BURST_FACTOR); an error of a
   * limited type costs icmp_ratelimit and is not sent when fewer tokens are left; the bucket refills 1 ms a
   * ms of the simulated clock (`ClusterState.now`). Errors for a net, host or prohibit route (ip_error) take
   * from the same bucket first: error_cost 1000, error_burst 5000. Learned by traffic, as neighbours are.
   */
  readonly icmpPeers: Readonly<Record<string, IcmpPeer>>;
  readonly nextIfindex: number;
  /**
   * cilium's endpoint map (`cilium_lxc`, pinned per node): decimal IPv4 → the local endpoint or host
   * address. eBPF programs consult it instead of the route table.
   */
  readonly lxcMap?: Readonly<Record<string, LxcEntry>>;
  /**
   * Policy routing rules (`ip rule`) besides the kernel's three (0 local, 32766 main, 32767 default),
   * lowest priority first. Absent: the kernel's three alone.
   */
  readonly ipRules?: readonly IpRule[];
  /** Routes of tables other than main (`ip route add … table N`), by table number. */
  readonly tables?: Readonly<Record<string, readonly Route[]>>;
}

/** The main routing table's number (`ip route … table main`). */
export const RT_TABLE_MAIN = 254;
/** The `default` table (rule 32767), empty unless something adds routes to it. */
export const RT_TABLE_DEFAULT = 253;
/** The `local` table (rule 0): the namespace's own addresses, which podnet derives from its links. */
export const RT_TABLE_LOCAL = 255;

/**
 * A policy routing rule (`ip rule add from <from> to <to> lookup <table> priority <priority>`): a packet
 * whose source is in `from` and destination in `to` (null: any) is looked up in `table`; when that table
 * has no route for it, the next rule is tried.
 */
export interface IpRule {
  readonly priority: number;
  readonly from: Cidr | null;
  readonly to: Cidr | null;
  readonly table: number;
}

/** One entry of cilium's endpoint map. */
export interface LxcEntry {
  readonly ip: Ipv4;
  /** An endpoint's host-side device (`lxc…`) and its pod's MAC; null for a host address. */
  readonly dev: string | null;
  readonly mac: Mac | null;
  /** ENDPOINT_F_HOST: an address of the node itself: the program passes the packet to the stack. */
  readonly host: boolean;
  /** The endpoint's security identity (sent as the VNI when tunnelled). */
  readonly identity: number;
}

/** One entry of cilium's tunnel map (`cilium_tunnel_map`): a node's podCIDR and the node to tunnel to. */
export interface TunnelEntry {
  readonly prefix: Cidr;
  readonly endpoint: Ipv4;
  readonly owner: string;
}

/** One node entry of a {@link PeerSet}: what every other node installs about this node. */
export interface PeerEntry {
  readonly owner: string;
  /** The owner's group (see {@link PeerSetRef.match}). */
  readonly group?: string;
  readonly routes: readonly Route[];
  readonly neigh: readonly { readonly ip: Ipv4; readonly mac: Mac }[];
  readonly fdb: readonly { readonly mac: Mac; readonly dst: Ipv4 }[];
}

/**
 * A shared table of per-node entries on one device (flannel's routes, neighbours and FDB entries for
 * every other node). Each namespace that includes it renders the entries of every node but its own: the
 * cluster stores N entries instead of N × (N − 1).
 */
export interface PeerSet {
  readonly name: string;
  /** The device the entries refer to (e.g. flannel.1) in every including namespace. */
  readonly dev: string;
  readonly entries: Shards<PeerEntry>;
  /**
   * The namespaces including the set where its device went down (`ip link set flannel.1 down`) and has not
   * come up since. A node joining meanwhile gets no route there (the kernel refuses an onlink route through
   * a device that is down: `Error: Nexthop device is not up.`), and flanneld, its route refused, deletes the
   * neighbour and FDB entries it has just added there: the new owner is hidden in those namespaces. Ids
   * that no longer apply (the namespace gone, or its device up again) are skipped.
   */
  readonly downIn?: readonly NsId[];
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly ports: readonly { readonly port: number; readonly protocol: 'TCP' | 'UDP' }[];
}

/**
 * A pod's status as `kubectl get pods` shows it in its STATUS column, and, while it is not running, why:
 * - `Pending`: no node fits; `reason` Unschedulable, `message` the scheduler's ("0/3 nodes are available: …");
 * - `ContainerCreating`: placed on a node whose CNI ADD failed; `reason` FailedCreatePodSandBox, `message`
 *   the kubelet's event text ("Failed to create pod sandbox: … failed (add): …"). Retried after every change;
 * - `Running`: wired, with its IP;
 * - `Failed`: rejected by the kubelet's admission (`reason` OutOfpods: it was bound to a full node).
 *
 * (Kubernetes' own `status.phase` is `Pending` for both of the first two; kubectl shows the waiting reason.)
 */
export interface PodStatus {
  readonly phase: 'Pending' | 'ContainerCreating' | 'Running' | 'Failed';
  readonly reason?: string;
  readonly message?: string;
}

/** A Kubernetes event about a pod (what `kubectl describe pod` lists under Events). */
export interface KubeEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  /** `default-scheduler` or `kubelet`. */
  readonly from: string;
  /** The pod's `namespace/name`. */
  readonly pod: string;
  readonly message: string;
  /** Simulated time (ms). */
  readonly time: number;
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
  readonly uid: string;
  /** The node the pod is bound to; null while it is Pending (not scheduled). */
  readonly node: string | null;
  readonly ip: Ipv4 | null;
  readonly hostNetwork: boolean;
  readonly containers: readonly Container[];
  /** The pod's own namespace (for hostNetwork pods, absent: they use the node's). */
  readonly netns: NetNs | null;
  /** What CNI ADD answered, shaped as the spec's: the result, or (while ContainerCreating) the error object. */
  readonly cniResult: unknown;
  readonly status: PodStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly created: number;
  /** The address the pod asked for (podnet's `ip` in the spec), or null to let the design's IPAM choose. */
  readonly requestedIp: Ipv4 | null;
}

/** A pod bound to a node (every pod in `Node.pods`; waiting pods may not be). */
export type PlacedPod = Pod & { readonly node: string };

export interface Node {
  readonly name: string;
  /** The node's underlay address (its eth0). */
  readonly ip: Ipv4;
  readonly segment: string;
  readonly podCidr: Cidr | null;
  readonly host: NetNs;
  /** The pods running on this node, by key. */
  readonly pods: Readonly<Record<string, PlacedPod>>;
  /** The design's per-node state (IPAM, leases…), opaque to core. */
  readonly cni: unknown;
  readonly maxPods: number;
  readonly created: number;
  /** spec.unschedulable (`kubectl cordon`): the scheduler places no new pod here; running pods stay. */
  readonly unschedulable?: boolean;
}

/**
 * An address (or a /28 prefix) a cloud fabric has assigned to a network interface (an AWS ENI): the
 * fabric, not the instance, answers ARP for it with the interface's MAC, and delivers frames for it there.
 */
export interface FabricEntry {
  /** The ENI id (`eni-…`). */
  readonly eni: string;
  /** The ENI's device index on its instance (0 is the primary ENI, eth0). */
  readonly deviceIndex: number;
  /** The node the ENI is attached to. */
  readonly node: string;
  /** Where frames for the address are delivered: the namespace and link the ENI is (modelled as). */
  readonly ns: NsId;
  readonly dev: string;
  readonly mac: Mac;
  /** A secondary ENI's own primary address, a secondary address, or a delegated prefix (`--ipv4-prefixes`). */
  readonly kind: 'primary' | 'secondary' | 'prefix';
}

/** One L2 segment of the underlay. */
export interface Segment {
  readonly name: string;
  readonly cidr: Cidr;
  readonly gateway: Ipv4;
  readonly mtu: number;
  /** What is plugged in: MAC → where. Key is the MAC. */
  readonly ports: Shards<{ readonly mac: Mac; readonly ns: NsId; readonly dev: string }>;
  /**
   * A cloud fabric's address table (a VPC subnet's): key the decimal IPv4 of a secondary address, or
   * `<decimal network>/<len>` of a delegated prefix. Present only when a design assigned something
   * (`vpc.assign`); on such a segment the fabric answers ARP for every listed address.
   */
  readonly fabric?: Shards<FabricEntry>;
}

export interface Underlay {
  readonly segments: Readonly<Record<string, Segment>>;
  /** The router joining every segment: one link per segment holding the segment's gateway address. */
  readonly router: NetNs;
  /**
   * The router is a cloud VPC's implicit router (`underlay.router: 'vpc'`): it forwards between the
   * subnets without decrementing the TTL, so it never sends time exceeded and is no traceroute hop.
   */
  readonly vpcRouter?: true;
  /**
   * cilium's tunnel map: how each node's podCIDR is reached across the underlay (prefix `a.b.c.d/len` →
   * the node to tunnel to). One for the cluster, because every node's copy is identical; it lives with the
   * underlay so that changing it counts as a change every path may depend on.
   */
  readonly tunnelMap?: Shards<TunnelEntry>;
}

/** Who holds an address, for the unique-IP guarantee and for naming endpoints. */
export interface IpOwner {
  readonly kind: 'pod' | 'node' | 'gateway' | 'router';
  /** Pod key, node name, or `node/dev` for a gateway address such as cni0's. */
  readonly name: string;
  readonly ns: NsId;
  readonly dev: string;
}

/** The whole cluster. */
export interface ClusterState {
  readonly podCidr: Cidr;
  readonly nodeCidrMaskSize: number;
  readonly nodes: Shards<Node>;
  readonly nodeCount: number;
  /** Pod key → node name, for running pods (those in some `node.pods`). */
  readonly podIndex: Shards<string>;
  /** How many pods run (are in some `node.pods`). */
  readonly podCount: number;
  /**
   * Pods that do not run, by key: Pending (unscheduled), ContainerCreating (CNI ADD failed; retried after
   * every change) and Failed (rejected by the node). Kept apart so that nothing that walks running pods
   * ever sees a pod without a network.
   */
  readonly waiting: Readonly<Record<string, Pod>>;
  /** Node podCIDR (`a.b.c.d/len`) → node name. */
  readonly cidrIndex: Shards<string>;
  /** IPv4 (decimal string of the number) → owners. More than one owner is a unique-IP violation. */
  readonly ipIndex: Shards<readonly IpOwner[]>;
  readonly underlay: Underlay;
  readonly peerSets: Readonly<Record<string, PeerSet>>;
  /** The design's cluster-wide state, opaque to core. */
  readonly cni: unknown;
  /** Simulated time in milliseconds. */
  readonly now: number;
  /**
   * Allocation cursors, so that allocating stays O(1) amortised while keeping "lowest free" semantics:
   * every node block below `cidrLowFree` is taken, and every address of a segment from its gateway + 10
   * up to `ipLowFree[segment]` is taken.
   */
  readonly alloc: {
    readonly cidrLowFree: number;
    readonly ipLowFree: Readonly<Record<string, number>>;
    /** Some node CIDR has a size other than nodeCidrMaskSize: overlap checks must walk the nodes. */
    readonly mixedCidrs: boolean;
  };
}
