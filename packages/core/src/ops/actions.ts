/**
 * The action vocabulary: validated, pure state transitions in netlink's terms. Designs speak it (a
 * design's reaction to "pod added" is a list of actions), labs inject faults with it, and each action
 * prints as the `ip`/`bridge`/`sysctl`/`iptables` command that does the same on a real node.
 *
 * Actions carry text the way the commands do (`10.244.1.1/24`, `02:42:…`); {@link applyActions} parses
 * and validates every field, and applies a whole list atomically: on the first error nothing changes.
 */
import { castDraft, isDraft, type Draft } from 'immer';
import { baseField, dictDraft, entryDraft, entryToWrite, fieldToWrite, held, inTransition, isDraftHere, peek, snapshot, tableToWrite, transition, writeField } from '../util/immer.js';

export { snapshot };
import { cidrContains, formatCidr, formatIpv4, maskOf, networkOf, parseCidr, parseIfAddr, parseIpv4, type Cidr, type Ipv4 } from '../addr/ipv4.js';
import { isMulticastMac, macFromSeed, parseMac, ZERO_MAC, type Mac } from '../addr/mac.js';
import { fail, PodnetError, shown } from '../errors.js';
import { UNDERLAY_NS } from '../model/lookup.js';
import { CONF_ONLY, defaultCopiesToDevices, DEVCONF_NAMES, devconfKey, devconfValue, devconfOr, parseProcInt, type DevconfName } from '../model/sysctl.js';
import type {
  ClusterState, FabricEntry, FdbEntry, IfAddr, IpOwner, IpRule, Link, NetNs, NfChain, NfRule, Node, NsId, PeerEntry, PeerSet, Pod, PeerSetRef, RedirectSysctls, Route, RouteException, Segment, Sysctls,
} from '../model/types.js';
import { RT_TABLE_MAIN } from '../model/types.js';
import { emptyShards, shardDelete, shardGet, shardPeek, shardPeekValues, shardSet, shardValues, shardValueToWrite, type Shards } from '../util/shards.js';
import { dict } from '../util/dict.js';
import { YoungWeakMap } from '../util/memo.js';
import { firstPrefixRoute, formatIpRule, givesPrefixRoute, kernelRoutes, lookupRouteIn, nexthopKey, refUses, routeVia, sharedRouteIn } from './routing.js';
import { ctMatches, type ConntrackFilter } from '../dataplane/conntrack.js';
import { checkActionShape } from './action-shape.js';
import { addrsToFlush, neighsToFlush, selectRoutes, type NeighFlushState, type RouteFlushSelectors } from './flush.js';
import { peerEntries } from '../query/render.js';

/** A route as `ip route add` takes it. */
export interface RouteSpec {
  /** `10.244.2.0/24` or `default`. */
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly onlink?: boolean;
  readonly src?: string;
  readonly proto?: string;
  readonly scope?: 'global' | 'link' | 'host';
  readonly metric?: number;
  readonly type?: Route['type'];
  /** The route's MTU attribute (`mtu 1450`). */
  readonly mtu?: number;
  /** The routing table (`table N`); default main (254). */
  readonly table?: number;
}

/** A policy routing rule as `ip rule add|del` takes it (`from`/`to` prefixes; a bare address is a /32). */
export interface IpRuleSpec {
  readonly from?: string;
  readonly to?: string;
  /** `lookup N` (254 is main). Required to add; to delete, any rule matching the rest. */
  readonly table?: number;
  /** `priority P`: to add, default one less than the lowest priority above 0 (32765 when none was added). */
  readonly priority?: number;
}

/**
 * A netfilter rule as `iptables -t TABLE -A CHAIN …` takes it. `chain` is a built-in hook or a chain made
 * with a `chain.new` action; `target: 'JUMP'` with `jump` is `-j NAME` to such a chain, `RETURN` comes back
 * from one (in a built-in chain: the policy, ACCEPT).
 */
export interface RuleSpec {
  readonly table: 'nat' | 'filter';
  readonly chain: NfChain | (string & {});
  readonly src?: string;
  /** `! -s`. */
  readonly notSrc?: string;
  readonly dst?: string;
  readonly notDst?: string;
  readonly inIf?: string;
  readonly outIf?: string;
  readonly protocol?: 'icmp' | 'udp' | 'tcp';
  readonly dport?: number;
  /** `-m mark --mark VALUE[/MASK]`, e.g. `0x4000/0x4000` (see {@link NfRule.mark}). */
  readonly mark?: string;
  readonly target: NfRule['target'];
  /** The chain a `JUMP` goes on in. */
  readonly jump?: string;
  readonly to?: string;
  readonly comment?: string;
}

/**
 * The selectors of `ip route flush` (iproute2's route filter): every one given must match. `exact`, `root`
 * and `match` take a prefix (`default` is 0.0.0.0/0); `table` a table number (default main, 254).
 */
export type RouteFlushSpec = RouteFlushSelectors;

/** A neighbour entry's state as `ip neigh flush … nud` names it (those podnet models). */
export type NeighState = NeighFlushState;

/** A state word of `bridge fdb flush` (those measured): an entry is `permanent` (local), `static` or `dynamic`. */
export type FdbFlushState = 'permanent' | 'nopermanent' | 'static' | 'dynamic';

/** One model action. `ns` names the namespace the command runs in. */
export type Action =
  | { readonly op: 'link.add'; readonly ns: NsId; readonly name: string; readonly kind: 'bridge' | 'veth' | 'vxlan' | 'ipip';
      readonly mtu?: number; readonly mac?: string; readonly up?: boolean; readonly master?: string;
      /** veth: the other end, possibly in another namespace (`peer name eth0 netns …`). */
      readonly peer?: { readonly ns: NsId; readonly name: string; readonly mac?: string; readonly mtu?: number; readonly up?: boolean };
      readonly vxlan?: { readonly vni: number; readonly local: string; readonly dstPort: number; readonly dev: string; readonly learning: boolean; readonly external?: boolean };
      readonly ipip?: { readonly local?: string } }
  | { readonly op: 'link.del'; readonly ns: NsId; readonly name: string }
  /**
   * `ip link set`. `hairpin` is the bridge port's hairpin mode (`bridge link set dev X hairpin on|off`, `ip link
   * set dev X type bridge_slave hairpin on|off`, netlink's LinkSetHairpin): the link must be a bridge port
   * (else INVALID_ARGUMENT, the kernel's `Operation not supported`); it is set before `master` is (rtnl_changelink
   * hands IFLA_INFO_SLAVE_DATA to the port's bridge before do_setlink moves it: read in net/core/rtnetlink.c,
   * not measured), and a port that changes master loses it.
   */
  | { readonly op: 'link.set'; readonly ns: NsId; readonly name: string; readonly up?: boolean; readonly mtu?: number; readonly master?: string | null; readonly mac?: string; readonly hairpin?: boolean }
  | { readonly op: 'addr.add'; readonly ns: NsId; readonly dev: string; readonly addr: string; readonly scope?: IfAddr['scope'];
      /**
       * `ip addr add … noprefixroute` (IFA_F_NOPREFIXROUTE): the address gets no prefix route, now or when its
       * link comes up again (IfAddr.noprefixrouteFlag). Measured (kernel 6.18, scripts/prefix-route-formats.sh):
       * `ip route get` to another address of its prefix answers `Network is unreachable`; its local and
       * broadcast routes come as for any address.
       */
      readonly noprefixroute?: boolean }
  | { readonly op: 'addr.del'; readonly ns: NsId; readonly dev: string; readonly addr: string }
  /**
   * `ip addr replace` (NLM_F_CREATE|NLM_F_REPLACE) and `ip addr change` (NLM_F_REPLACE): an address of that
   * address and length already on the device is left as it is — inet_rtm_newaddr changes only its lifetimes,
   * metric and protocol, none of which podnet models; its scope, flags (`noprefixroute`), broadcast and label
   * stay, and so does its prefix route. One that is not there is added as `addr.add` adds it, by either verb
   * (the kernel does not check NLM_F_CREATE here). Measured (kernel 6.18, scripts/route-verbs-formats.sh,
   * cases g, h): `ip addr replace 192.0.2.1/24 dev d1 scope link`, `… change … noprefixroute`, `… broadcast
   * 192.0.2.127` print nothing, exit 0, and `ip addr` and `ip route` are as before; `ip addr change
   * 192.0.2.50/24 dev d1` adds a secondary. The errors of `addr.add` otherwise (another length of the same
   * address: ADDRESS_EXISTS, as podnet keeps one entry per address).
   */
  | { readonly op: 'addr.replace' | 'addr.change'; readonly ns: NsId; readonly dev: string; readonly addr: string; readonly scope?: IfAddr['scope']; readonly noprefixroute?: boolean }
  /**
   * `ip addr flush dev DEV [primary|secondary] [scope S] [to PREFIX]`: every address of `dev` that the
   * selectors keep is deleted, in the device's order, as iproute2 deletes what its dump listed (one that an
   * earlier deletion took along, a secondary of a deleted primary, is skipped). Each deletion is an
   * `addr.del`: prefix routes, routes with the address as source, promotion (promote_secondaries) and, once
   * the device has no address left, the routes through it and its neighbours go (fib_disable_ip). Nothing to
   * delete is no error. Measured (kernel 6.18, scripts/route-verbs-formats.sh, cases i, j). Throws
   * `LINK_NOT_FOUND`, `INVALID_CIDR` for a bad `to`, `INVALID_ARGUMENT` for a bad selector.
   */
  | { readonly op: 'addr.flush'; readonly ns: NsId; readonly dev: string; readonly primary?: boolean; readonly secondary?: boolean; readonly scope?: IfAddr['scope']; readonly to?: string }
  /**
   * `ip route add` (NLM_F_CREATE|NLM_F_EXCL: ROUTE_EXISTS when the prefix and metric have a route), `ip route
   * replace` (NLM_F_CREATE|NLM_F_REPLACE) and the verbs fib_table_insert also knows:
   * - `route.append` (NLM_F_CREATE|NLM_F_APPEND): after the last route of its prefix and metric (a prefix route
   *   of an address included: Route.afterPrefixRoute);
   * - `route.prepend` (NLM_F_CREATE): before the first;
   * - `route.change` (NLM_F_REPLACE): replaces the first, ROUTE_NOT_FOUND (`No such file or directory`) when
   *   the prefix and metric have none.
   * The first route of a prefix and metric is the one lookups use and `route.del` without selectors deletes.
   * A route the same in every field as one there (the kernel's fib_info and type) is refused by append and
   * prepend, and by change and replace unless it is the first (then nothing changes): ROUTE_EXISTS. Measured
   * (kernel 6.18, scripts/route-verbs-formats.sh, cases a–d).
   */
  | ({ readonly op: 'route.add' | 'route.replace' | 'route.append' | 'route.prepend' | 'route.change'; readonly ns: NsId } & RouteSpec)
  /**
   * `ip route flush SELECTORS`: deletes every route of `table` (default main) that all the given selectors
   * match, as iproute2 dumps the table and deletes each (a prefix route of an address too: the address stays;
   * a shared peer-set route in this namespace only). `root` keeps routes inside that prefix, `match` those
   * holding it, `exact` that prefix alone; `dev`, `via`, `proto`, `type`, `scope` a route's own. Nothing to
   * delete is no error. Measured (kernel 6.18, scripts/route-verbs-formats.sh, cases e, f). Throws
   * `TABLE_NOT_FOUND` for a table with no routes ever, `INVALID_ARGUMENT` for the local table or a bad selector.
   */
  | ({ readonly op: 'route.flush'; readonly ns: NsId } & RouteFlushSpec)
  | { readonly op: 'route.del'; readonly ns: NsId; readonly dst: string; readonly via?: string; readonly dev?: string; readonly metric?: number; readonly table?: number }
  /**
   * `ip route flush cache`: drops every route exception of the namespace ({@link NetNs.pmtu}: path MTUs and
   * redirected gateways), as the kernel's write to /proc/sys/net/ipv4/route/flush does (fnhe_genid_bump:
   * each exception is reset when next met). Measured (scripts/route-cache-formats.sh, Linux 6.18): after it
   * `ip route show cache` lists nothing, `ip route get` shows the route's own gateway and no MTU, and the next
   * big ping with DF learns the path MTU again. Throws `NAMESPACE_NOT_FOUND` for an unknown `ns`.
   */
  | { readonly op: 'route.flushCache'; readonly ns: NsId }
  /**
   * A route lookup that found the route exception at `key` ({@link exceptionKey}: destination and next hop)
   * in `ns.pmtu`: the kernel caches the looked-up route on it (rt_bind_exception), from when `ip route show
   * cache` lists it ({@link RouteException.cached}). What `ip route get` does besides printing (measured:
   * an exception learnt by `ping -c1 -M do` is listed after `ip route get` to its destination). Nothing
   * changes for one already cached or expired. Throws `INVALID_ARGUMENT` for a key that is not a string,
   * `ROUTE_EXCEPTION_NOT_FOUND` for one the namespace has no exception at, `NAMESPACE_NOT_FOUND` for `ns`.
   */
  | { readonly op: 'route.cacheException'; readonly ns: NsId; readonly key: string }
  | ({ readonly op: 'iprule.add' | 'iprule.del'; readonly ns: NsId } & IpRuleSpec)
  | { readonly op: 'neigh.add' | 'neigh.replace'; readonly ns: NsId; readonly dev: string; readonly ip: string; readonly mac: string }
  | { readonly op: 'neigh.del'; readonly ns: NsId; readonly dev: string; readonly ip: string }
  /**
   * `ip neigh flush {dev DEV | all | to PREFIX} [nud STATE…]`: deletes the neighbour entries the selectors
   * keep. Without `nud`, every entry but the permanent ones (iproute2's flush filter leaves out
   * NUD_PERMANENT and NUD_NOARP); `nud permanent` deletes those (a shared peer-set entry in this namespace
   * only), `nud all` every one. Nothing to delete is no error. Measured (kernel 6.18,
   * scripts/route-verbs-formats.sh, case k). Throws `LINK_NOT_FOUND`, `INVALID_CIDR`, `INVALID_ARGUMENT`.
   */
  | { readonly op: 'neigh.flush'; readonly ns: NsId; readonly dev?: string; readonly to?: string; readonly nud?: readonly NeighState[] }
  /**
   * `bridge fdb add | append | replace MAC dev DEV …` (measured, scripts/bridge-fdb-formats.sh): on a bridge
   * port (`master`, the default for a port) the entry of its bridge; on a VXLAN device a remote VTEP (`dst`,
   * required); `master: false` (iproute2's default `self`) on a veth or an Ethernet device its own unicast
   * address list, on a bridge a local entry of the bridge. `add` of a MAC there already: `FDB_EXISTS`.
   * `append` and `replace` create or update: a port's entry moves to `dev` and takes `state`; a VXLAN
   * entry's dst is replaced by `replace`, kept by `append` (the kernel appends a second dst only to
   * 00:00:00:00:00:00 and multicast MACs, which podnet refuses with `UNSUPPORTED`: it keeps one dst per MAC).
   */
  | { readonly op: 'fdb.add' | 'fdb.append' | 'fdb.replace'; readonly ns: NsId; readonly dev: string; readonly mac: string; readonly dst?: string;
      /** `master` (true) or `self` (false); unset: `master` on a bridge port, `self` elsewhere. */
      readonly master?: boolean;
      /**
       * A bridge entry's kind: `static` (moved by traffic from another port, never aged), `permanent` (local:
       * frames to it go up to the bridge; never moved), `dynamic` (ages out in 300 s). Unset: `static` for a
       * port's entry (podnet's older default; iproute2 assumes `permanent`, the lab shell passes it), and
       * `permanent` for `self`, the only one the kernel takes there (others: Invalid argument).
       */
      readonly state?: 'static' | 'permanent' | 'dynamic' }
  /**
   * `bridge fdb flush dev DEV [master] [permanent|nopermanent|static|dynamic]…` (iproute2 6.1's RTM_DELNEIGH
   * with NLM_F_BULK). On a bridge: every entry of the bridge — learned, static, permanent, and the local
   * entries of the bridge's and its ports' own MACs — that the states keep (`permanent`: local ones;
   * `static`; `dynamic`: learned or added dynamic; `nopermanent`: the others). On a port with `master`: the
   * bridge's entries on that port (its own MAC's too, the bridge's stays). On a VXLAN device: its remote VTEPs
   * (a shared peer-set one on this node alone). Anything else: INVALID_ARGUMENT, the kernel's `Operation not
   * supported`. With the bridge's own MAC gone, frames to it are flooded, not taken up: the pods lose their
   * gateway until something adds it again. Measured (kernel 6.18, scripts/route-verbs-formats.sh, case l):
   * after `bridge fdb flush dev br0` the bridge's ping from its port's peer fails; after `… dev d3 master
   * permanent` it works (the bridge's own entry stayed). Nothing to delete is no error.
   */
  | { readonly op: 'fdb.flush'; readonly ns: NsId; readonly dev: string; readonly master?: boolean; readonly states?: readonly FdbFlushState[] }
  | { readonly op: 'fdb.del'; readonly ns: NsId; readonly dev: string; readonly mac: string;
      /** A VXLAN entry's dst: deleted only when it is this one (another dst: nothing happens, no error, as measured). */
      readonly dst?: string;
      /**
       * `bridge fdb del … master`: the entry of the bridge `dev` is a port of (learned, static, or the port's
       * own MAC). Without it (iproute2's default, `self`), the device's own table: a VXLAN device's remote
       * VTEPs, a bridge's own MAC; a port has none.
       */
      readonly master?: boolean }
  | { readonly op: 'sysctl.set'; readonly ns: NsId; readonly key: string; readonly value: string | number }
  | { readonly op: 'rule.append' | 'rule.del'; readonly ns: NsId; readonly rule: RuleSpec }
  | { readonly op: 'rule.insert'; readonly ns: NsId; readonly rule: RuleSpec;
      /** `iptables -I CHAIN N`: the rule's number in its chain once inserted, 1 (the default) to one past the last. */
      readonly position?: number }
  /** `iptables -R CHAIN N`: the rule numbered `position` (from 1) in the rule's chain, replaced by `rule` in its place. */
  | { readonly op: 'rule.replace'; readonly ns: NsId; readonly rule: RuleSpec; readonly position: number }
  /** `iptables -t TABLE -N NAME` (new), `-X NAME` (del: empty, and no jump to it), `-F NAME` (flush its rules). */
  | { readonly op: 'chain.new' | 'chain.del' | 'chain.flush'; readonly ns: NsId; readonly table: 'nat' | 'filter'; readonly chain: string }
  /** `iptables -t TABLE -P CHAIN ACCEPT|DROP`: a built-in chain's policy (DROP only in filter, as iptables has it). */
  | { readonly op: 'chain.policy'; readonly ns: NsId; readonly table: 'nat' | 'filter'; readonly chain: NfChain; readonly policy: 'ACCEPT' | 'DROP' }
  | { readonly op: 'listen'; readonly ns: NsId; readonly protocol: 'udp' | 'tcp'; readonly port: number }
  /**
   * `conntrack -D [-p P] [-s A] [-d A]` (`conntrack -F` with no filter): deletes the namespace's connection
   * tracking entries whose protocol, original source and original destination match; the next packet of
   * such a flow meets the nat rules again as a new connection's first packet. `src`, `dst`: an address or a
   * prefix (`10.0.1.0/24`); `srcNat`, `dstNat` (`-n A`, `-g A`): entries translated to that source or
   * destination.
   */
  | { readonly op: 'conntrack.delete'; readonly ns: NsId; readonly protocol?: 'icmp' | 'udp' | 'tcp'; readonly src?: string; readonly dst?: string; readonly srcNat?: string; readonly dstNat?: string }
  | { readonly op: 'peerset.put'; readonly set: string; readonly dev: string; readonly owner: string;
      /** The owner's group, for namespaces that attach with `match` (calico: the node's subnet). */
      readonly group?: string;
      readonly routes: readonly RouteSpec[]; readonly neigh: readonly { readonly ip: string; readonly mac: string }[];
      readonly fdb: readonly { readonly mac: string; readonly dst: string }[] }
  | { readonly op: 'peerset.del'; readonly set: string; readonly owner: string }
  /**
   * The entries of one owner of a shared peer set, deleted in namespace `ns` alone, put back there: its routes
   * (`ip route add`: flannel host-gw's route check), neighbour and FDB entries. Refused with `ROUTE_EXISTS` when
   * its routes are there, or when a route of the same prefix and metric holds their place (the kernel's File
   * exists). With `replace` (flanneld at start: `ip route replace`, `ip neigh replace`, `bridge fdb replace`),
   * what holds their place is replaced, and nothing deleted is no error.
   */
  | { readonly op: 'peerset.restore'; readonly ns: NsId; readonly set: string; readonly owner: string; readonly replace?: boolean }
  | { readonly op: 'peerset.attach'; readonly ns: NsId; readonly set: string; readonly self: string;
      /** Use only the entries of the `same` group as `group`, or of `other` groups (see PeerSetRef). */
      readonly group?: string; readonly match?: 'same' | 'other';
      /** Install every used route through this gateway instead (a BGP speaker's recursive next hop). */
      readonly via?: string }
  | VpcAssign
  | { readonly op: 'tc.attach'; readonly ns: NsId; readonly dev: string; readonly direction: 'ingress' | 'egress'; readonly obj: string; readonly sec: string; readonly encapDev?: string }
  | { readonly op: 'tc.detach'; readonly ns: NsId; readonly dev: string; readonly direction: 'ingress' | 'egress' }
  | { readonly op: 'bpf.map.update'; readonly map: 'cilium_lxc'; readonly ns: NsId; readonly key: string; readonly value: { readonly dev?: string; readonly mac?: string; readonly host?: boolean; readonly identity: number } }
  | { readonly op: 'bpf.map.update'; readonly map: 'cilium_tunnel_map'; readonly key: string; readonly value: { readonly endpoint: string; readonly owner: string } }
  | { readonly op: 'bpf.map.delete'; readonly map: 'cilium_lxc'; readonly ns: NsId; readonly key: string }
  | { readonly op: 'bpf.map.delete'; readonly map: 'cilium_tunnel_map'; readonly key: string }
  | { readonly op: 'vpc.unassign'; readonly segment: string; readonly eni: string; readonly ips?: readonly string[]; readonly prefixes?: readonly string[]; readonly detach?: boolean };

/**
 * A cloud fabric assigns secondary addresses or /28 prefixes to an ENI (`aws ec2
 * assign-private-ip-addresses`), optionally creating and attaching the ENI first. The ENI is modelled
 * as the link `dev` of namespace `ns` (a physical link on `segment`): the fabric answers ARP for the
 * addresses with that link's MAC. No `ns` of its own: it runs in the cloud's API, not on a node.
 */
export interface VpcAssign {
  readonly op: 'vpc.assign';
  readonly segment: string;
  readonly eni: string;
  readonly deviceIndex: number;
  readonly node: string;
  readonly ns: NsId;
  readonly dev: string;
  readonly ips?: readonly string[];
  readonly prefixes?: readonly string[];
  /** The ENI is created in the subnet and attached at `deviceIndex` by this action. */
  readonly attach?: boolean;
  /** With `attach`: the new ENI's own primary address (`--private-ip-address`). */
  readonly primaryIp?: string;
}

const IFNAME_RE = /^[^\s/:]{1,15}$/;

/** Validates a Linux interface name (IFNAMSIZ, dev_valid_name). */
export function checkIfName(name: unknown): string {
  if (typeof name !== 'string' || !IFNAME_RE.test(name) || name === '.' || name === '..') {
    fail('INVALID_IFNAME', `"${shown(name)}" is not a valid interface name`, { value: name });
  }
  // Linux takes it, but a namespace's links (and the records keyed by device, sysctl.proxyArp) are
  // objects: in a plain one the name sets the prototype (immer then throws a bare Error), in a
  // prototype-less one it is a key. Refused alike everywhere rather than half-working on some.
  if (name === '__proto__') fail('UNSUPPORTED', 'podnet does not model an interface named "__proto__" (Linux allows it)', { value: name });
  return name;
}

function checkMtu(mtu: unknown): number {
  if (!Number.isInteger(mtu) || (mtu as number) < 68 || (mtu as number) > 65535) {
    fail('INVALID_ARGUMENT', `MTU ${shown(mtu)} is out of range (68 to 65535)`, { value: mtu });
  }
  return mtu as number;
}

type DState = Draft<ClusterState>;
type DNs = Draft<NetNs>;

/**
 * The two namespaces an action list last looked up (`ns`, then `prev`), while the list is being applied: a
 * pod's CNI ADD names its namespace in four actions out of five and its node's in the others, and each
 * lookup hashed the pod's key twice (the node's: a draft's field read through a trap). Actions never
 * create or remove a namespace, so within one list an id keeps naming the same one. `known` are the
 * namespaces the list's caller handed over (applyActionsToDraft).
 */
const listNs: { d: DState | null; id: NsId; ns: DNs | null; prevId: NsId; prev: DNs | null; known: readonly DNs[]; pod: string | null } = { d: null, id: '', ns: null, prevId: '', prev: null, known: [], pod: null };

/**
 * The namespace the list's caller removes once the list is applied (a deleted pod's, {@link applyActionsToDraft}'s
 * `gone`), and the links `link.del` deleted in it whose removal is not done yet. Deleting a link there is
 * work on a namespace about to be thrown away (its routes, tables, neighbours and FDB flushed, its links'
 * masters cleared, each a draft copied): ~45 % of a flannel pod deletion went to the `ip link del eth0` of
 * its CNI DEL inside the pod. So it is only noted, and done the first time an action of the list looks the
 * namespace up again ({@link draftNs}), so that every action sees the namespace exactly as before; when
 * none does, the link's addresses leave the IP index with the rest of the namespace's (the caller's
 * `unindexNs`), which is all of the deletion that outlives the namespace.
 */
const goneNs: { gone: GoneNs | null; ns: DNs | null; pending: string[] } = { gone: null, ns: null, pending: [] };

/**
 * A namespace an action list's caller removes once the list is applied ({@link applyActionsToDraft}): as it
 * stands (plain data), and its draft to write into, made when first asked for (only when an action writes it).
 */
export interface GoneNs {
  readonly plain: NetNs;
  readonly draft: () => DNs;
}

/** The namespace with this id inside a draft; throws `NAMESPACE_NOT_FOUND`. */
export function draftNs(d: DState, id: NsId): DNs {
  const gone = goneNs.gone;
  if (gone !== null && id === gone.plain.id) {
    const ns = (goneNs.ns ??= gone.draft());
    if (goneNs.pending.length > 0) dropPending(d, ns);
    return ns;
  }
  return lookNs(d, id);
}

/**
 * {@link draftNs} for a look only: the {@link goneNs} as it stands (its draft if made, else plain) when no
 * deletion in it is pending, so that `link.del` notes a link there without drafting the namespace.
 */
function nsToLook(d: DState, id: NsId): DNs {
  const gone = goneNs.gone;
  if (gone !== null && id === gone.plain.id && goneNs.pending.length === 0) return goneNs.ns ?? (gone.plain as DNs);
  return draftNs(d, id);
}

/** {@link draftNs} without the links deleted in the {@link goneNs} being removed first. */
function lookNs(d: DState, id: NsId): DNs {
  // A hit needs a namespace remembered: the list starts with none (an id of '' must still fail below).
  if (listNs.d === d && listNs.ns !== null) {
    if (listNs.id === id) return listNs.ns;
    // The one before: a CNI ADD goes back and forth between the pod's namespace and its node's.
    if (listNs.prev !== null && listNs.prevId === id) {
      const ns = listNs.prev;
      listNs.prevId = listNs.id;
      listNs.prev = listNs.ns;
      listNs.id = id;
      listNs.ns = ns;
      return ns;
    }
  }
  const ns = (listNs.d === d ? knownNs(listNs.known, id) : undefined) ?? findDraftNs(d, id);
  if (!ns) fail('NAMESPACE_NOT_FOUND', `no network namespace "${shown(id)}"`, { ns: id });
  if (listNs.d === d) {
    listNs.prevId = listNs.id;
    listNs.prev = listNs.ns;
    listNs.id = id;
    listNs.ns = ns;
  }
  return ns;
}

/** The links `link.del` deleted in the {@link goneNs} so far, removed from it now, in the order deleted. */
function dropPending(d: DState, ns: DNs): void {
  const names = goneNs.pending;
  goneNs.pending = [];
  for (const name of names) dropLink(d, ns, snap(look(ns as NetNs, 'links')[name]!));
}

/**
 * The node `name` of a transition's state, to change (its fields, its pods through util/immer.ts
 * tableToWrite and entryDraft, its host through {@link hostToWrite}), or undefined: in a transition a plain
 * copy in the nodes' sharded map, whose first level, top and leaf are copied on write (util/shards.ts
 * shardValueToWrite), not immer drafts. Outside a transition (a build in place, a plain produce) the node
 * as the map hands it out (a draft through a draft).
 */
export function nodeToWrite(d: DState, name: string): Draft<Node> | undefined {
  return shardValueToWrite(tableToWrite(d as ClusterState, 'nodes'), name) as Draft<Node> | undefined;
}

/**
 * The host namespace of a node {@link nodeToWrite} gave, to change: in a transition a plain copy in the node's
 * copy (util/immer.ts fieldToWrite), whose tables, lists and links actions copy on write in turn
 * ({@link writable}, tableToWrite, {@link linkToWrite}); through a draft node, immer's draft.
 */
export function hostToWrite(n: Draft<Node>): DNs {
  return fieldToWrite(n as Node, 'host') as DNs;
}

/**
 * The cluster's underlay, to change: in a transition a plain copy put in place of the previous state's
 * (util/immer.ts fieldToWrite, put back when it ends unchanged), whose segments, router namespace
 * ({@link routerToWrite}) and tunnel map are copied on write in turn. A node's join and removal write their
 * segment's ports: through the state's draft the underlay was an immer draft of its own. Outside a
 * transition as it is (a draft in a plain produce).
 */
export function underlayToWrite(d: DState): ClusterState['underlay'] {
  return fieldToWrite(d as ClusterState, 'underlay');
}

/** The underlay's router namespace, to change (a plain copy in the underlay's, as a node's host: {@link hostToWrite}). */
export function routerToWrite(d: DState): DNs {
  return fieldToWrite(underlayToWrite(d), 'router') as DNs;
}

/** The namespace with this id inside a draft (or a state being built in place), or undefined. */
export function findDraftNs(d: DState, id: NsId): DNs | undefined {
  if (id === UNDERLAY_NS) return routerToWrite(d);
  if (typeof id === 'string' && id.startsWith('node/')) {
    const n = nodeToWrite(d, id.slice(5));
    return n === undefined ? undefined : hostToWrite(n);
  }
  if (typeof id === 'string' && id.startsWith('pod/')) return draftPod(d, id.slice(4))?.netns ?? undefined;
  return undefined;
}

/** The pod with this key inside a draft (or a state being built in place), or undefined. */
function draftPod(d: DState, key: string): Draft<Pod> | undefined {
  const node = shardPeek(peek(d as ClusterState, 'podIndex'), key); // a read: through the draft it would draft the index
  const n = node === undefined ? undefined : nodeToWrite(d, node);
  // The pod's draft also when the node's pods are a plain copy made in the transition (util/immer.ts
  // entryDraft); through a drafted record, dictDraft copies it the faster way than immer.
  return n === undefined ? undefined : entryDraft(n as Node, 'pods', key) as Draft<Pod> | undefined;
}

/** The namespace of `known` with this id, or undefined. */
function knownNs(known: readonly DNs[], id: NsId): DNs | undefined {
  for (let i = 0; i < known.length; i++) if (known[i]!.id === id) return known[i];
  return undefined;
}

/** Applies each action of a list in order, with {@link listNs} remembering namespaces meanwhile. */
function applyList(d: DState, actions: readonly Action[], known: readonly DNs[] = NO_NS, gone: GoneNs | null = null, pod: string | null = null, hook: string | null = null, subject = ''): void {
  listNs.d = d;
  listNs.pod = pod;
  listNs.ns = null;
  listNs.id = '';
  listNs.prev = null;
  listNs.prevId = '';
  listNs.known = known;
  goneNs.gone = gone;
  // In a transition the root is a plain copy (util/immer.ts transition) but drafts are made below it (a pod's
  // namespace, entryDraft): only a list applied outside one is plain throughout.
  plainList = !inTransition() && !isDraft(d);
  let i = 0;
  try {
    for (; i < actions.length; i++) applyOne(d, actions[i]!);
  } catch (e) {
    // Which action of the list was refused (`actionIndex`, `action`): a design author, or a lab script, learns
    // which of its actions the kernel would refuse, not only why. A design's reaction (`hook` for `subject`:
    // nodeAdded for node-2) is named in front of the kernel's words.
    if (!(e instanceof PodnetError) || e.details['actionIndex'] !== undefined) throw e;
    const a = actions[i]!;
    if (hook === null) throw new PodnetError(e.code, e.message, { ...e.details, actionIndex: i, action: a }, e.hint);
    const where = 'ns' in a && typeof a.ns === 'string' ? ` in ${a.ns}` : '';
    throw new PodnetError(e.code, `${hook} for ${subject}: action ${i + 1} of ${actions.length} (${a.op}${where}) was refused: ${e.message}`, { ...e.details, actionIndex: i, action: a, hook, subject }, e.hint);
  } finally {
    listNs.d = null;
    listNs.ns = null;
    listNs.prev = null;
    listNs.known = NO_NS;
    listNs.pod = null;
    // Links still pending go with the namespace.
    goneNs.gone = null;
    goneNs.ns = null;
    if (goneNs.pending.length > 0) goneNs.pending = [];
    plainList = false;
  }
}

const NO_NS: readonly DNs[] = Object.freeze([]);

/**
 * True while an action list is applied outside a transition to a state that is no immer draft (a cluster built in place,
 * buildClusterState): nothing in it is a draft, so the reads below need not ask. `snapshot` and `peek` look
 * immer's symbol up on every object they are given, a hash probe on a dictionary, several times per action.
 */
let plainList = false;

/** {@link snapshot}, skipped while {@link plainList}. */
function snap<T extends object>(x: T): T {
  return plainList ? x : snapshot(x);
}

/** {@link peek}, skipped while {@link plainList}. */
function look<T extends object, K extends keyof T>(x: T, key: K): T[K] {
  return plainList ? x[key] : peek(x, key);
}

/**
 * `o[key] = value` without immer's `set` trap (util/immer.ts writeField); a plain store while {@link plainList}.
 * `value` is a primitive or plain data holding no draft (immer does not walk it, so it needs no madeHere).
 */
function put<T extends object, K extends keyof T & string>(o: T, key: K, value: T[K]): void {
  if (plainList) o[key] = value;
  else writeField(o, key, value);
}

/** A primitive field of a draft as it stands, without immer's `get` trap (util/immer.ts held); read as it is while {@link plainList}. */
function field<T extends object, K extends keyof T>(o: T, key: K): T[K] {
  return plainList ? o[key] : held(o, key);
}

/** A link of a namespace as plain data (for checks: reading it through the draft would copy the links). */
function getLink(ns: NetNs | DNs, name: string): Link {
  const links = look(ns as NetNs, 'links');
  const l = Object.prototype.hasOwnProperty.call(links, name) ? links[name] : undefined;
  if (!l) fail('LINK_NOT_FOUND', `Cannot find device "${name}" in ${ns.id}`, { ns: ns.id, dev: name });
  return snap(l);
}

/**
 * A link of a draft namespace, to change it (util/immer.ts entryToWrite: a copy of the previous state's link
 * in the links table the transition copied, or immer's draft where the table is drafted); throws `LINK_NOT_FOUND`.
 */
function draftLink(ns: DNs, name: string): Draft<Link> {
  getLink(ns, name);
  return linkToWrite(ns, name);
}

/**
 * The links of a namespace, to add or delete links (util/immer.ts tableToWrite): in a draft namespace whose
 * links the transition has not drafted, a plain copy, put in place once. A pod's CNI ADD adds its host's veth
 * end and a deletion removes it: through the draft the links table was an immer proxy, its copy, a
 * finalisation callback and a revocation. Every change of a link goes through {@link linkToWrite}.
 */
function linksToWrite(ns: DNs): Record<string, Link> {
  return tableToWrite(ns as NetNs, 'links') as Record<string, Link>;
}

/** The links of a namespace as plain data, in their order (for reads across links: through the draft each would be drafted). */
function plainLinks(ns: NetNs | DNs): Link[] {
  const links = look(ns as NetNs, 'links');
  const out: Link[] = [];
  for (const name in links) out.push(snap(links[name]!));
  return out;
}

/** The link `name` (which exists) of a namespace, to change in place (util/immer.ts entryToWrite). */
function linkToWrite(ns: DNs, name: string): Draft<Link> {
  return entryToWrite(ns as NetNs, 'links', name) as Draft<Link>;
}

/**
 * `parent[key]`, to be changed in place. A new namespace shares its untouched parts (lo, the default
 * sysctls, empty tables) with every other one, frozen (model/cluster.ts): under immer the draft copies
 * on write as always; in a transition applied in place (buildClusterState) the first write here gives
 * the namespace its own copy. Every in-place write to those parts goes through here; the rest replace
 * them whole (route and address lists) or only delete entries that exist (which a shared part has none of).
 */
function writable<T extends object, K extends keyof T>(parent: T, key: K): T[K] {
  const v = parent[key];
  if (v !== null && typeof v === 'object' && Object.isFrozen(v) && !isDraftHere(v)) {
    // Filled in, not spread: a spread of a frozen object takes V8's slow path (and the parts are mostly empty).
    let copy: T[K];
    if (Array.isArray(v)) {
      // Pushed one by one: `slice` of a frozen array takes V8's slow path (~0.1 µs for the shared empty
      // list, ~0.5 µs for three items, against ~0.01 and ~0.03 µs this way; a flannel addNode copies the
      // shared rule and peer-set lists so).
      const a: unknown[] = [];
      for (let i = 0; i < v.length; i++) a.push(v[i]);
      copy = a as T[K];
    } else {
      // A dictionary stays one (util/dict.ts): the empty tables are.
      const o: Record<string, unknown> = Object.getPrototypeOf(v) === null ? dict() : {};
      for (const k in v) o[k] = (v as Record<string, unknown>)[k];
      copy = o as T[K];
    }
    parent[key] = copy;
    return copy;
  }
  if (v === null || typeof v !== 'object') return v;
  // A plain copy of a previous state's namespace (a node's host, hostToWrite) holds that state's parts:
  // copied on write (util/immer.ts tableToWrite), as a frozen one is above.
  if (!plainList && !isDraftHere(parent) && baseField(parent, key) === v) return tableToWrite(parent as T & object, key as K & string);
  // A dictionary draft (a table) is copied the faster way (util/immer.ts dictDraft).
  return dictDraft(v);
}

/** Who owns an address configured in a namespace. */
export function ownerOf(nsId: NsId, dev: string, nodeEth0: boolean): IpOwner {
  if (nsId === UNDERLAY_NS) return { kind: 'router', name: 'underlay', ns: nsId, dev };
  if (nsId.startsWith('pod/')) return { kind: 'pod', name: podKeyIn(nsId), ns: nsId, dev };
  const node = nsId.slice(5);
  return nodeEth0 ? { kind: 'node', name: node, ns: nsId, dev } : { kind: 'gateway', name: `${node}/${dev}`, ns: nsId, dev };
}

/**
 * The pod key a pod namespace's id names (`pod/<key>`): the key of the pod whose ADD or DEL the action list
 * applies ({@link applyActionsToDraft}'s `pod`) when the id is that pod's, else the id cut. The owner the IP
 * index keeps of a pod's address holds the pod's own key string, not a copy made per address (a sliced string
 * that a built cluster kept per pod, and the young-generation GC copied twice on its way to the old one).
 */
function podKeyIn(nsId: NsId): string {
  const key = listNs.pod;
  return key !== null && nsId.length === key.length + 4 && nsId.endsWith(key) ? key : nsId.slice(4);
}

const NO_OWNERS: readonly IpOwner[] = Object.freeze([]);

function indexAddr(d: DState, nsId: NsId, link: Link, ip: number): void {
  const key = String(ip);
  const index = ipIndexToWrite(d);
  // On plain data (a build) a lookup is all there is: shardPeek asks each level whether it is a draft.
  const owners = plainList ? shardGet(index, key) ?? NO_OWNERS : snapshot(shardPeek(index, key) ?? NO_OWNERS);
  shardSet(index, key, withItem(owners, ownerOf(nsId, link.name, link.kind === 'physical')));
}

/**
 * The cluster's IP index, to set and delete keys in: in a transition that has not drafted it, a plain copy
 * of its first level (util/immer.ts tableToWrite), whose tops and leaves util/shards.ts copies on write as it
 * does under a draft; its values (owner lists) are only ever replaced. Through the state's draft the first
 * level was an immer proxy (a finalisation callback, a revocation) on every pod add and delete.
 */
function ipIndexToWrite(d: DState): Shards<readonly IpOwner[]> {
  return tableToWrite(d as ClusterState, 'ipIndex');
}


/**
 * A copy of a list with one more item, at its exact size: a push, or a spread with an element, reserves
 * ~17 slots, which a built cluster keeps in every pod's address and route lists and IP index entries. A
 * list of up to three items (the usual: an empty one, often the shared frozen one, a pod's first route or
 * address) gives a literal, which is packed and exact too: `concat` is a generic builtin, ~250 ns for a
 * short list where the literal takes ~40 (Node 20, micro-benchmark); it was half of a `route add`'s list work.
 */
function withItem<T>(list: readonly T[], item: T): T[] {
  switch (list.length) {
    case 0: return [item];
    case 1: return [list[0]!, item];
    case 2: return [list[0]!, list[1]!, item];
    case 3: return [list[0]!, list[1]!, list[2]!, item];
    default: return list.concat([item]);
  }
}

/**
 * What `route add` of a route to a shared (frozen) list gives, remembered per list: every pod of a node
 * adds the same routes to the same empty table (flannel's pod CIDR and default route via the node's
 * gateway), so its pods share one frozen list and its frozen routes instead of keeping three objects
 * each. Only frozen lists are keys: a list a transition may still change in place (a `writable` copy)
 * could then stand for other routes. The answer is the same list of equal routes `withItem` would give.
 * The last {@link ROUTE_MEMO} answers are kept per list, the latest first: with one, pods added in turn on
 * different nodes (a property run's, a scheduler's spread) each missed it (every node's gateway differs),
 * and made and froze two lists and a route each.
 */
const routeLists = new YoungWeakMap<readonly Route[], { readonly route: Route; readonly list: readonly Route[] }[]>();
const ROUTE_MEMO = 8;

function withRoute(list: readonly Route[], route: Route): readonly Route[] {
  if (!Object.isFrozen(list) || isDraftHere(list)) return withItem(list, route);
  let memo = routeLists.get(list);
  if (memo !== undefined) {
    for (let i = 0; i < memo.length; i++) if (sameRoute(memo[i]!.route, route)) return memo[i]!.list;
  } else routeLists.set(list, (memo = []));
  const next = Object.freeze(withItem(list, Object.freeze(route)));
  if (memo.length === ROUTE_MEMO) memo.pop();
  memo.unshift({ route, list: next });
  return next;
}

/**
 * Two routes with the same fields: the same destination, and every other field the same value (a field
 * added to Route later is compared too; one holding an object never matches, which only forgoes sharing).
 */
function sameRoute(a: Route, b: Route): boolean {
  if (a.dst.addr !== b.dst.addr || a.dst.len !== b.dst.len) return false;
  let fields = 0;
  for (const k in a) {
    fields += 1;
    if (k !== 'dst' && a[k as keyof Route] !== b[k as keyof Route]) return false;
  }
  for (const _ in b) fields -= 1;
  return fields === 0;
}

function unindexAddr(d: DState, nsId: NsId, dev: string, ip: number): void {
  const key = String(ip);
  const owners = shardPeek(look(d as ClusterState, 'ipIndex'), key);
  if (!owners) return;
  const index = ipIndexToWrite(d);
  const rest = snapshot(owners).filter((o) => !(o.ns === nsId && o.dev === dev));
  if (rest.length) shardSet(index, key, rest);
  else shardDelete(index, key);
}

/** Removes a whole namespace's addresses from the IP index (used when a pod or node goes away). */
export function unindexNs(d: DState, ns: NetNs): void {
  for (const l of Object.values(peek(ns, 'links'))) for (const a of l.addrs) if (a.scope === 'global') unindexAddr(d, ns.id, l.name, a.ip);
}

/** Adds a whole namespace's addresses to the IP index. */
export function indexNs(d: DState, ns: NetNs): void {
  for (const l of Object.values(peek(ns, 'links'))) for (const a of l.addrs) if (a.scope === 'global') indexAddr(d, ns.id, l, a.ip);
}

function newLink(ns: DNs, fields: Omit<Link, 'ifindex' | 'addrs' | 'master' | 'mac' | 'up' | 'mtu'> & { mac?: string | undefined; mtu?: number | undefined; up?: boolean | undefined; master?: string | undefined }): Link {
  // `fields` is a fresh literal built by applyOne: complete it in place rather than copying it.
  const ifindex = field(ns, 'nextIfindex');
  put(ns, 'nextIfindex', ifindex + 1);
  const l = fields as { -readonly [K in keyof Link]: unknown } & Record<string, unknown>;
  l.ifindex = ifindex;
  l.mtu = fields.mtu === undefined ? 1500 : checkMtu(fields.mtu);
  l.mac = fields.mac === undefined ? macFromSeed(`${ns.id}|${fields.name}|${ifindex}`) : parseMac(fields.mac);
  l.up = fields.up ?? false;
  l.addrs = [];
  l.master = fields.master ?? null;
  return l as unknown as Link;
}

/**
 * A new veth end: {@link newLink}'s result, built as one literal (the same fields, in the same order):
 * completing a literal adds properties outside the object, one more allocation per link, and a built
 * cluster has two veth ends per pod.
 */
function newVeth(ns: DNs, name: string, mac: string | undefined, mtu: number | undefined, up: boolean | undefined, peer: { ns: NsId; name: string }): Link {
  const ifindex = field(ns, 'nextIfindex');
  put(ns, 'nextIfindex', ifindex + 1);
  const m = mtu === undefined ? 1500 : checkMtu(mtu);
  const hw = mac === undefined ? macFromSeed(`${ns.id}|${name}|${ifindex}`) : parseMac(mac);
  return { kind: 'veth', name, mac: hw, mtu: m, up: up ?? false, peer, ifindex, addrs: NO_ADDRS, master: null };
}

/** A new link's empty address list, shared (frozen): addr.add and addr.del replace the list, never change it. */
const NO_ADDRS: Link['addrs'] = Object.freeze([]);

function addLinkTo(ns: DNs, link: Link): void {
  if (Object.prototype.hasOwnProperty.call(look(ns as NetNs, 'links'), link.name)) {
    fail('LINK_EXISTS', `RTNETLINK answers: File exists (device "${link.name}" already exists in ${ns.id})`, { ns: ns.id, dev: link.name });
  }
  put(linksToWrite(ns), link.name, link);
  // A new device takes conf.default's redirect settings (the records hold the devices whose value is 0).
  const r = look(look(ns as NetNs, 'sysctl'), 'redirects');
  if (r !== undefined && (!r.sendDefault || !r.acceptDefault || Object.prototype.hasOwnProperty.call(r.send, link.name) || Object.prototype.hasOwnProperty.call(r.accept, link.name))) {
    const w = writable(writable(ns, 'sysctl'), 'redirects') as Draft<RedirectSysctls>;
    (writable(w, 'send') as Record<string, boolean>)[link.name] = r.sendDefault;
    (writable(w, 'accept') as Record<string, boolean>)[link.name] = r.acceptDefault;
  }
  inheritDefaults(ns, link.name);
}

function setMaster(ns: DNs, link: Draft<Link>, master: string | null): void {
  if (master !== null) {
    const br = getLink(ns, master);
    if (br.kind !== 'bridge') fail('NOT_A_BRIDGE', `"${master}" is a ${br.kind}, not a bridge`, { ns: ns.id, dev: master });
    if (link.kind === 'bridge' || link.name === master) fail('INVALID_ARGUMENT', `"${link.name}" cannot be a port of "${master}"`);
    if (!br.hadPorts) put(linkToWrite(ns, master) as Draft<Link> & { hadPorts?: boolean }, 'hadPorts', true);
    // The port's MAC becomes a local FDB entry of the bridge (bridge fdb shows it "master cni0 permanent").
    put(tableToWrite(ns, 'fdb') as Record<string, unknown>, `${master}|${link.mac}`, { dev: master, mac: link.mac, port: link.name, dst: null, permanent: true, local: true, updated: 0 });
  }
  if (link.master !== null && link.master !== master) {
    const old = link.master;
    // The port goes (br_del_if) and its flags with it: a port that joins again starts with hairpin off.
    if (link.hairpin === true) delete (link as { hairpin?: boolean }).hairpin;
    const fdb = look(ns as NetNs, 'fdb');
    for (const k in fdb) if (fdb[k]!.dev === old && fdb[k]!.port === link.name) delete (tableToWrite(ns, 'fdb') as Record<string, unknown>)[k];
  }
  const old = link.master;
  put(link, 'master', master);
  if (master !== null) bridgeMtuAutoAdjust(ns, master, link.mtu);
  if (old !== null && old !== master) bridgeMtuAutoAdjust(ns, old);
}

/**
 * A link.set's `hairpin`, checked before anything changes: a boolean, on a bridge port. Measured (kernel 6.18,
 * iproute2 6.1, scripts/hairpin-formats.sh): `bridge link set dev cni0 hairpin on` (the bridge itself) and
 * `… dev eth0 …` (no port) answer `RTNETLINK answers: Operation not supported`, as `ip link set dev cni0 type
 * bridge_slave hairpin on` does.
 */
function checkHairpin(ns: DNs, a: Extract<Action, { op: 'link.set' }>): void {
  if (typeof a.hairpin !== 'boolean') fail('INVALID_ARGUMENT', `link.set's hairpin is true or false, not ${shown(a.hairpin)}`, { ns: a.ns, dev: a.name });
  const l = getLink(ns, a.name);
  if (l.master === null) fail('INVALID_ARGUMENT', `RTNETLINK answers: Operation not supported (${a.name} is not a bridge port: hairpin mode is a setting of a port)`, { ns: a.ns, dev: a.name });
}

/**
 * The kernel's br_mtu_auto_adjust (net/bridge/br_if.c): unless its MTU was set by hand, a bridge takes the
 * smallest MTU of its ports whenever one joins, leaves or changes its MTU. Measured (kernel 6.18): a bridge
 * made with `mtu 1450` went to 1500 when a 1500 port joined, to 1400 when a port was set to 1400, back to
 * 1500 when that port went to 9000; after `ip link set cni0 mtu 1300` ports changed nothing. A bridge made with
 * an MTU keeps it until a port joins; once its last port leaves (deleted, or `nomaster`) it goes to 1500,
 * br_mtu_min's ETH_DATA_LEN for a bridge without ports (measured again, kernel 6.18: `mtu 1450`, a 1450 port
 * in and out → 1500; the kernel oracle's broken-overlapping-ipam generated #73 of seed 2811, a node whose pods
 * had all gone, sent 1500-byte packets through an empty cni0 where podnet said `message too long, mtu=1450`).
 */
export function bridgeMtuAutoAdjust(ns: DNs, bridge: string, joining?: number): void {
  const links = look(ns as NetNs, 'links');
  const br = links[bridge];
  if (br === undefined || br.kind !== 'bridge' || br.mtuSetByUser) return;
  // A port joining with the bridge's MTU changes nothing: the bridge is at its ports' smallest already (every
  // change of its ports comes through here), or has no other port. The common case (each pod's veth joining
  // cni0), without a walk over the namespace's links; one with a smaller MTU sets it at once.
  if (joining === br.mtu) return;
  if (joining !== undefined && joining < br.mtu) {
    put(linkToWrite(ns, bridge), 'mtu', joining);
    return;
  }
  let min = Infinity;
  for (const name in links) {
    const l = links[name]!;
    if (l.master === bridge && l.mtu < min) min = l.mtu;
  }
  // Called without a port left only when the last one went: no port, ETH_DATA_LEN.
  if (min === Infinity) min = ETH_DATA_LEN;
  if (min !== br.mtu) put(linkToWrite(ns, bridge), 'mtu', min);
}

/** The MTU of a bridge without ports once it had some (br_mtu_min's ETH_DATA_LEN). */
const ETH_DATA_LEN = 1500;

/** Routes leaving by `dev` are removed, as the kernel does when a device goes down or away (fib_sync_down_dev). */
function flushDev(d: DState, ns: DNs, dev: string, deleting = true): void {
  // Read as plain data and write only what changes: reading a draft's child copies its container.
  const plain = ns as NetNs;
  // Going down, a host-scope route stays (fib_sync_down_dev spares RT_SCOPE_NOWHERE nexthops unless the
  // device goes away), and is still used: measured, `10.9.7.0/24 dev d2 scope host` listed after `ip link set
  // d2 down`, `ip route get 10.9.7.1` → `10.9.7.1 dev d2 src …`, pings to it dropped (TX dropped on d2).
  const goes = (r: Route): boolean => r.dev === dev && (deleting || r.scope !== 'host');
  const routes = peek(plain, 'routes');
  if (routes.some(goes)) ns.routes = castDraft(routes.filter((r) => !goes(r)));
  const tables = peek(plain, 'tables');
  if (tables) {
    for (const t of Object.keys(tables)) {
      const list = snapshot(tables[t]!);
      if (list.some(goes)) (tableToWrite(plain, 'tables') as Record<string, Route[]>)[t] = list.filter((r) => !goes(r));
    }
  }
  const neigh = peek(plain, 'neigh');
  for (const k in neigh) if (neigh[k]!.dev === dev) delete (tableToWrite(ns, 'neigh') as Record<string, unknown>)[k];
  // A device going down takes the shared peer entries that refer to it along, like their routes.
  // The cluster's sets are only looked at (through the draft, `d.peerSets` was a draft of its own, never
  // written, on every pod deletion), and not at all when the namespace attaches none (a pod's).
  const refs = peek(plain, 'peerSets');
  if (refs.length === 0) return;
  const peerSets = look(d as ClusterState, 'peerSets');
  if (!refs.some((r) => peerSets[r.set]?.dev === dev)) return;
  // Deleted, the device takes all of them. Down, its FDB entries stay: a VXLAN device going down flushes
  // only the entries that are not permanent (vxlan_stop → vxlan_flush(vxlan, false)), and the agents' are.
  // Measured (kernel 6.18): after `ip link set flannel.1 down` (and up again) `bridge fdb show dev
  // flannel.1` still lists `… dst 192.168.1.12 self permanent`; the neighbours and routes on it are gone.
  // The reference stays, with the routes and neighbours of the entries there now hidden, so the agent's
  // later changes to the set still reach it: a node leaving takes its FDB entry (the kernel deletes one on a
  // device that is down), a node joining gets no route here, nor the neighbour and FDB entries flanneld takes
  // back when its route is refused (PeerSet.downIn, peersetPut).
  if (deleting) {
    ns.peerSets = castDraft(refs.filter((r) => peerSets[r.set]?.dev !== dev));
    return;
  }
  for (const ref of refs) {
    const set = peerSets[ref.set];
    if (set === undefined || set.dev !== dev || set.downIn?.includes(plain.id)) continue;
    put(entryToWrite(d as ClusterState, 'peerSets', ref.set) as PeerSet, 'downIn', [...(set.downIn ?? []), plain.id]);
  }
  ns.peerSets = castDraft(refs.map((ref) => {
    const set = peerSets[ref.set];
    if (set === undefined || set.dev !== dev) return ref;
    const hidden = [...(ref.hidden ?? [])];
    const hiddenNeigh = [...(ref.hiddenNeigh ?? [])];
    for (const e of shardValues(snap(set).entries)) {
      if (!refUses(ref, e.owner, e.group, false)) continue;
      if (!hidden.includes(e.owner)) hidden.push(e.owner);
      for (const n of e.neigh) if (!hiddenNeigh.includes(`${e.owner} ${n.ip}`)) hiddenNeigh.push(`${e.owner} ${n.ip}`);
    }
    return { ...ref, hidden, hiddenNeigh };
  }));
}

/** Parses and validates a route spec in a namespace, with the kernel's checks on the gateway. */
export function resolveRoute(state: ClusterState, ns: NetNs, spec: RouteSpec): Route {
  if (typeof spec.dst !== 'string') fail('INVALID_CIDR', `route destination ${shown(spec.dst)} is not a prefix`);
  const dst: Cidr = spec.dst === 'default' ? DEFAULT_DST : routeDst(spec.dst);
  const type = spec.type ?? 'unicast';
  if (!ROUTE_TYPES.includes(type)) fail('INVALID_ARGUMENT', `unknown route type "${type}"`);
  const via = spec.via === undefined ? null : parseIpv4(spec.via);
  const src = spec.src === undefined ? null : parseIpv4(spec.src);
  const metric = spec.metric ?? 0;
  if (!Number.isInteger(metric) || metric < 0) fail('INVALID_ARGUMENT', `metric ${shown(metric)} must be a non-negative integer`);
  let dev = spec.dev ?? null;
  if (type !== 'unicast') return { dst, via: null, dev: null, proto: spec.proto ?? 'boot', scope: 'global', src: null, onlink: false, metric, type };
  // A device that is down, as fib_create_info and fib_check_nh answer (measured, kernel 6.18: `d2` down with
  // 198.51.100.1/24 on it): `ip route add 10.9.0.0/24 dev d2` → `Error: Device for nexthop is not up.`;
  // `… via 198.51.100.2 dev d2 onlink` → `Error: Nexthop device is not up.`; `… via 198.51.100.2 dev d2`
  // → `Error: Nexthop has invalid gateway.` (the gateway check comes first, and the down device's prefix
  // route is gone); `… dev d2 scope host` is accepted (a host-scope nexthop is not checked, and stays when
  // its device goes down); `… via 198.51.100.2 dev d2 scope host` → `Error: Route with host scope can not
  // have a gateway.` whatever the device's state.
  // And an onlink gateway with a link scope: `… via 198.51.100.2 dev d2 scope link onlink` → `Error: Nexthop
  // has invalid scope.`, the first check of an onlink nexthop.
  const hostScope = spec.scope === 'host';
  if (hostScope && via !== null) fail('INVALID_ARGUMENT', `Error: Route with host scope can not have a gateway (${formatIpv4(via)} in ${ns.id})`, { ns: ns.id, via: formatIpv4(via) });
  if (via !== null && spec.onlink && spec.scope === 'link') fail('INVALID_ARGUMENT', `Error: Nexthop has invalid scope (an onlink gateway route is global, not scope link, in ${ns.id})`, { ns: ns.id, via: formatIpv4(via) });
  if (dev !== null && !getLink(ns, dev).up && !hostScope && (via === null || spec.onlink)) {
    fail('LINK_DOWN', `Error: ${via === null ? 'Device for nexthop' : 'Nexthop device'} is not up (${dev} in ${ns.id})`, { ns: ns.id, dev });
  }
  if (via !== null && !spec.onlink) {
    // The gateway must be directly reachable: a link-scope route (a connected subnet) on that device, in
    // the route's own table first, then anywhere (fib_check_nh_v4_gw falls back to a full lookup). With a
    // device given the lookup has it as flowi4_oif, which skips the routes of other devices (measured,
    // packages/cli/scripts/gateway-oif.sh: with `10.0.0.0/24 dev d2` prepended before d1's prefix route of
    // its 10.0.0.1/24, `ip route add 10.8.0.0/16 via 10.0.0.2 dev d1` is accepted through d1; without `dev`, through d2).
    const inTable = spec.table === undefined || spec.table === RT_TABLE_MAIN ? null : connectedIn(ns, ns.tables?.[spec.table] ?? [], via, dev);
    const r = inTable ?? (ns.peerSets.length === 0 || dev !== null ? connectedRoute(ns, via, dev) : null) ?? (ns.peerSets.length === 0 ? null : lookupRouteIn(state, ns, via, { linkScopeOnly: true, fresh: true }));
    if (r === null || (dev !== null && r.dev !== dev)) {
      fail('INVALID_GATEWAY', `Error: Nexthop has invalid gateway (${formatIpv4(via)} is not on a subnet of ${dev ?? 'any device'} in ${ns.id})`, { ns: ns.id, via: formatIpv4(via), dev });
    }
    dev = r.dev;
  }
  if (via !== null && spec.onlink && dev === null) fail('INVALID_ARGUMENT', 'an onlink route needs a device (dev)');
  if (dev === null) fail('INVALID_ARGUMENT', `route to ${formatCidr(dst)} needs a device or a gateway`);
  if (src !== null && !Object.values(peek(ns, 'links')).some((l) => l.addrs.some((a) => a.ip === src))) {
    fail('INVALID_ARGUMENT', `Error: Invalid prefsrc address (${formatIpv4(src)} is not configured in ${ns.id})`);
  }
  const scope = spec.scope ?? (via === null ? 'link' : 'global');
  if (spec.mtu !== undefined) checkMtu(spec.mtu);
  const route: Route = { dst, via, dev, proto: spec.proto ?? 'boot', scope, src, onlink: spec.onlink ?? false, metric, type };
  // A literal without a conditional spread: the spread made every route hold its fields outside the object.
  return spec.mtu === undefined ? route : { ...route, mtu: spec.mtu };
}

/**
 * A route's parsed destination: the last one parsed is handed out again for the same text, frozen (every
 * pod of a flannel cluster has a route to the cluster's pod CIDR: one object, not one per pod).
 */
function routeDst(text: string): Cidr {
  if (text !== lastDst.text) lastDst = { text, dst: Object.freeze(parseCidr(text)) };
  return lastDst.dst;
}
let lastDst: { readonly text: string | null; readonly dst: Cidr } = { text: null, dst: Object.freeze({ addr: 0, len: 0 }) };

/** The default route's destination, one frozen object for every route that has it (routes are immutable). */
const DEFAULT_DST: Cidr = Object.freeze({ addr: 0, len: 0 });

/**
 * The longest directly connected route (no gateway) holding `ip`, by a scan: what a nexthop check needs.
 * The namespace's routes come first, then the kernel's prefix routes of its addresses (the order
 * `[...routes, ...kernelRoutes(ns)]` has), scanned in place: building every prefix route of the namespace
 * for one look was a tenth of a pod's CNI ADD. Of a kernel route only its device is answered.
 */
function connectedRoute(ns: NetNs, ip: number, oif: string | null = null): Pick<Route, 'dev'> | null {
  let best: Pick<Route, 'dev'> | null = connectedIn(ns, look(ns, 'routes'), ip, oif);
  let bestLen = best === null ? -1 : (best as Route).dst.len;
  let bestMetric = best === null ? 0 : (best as Route).metric;
  const links = look(ns, 'links');
  for (const name in links) {
    const l = snap(links[name]!);
    if (oif !== null && l.name !== oif) continue;
    // Indexed loops here and in hasKernelRoute: a for…of made an iterator result per address (two route
    // adds per pod ADD scan the pod's links).
    const addrs = snap(l.addrs);
    for (let i = 0; i < addrs.length; i++) {
      const a = addrs[i]!;
      if (!givesPrefixRoute(l, a)) continue;
      // A kernel route: metric 0, on an up link; kept when longer, or as long with a lower metric.
      if (networkOf(ip, a.len) !== networkOf(a.ip, a.len)) continue;
      if (best === null || a.len > bestLen || (a.len === bestLen && 0 < bestMetric)) {
        best = { dev: l.name };
        bestLen = a.len;
        bestMetric = 0;
      }
    }
  }
  return best;
}

/** Whether the kernel holds a prefix route of `dst` at `metric` (one of {@link kernelRoutes}), scanned in place. */
function hasKernelRoute(ns: NetNs, dst: Cidr, metric: number): boolean {
  if (metric !== 0 || dst.len >= 32) return false;
  const links = look(ns, 'links');
  for (const name in links) {
    const l = snap(links[name]!);
    const addrs = snap(l.addrs);
    for (let i = 0; i < addrs.length; i++) {
      const a = addrs[i]!;
      if (a.len === dst.len && givesPrefixRoute(l, a) && networkOf(a.ip, a.len) === dst.addr) return true;
    }
  }
  return false;
}

function connectedIn(ns: NetNs, routes: readonly Route[], ip: number, oif: string | null = null): Route | null {
  let best: Route | null = null;
  // Read as plain data: through a namespace's draft `ns.links` drafts the table.
  const links = routes.length === 0 ? null : look(ns, 'links');
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (r.via !== null || r.type !== 'unicast' || r.dev === null || !links![r.dev]?.up) continue;
    if (oif !== null && r.dev !== oif) continue;
    if (((ip & maskOf(r.dst.len)) >>> 0) !== r.dst.addr) continue;
    if (best === null || r.dst.len > best.dst.len || (r.dst.len === best.dst.len && r.metric < best.metric)) best = r;
  }
  return best;
}

function sameRouteKey(a: Route, b: { dst: Cidr; metric: number }): boolean {
  return a.dst.addr === b.dst.addr && a.dst.len === b.dst.len && a.metric === b.metric;
}

/**
 * sysctl.set's value as the kernel takes it (proc_dointvec: model/sysctl.ts parseProcInt), else
 * INVALID_ARGUMENT (nothing written yet): what `sysctl -w` answers with "Invalid argument".
 */
function sysctlInt(key: string, value: unknown, min = -0x80000000): number {
  const v = typeof value === 'number' ? (Number.isInteger(value) ? value : null) : typeof value === 'string' ? parseProcInt(value) : null;
  if (v === null || v < min || v > 0x7fffffff) {
    fail('INVALID_ARGUMENT', `sysctl: setting key "${key}": Invalid argument (not an integer ${min} to 2147483647: "${shown(value)}")`, { key, value },
      'The kernel takes a C int in decimal, 0x hex or 0 octal, with no "+" and nothing after it but blanks (proc_dointvec); icmp_ratelimit no negative one.');
  }
  return v;
}

const ownKey = (o: object | undefined, k: string): boolean => o !== undefined && Object.prototype.hasOwnProperty.call(o, k);

/** Sets (or with `v` undefined, removes) Sysctls.conf[scope][name], the integer the plain fields cannot say. */
function setConf(ns: DNs, scope: string, name: DevconfName, v: number | undefined): void {
  const cur = look(look(ns as NetNs, 'sysctl'), 'conf');
  const mine: Partial<Record<DevconfName, number>> = ownKey(cur, scope) ? { ...cur![scope] } : {};
  if (mine[name] === v) return;
  if (v === undefined) delete mine[name];
  else mine[name] = v;
  const next: Record<string, Partial<Record<DevconfName, number>>> = {};
  for (const k in cur) if (ownKey(cur, k) && k !== scope) next[k] = cur[k]!;
  if (Object.keys(mine).length > 0) next[scope] = mine;
  const w = writable(ns, 'sysctl') as Draft<Sysctls>;
  if (Object.keys(next).length === 0) delete w.conf;
  else put(w, 'conf', next);
}

/**
 * Marks `name` of `dev` as copied from conf.default (on) or as the device's own (off): Sysctls.confCopied.
 * `name` null: every name of `dev` (the device is gone, or ipv4_devconf_setall made them all its own).
 */
function markCopied(ns: DNs, dev: string, name: DevconfName | null, on: boolean): void {
  const cur = look(look(ns as NetNs, 'sysctl'), 'confCopied');
  const was: readonly DevconfName[] = ownKey(cur, dev) ? cur![dev]! : [];
  const now = name === null ? [] : on ? (was.includes(name) ? was : [...was, name]) : was.filter((n) => n !== name);
  if (now.length === was.length) return;
  const next: Record<string, readonly DevconfName[]> = {};
  for (const k in cur) if (ownKey(cur, k) && k !== dev) next[k] = cur[k]!;
  if (now.length > 0) next[dev] = now;
  const w = writable(ns, 'sysctl') as Draft<Sysctls>;
  if (Object.keys(next).length === 0) delete w.confCopied;
  else put(w, 'confCopied', castDraft(next));
}

/**
 * Whether a device has its own `name`: written to it, or taken from default when it was made — not copied by
 * a write of default (Sysctls.confCopied), which devinet_copy_dflt_conf replaces again.
 */
function ownDevconf(s: Sysctls, dev: string, name: DevconfName): boolean {
  if (ownKey(s.confCopied, dev) && s.confCopied![dev]!.includes(name)) return false;
  if (ownKey(s.conf, dev) && s.conf![dev]![name] !== undefined) return true;
  if (name === 'proxy_arp') return ownKey(s.proxyArp, dev);
  if (name === 'send_redirects' || name === 'accept_redirects') return s.redirects !== undefined && ownKey(name === 'send_redirects' ? s.redirects.send : s.redirects.accept, dev);
  return name === 'promote_secondaries' && s.promoteSecondaries !== undefined && ownKey(s.promoteSecondaries.dev, dev);
}

/**
 * Writes net.ipv4.conf.SCOPE.NAME = v for SCOPE `default` or a device, or for `all` with a name other than
 * forwarding: the plain field where one says it (a boolean field holds "non-zero"), and the integer in
 * Sysctls.conf unless the field says it exactly (the CONF_ONLY names, which no field says: always there).
 */
function writeDevconf(ns: DNs, scope: string, name: DevconfName, v: number): void {
  const sys = writable(ns, 'sysctl') as Draft<Sysctls>;
  const on = v !== 0;
  let plain = v === 0 || v === 1;
  if (name === 'forwarding' || CONF_ONLY.has(name)) plain = false;
  else if (name === 'rp_filter') {
    if (scope === 'all') {
      sys.rpFilter = v <= 0 ? 0 : v === 1 ? 1 : 2;
      plain = v === 0 || v === 1 || v === 2;
    } else plain = false;
  } else if (name === 'proxy_arp') {
    if (scope === 'all' || scope === 'default') plain = false;
    else (writable(sys, 'proxyArp') as Record<string, boolean>)[scope] = on;
  } else if (name === 'promote_secondaries') {
    if (scope === 'default') plain = false;
    else {
      const was = sys.promoteSecondaries ?? { all: true, dev: {} };
      sys.promoteSecondaries = scope === 'all' ? { all: on, dev: was.dev } : { all: was.all, dev: { ...was.dev, [scope]: on } };
    }
  } else {
    if (sys.redirects === undefined) sys.redirects = { sendAll: true, sendDefault: true, send: {}, acceptAll: null, acceptDefault: true, accept: {} };
    const r = writable(sys, 'redirects') as Draft<RedirectSysctls>;
    const send = name === 'send_redirects';
    if (scope === 'all') {
      if (send) r.sendAll = on;
      else r.acceptAll = on;
    } else if (scope === 'default') {
      if (send) r.sendDefault = on;
      else r.acceptDefault = on;
    } else (writable(r, send ? 'send' : 'accept') as Record<string, boolean>)[scope] = on;
  }
  setConf(ns, scope, name, plain ? undefined : v);
}

function parseSysctl(ns: DNs, key: string, value: string | number): void {
  if (typeof key !== 'string') fail('INVALID_ARGUMENT', `sysctl.set: key must be a string, not ${typeof key}`, { key });
  const d = devconfKey(key);
  if (d !== null) {
    const v = sysctlInt(key, value);
    const { scope, name } = d;
    if (scope !== 'all' && scope !== 'default') getLink(ns, scope);
    const sys = look(ns as NetNs, 'sysctl');
    if (scope === 'all' && name === 'forwarding') {
      // devinet_sysctl_forward acts on a change only (measured: writing ip_forward=1 where it is 1 leaves a
      // device's forwarding 0); then inet_forward_change sets default's and every device's forwarding to it,
      // and all.accept_redirects to its opposite (measured: 0 after ip_forward=5, 1 after 0).
      if (devconfValue(sys, 'all', 'forwarding') === v) return;
      put(writable(ns, 'sysctl') as Draft<Sysctls>, 'ipForward', v !== 0);
      const conf = sys.conf;
      for (const sc in conf) if (ownKey(conf, sc) && conf[sc]!.forwarding !== undefined) setConf(ns, sc, 'forwarding', undefined);
      if (v !== 0 && v !== 1) setConf(ns, 'all', 'forwarding', v);
      const r = sys.redirects;
      if (r !== undefined && r.acceptAll !== null) put(writable(writable(ns, 'sysctl'), 'redirects') as Draft<RedirectSysctls>, 'acceptAll', null);
      return;
    }
    writeDevconf(ns, scope, name, v);
    if (scope !== 'all' && scope !== 'default') markCopied(ns, scope, name, false);
    if (scope === 'default' && defaultCopiesToDevices(name)) {
      // devinet_copy_dflt_conf: to each device that never set its own — one that ever had an IPv4 address has
      // (ipv4_devconf_setall); podnet asks whether it has one now (measured: lo and an addressed d1 keep 0).
      // The copy leaves the device's "set" bit clear: the next write of default reaches it again
      // (conf-default-formats.sh case (c)).
      const links = look(ns as NetNs, 'links');
      for (const dev in links) {
        if (links[dev]!.addrs.length > 0 || ownDevconf(look(ns as NetNs, 'sysctl'), dev, name)) continue;
        writeDevconf(ns, dev, name, v);
        markCopied(ns, dev, name, true);
      }
    }
    return;
  }
  if (key === 'net.ipv4.icmp_ratelimit' || key === 'net.ipv4.icmp_ratemask') {
    // proc_dointvec_ms_jiffies refuses a negative ratelimit (measured: -5 is Invalid argument); the mask
    // is a plain int (-5 is taken).
    const v = sysctlInt(key, value, key === 'net.ipv4.icmp_ratelimit' ? 0 : -0x80000000);
    const sys = writable(ns, 'sysctl') as Draft<Sysctls>;
    if (key === 'net.ipv4.icmp_ratelimit') sys.icmpRatelimit = v;
    else sys.icmpRatemask = v;
    return;
  }
  if (key === 'net.ipv4.icmp_echo_ignore_broadcasts') {
    // proc_dou8vec_minmax, 0..1: any other value is Invalid argument (measured, bcast-formats.txt (i)).
    const v = sysctlInt(key, value);
    if (v !== 0 && v !== 1) fail('INVALID_ARGUMENT', `sysctl: setting key "${key}": Invalid argument (${shown(value)}: 0 or 1)`, { key, value });
    (writable(ns, 'sysctl') as Draft<Sysctls>).icmpEchoIgnoreBroadcasts = v === 1;
    return;
  }
  if (key === 'net.bridge.bridge-nf-call-iptables') {
    // brnf_sysctl_call_tables stores 1 for any non-zero int (measured: 5 and -1 read back 1).
    (writable(ns, 'sysctl') as Draft<Sysctls>).bridgeNfCallIptables = sysctlInt(key, value) !== 0;
    return;
  }
  fail('UNSUPPORTED', `sysctl: cannot stat /proc/sys/${key.replaceAll('.', '/')}: podnet models net.ipv4.ip_forward, net.ipv4.conf.{all,default,<dev>}.{${DEVCONF_NAMES.join(',')}}, net.ipv4.icmp_ratelimit, net.ipv4.icmp_ratemask, net.ipv4.icmp_echo_ignore_broadcasts and net.bridge.bridge-nf-call-iptables`, { key });
}

/** A new device takes conf.default's integers that Sysctls.conf holds (its redirect fields: addLinkTo). */
function inheritDefaults(ns: DNs, dev: string): void {
  const conf = look(look(ns as NetNs, 'sysctl'), 'conf');
  const dflt = ownKey(conf, 'default') ? conf!['default']! : undefined;
  for (const name of DEVCONF_NAMES) if (dflt?.[name] !== undefined) writeDevconf(ns, dev, name, dflt[name]!);
}

/** Each table's built-in chains, as iptables lists them. */
export const NF_BASE_CHAINS: Readonly<Record<'nat' | 'filter', readonly NfChain[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};
const NAT_TARGETS: readonly string[] = ['MASQUERADE', 'SNAT', 'DNAT', 'ACCEPT', 'RETURN', 'JUMP'];
const FILTER_TARGETS: readonly string[] = ['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'JUMP'];
/** A hook as a bit ({@link checkChainGraph}). */
const HOOK_BITS: Readonly<Record<NfChain, number>> = { PREROUTING: 1, INPUT: 2, FORWARD: 4, OUTPUT: 8, POSTROUTING: 16 };
/** The hooks a nat target may act in, as bits (the kernel refuses a rule that would let it act in another: measured). */
const NAT_HOOK_BITS: Readonly<Record<string, number>> = { MASQUERADE: HOOK_BITS.POSTROUTING, SNAT: HOOK_BITS.POSTROUTING | HOOK_BITS.INPUT, DNAT: HOOK_BITS.PREROUTING | HOOK_BITS.OUTPUT };
/** Names a chain of one's own may not take: iptables' targets (`chain name may not clash with target name`). */
const TARGET_NAMES: readonly string[] = ['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'QUEUE', 'MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT', 'MARK', 'LOG', 'CONNMARK', 'NOTRACK', 'CT', 'TPROXY', 'TRACE'];
/** The longest chain name (XT_EXTENSION_MAXNAMELEN less its NUL: "must be under 29 chars"). */
const MAX_CHAIN_NAME = 28;
const NFT = 'iptables v1.8.9 (nf_tables)';
const ROUTE_TYPES: readonly string[] = ['unicast', 'blackhole', 'unreachable', 'prohibit'];

/** The chains of `ns`'s `table` of its own (`iptables -N`), in the order they were made. */
export function ownChains(ns: NetNs, table: 'nat' | 'filter'): string[] {
  const out: string[] = [];
  for (const c of look(ns, 'nfChains')) if (c.startsWith(`${table} `)) out.push(c.slice(table.length + 1));
  return out;
}

const isBase = (table: 'nat' | 'filter', chain: string): boolean => (NF_BASE_CHAINS[table] as readonly string[]).includes(chain);

/**
 * Whether `ns` has a chain of its own named `chain` in `table` (null: any). Compared in place: a `TABLE NAME`
 * key made for each rule was most of a flannel node's rule checks.
 */
function hasOwn(ns: NetNs, table: 'nat' | 'filter', chain: string | null): boolean {
  const list = look(ns, 'nfChains');
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c.length > table.length && c.charCodeAt(table.length) === 32 && c.startsWith(table) && (chain === null || (c.length === table.length + 1 + chain.length && c.endsWith(chain)))) return true;
  }
  return false;
}

/** Fails as iptables does unless `jump` names one of `ns`'s own chains of `table` (a built-in one cannot be jumped to). */
function needJumpTarget(ns: NetNs, table: 'nat' | 'filter', jump: unknown): void {
  if (typeof jump !== 'string' || isBase(table, jump) || !hasOwn(ns, table, jump)) {
    fail('CHAIN_NOT_FOUND', `${NFT}: Chain '${shown(jump)}' does not exist`, { table, chain: jump, jump: true });
  }
}

/** Fails as iptables does unless `chain` is one of `table`'s built-in chains or one of `ns`'s own there. */
function needChain(ns: NetNs, table: 'nat' | 'filter', chain: string): void {
  if (!isBase(table, chain) && !hasOwn(ns, table, chain)) {
    fail('CHAIN_NOT_FOUND', 'iptables: No chain/target/match by that name.', { table, chain });
  }
}

/**
 * What nf_tables checks when a rule is added, on `rules` (of `table`, the new one among them): no loop of
 * jumps reachable from a built-in chain (`Too many links`; a loop among chains no built-in chain reaches is
 * taken, measured), and no MASQUERADE, SNAT or DNAT reachable from a hook it may not act in (`Invalid
 * argument`). The error names the chain of the rule added, as the kernel's does.
 */
function checkChainGraph(existing: readonly NfRule[], added: NfRule, verb: 'APPEND' | 'INSERT' | 'REPLACE'): void {
  const { table, chain } = added;
  const jumps = new Map<string, string[]>();
  const jump = (r: NfRule): void => {
    if (r.table !== table || r.target !== 'JUMP') return;
    const l = jumps.get(r.chain);
    if (l === undefined) jumps.set(r.chain, [r.jump!]);
    else l.push(r.jump!);
  };
  for (const r of existing) jump(r);
  jump(added);
  // The hooks reaching each chain, as bits; a depth-first walk from each hook: a chain met again while it is
  // on the walk's path closes a loop.
  const hooks = new Map<string, number>();
  const onPath = new Set<string>();
  const walk = (c: string, bit: number): void => {
    if (onPath.has(c)) fail('CHAIN_IN_USE', `${NFT}:  RULE_${verb} failed (Too many links): rule in chain ${chain}`, { table, chain });
    const h = hooks.get(c) ?? 0;
    if ((h & bit) !== 0) return;
    hooks.set(c, h | bit);
    const next = jumps.get(c);
    if (next === undefined) return;
    onPath.add(c);
    for (const n of next) walk(n, bit);
    onPath.delete(c);
  };
  for (const base of NF_BASE_CHAINS[table]) walk(base, HOOK_BITS[base]);
  if (table !== 'nat') return;
  const judge = (r: NfRule): void => {
    const allowed = r.table === 'nat' ? NAT_HOOK_BITS[r.target] : undefined;
    if (allowed !== undefined && ((hooks.get(r.chain) ?? 0) & ~allowed) !== 0) fail('INVALID_ARGUMENT', `${NFT}:  RULE_${verb} failed (Invalid argument): rule in chain ${chain}`, { table, chain });
  };
  for (const r of existing) judge(r);
  judge(added);
}


function resolveRule(r: RuleSpec, ns: NetNs): NfRule {
  if (r === null || typeof r !== 'object') fail('INVALID_ARGUMENT', `an iptables rule must be an object, not ${shown(r)}`);
  if (r.table !== 'nat' && r.table !== 'filter') fail('INVALID_ARGUMENT', `iptables: unknown table "${shown(r.table)}"`);
  if (typeof r.chain !== 'string') fail('INVALID_ARGUMENT', `iptables: a rule's chain must be a name, not ${shown(r.chain)}`);
  needChain(ns, r.table, r.chain);
  const targets = r.table === 'nat' ? NAT_TARGETS : FILTER_TARGETS;
  if (!targets.includes(r.target)) fail('INVALID_ARGUMENT', `iptables: target ${shown(r.target)} is not valid in table ${r.table}`);
  if ((r.target === 'SNAT' || r.target === 'DNAT') && r.to === undefined) fail('INVALID_ARGUMENT', `iptables: ${r.target} needs --to`);
  if (r.target === 'JUMP') needJumpTarget(ns, r.table, r.jump);
  else if (r.jump !== undefined) fail('INVALID_ARGUMENT', `iptables: jump is only for target JUMP, not ${r.target}`);
  for (const dev of [r.inIf, r.outIf]) if (dev !== undefined) checkIfName(dev);
  if (r.protocol !== undefined && r.protocol !== 'icmp' && r.protocol !== 'udp' && r.protocol !== 'tcp') fail('INVALID_ARGUMENT', `iptables: protocol "${shown(r.protocol)}" is not modelled (icmp, udp and tcp are)`);
  // iptables takes --dport only after -p tcp or -p udp (the match extension of that protocol).
  if (r.dport !== undefined && (r.protocol === undefined || r.protocol === 'icmp' || !Number.isInteger(r.dport) || r.dport < 0 || r.dport > 65535)) fail('INVALID_ARGUMENT', `iptables: --dport ${shown(r.dport)} needs -p tcp or -p udp and a port from 0 to 65535`);
  if (r.comment !== undefined && (typeof r.comment !== 'string' || r.comment.length > 255)) fail('INVALID_ARGUMENT', 'iptables: COMMENT must be a string shorter than 256 characters');
  // Every field set, in one order: every rule has one hidden class, which the engine's matches() reads.
  const rule: NfRule = {
    table: r.table, chain: r.chain,
    src: r.src === undefined ? null : parseCidr(r.src, { strict: false }),
    dst: r.dst === undefined ? null : parseCidr(r.dst, { strict: false }),
    notDst: r.notDst === undefined ? null : parseCidr(r.notDst, { strict: false }),
    notSrc: r.notSrc === undefined ? null : parseCidr(r.notSrc, { strict: false }),
    mark: r.mark === undefined ? null : parseMark(r.mark),
    inIf: r.inIf ?? null, outIf: r.outIf ?? null, protocol: r.protocol ?? null, dport: r.dport ?? null,
    target: r.target, jump: r.jump ?? null, to: r.to === undefined ? null : parseIpv4(r.to), toPort: null, comment: r.comment ?? null,
  };
  return rule;
}

/** A mark match as iptables prints it: `0x1`, or `0x4000/0x4000` when the mask is not all ones. */
export function formatMark(m: { readonly value: number; readonly mask: number }): string {
  return `0x${m.value.toString(16)}${m.mask === 0xffffffff ? '' : `/0x${m.mask.toString(16)}`}`;
}

/** The {@link RuleSpec} that makes rule `r` (what a `rule.del` of it takes): its set fields only. */
export function ruleSpecOf(r: NfRule): RuleSpec {
  return {
    table: r.table, chain: r.chain, target: r.target,
    ...(r.src ? { src: formatCidr(r.src) } : {}), ...(r.notSrc ? { notSrc: formatCidr(r.notSrc) } : {}),
    ...(r.dst ? { dst: formatCidr(r.dst) } : {}), ...(r.notDst ? { notDst: formatCidr(r.notDst) } : {}),
    ...(r.inIf !== null ? { inIf: r.inIf } : {}), ...(r.outIf !== null ? { outIf: r.outIf } : {}),
    ...(r.protocol !== null ? { protocol: r.protocol } : {}), ...(r.dport !== null ? { dport: r.dport } : {}),
    ...(r.mark ? { mark: formatMark(r.mark) } : {}), ...(r.jump !== null ? { jump: r.jump } : {}),
    ...(r.to !== null ? { to: formatIpv4(r.to) } : {}), ...(r.comment !== null ? { comment: r.comment } : {}),
  };
}

/** {@link ruleKey} of each rule met: rules are immutable and shared between states, so each is keyed once. */
const ruleKeys = new YoungWeakMap<NfRule, string>();

/**
 * A rule's identity as `iptables -C` compares rules (every match, the target with its options, the comment):
 * two rules are the same rule when their keys are equal. See {@link ruleSpecKey} for a spec's.
 */
export function ruleKey(r: NfRule): string {
  let k = ruleKeys.get(r);
  if (k === undefined) {
    const c = (x: Cidr | null): string => (x === null ? '' : formatCidr(x));
    k = [r.table, r.chain, r.target, r.jump ?? '', c(r.src), c(r.notSrc), c(r.dst), c(r.notDst), r.inIf ?? '', r.outIf ?? '', r.protocol ?? '', r.dport ?? '', r.mark === null ? '' : formatMark(r.mark), r.to === null ? '' : formatIpv4(r.to), r.comment ?? ''].join('\u0000');
    ruleKeys.set(r, k);
  }
  return k;
}

/** The {@link ruleKey} of the rule `spec` makes. `spec` must be a valid rule spec (one a `rule.append` takes). */
export function ruleSpecKey(spec: RuleSpec): string {
  const cidr = (t: string | undefined): string | undefined => (t === undefined ? undefined : formatCidr(parseCidr(t, { strict: false })));
  return keyOfSpec({
    ...spec, src: cidr(spec.src), dst: cidr(spec.dst), notSrc: cidr(spec.notSrc), notDst: cidr(spec.notDst),
    mark: spec.mark === undefined ? undefined : formatMark(parseMark(spec.mark)), to: spec.to === undefined ? undefined : formatIpv4(parseIpv4(spec.to)),
  } as RuleSpec);
}

/** The fields of a spec in one order, unset ones empty. */
function keyOfSpec(s: RuleSpec): string {
  return [s.table, s.chain, s.target, s.jump, s.src, s.notSrc, s.dst, s.notDst, s.inIf, s.outIf, s.protocol, s.dport, s.mark, s.to, s.comment].map((v) => (v === undefined ? '' : String(v))).join('\u0000');
}

/** Whether rule `r` is the one `spec` makes, as `iptables -C` compares them ({@link ruleKey}). */
export function ruleIs(r: NfRule, spec: RuleSpec): boolean {
  return ruleKey(r) === ruleSpecKey(spec);
}

/**
 * `-m mark --mark VALUE[/MASK]`: numbers in decimal or 0x hex, 32 bits; the mask defaults to all ones.
 * Throws `INVALID_ARGUMENT` (`Bad MARK value`, as iptables words it) for anything else.
 */
export function parseMark(text: string): { value: number; mask: number } {
  const m = typeof text === 'string' ? /^(0x[0-9a-f]+|\d+)(?:\/(0x[0-9a-f]+|\d+))?$/i.exec(text) : null;
  const num = (t: string): number => Number(t);
  if (!m || num(m[1]!) > 0xffffffff || (m[2] !== undefined && num(m[2]) > 0xffffffff)) fail('INVALID_ARGUMENT', `${NFT}: Bad MARK value "${shown(text)}"`);
  const mask = m[2] === undefined ? 0xffffffff : num(m[2]);
  return { value: num(m[1]!) & mask, mask };
}

/** `iptables -N`, `-X`, `-F` on a chain of the namespace's own. */
function chainAction(d: DState, a: Extract<Action, { op: 'chain.new' | 'chain.del' | 'chain.flush' }>): void {
  const ns = draftNs(d, a.ns);
  if (a.table !== 'nat' && a.table !== 'filter') fail('INVALID_ARGUMENT', `iptables: unknown table "${shown(a.table)}"`);
  if (typeof a.chain !== 'string') fail('INVALID_ARGUMENT', `iptables: a chain is named by a string, not ${shown(a.chain)}`);
  const builtin = isBase(a.table, a.chain);
  if (a.op === 'chain.new') {
    if (builtin || hasOwn(ns as NetNs, a.table, a.chain)) fail('CHAIN_EXISTS', 'iptables: Chain already exists.', { table: a.table, chain: a.chain });
    if (a.chain.length > MAX_CHAIN_NAME) fail('INVALID_ARGUMENT', `${NFT}: chain name \`${a.chain}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
    if (a.chain.startsWith('-') || a.chain.startsWith('!')) fail('INVALID_ARGUMENT', `${NFT}: chain name not allowed to start with \`${a.chain[0]!}'`);
    if (a.chain === '' || /\s/.test(a.chain)) fail('INVALID_ARGUMENT', `${NFT}: chain name \`${a.chain}' is not allowed (it is empty or has whitespace)`);
    if (TARGET_NAMES.includes(a.chain)) fail('INVALID_ARGUMENT', 'iptables v1.8.9 (nf_tables): chain name may not clash with target name');
    put(ns as NetNs, 'nfChains', [...look(ns as NetNs, 'nfChains'), `${a.table} ${a.chain}`]);
    return;
  }
  if (!builtin && !hasOwn(ns as NetNs, a.table, a.chain)) fail('CHAIN_NOT_FOUND', 'iptables: No chain/target/match by that name.', { table: a.table, chain: a.chain });
  const rules = look(ns as NetNs, 'rules');
  if (a.op === 'chain.flush') {
    if (rules.some((r) => r.table === a.table && r.chain === a.chain)) put(ns as NetNs, 'rules', rules.filter((r) => r.table !== a.table || r.chain !== a.chain));
    return;
  }
  // A built-in chain is never deleted: the kernel answers as for a chain in use (measured: `iptables -X FORWARD`).
  if (builtin || rules.some((r) => r.table === a.table && (r.chain === a.chain || (r.target === 'JUMP' && r.jump === a.chain)))) {
    fail('CHAIN_IN_USE', `${NFT}:  CHAIN_DEL failed (Device or resource busy): chain ${a.chain}`, { table: a.table, chain: a.chain });
  }
  put(ns as NetNs, 'nfChains', look(ns as NetNs, 'nfChains').filter((c) => c !== `${a.table} ${a.chain}`));
}

/** `iptables -P`: measured, nf_tables' words for a chain that is not built in, a policy other than ACCEPT or DROP, DROP in nat. */
function chainPolicy(d: DState, a: Extract<Action, { op: 'chain.policy' }>): void {
  const ns = draftNs(d, a.ns);
  if (a.table !== 'nat' && a.table !== 'filter') fail('INVALID_ARGUMENT', `iptables: unknown table "${shown(a.table)}"`);
  if (typeof a.chain !== 'string' || !isBase(a.table, a.chain)) fail('CHAIN_NOT_FOUND', 'iptables: Bad built-in chain name.', { table: a.table, chain: a.chain });
  if (a.policy !== 'ACCEPT' && a.policy !== 'DROP') fail('INVALID_ARGUMENT', "iptables: Bad policy name. Run `dmesg' for more information.", { policy: a.policy });
  if (a.table === 'nat' && a.policy === 'DROP') fail('INVALID_ARGUMENT', `${NFT}: \nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.`);
  if (a.table === 'nat') return;
  const now = look(ns as NetNs, 'nfDropPolicy');
  const has = now.includes(a.chain);
  if (a.policy === 'DROP' && !has) put(ns as NetNs, 'nfDropPolicy', [...now, a.chain]);
  else if (a.policy === 'ACCEPT' && has) put(ns as NetNs, 'nfDropPolicy', now.filter((c) => c !== a.chain));
}

/** `conntrack -D` / `-F`: the entries the filter selects go; none selected, the namespace is left as it was. */
function conntrackDelete(d: DState, a: Extract<Action, { op: 'conntrack.delete' }>): void {
  const ns = draftNs(d, a.ns);
  if (a.protocol !== undefined && a.protocol !== 'icmp' && a.protocol !== 'udp' && a.protocol !== 'tcp') fail('INVALID_ARGUMENT', `conntrack: \`${shown(a.protocol)}' unsupported protocol`, { protocol: a.protocol });
  const prefix = (t: string): Cidr => (typeof t === 'string' && t.includes('/') ? parseCidr(t) : { addr: parseIpv4(t), len: 32 });
  const f: ConntrackFilter = {
    ...(a.protocol !== undefined ? { protocol: a.protocol === 'icmp' ? 1 : a.protocol === 'udp' ? 17 : 6 } : {}),
    ...(a.src !== undefined ? { src: prefix(a.src) } : {}),
    ...(a.dst !== undefined ? { dst: prefix(a.dst) } : {}),
    ...(a.srcNat !== undefined ? { srcNat: parseIpv4(a.srcNat) } : {}),
    ...(a.dstNat !== undefined ? { dstNat: parseIpv4(a.dstNat) } : {}),
  };
  const was = look(ns as NetNs, 'conntrack');
  const kept = was.filter((c) => !ctMatches(c, f));
  if (kept.length !== was.length) put(ns as NetNs, 'conntrack', kept);
}

/** A routing table number (`table N`): 1 to 2^32 − 1, main (254) by default; local (255) and 0 are the kernel's. */
function tableNumber(t: unknown): number {
  if (t === undefined) return RT_TABLE_MAIN;
  if (!Number.isInteger(t) || (t as number) < 1 || (t as number) > 0xffffffff || t === 255) fail('INVALID_ARGUMENT', `routing table ${shown(t)} must be an integer from 1 to 4294967295 other than 255 (local)`);
  return t as number;
}

/** A rule's `from`/`to`: a prefix without host bits, or a bare address (a /32); "all" or none is any. */
function ruleCidr(text: string | undefined): Cidr | null {
  if (text === undefined || text === 'all') return null;
  const c = parseCidr(text.includes('/') ? text : `${text}/32`);
  return c.len === 0 ? null : c;
}

/** Whether a rule's `from`/`to` is `want`; `undefined` (a selector not given) matches anything. */
function sameCidr(x: Cidr | null, want: Cidr | null | undefined): boolean {
  return want === undefined || (x === null ? want === null : want !== null && x.addr === want.addr && x.len === want.len);
}

/**
 * Applies one action. Each op's work is a function of its own: as one function of every op's body, this was
 * too large for V8 to inline what the hot ops call into it (TurboFan's inlining budget is per function),
 * and took ~0.4 s of a compiler thread to optimise. Split, a 2,000-node flannel bulk build cost ×0.93–0.985
 * (`pnpm ab --what=bulk`, in-process, both orders).
 */
function applyOne(d: DState, a: Action): void {
  checkActionShape(a);
  applyAction(d, a);
  // What can take a namespace's last route of a next hop away frees the route exceptions on it.
  if (a.op === 'route.del' || a.op === 'route.replace' || a.op === 'route.change' || a.op === 'route.flush' || a.op === 'addr.del' || a.op === 'addr.flush' || a.op === 'link.del' || (a.op === 'link.set' && a.up === false)) {
    if (goneNs.gone === null || a.ns !== goneNs.gone.plain.id) pruneExceptions(d, draftNs(d, a.ns));
  }
}

/**
 * Drops the route exceptions (path MTUs, redirects) of a namespace whose next hop no route there has any more:
 * the kernel frees a fib_info, and the exceptions on its nexthop, with the last route using it. Measured
 * (kernel 6.18, `pnk30-…`, a path MTU of 1400 and a redirect learnt through `default via 10.0.0.1 dev eth0`):
 * gone after `ip route del default; ip route add default via 10.0.0.1`, after `ip route replace default via
 * 10.0.0.1 proto static` (also once replaced back), after `… mtu 1450`, and after `ip link set eth0 down; up`;
 * kept through `ip route replace default via 10.0.0.1` (the same next hop), and through `ip route del
 * default` while `10.1.0.0/24 via 10.0.0.1` (the same next hop) was there, `ip route get` showing them again
 * once the default was back.
 */
function pruneExceptions(d: DState, ns: DNs): void {
  const pm = look(ns as NetNs, 'pmtu');
  let hanging = false;
  for (const k in pm) if (pm[k]!.nh !== undefined) { hanging = true; break; }
  if (!hanging) return;
  const plain = snap(ns as NetNs);
  const held = new Set<string>();
  for (const r of snap(look(plain, 'routes'))) held.add(nexthopKey(r));
  const tables = look(plain, 'tables');
  if (tables) for (const t in tables) for (const r of snap(tables[t]!)) held.add(nexthopKey(r));
  for (const r of kernelRoutes(plain)) held.add(nexthopKey(r));
  const sets = look(d as ClusterState, 'peerSets');
  for (const ref of look(plain, 'peerSets')) {
    const set = sets[ref.set];
    if (set === undefined) continue;
    for (const e of shardValues(snap(set).entries)) if (refUses(ref, e.owner, e.group)) for (const r of e.routes) held.add(nexthopKey(routeVia(r, ref.via)));
  }
  const kept: Record<string, RouteException> = {};
  let dropped = false;
  for (const k in pm) {
    const e = pm[k]!;
    if (e.nh === undefined || held.has(e.nh)) kept[k] = e;
    else dropped = true;
  }
  if (dropped) put(ns as NetNs, 'pmtu', kept);
}

function applyAction(d: DState, a: Action): void {
  switch (a.op) {
    case 'link.add':
      return linkAdd(d, a);
    case 'link.del':
      return linkDel(d, a);
    case 'link.set':
      linkSet(d, a);
      if (a.up === false) settleAfterPrefix(draftNs(d, a.ns));
      return;
    case 'addr.add':
      return addrAdd(d, a);
    case 'addr.del':
      return addrDel(d, a);
    case 'addr.replace':
    case 'addr.change':
      return addrReplace(d, a);
    case 'addr.flush':
      return addrFlush(d, a);
    case 'route.add':
    case 'route.replace':
    case 'route.append':
    case 'route.prepend':
    case 'route.change':
      return routeAdd(d, a);
    case 'route.del':
      routeDel(d, a);
      settleAfterPrefix(draftNs(d, a.ns));
      return;
    case 'route.flush':
      return routeFlush(d, a);
    case 'route.flushCache':
      return routeFlushCache(d, a);
    case 'route.cacheException':
      return routeCacheException(d, a);
    case 'iprule.add':
      return ipRuleAdd(d, a);
    case 'iprule.del':
      return ipRuleDel(d, a);
    case 'neigh.add':
    case 'neigh.replace':
      return neighAdd(d, a);
    case 'neigh.del':
      return neighDel(d, a);
    case 'neigh.flush':
      return neighFlush(d, a);
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
      return fdbAdd(d, a);
    case 'fdb.del':
      return fdbDel(d, a);
    case 'fdb.flush':
      return fdbFlush(d, a);
    case 'sysctl.set':
      parseSysctl(draftNs(d, a.ns), a.key, a.value);
      return;
    case 'rule.append':
    case 'rule.insert':
    case 'rule.replace':
    case 'rule.del':
      return ruleAction(d, a);
    case 'chain.new':
    case 'chain.del':
    case 'chain.flush':
      return chainAction(d, a);
    case 'chain.policy':
      return chainPolicy(d, a);
    case 'listen':
      return listen(d, a);
    case 'conntrack.delete':
      return conntrackDelete(d, a);
    case 'peerset.put':
      return peersetPut(d, a);
    case 'peerset.del':
      return peersetDel(d, a);
    case 'peerset.restore':
      return peersetRestore(d, a);
    case 'peerset.attach':
      return peersetAttach(d, a);
    case 'tc.attach':
    case 'tc.detach':
      return tcAction(d, a);
    case 'bpf.map.update':
    case 'bpf.map.delete':
      return bpfMapAction(d, a);
    case 'vpc.assign':
      return vpcAssign(d, a);
    case 'vpc.unassign':
      return vpcUnassign(d, a);
    default:
      fail('INVALID_ARGUMENT', `unknown action op "${shown((a as { op: unknown }).op)}"`);
  }
}

function linkAdd(d: DState, a: Extract<Action, { op: 'link.add' }>): void {
  const ns = draftNs(d, a.ns);
  checkIfName(a.name);
  // The link added to `ns` (the object put there, which its draft hands back too).
  let link: Link;
  if (a.kind === 'veth') {
    if (!a.peer) fail('INVALID_ARGUMENT', 'a veth needs a peer ({ ns, name })');
    checkIfName(a.peer.name);
    const peerNs = draftNs(d, a.peer.ns);
    if (peerNs === ns && a.peer.name === a.name) fail('LINK_EXISTS', `veth peer name equals "${a.name}"`);
    link = newVeth(ns, a.name, a.mac, a.mtu, a.up, { ns: a.peer.ns, name: a.peer.name });
    addLinkTo(ns, link);
    addLinkTo(peerNs, newVeth(peerNs, a.peer.name, a.peer.mac, a.peer.mtu ?? a.mtu, a.peer.up, { ns: a.ns, name: a.name }));
  } else if (a.kind === 'bridge') {
    link = newLink(ns, { kind: 'bridge', name: a.name, mac: a.mac, mtu: a.mtu, up: a.up });
    addLinkTo(ns, link);
    put(tableToWrite(ns, 'fdb') as Record<string, unknown>, `${a.name}|${link.mac}`, ownFdbEntry(a.name, link.mac));
  } else if (a.kind === 'vxlan') {
    const v = a.vxlan;
    if (!v) fail('INVALID_ARGUMENT', 'a vxlan link needs { vni, local, dstPort, dev, learning }');
    if (!Number.isInteger(v.vni) || v.vni < 0 || v.vni > 0xffffff) fail('INVALID_ARGUMENT', `VNI ${shown(v.vni)} is out of range (0 to 16777215)`);
    if (!Number.isInteger(v.dstPort) || v.dstPort < 1 || v.dstPort > 65535) fail('INVALID_ARGUMENT', `dstport ${shown(v.dstPort)} is out of range`);
    getLink(ns, v.dev);
    const fields: Record<string, unknown> = { kind: 'vxlan', name: a.name, mac: a.mac, mtu: a.mtu, up: a.up, vni: v.vni, local: parseIpv4(v.local), dstPort: v.dstPort, dev: v.dev, learning: v.learning };
    if (v.external) fields['external'] = true; // not a conditional spread: that copied the literal slowly
    link = newLink(ns, fields as never);
    addLinkTo(ns, link);
  } else if (a.kind === 'ipip') {
    link = newLink(ns, { kind: 'ipip', name: a.name, mac: '00:00:00:00:00:00', mtu: a.mtu ?? 1480, up: a.up, local: a.ipip?.local ? parseIpv4(a.ipip.local) : null } as never);
    addLinkTo(ns, link);
  } else {
    return fail('UNSUPPORTED', `link type "${shown((a as { kind: unknown }).kind)}" is not modelled (bridge, veth, vxlan, ipip are)`);
  }
  if (a.master !== undefined) setMaster(ns, link as Draft<Link>, a.master);
}

/** A bridge's own MAC in its FDB (`bridge fdb` lists it `… dev cni0 master cni0 permanent`): frames to it go up. */
function ownFdbEntry(bridge: string, mac: Mac): FdbEntry {
  return { dev: bridge, mac, port: null, dst: null, permanent: true, local: true, updated: 0 };
}

function linkDel(d: DState, a: Extract<Action, { op: 'link.del' }>): void {
  const ns = nsToLook(d, a.ns);
  const link = getLink(ns, a.name);
  if (link.kind === 'loopback' || link.kind === 'physical') fail('UNSUPPORTED', `Operation not supported: cannot delete ${link.kind} device "${a.name}"`);
  // tunl0 is the ipip module's fallback device (one in every namespace while the module is loaded): the
  // kernel's ip_tunnel_dellink skips it (`itn->fb_tunnel_dev != dev`) and RTM_DELLINK still answers success, so
  // `ip link del tunl0` exits 0 and changes nothing (net/ipv4/ip_tunnel.c; read, not measured here).
  if (link.kind === 'ipip' && a.name === 'tunl0') return;
  dropOrNote(d, ns, link);
  if (link.kind === 'veth') {
    // Deleting one end of a veth pair deletes the other (the pair is one object in the kernel).
    // The peer is read as plain data: through `peerNs.links` it, and its address list, became drafts
    // that nothing writes (drop deletes the link from its namespace, it does not change it).
    const peerNs = nsToLook(d, link.peer.ns);
    const peerLinks = look(peerNs as NetNs, 'links');
    const peer = Object.prototype.hasOwnProperty.call(peerLinks, link.peer.name) ? peerLinks[link.peer.name] : undefined;
    if (peer) dropOrNote(d, peerNs, snap(peer));
  }
}

/** {@link dropLink}, or in the {@link goneNs} (as {@link nsToLook} gave it: nothing pending before) only noted. */
function dropOrNote(d: DState, n: DNs, l: Link): void {
  if (goneNs.gone !== null && n.id === goneNs.gone.plain.id) goneNs.pending.push(l.name);
  else dropLink(d, n, l);
}

/** A link `l` (plain) leaves namespace `n`: its addresses, the routes, neighbours and FDB entries on it, its ports' master. */
function dropLink(d: DState, n: DNs, l: Link): void {
  for (const ad of l.addrs) unindexAddr(d, n.id, l.name, ad.ip);
  flushDev(d, n, l.name);
  // Looked at as plain data: `n.fdb` made a draft of a table that has nothing to delete (a pod's).
  const fdb = look(n as NetNs, 'fdb');
  for (const k in fdb) if (fdb[k]!.dev === l.name || fdb[k]!.port === l.name) delete (tableToWrite(n, 'fdb') as Record<string, unknown>)[k];
  const links = look(n as NetNs, 'links');
  for (const name in links) if (links[name]!.master === l.name) put(linkToWrite(n, name), 'master', null);
  delete linksToWrite(n)[l.name];
  // Its conf.<dev> redirect settings go with it (a device made later under that name takes conf.default's).
  const r = look(look(n as NetNs, 'sysctl'), 'redirects');
  if (r !== undefined && (Object.prototype.hasOwnProperty.call(r.send, l.name) || Object.prototype.hasOwnProperty.call(r.accept, l.name))) {
    const w = writable(writable(n, 'sysctl'), 'redirects') as Draft<RedirectSysctls>;
    delete (writable(w, 'send') as Record<string, boolean>)[l.name];
    delete (writable(w, 'accept') as Record<string, boolean>)[l.name];
  }
  // And the rest of /proc/sys/net/ipv4/conf/<dev> (a device made later under that name takes conf.default's).
  const sys = look(n as NetNs, 'sysctl');
  if (ownKey(sys.conf, l.name)) for (const name of DEVCONF_NAMES) setConf(n, l.name, name, undefined);
  markCopied(n, l.name, null, false);
  if (ownKey(sys.proxyArp, l.name)) delete (writable(writable(n, 'sysctl'), 'proxyArp') as Record<string, boolean>)[l.name];
  const ps = sys.promoteSecondaries;
  if (ps !== undefined && ownKey(ps.dev, l.name)) {
    const { [l.name]: _gone, ...dev } = ps.dev;
    put(writable(n, 'sysctl') as Draft<Sysctls>, 'promoteSecondaries', { all: ps.all, dev });
  }
  // A port leaving its bridge (br_del_if): the bridge's MTU follows the ports that are left.
  if (l.master !== null) bridgeMtuAutoAdjust(n, l.master);
}

function linkSet(d: DState, a: Extract<Action, { op: 'link.set' }>): void {
  const ns = draftNs(d, a.ns);
  if (a.hairpin !== undefined) checkHairpin(ns, a);
  const link = draftLink(ns, a.name);
  if (a.hairpin === true && link.hairpin !== true) put(link, 'hairpin', true);
  else if (a.hairpin === false && link.hairpin === true) delete (link as { hairpin?: boolean }).hairpin;
  if (a.mtu !== undefined) {
    checkMtu(a.mtu);
    // A VXLAN device takes at most its underlay device's MTU less the 50 bytes it adds (vxlan_change_mtu).
    // Measured over a 1500 eth0: `ip link set flannel.1 mtu 1450` accepted, 1451 and 9000 refused with
    // `RTNETLINK answers: Invalid argument`; once eth0 was 9000, 8950 was accepted (and stayed when eth0
    // went back to 1500).
    if (link.kind === 'vxlan') {
      const lower = ns.links[link.dev];
      if (lower !== undefined && a.mtu > lower.mtu - 50) fail('INVALID_ARGUMENT', `RTNETLINK answers: Invalid argument (MTU ${a.mtu} on ${a.name}: at most ${lower.mtu - 50}, ${link.dev}'s ${lower.mtu} less the 50 bytes VXLAN adds)`, { ns: a.ns, dev: a.name, value: a.mtu });
    }
    link.mtu = a.mtu;
    if (link.kind === 'bridge') put(link as Draft<Link> & { mtuSetByUser?: boolean }, 'mtuSetByUser', true);
    else if (link.master !== null && a.master === undefined) bridgeMtuAutoAdjust(ns, link.master);
  }
  if (a.mac !== undefined) {
    const mac = parseMac(a.mac);
    // A bridge's own entry follows its address (br_fdb_change_mac_address): the old one goes if it is still
    // the bridge's, the new one comes. Measured: `ip link set cni0 address 26:9c:f5:29:3d:38` lists `26:9c:
    // f5:29:3d:38 dev cni0 master cni0 permanent`, also after the old entry was deleted by hand.
    if (link.kind === 'bridge' && mac !== link.mac) {
      const fdb = look(ns as NetNs, 'fdb');
      const old = fdb[`${a.name}|${link.mac}`];
      if (old !== undefined && old.local && old.port === null) delete (tableToWrite(ns, 'fdb') as Record<string, unknown>)[`${a.name}|${link.mac}`];
      if (fdb[`${a.name}|${mac}`] === undefined) put(tableToWrite(ns, 'fdb') as Record<string, unknown>, `${a.name}|${mac}`, ownFdbEntry(a.name, mac));
    }
    link.mac = mac;
  }
  if (a.master !== undefined) setMaster(ns, link, a.master);
  if (a.up !== undefined) {
    if (a.up === false && link.up) flushDev(d, ns, a.name, false);
    if (a.up && !link.up) {
      upAgain(d, ns, a.name);
      prefixRoutesAgain(ns, link);
    }
    link.up = a.up;
  }
}

/**
 * Device `dev` comes up: the kernel adds the prefix route of each of its addresses again (NETDEV_UP →
 * fib_add_ifaddr), also of one whose route was deleted or replaced while it was up, but not of one with
 * `noprefixroute` (IfAddr.noprefixrouteFlag). Measured (kernel 6.18, scripts/prefix-route-formats.sh): after
 * `ip route del 192.0.2.0/24 dev d1`, or `ip route replace 192.0.2.0/24 via 203.0.113.9 dev d2 onlink`, then
 * `ip link set d1 down; ip link set d1 up`, `ip route` lists `192.0.2.0/24 dev d1 proto kernel scope link src
 * 192.0.2.1` again, after the route through d2 (fib_magic appends: the route through d2 stays first and is
 * the one used); after `ip link set d2 down; up` (another device), or losing and regaining carrier, it stays
 * gone. A derived prefix route is listed after the added routes of its prefix and metric (lookupRouteIn,
 * allRoutes), which is the kernel's order here: the route through d2 was added before the prefix route came back.
 */
function prefixRoutesAgain(ns: DNs, link: Draft<Link>): void {
  const addrs = snap(look(link as Link, 'addrs'));
  if (addrs.length === 0) return;
  const plain = { ...snap(link as Link), up: true };
  let again: IfAddr[] | null = null;
  for (let j = 0; j < addrs.length; j++) {
    const x = snap(addrs[j]!);
    const y = withPrefixRouteBack(ns, plain, x);
    if (y === x) continue;
    // A new list with new addresses (the link's may be the previous state's, or shared), as route.del makes.
    again ??= addrs.map((z) => snap(z));
    again[j] = y;
  }
  if (again !== null) put(link, 'addrs', castDraft(again));
}

/**
 * Address `x` of the up link `plain` after fib_add_ifaddr ran for it (the link came up, or `x` was promoted from
 * secondary): its prefix route back unless it carries `noprefixroute`, after those of its prefix on the other
 * links (IfAddr.prefixOrder). `x` itself when nothing changes.
 */
function withPrefixRouteBack(ns: DNs, plain: Link, x: IfAddr): IfAddr {
  let y = x;
  if (x.noPrefixRoute === true && x.noprefixrouteFlag !== true) {
    const { noPrefixRoute: _, ...rest } = x;
    y = rest;
  }
  return givesPrefixRoute(plain, y) ? withPrefixOrder(ns, plain.name, y) : y;
}

/** Device `dev` of namespace `ns` comes up: the peer sets on it no longer note the namespace (PeerSet.downIn). */
function upAgain(d: DState, ns: DNs, dev: string): void {
  const id = (ns as NetNs).id;
  const peerSets = look(d as ClusterState, 'peerSets');
  for (const ref of look(ns as NetNs, 'peerSets')) {
    const set = peerSets[ref.set];
    if (set === undefined || set.dev !== dev || set.downIn?.includes(id) !== true) continue;
    const rest = set.downIn.filter((x) => x !== id);
    put(entryToWrite(d as ClusterState, 'peerSets', ref.set) as PeerSet, 'downIn', rest.length === 0 ? undefined : rest);
  }
}

function addrAdd(d: DState, a: Extract<Action, { op: 'addr.add' }>): void {
  const ns = draftNs(d, a.ns);
  const link = draftLink(ns, a.dev);
  const { ip, len } = parseIfAddr(a.addr);
  if (a.scope !== undefined && a.scope !== 'global' && a.scope !== 'link' && a.scope !== 'host') fail('INVALID_ARGUMENT', `addr.add scope must be "global", "link" or "host", got ${JSON.stringify(a.scope)}`, { ns: a.ns, dev: a.dev, scope: a.scope });
  if (a.noprefixroute !== undefined && typeof a.noprefixroute !== 'boolean') fail('INVALID_ARGUMENT', `addr.add noprefixroute must be a boolean, got ${JSON.stringify(a.noprefixroute)}`, { ns: a.ns, dev: a.dev, noprefixroute: a.noprefixroute });
  // The same address and length: the kernel's own words (inet_rtm_newaddr, measured on 6.18: `ip addr add
  // 198.51.100.1/24 dev d1` over itself → `Error: ipv4: Address already assigned.`). The same address with
  // another length the kernel would add beside it; podnet keeps one entry per address and refuses that too.
  const same = link.addrs.find((x) => x.ip === ip);
  if (same !== undefined) {
    fail('ADDRESS_EXISTS', same.len === len ? `Error: ipv4: Address already assigned (${a.addr} on ${a.dev} in ${a.ns})` : `RTNETLINK answers: File exists (${a.addr} on ${a.dev} in ${a.ns})`, { ns: a.ns, dev: a.dev, addr: a.addr });
  }
  const scope = a.scope ?? (ip >>> 24 === 127 ? 'host' : 'global');
  // An address of a prefix (address and length) the device has already is secondary (inet_insert_ifa), and
  // must have that address's scope: measured, `ip addr add 192.0.2.6/24 dev d1 scope link` beside
  // 192.0.2.1/24 → `Error: ipv4: Invalid scope value.`
  const list = look(link as Link, 'addrs');
  const net = networkOf(ip, len);
  const kin = list.find((x) => x.len === len && networkOf(x.ip, len) === net);
  if (kin !== undefined && kin.scope !== scope) fail('INVALID_ARGUMENT', `Error: ipv4: Invalid scope value (${a.addr} scope ${scope} on ${a.dev} in ${a.ns}, where ${formatIpv4(kin.ip)}/${len} is scope ${kin.scope})`, { ns: a.ns, dev: a.dev, addr: a.addr, scope });
  // The flag sets noPrefixRoute too, which is what everything that asks "has it a prefix route?" reads.
  let addr: IfAddr = a.noprefixroute === true ? { ip, len, scope, noPrefixRoute: true, noprefixrouteFlag: true } : { ip, len, scope };
  if (kin !== undefined) addr = { ...addr, secondary: true };
  // Its prefix route comes now if the link is up: after those of its prefix on other links (IfAddr.prefixOrder).
  else if (field(link as Link, 'up') && field(link as Link, 'kind') !== 'loopback' && len < 32 && a.noprefixroute !== true) addr = withPrefixOrder(ns, a.dev, addr);
  put(link, 'addrs', castDraft(kin !== undefined ? withItem(list, addr) : withPrimary(list, addr)));
  // ipv4_devconf_setall: an address makes every value of the device its own (default's writes pass it by).
  markCopied(ns, a.dev, null, false);
  // Only global addresses must be unique in the cluster: a link-scope one (GKE's pod gateway, the same
  // on every host veth of a node) is valid on its link alone, as the kernel allows.
  if (scope === 'global') indexAddr(d, a.ns, link as Link, ip);
}

function addrDel(d: DState, a: Extract<Action, { op: 'addr.del' }>): void {
  const ns = draftNs(d, a.ns);
  const link = draftLink(ns, a.dev);
  const { ip } = parseIfAddr(a.addr);
  const i = link.addrs.findIndex((x) => x.ip === ip);
  if (i < 0) fail('ADDRESS_NOT_FOUND', `RTNETLINK answers: Cannot assign requested address (${a.addr} is not on ${a.dev} in ${a.ns})`, { ns: a.ns, dev: a.dev, addr: a.addr });
  const { list, gone, promoted: j } = withoutAddr(snap(peek(link as Link, 'addrs')), i, promotes(look(ns as NetNs, 'sysctl'), a.dev));
  // The promoted address gets its prefix route (NETDEV_UP → fib_add_ifaddr), appended after those of its prefix
  // on other links; also when the deleted primary's had been deleted (measured, case g).
  if (j >= 0 && field(link as Link, 'up') && field(link as Link, 'kind') !== 'loopback') list[j] = withPrefixRouteBack(ns, snap(link as Link), list[j]!);
  link.addrs = castDraft(list); // a new list: lo's is shared
  for (const g of gone) unindexAddr(d, a.ns, a.dev, g);
  // Routes whose preferred source was a deleted address go with it (fib_sync_down_addr).
  const routes = peek(ns as NetNs, 'routes');
  if (routes.some((r) => r.src !== null && gone.includes(r.src))) ns.routes = castDraft(routes.filter((r) => r.src === null || !gone.includes(r.src)));
  if (list.length === 0) {
    lastAddrGone(ns, a.dev);
    // The agent's shared routes and neighbours through the device go too, in this namespace only, as `ip
    // route flush dev` and `ip neigh flush dev … nud all` hide them: a node's kernel holds its own copies
    // (the kernel oracle, seed 3002 calico-vxlan faulted #28: after `ip addr flush dev vxlan.calico` the
    // kernel listed none of calico's routes via vxlan.calico nor its neighbours there; podnet kept them).
    routeFlush(d, { op: 'route.flush', ns: a.ns, dev: a.dev });
    neighFlush(d, { op: 'neigh.flush', ns: a.ns, dev: a.dev, nud: ['all'] });
  }
}

/**
 * A device's last address went: the kernel disables IP on it (fib_inetaddr_event → fib_disable_ip): every
 * route through it goes, in every table and of every scope (fib_sync_down_dev, forced), and its neighbour
 * entries, permanent ones too (arp_ifdown). Measured (kernel 6.18, scripts/route-verbs-formats.sh, case i2):
 * after `ip addr del` of d1's last address, `172.20.0.0/16 via 192.0.2.4 dev d1`, `172.21.0.0/16 dev d1`,
 * `172.22.0.0/16 dev d1 scope host` and `172.24.0.0/16 via 192.0.2.4 dev d1 table 100` are gone, and `ip neigh
 * show dev d1` lists nothing (it had a PERMANENT entry); with another address left they all stayed. The
 * shared peer-set entries on the device (an agent's) are hidden in this namespace by addrDel.
 */
function lastAddrGone(ns: DNs, dev: string): void {
  const plain = ns as NetNs;
  const routes = peek(plain, 'routes');
  if (routes.some((r) => r.dev === dev)) ns.routes = castDraft(routes.filter((r) => r.dev !== dev));
  const tables = peek(plain, 'tables');
  if (tables) {
    for (const t of Object.keys(tables)) {
      const held = snapshot(tables[t]!);
      if (held.some((r) => r.dev === dev)) (tableToWrite(plain, 'tables') as Record<string, Route[]>)[t] = held.filter((r) => r.dev !== dev);
    }
  }
  const neigh = peek(plain, 'neigh');
  for (const k in neigh) if (neigh[k]!.dev === dev) delete (tableToWrite(ns, 'neigh') as Record<string, unknown>)[k];
}

/**
 * `addr.replace` / `addr.change`: an address already on the device with that length stays as it is (what
 * inet_rtm_newaddr changes on it podnet does not model); any other is added as `addr.add` adds it.
 */
function addrReplace(d: DState, a: Extract<Action, { op: 'addr.replace' | 'addr.change' }>): void {
  const ns = draftNs(d, a.ns);
  const link = draftLink(ns, a.dev);
  const { ip, len } = parseIfAddr(a.addr);
  if (a.scope !== undefined && a.scope !== 'global' && a.scope !== 'link' && a.scope !== 'host') fail('INVALID_ARGUMENT', `${a.op} scope must be "global", "link" or "host", got ${JSON.stringify(a.scope)}`, { ns: a.ns, dev: a.dev, scope: a.scope });
  if (a.noprefixroute !== undefined && typeof a.noprefixroute !== 'boolean') fail('INVALID_ARGUMENT', `${a.op} noprefixroute must be a boolean, got ${JSON.stringify(a.noprefixroute)}`, { ns: a.ns, dev: a.dev, noprefixroute: a.noprefixroute });
  if (look(link as Link, 'addrs').some((x) => x.ip === ip && x.len === len)) return;
  addrAdd(d, { ...a, op: 'addr.add' });
}

/** `addr.flush`: each address {@link addrsToFlush} selects, deleted in turn unless an earlier deletion took it. */
function addrFlush(d: DState, a: Extract<Action, { op: 'addr.flush' }>): void {
  const ns = draftNs(d, a.ns);
  for (const x of addrsToFlush(snap(ns as NetNs), a)) {
    if (!look(getLink(ns, a.dev), 'addrs').some((y) => y.ip === x.ip)) continue;
    addrDel(d, { op: 'addr.del', ns: a.ns, dev: a.dev, addr: `${formatIpv4(x.ip)}/${x.len}` });
  }
  settleAfterPrefix(ns);
}

/**
 * `route.flush`: each route {@link selectRoutes} selects is deleted — an added one from its table, an
 * address's prefix route by marking the address (it stays, as `route.del` leaves it), a shared peer-set
 * route by hiding its owner's routes in this namespace.
 */
function routeFlush(d: DState, a: Extract<Action, { op: 'route.flush' }>): void {
  const ns = draftNs(d, a.ns);
  const plain = snap(ns as NetNs);
  const gone = selectRoutes(d as ClusterState, plain, a);
  if (gone.length === 0) return;
  const table = a.table ?? RT_TABLE_MAIN;
  const set = new Set(gone);
  if (table !== RT_TABLE_MAIN) {
    (tableToWrite(ns as NetNs, 'tables') as Record<string, Route[]>)[table] = snap(plain.tables![table]!).filter((r) => !set.has(r));
    return;
  }
  const own = snap(plain.routes);
  if (own.some((r) => set.has(r))) ns.routes = castDraft(own.filter((r) => !set.has(r)));
  for (const r of gone) {
    if (own.includes(r)) continue;
    if (r.proto === 'kernel' && r.via === null && r.src !== null) {
      // An address's prefix route (kernelRoutes: its source is the address, its device the address's).
      const l = snap(look(ns as NetNs, 'links')[r.dev!]!);
      const j = l.addrs.findIndex((x) => x.ip === r.src && x.len === r.dst.len && givesPrefixRoute(l, x));
      if (j >= 0) {
        dropPrefixRoute(ns, l, j);
        continue;
      }
    }
    // A shared peer-set route: its owner's routes hidden here.
    const refs = look(ns as NetNs, 'peerSets');
    for (let k = 0; k < refs.length; k++) {
      const ref = snap(refs[k]!);
      const shared = look(d as ClusterState, 'peerSets')[ref.set];
      if (!shared || shared.dev !== r.dev) continue;
      let owner: string | null = null;
      for (const e of shardValues(snap(shared).entries)) {
        if (refUses(ref, e.owner, e.group) && e.routes.some((y) => { const v = routeVia(y, ref.via); return sameRouteKey(v, r) && v.via === r.via; })) { owner = e.owner; break; }
      }
      if (owner === null) continue;
      hideInRef(ns, k, snap(look(ns as NetNs, 'peerSets')[k]!), 'hidden', owner);
      break;
    }
  }
  settleAfterPrefix(ns);
}

/** `neigh.flush`: each entry {@link neighsToFlush} selects, deleted (a shared peer-set one hidden here). */
function neighFlush(d: DState, a: Extract<Action, { op: 'neigh.flush' }>): void {
  const ns = draftNs(d, a.ns);
  for (const n of neighsToFlush(d as ClusterState, snap(ns as NetNs), a)) {
    if (n.own !== null) delete (tableToWrite(ns, 'neigh') as Record<string, unknown>)[n.own];
    else hidePeerL2(d, ns, n.dev, 'neigh', n.ip);
  }
}

/** The kernel's number for an address scope (RT_SCOPE_*): a wider scope is a smaller number. */
function scopeNumber(s: IfAddr['scope']): number {
  return s === 'global' ? 0 : s === 'link' ? 253 : 254;
}

/**
 * A device's address list with a new primary address where inet_insert_ifa puts it: after the last primary
 * whose scope is no wider than its own, else first; secondaries stay at the end. Measured (kernel 6.18,
 * scripts/secondary-addr-formats.sh, case b): after 192.0.2.1/24, 192.0.2.5/24 (secondary), 192.0.2.9/25,
 * 198.51.100.1/24, 203.0.113.1/24 scope link and 10.0.0.1/8 scope host, `ip addr` lists 10.0.0.1, 203.0.113.1,
 * 192.0.2.1, 192.0.2.9, 198.51.100.1, then 192.0.2.5.
 */
function withPrimary(list: readonly IfAddr[], addr: IfAddr): IfAddr[] {
  const n = scopeNumber(addr.scope);
  let at = 0;
  for (let k = 0; k < list.length; k++) if (list[k]!.secondary !== true && n <= scopeNumber(list[k]!.scope)) at = k + 1;
  // At the end (almost always: a pod's or a bridge's one address): withItem's exactly sized list. A spread
  // here cost ~140 bytes a pod at 150,000 pods (its list's spare capacity).
  if (at === list.length) return withItem(list, addr);
  const out = list.slice(0, at);
  out.push(addr);
  for (let k = at; k < list.length; k++) out.push(list[k]!);
  return out;
}

/** Whether deleting a primary address of `dev` promotes a secondary (Sysctls.promoteSecondaries). */
function promotes(sys: Sysctls, dev: string): boolean {
  return devconfOr(sys, dev, 'promote_secondaries');
}

/**
 * A device's address list less address `i`, as __inet_del_ifa leaves it, and the addresses gone. A secondary
 * goes alone. A primary takes the secondaries of its prefix (same length, same network) with it, unless
 * `promote`: then the first of them becomes primary and, if other addresses stood between the two, moves after
 * the last primary (of a scope no wider than the deleted one's) that came after the deleted address. Measured
 * (scripts/secondary-addr-formats.sh, cases c, d, e).
 */
function withoutAddr(list: readonly IfAddr[], i: number, promote: boolean): { list: IfAddr[]; gone: number[]; promoted: number } {
  const del = list[i]!;
  const gone = [del.ip];
  let promoted = -1;
  if (del.secondary === true) return { list: list.filter((_, k) => k !== i), gone, promoted };
  const out: IfAddr[] = list.slice(0, i);
  const sn = scopeNumber(del.scope);
  const net = networkOf(del.ip, del.len);
  // The kernel's last primary starts as the list's first address and then looks only at those after the
  // deleted one. When the deleted one is first, the promoted one takes its place (the kernel would link it
  // after the address it frees).
  let lastPrim = i > 0 ? 0 : -1;
  let between = false;
  for (let k = i + 1; k < list.length; k++) {
    const x = list[k]!;
    const same = x.secondary === true && x.len === del.len && networkOf(x.ip, x.len) === net;
    if (!same) {
      if (x.secondary !== true && sn <= scopeNumber(x.scope)) lastPrim = out.length;
      out.push(x);
      between = true;
      continue;
    }
    if (!promote) {
      gone.push(x.ip);
      continue;
    }
    const { secondary: _, ...primary } = x;
    promoted = between ? lastPrim + 1 : out.length;
    out.splice(promoted, 0, primary);
    for (let r = k + 1; r < list.length; r++) out.push(list[r]!);
    break;
  }
  return { list: out, gone, promoted };
}

function routeAdd(d: DState, a: Extract<Action, { op: RouteAddOp }>): void {
  const ns = draftNs(d, a.ns);
  const route = resolveRoute(d as ClusterState, ns as NetNs, a);
  const table = tableNumber(a.table);
  if (table !== RT_TABLE_MAIN) {
    // Another table: only explicit routes live there (the kernel puts prefix routes in main and local).
    // Read as plain data; the tables and the list written copied on write (a host namespace is a plain copy).
    const held = look(ns as NetNs, 'tables')?.[table];
    const list0 = held === undefined ? [] : snap(held);
    const at = insertAt(a, list0, route, null, `table ${table} `);
    if (at === null) return;
    if (!look(ns as NetNs, 'tables')) put(ns as NetNs, 'tables', {});
    const tables = tableToWrite(ns as NetNs, 'tables') as Record<string, Route[]>;
    if (!tables[table]) tables[table] = [];
    const list = tableToWrite(tables, String(table));
    list.splice(at.index, at.replace ? 1 : 0, route);
    return;
  }
  const routes = look(ns as NetNs, 'routes');
  if (a.op === 'route.add' || a.op === 'route.replace') {
    // The first route with the key (a loop: findIndex's callback was a closure made per route added).
    let i = 0;
    while (i < routes.length && !sameRouteKey(routes[i]!, route)) i += 1;
    // The common case, kept as it was: no route of the key, or one alone and not appended after a prefix route
    // (an indexed loop, no closure: a pod's ADD replaces routes).
    let more = false;
    for (let k = i + 1; k < routes.length && !more; k++) more = sameRouteKey(routes[k]!, route);
    if (i === routes.length || (routes[i]!.afterPrefixRoute !== true && !more)) {
      routeAddOrReplace(d, ns, a, route, i === routes.length ? -1 : i);
      return;
    }
  }
  // The prefix route of the key, if the kernel holds one (it has no fields of its own to match beyond these).
  const kernel = hasKernelRoute(ns as NetNs, route.dst, route.metric)
    ? kernelRoutes(snap(ns as NetNs)).find((r) => sameRouteKey(r, route)) ?? null : null;
  const shared = !plainList && !routes.some((r) => sameRouteKey(r, route)) ? sharedRouteOf(d, ns, route) : null;
  if (shared !== null && a.op !== 'route.change' && a.op !== 'route.replace') {
    fail('UNSUPPORTED', `podnet does not model ${a.op === 'route.append' ? 'appending to' : 'prepending to'} a shared peer-set route (${formatCidr(route.dst)} metric ${route.metric} in ${a.ns}: the agent's route); use ip route replace or del`, { ns: a.ns, dst: a.dst });
  }
  if (shared !== null) {
    routeAddOrReplace(d, ns, a, route, -1);
    return;
  }
  const at = insertAt(a, routes, route, kernel, '');
  if (at === null) return;
  if (at.kernel) {
    // The first of the key is the prefix route: it goes (the address stays), the new route takes its place.
    replacePrefixRoute(ns, route.dst);
  }
  const list = writable(ns, 'routes');
  list.splice(at.index, at.replace ? 1 : 0, at.after ? { ...route, afterPrefixRoute: true } : route);
  if (at.kernel) settleAfterPrefix(ns);
}

/** The ops of {@link routeAdd}: the verbs of RTM_NEWROUTE. */
type RouteAddOp = 'route.add' | 'route.replace' | 'route.append' | 'route.prepend' | 'route.change';

/**
 * `route.add` and `route.replace` where the key (prefix and metric) has one route of its own at most, before
 * any prefix route: `i` is its index in the main table, -1 when none.
 */
function routeAddOrReplace(d: DState, ns: DNs, a: Extract<Action, { op: RouteAddOp }>, route: Route, i: number): void {
  const routes = look(ns as NetNs, 'routes');
  const kernelClash = hasKernelRoute(ns as NetNs, route.dst, route.metric);
  // A shared peer-set route (flannel's to another node) is in this table too: `ip route add` of its prefix
  // and metric is refused, and `ip route replace` replaces it here alone (its owner hidden in this namespace,
  // as `ip route del` does). Measured (kernel 6.18): on a node with `10.244.3.0/24 via 10.244.3.0 dev
  // flannel.1 onlink`, `ip route add unreachable 10.244.3.0/24` → "RTNETLINK answers: File exists";
  // `ip route replace 10.244.3.0/24 dev eth0` leaves only `10.244.3.0/24 dev eth0 scope link`.
  // Not while a cluster is built in place (plainList): its peer sets change in place, so no index of them can be
  // kept, and walking them for every route a pod's ADD adds on its host (calico's /32s) is O(nodes) a pod; the
  // designs' own routes never share a prefix and metric with a shared route.
  const shared = i < 0 && !plainList ? sharedRouteOf(d, ns, route) : null;
  if (a.op === 'route.add' && (i >= 0 || kernelClash || shared !== null)) fail('ROUTE_EXISTS', `RTNETLINK answers: File exists (route ${formatCidr(route.dst)} in ${a.ns})`, { ns: a.ns, dst: a.dst });
  if (a.op === 'route.change' && i < 0 && !kernelClash && shared === null) fail('ROUTE_NOT_FOUND', `RTNETLINK answers: No such file or directory (no route ${formatCidr(route.dst)} metric ${route.metric} to change in ${a.ns})`, { ns: a.ns, dst: a.dst });
  if (shared !== null) hideInRef(ns, shared.ref, snap(look(ns as NetNs, 'peerSets')[shared.ref]!), 'hidden', shared.owner);
  else if (i < 0 && kernelClash) {
    // The same route as the prefix route: the first of its key, so nothing changes (fib_table_insert's fa_match).
    if (sameRoute(kernelRoutes(snap(ns as NetNs)).find((r) => sameRouteKey(r, route))!, route)) return;
    replacePrefixRoute(ns, route.dst);
  }
  if (i >= 0) writable(ns, 'routes')[i] = route;
  else put(ns, 'routes', castDraft(withRoute(routes, route)));
}

/**
 * Where fib_table_insert puts `route` among `list` (a table's routes in order) for `a.op`, given the prefix
 * route of its key in the main table (`kernel`, listed after the routes of the key not marked
 * Route.afterPrefixRoute): the index to insert at or to replace, whether the prefix route is the one replaced
 * (`kernel`), whether the new route comes after the prefix route (`after`); null when nothing changes (a
 * change or replace to the route that is first already). Throws ROUTE_EXISTS (add: any route of the key;
 * append, prepend: a route the same in every field; change, replace: one that is not the first) and
 * ROUTE_NOT_FOUND (change: no route of the key).
 */
function insertAt(a: Extract<Action, { op: RouteAddOp }>, list: readonly Route[], route: Route, kernel: Route | null, where: string): { index: number; replace: boolean; kernel: boolean; after: boolean } | null {
  const mine: number[] = [];
  for (let k = 0; k < list.length; k++) if (sameRouteKey(list[k]!, route)) mine.push(k);
  const before = mine.filter((k) => list[k]!.afterPrefixRoute !== true);
  const after = mine.filter((k) => list[k]!.afterPrefixRoute === true);
  // The key's routes in the kernel's order: ours before the prefix route, the prefix route, ours after it.
  const order: (number | 'kernel')[] = [...before, ...(kernel !== null ? ['kernel' as const] : []), ...after];
  const exists = (): never => fail('ROUTE_EXISTS', `RTNETLINK answers: File exists (route ${formatCidr(route.dst)} ${where}in ${a.ns})`, { ns: a.ns, dst: a.dst });
  if (order.length === 0) {
    if (a.op === 'route.change') fail('ROUTE_NOT_FOUND', `RTNETLINK answers: No such file or directory (no route ${formatCidr(route.dst)} metric ${route.metric} ${where}to change in ${a.ns})`, { ns: a.ns, dst: a.dst });
    return { index: list.length, replace: false, kernel: false, after: false };
  }
  if (a.op === 'route.add') exists();
  // fib_table_insert's fa_match: a route with the same fib_info (every field) and type.
  const match = order.findIndex((x) => sameRoute(x === 'kernel' ? kernel! : withoutOrder(list[x]!), route));
  if (a.op === 'route.append' || a.op === 'route.prepend') {
    if (match >= 0) exists();
    if (a.op === 'route.prepend') return { index: mine[0]!, replace: false, kernel: false, after: false };
    return { index: mine.length === 0 ? list.length : mine[mine.length - 1]! + 1, replace: false, kernel: false, after: kernel !== null };
  }
  // change, replace: the first of the key is replaced; the same route elsewhere is refused, as the first is kept.
  if (match === 0) return null;
  if (match > 0) exists();
  const first = order[0]!;
  if (first === 'kernel') return { index: mine.length === 0 ? list.length : mine[0]!, replace: false, kernel: true, after: false };
  return { index: first, replace: true, kernel: false, after: false };
}

/** A route without its place among the routes of its key (Route.afterPrefixRoute). */
function withoutOrder(r: Route): Route {
  if (r.afterPrefixRoute !== true) return r;
  const { afterPrefixRoute: _, ...rest } = r;
  return rest;
}

/**
 * The main table's routes appended after a prefix route (Route.afterPrefixRoute) whose prefix has none any
 * more lose the mark: with the prefix route gone they are the first of their key, and a prefix route that
 * comes back is appended after them (fib_magic appends; prefixRoutesAgain).
 */
function settleAfterPrefix(ns: DNs): void {
  const routes = peek(ns as NetNs, 'routes');
  let out: Route[] | null = null;
  for (let k = 0; k < routes.length; k++) {
    const r = routes[k]!;
    if (r.afterPrefixRoute !== true || hasKernelRoute(ns as NetNs, r.dst, r.metric)) continue;
    out ??= [...routes];
    out[k] = withoutOrder(r);
  }
  if (out !== null) ns.routes = castDraft(out);
}

/**
 * An address's prefix route of `dst` (metric 0), replaced by a route of its key (`ip route replace`, flanneld's
 * RouteReplace): the route takes its place, the address stays without it, and deleting the route does not bring
 * it back. Measured (kernel 6.18, `pnf32-…`): with 10.99.0.5/24 on eth0, `ip route replace 10.99.0.0/24 via
 * 192.168.1.12 dev eth0` leaves only that route of the prefix; after `ip route del` of it the prefix has none,
 * and the address is still listed. The same replace with `metric 5` adds a second route instead.
 */
function replacePrefixRoute(ns: DNs, dst: Cidr): void {
  // The first of the prefix's routes the kernel holds (two links may have addresses of one prefix).
  const first = firstPrefixRoute(plainLinks(ns), dst);
  if (first !== null) dropPrefixRoute(ns, first.link, first.index);
}

/**
 * `a`, an address of link `dev` whose prefix route is coming (added to an up link, or its link coming up),
 * with its IfAddr.prefixOrder: after the addresses of its prefix on other up links, or none when there are
 * none. Read in place (look, field): a pod's address is added on every CNI ADD, and snapshots of its
 * links cost more than this walk of them.
 */
function withPrefixOrder(ns: DNs, dev: string, a: IfAddr): IfAddr {
  const net = networkOf(a.ip, a.len);
  const links = look(ns as NetNs, 'links');
  let last = -1;
  for (const name in links) {
    if (name === dev) continue;
    const o = links[name]!;
    if (!field(o, 'up') || field(o, 'kind') === 'loopback') continue;
    const addrs = look(o, 'addrs');
    for (let j = 0; j < addrs.length; j++) {
      const x = addrs[j]!;
      // Also one whose prefix route is gone: its broadcast route stays, and the local table lists the
      // broadcast routes of one address in this order too (case a5: after `ip route del` of d3's prefix
      // route and d1 down/up, `broadcast 192.0.2.255 dev d3` still comes before `dev d1`).
      if (x.len === a.len && x.secondary !== true && networkOf(x.ip, x.len) === net) last = Math.max(last, x.prefixOrder ?? 0);
    }
  }
  if (last >= 0) return { ...a, prefixOrder: last + 1 };
  if (a.prefixOrder === undefined) return a;
  const { prefixOrder: _, ...rest } = a;
  return rest;
}

/** Address `j` of link `l` (plain) loses its prefix route: a new list with a new address (the link's may be the previous state's, or shared). */
function dropPrefixRoute(ns: DNs, l: Link, j: number): void {
  const addrs = snap(l.addrs).map((x) => snap(x));
  addrs[j] = { ...addrs[j]!, noPrefixRoute: true };
  put(linkToWrite(ns, l.name), 'addrs', castDraft(addrs));
}

/**
 * The shared peer-set route with `route`'s prefix and metric in a namespace's main table, as the index of the
 * namespace's reference to its set and the entry's owner; null when none. A set this transition has not
 * changed (no draft, frozen) is looked up in its memoized index; one it is changing is walked.
 */
function sharedRouteOf(d: DState, ns: DNs, route: Route): { readonly ref: number; readonly owner: string } | null {
  const refs = look(ns as NetNs, 'peerSets');
  if (refs.length === 0) return null;
  const sets = look(d as ClusterState, 'peerSets');
  for (let r = 0; r < refs.length; r++) {
    const ref = snap(refs[r]!);
    const held = sets[ref.set];
    if (held === undefined) continue;
    const set = snap(held);
    const indexed = !isDraft(held) && !isDraft(set.entries) && Object.isFrozen(set.entries);
    const owner = sharedRouteIn(indexed ? set : { ...set, entries: snap(set.entries) }, ref, snap(ns as NetNs), route.dst, route.metric, indexed);
    if (owner !== null) return { ref: r, owner };
  }
  return null;
}

function routeDel(d: DState, a: Extract<Action, { op: 'route.del' }>): void {
  const ns = draftNs(d, a.ns);
  const dst = a.dst === 'default' ? { addr: 0, len: 0 } : parseCidr(a.dst);
  const via = a.via === undefined ? undefined : parseIpv4(a.via);
  const table = tableNumber(a.table);
  // The route the command names: its prefix, and each selector it gives (via, dev, metric).
  const named = (r: Route): boolean => r.dst.addr === dst.addr && r.dst.len === dst.len
    && (via === undefined || r.via === via) && (a.dev === undefined || r.dev === a.dev) && (a.metric === undefined || r.metric === a.metric);
  if (table !== RT_TABLE_MAIN) {
    const held = look(ns as NetNs, 'tables')?.[table];
    const j = (held === undefined ? [] : snap(held)).findIndex(named);
    if (j < 0) fail('ROUTE_NOT_FOUND', `RTNETLINK answers: No such process (no route ${a.dst} in table ${table} of ${a.ns})`, { ns: a.ns, dst: a.dst, table });
    // The table stays (empty), as the kernel's does once created.
    tableToWrite(tableToWrite(ns as NetNs, 'tables') as Record<string, Route[]>, String(table)).splice(j, 1);
    return;
  }
  // The kernel deletes the matching route of the lowest metric (fib_table_delete walks the prefix's routes in
  // metric order): an own route, a shared peer-set route or an address's prefix route, whichever that is.
  // Measured: with `10.244.3.0/24 dev eth0` (metric 0) and `unreachable 10.244.3.0/24 metric 5`, `ip route del
  // 10.244.3.0/24` took the first and left the second, whatever order they were added in.
  const routes = peek(ns as NetNs, 'routes');
  let i = -1;
  for (let k = 0; k < routes.length; k++) if (named(routes[k]!) && (i < 0 || routes[k]!.metric < routes[i]!.metric)) i = k;
  const ownMetric = i < 0 ? Infinity : routes[i]!.metric;
  // A route appended after a prefix route (Route.afterPrefixRoute) comes after it: the prefix route goes first
  // (measured, route-verbs-formats.sh case d: `ip route del 192.0.2.0/24` took `… proto kernel …`).
  if (ownMetric > 0 || routes[i]!.afterPrefixRoute === true) {
    // A shared peer-set route (flannel's route to another node) is deleted here only: hide its owner.
    const refs = look(ns as NetNs, 'peerSets');
    for (let r = 0; r < refs.length; r++) {
      const ref = snap(refs[r]!);
      const set = look(d as ClusterState, 'peerSets')[ref.set];
      if (!set || (a.dev !== undefined && a.dev !== set.dev)) continue;
      for (const e of shardValues(snap(set).entries)) {
        if (!refUses(ref, e.owner, e.group)) continue;
        // The gateway as the namespace holds the route: a BGP speaker's recursive next hop replaces the
        // entry's own (what `ip route` lists, and so what a user names).
        if (e.routes.some((x) => x.dst.addr === dst.addr && x.dst.len === dst.len && (via === undefined || (ref.via ?? x.via) === via) && (a.metric === undefined || x.metric === a.metric) && x.metric < ownMetric)) {
          hideInRef(ns, r, ref, 'hidden', e.owner);
          return;
        }
      }
    }
    // A derived kernel prefix route can be deleted too (fib_table_delete does not care who added it):
    // the address stays and loses its prefix route.
    // Of two links' prefix routes of one prefix, the first the kernel lists (IfAddr.prefixOrder).
    if (via === undefined && (a.metric === undefined || a.metric === 0)) {
      const first = firstPrefixRoute(plainLinks(ns), dst, a.dev);
      if (first !== null) {
        dropPrefixRoute(ns, first.link, first.index);
        return;
      }
    }
    if (i < 0) fail('ROUTE_NOT_FOUND', `RTNETLINK answers: No such process (no route ${a.dst} in ${a.ns})`, { ns: a.ns, dst: a.dst });
  }
  writable(ns, 'routes').splice(i, 1);
}

/** `route.flushCache`: the namespace's route exceptions dropped (drafted only when it has some). */
function routeFlushCache(d: DState, a: Extract<Action, { op: 'route.flushCache' }>): void {
  if (typeof a.ns !== 'string' || a.ns === '') fail('INVALID_ARGUMENT', `route.flushCache needs a namespace id, got ${JSON.stringify(a.ns)}`, { ns: a.ns });
  const ns = draftNs(d, a.ns);
  for (const _ in look(ns as NetNs, 'pmtu')) {
    put(ns as NetNs, 'pmtu', {});
    return;
  }
}

/** `route.cacheException`: the exception at `a.key` marked cached (RouteException.cached) if it is live. */
function routeCacheException(d: DState, a: Extract<Action, { op: 'route.cacheException' }>): void {
  if (typeof a.key !== 'string' || a.key === '') fail('INVALID_ARGUMENT', `route.cacheException needs an exception key (exceptionKey), got ${JSON.stringify(a.key)}`, { key: a.key });
  const ns = draftNs(d, a.ns);
  const pm = look(ns as NetNs, 'pmtu');
  const e = Object.prototype.hasOwnProperty.call(pm, a.key) ? pm[a.key] : undefined;
  if (e === undefined) fail('ROUTE_EXCEPTION_NOT_FOUND', `no route exception "${a.key}" in ${a.ns}`, { ns: a.ns, key: a.key });
  const plain = snap(e);
  if (plain.cached === true || plain.expires <= d.now) return;
  put(ns as NetNs, 'pmtu', { ...snap(pm), [a.key]: { ...plain, cached: true } });
}

function ipRuleAdd(d: DState, a: Extract<Action, { op: 'iprule.add' | 'iprule.del' }>): void {
  const ns = draftNs(d, a.ns);
  const rules = (look(ns as NetNs, 'ipRules') ?? []) as readonly IpRule[];
  if (a.table === undefined) fail('INVALID_ARGUMENT', 'ip rule add needs a table to look up ("lookup N")');
  const table = tableNumber(a.table);
  const from = ruleCidr(a.from);
  const to = ruleCidr(a.to);
  // fib_default_rule_pref: one less than the priority of the rule after "lookup local" (main's 32766 at first).
  const priority = a.priority === undefined ? Math.max(0, Math.min(...rules.map((r) => r.priority).filter((p) => p > 0), 32766) - 1) : a.priority;
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffffffff) fail('INVALID_ARGUMENT', `ip rule priority ${shown(a.priority)} must be an integer from 0 to 4294967295`);
  const rule: IpRule = { priority, from, to, table };
  if (rules.some((r) => r.priority === priority && r.table === table && sameCidr(r.from, from) && sameCidr(r.to, to))) {
    fail('RULE_EXISTS', `RTNETLINK answers: File exists (rule ${formatIpRule(rule, ' ')} in ${a.ns})`, { ns: a.ns });
  }
  // After every rule of the same or a lower priority, as fib_nl_newrule inserts.
  const at = rules.findIndex((r) => r.priority > priority);
  if (!look(ns as NetNs, 'ipRules')) put(ns as NetNs, 'ipRules', []);
  const list = writable(ns, 'ipRules') as IpRule[];
  if (at < 0) list.push(rule);
  else list.splice(at, 0, rule);
}

function ipRuleDel(d: DState, a: Extract<Action, { op: 'iprule.add' | 'iprule.del' }>): void {
  const ns = draftNs(d, a.ns);
  const rules = (look(ns as NetNs, 'ipRules') ?? []) as readonly IpRule[];
  const from = a.from === undefined ? undefined : ruleCidr(a.from);
  const to = a.to === undefined ? undefined : ruleCidr(a.to);
  const table = a.table === undefined ? undefined : tableNumber(a.table);
  // The first rule, in priority order, that matches every selector given.
  const j = rules.findIndex((r) => (a.priority === undefined || r.priority === a.priority) && sameCidr(r.from, from) && sameCidr(r.to, to) && (table === undefined || r.table === table));
  if (j < 0) fail('RULE_NOT_FOUND', `RTNETLINK answers: No such file or directory (no rule ${formatIpRule({ priority: a.priority ?? null, from: from ?? null, to: to ?? null, table: table ?? null }, ' ')} in ${a.ns}${from === undefined && to === undefined ? '; podnet keeps the kernel\'s rules 0, 32766 and 32767' : ''})`, { ns: a.ns });
  (writable(ns, 'ipRules') as IpRule[]).splice(j, 1);
}

function neighAdd(d: DState, a: Extract<Action, { op: 'neigh.add' | 'neigh.replace' }>): void {
  const ns = draftNs(d, a.ns);
  getLink(ns, a.dev);
  const ip = parseIpv4(a.ip);
  const mac = parseMac(a.mac);
  const key = `${a.dev}|${ip}`;
  if (a.op === 'neigh.add' && look(ns as NetNs, 'neigh')[key]?.permanent) fail('NEIGH_EXISTS', `RTNETLINK answers: File exists (neighbour ${a.ip} on ${a.dev})`);
  put(tableToWrite(ns, 'neigh') as Record<string, unknown>, key, { dev: a.dev, ip, mac, permanent: true, failed: false, confirmed: d.now });
}

/**
 * Hides one thing of a shared peer set in this namespace only (`hidden`: an owner's routes; `hiddenNeigh`,
 * `hiddenFdb`: one of its neighbour or FDB entries), as a deletion on one node does. The namespace's reference
 * `r` is replaced by a changed copy (the list copied on write): the namespace may be a plain copy.
 */
function hideInRef(ns: DNs, r: number, ref: PeerSetRef, field: 'hidden' | 'hiddenNeigh' | 'hiddenFdb', tag: string): void {
  (writable(ns as NetNs, 'peerSets') as PeerSetRef[])[r] = { ...ref, [field]: [...(ref[field] ?? []), tag] };
}

/**
 * A shared peer-set entry's neighbour (`kind` 'neigh', `key` the address) or FDB entry (`fdb`, the MAC) on
 * `dev` that namespace `ns` uses, deleted here only: its owner's entry is hidden in this namespace's
 * reference, as `ip neigh del` or `bridge fdb del` on a node removes flanneld's entry from that node alone.
 * The owner's route and other entries stay (the kernel's tables are separate). False when none is there.
 */
function hidePeerL2(d: DState, ns: DNs, dev: string, kind: 'neigh' | 'fdb', key: number | string): boolean {
  const refs = look(ns as NetNs, 'peerSets');
  for (let r = 0; r < refs.length; r++) {
    const ref = snap(refs[r]!);
    const set = look(d as ClusterState, 'peerSets')[ref.set];
    if (!set || set.dev !== dev) continue;
    const field = kind === 'neigh' ? 'hiddenNeigh' : 'hiddenFdb';
    for (const e of shardValues(snap(set).entries)) {
      if (!refUses(ref, e.owner, e.group, false)) continue;
      const has = kind === 'neigh' ? e.neigh.some((n) => n.ip === key) : e.fdb.some((f) => f.mac === key);
      const tag = `${e.owner} ${key}`;
      if (!has || ref[field]?.includes(tag)) continue;
      hideInRef(ns, r, ref, field, tag);
      return true;
    }
  }
  return false;
}

function neighDel(d: DState, a: Extract<Action, { op: 'neigh.del' }>): void {
  const ns = draftNs(d, a.ns);
  const key = `${a.dev}|${parseIpv4(a.ip)}`;
  if (!look(ns as NetNs, 'neigh')[key] && hidePeerL2(d, ns, a.dev, 'neigh', parseIpv4(a.ip))) return;
  if (!look(ns as NetNs, 'neigh')[key]) fail('NEIGH_NOT_FOUND', `RTNETLINK answers: No such file or directory (neighbour ${a.ip} on ${a.dev})`);
  delete (tableToWrite(ns, 'neigh') as Record<string, unknown>)[key];
}

/** The kinds of bridge FDB entry `bridge fdb add … master` makes (`static`, `permanent`, `dynamic`). */
const FDB_STATES: readonly string[] = ['static', 'permanent', 'dynamic'];

/**
 * The dst of a shared peer-set FDB entry for `mac` on `dev` that namespace `ns` uses and has not deleted
 * (flanneld's remote VTEPs), undefined when there is none.
 */
function peerFdbDst(d: DState, ns: DNs, dev: string, mac: Mac): Ipv4 | undefined {
  for (const r of look(ns as NetNs, 'peerSets')) {
    const ref = snap(r);
    const set = look(d as ClusterState, 'peerSets')[ref.set];
    if (!set || set.dev !== dev) continue;
    for (const e of shardValues(snap(set).entries)) {
      if (!refUses(ref, e.owner, e.group, false) || ref.hiddenFdb?.includes(`${e.owner} ${mac}`)) continue;
      const f = e.fdb.find((x) => x.mac === mac);
      if (f) return f.dst;
    }
  }
  return undefined;
}

/**
 * `bridge fdb add | append | replace`, as rtnl_fdb_add routes it (measured, kernel 6.18, iproute2 6.1,
 * scripts/bridge-fdb-formats.sh on the seed lab's node-1):
 * - `master` on a port: br_fdb_add. `add` of a MAC the bridge has (learned, static or local, on any port):
 *   `RTNETLINK answers: File exists`; `append` and `replace` update it in place: it moves to this port and
 *   takes the new state (static → `static`, permanent or none → `permanent`, dynamic → no flag, aged).
 *   A device that is no port: `Operation not supported`. A `dst` is ignored (`… master static dst IP` is
 *   listed as plain `static`).
 * - `self` on a bridge: a local entry of the bridge (`… dev cni0 master cni0 permanent`); `master` on it:
 *   `Operation not supported`.
 * - `self` on a veth: its own unicast address list (ndo_dflt_fdb_add), listed `MAC self permanent`; only
 *   permanent (`self static`: `Invalid argument`); `add` of one there: File exists, append/replace: nothing.
 * - a VXLAN device: `dst` required (without: `Invalid argument`: flannel.1 has no default remote); any state
 *   is listed `self permanent`; `add` of a MAC there (another dst too): File exists; `replace` changes its
 *   dst; `append` of a second dst is accepted and does nothing for a unicast MAC (vxlan_fdb_update_existing
 *   appends only to 00:00:00:00:00:00 and multicast MACs). A peer-set entry (flanneld's) counts as there;
 *   `replace` puts this namespace's own entry in its place, as `bridge fdb replace` on one node does.
 */
function fdbAdd(d: DState, a: Extract<Action, { op: 'fdb.add' | 'fdb.append' | 'fdb.replace' }>): void {
  const ns = draftNs(d, a.ns);
  const link = getLink(ns, a.dev);
  const mac = parseMac(a.mac);
  const info = { ns: a.ns, dev: a.dev, mac: a.mac };
  if (a.master !== undefined && typeof a.master !== 'boolean') fail('INVALID_ARGUMENT', `${a.op}'s master is true or false, not ${shown(a.master)}`, info);
  if (a.state !== undefined && !FDB_STATES.includes(a.state)) fail('INVALID_ARGUMENT', `${a.op}'s state is static, permanent or dynamic, not ${shown(a.state)}`, info);
  const dst = a.dst === undefined ? undefined : parseIpv4(a.dst);
  const exists = (): never => fail('FDB_EXISTS', `RTNETLINK answers: File exists (fdb ${a.mac} dev ${a.dev})`, info);
  const unsupported = (why: string): never => fail('INVALID_ARGUMENT', `RTNETLINK answers: Operation not supported (${why})`, info);
  const fdb = look(ns as NetNs, 'fdb');
  // A learned entry past the ageing time is gone in the kernel (podnet drops it lazily).
  const live = (e: FdbEntry | undefined): FdbEntry | undefined => (e !== undefined && (e.permanent || d.now - e.updated <= 300_000) ? e : undefined);
  if (a.master ?? (link.master !== null && link.kind !== 'vxlan')) {
    if (link.master === null) unsupported(`${a.dev} is not a bridge port: \`master\` adds a port's entry in its bridge`);
    const key = `${link.master}|${mac}`;
    if (a.op === 'fdb.add' && live(fdb[key])) exists();
    const state = a.state ?? 'static';
    put(tableToWrite(ns, 'fdb') as Record<string, unknown>, key, { dev: link.master, mac, port: a.dev, dst: null, permanent: state !== 'dynamic', local: state === 'permanent', updated: d.now });
    return;
  }
  const key = `${a.dev}|${mac}`;
  if (link.kind === 'vxlan') {
    if (dst === undefined) fail('INVALID_ARGUMENT', `RTNETLINK answers: Invalid argument (${a.dev} has no default remote: a VXLAN FDB entry needs dst)`, info);
    const own = fdb[key];
    const peer = own === undefined ? peerFdbDst(d, ns, a.dev, mac) : undefined;
    const cur = own?.dst ?? peer;
    if (cur !== undefined && cur !== null) {
      if (a.op === 'fdb.add') exists();
      if (a.op === 'fdb.append') {
        if (cur === dst || !(mac === ZERO_MAC || isMulticastMac(mac))) return;
        fail('UNSUPPORTED', `podnet keeps one dst per MAC on a VXLAN device: ${a.mac} has dst ${formatIpv4(cur)} on ${a.dev} (Linux appends a second one to 00:00:00:00:00:00 and multicast MACs)`, info);
      }
      if (peer !== undefined) hidePeerL2(d, ns, a.dev, 'fdb', mac);
    }
    put(tableToWrite(ns, 'fdb') as Record<string, unknown>, key, { dev: a.dev, mac, port: null, dst, permanent: true, local: false, updated: d.now });
    return;
  }
  if (link.kind !== 'bridge' && link.kind !== 'veth' && link.kind !== 'physical') unsupported(`podnet models \`self\` entries on bridges, Ethernet devices and VXLAN devices, not on ${a.dev}`);
  if ((a.state ?? 'permanent') !== 'permanent') fail('INVALID_ARGUMENT', `RTNETLINK answers: Invalid argument (${a.dev}'s own FDB takes only permanent entries)`, info);
  const cur = live(fdb[key]);
  if (cur !== undefined && a.op === 'fdb.add') exists();
  // ndo_dflt_fdb_add: an address already on a veth's list is no error without NLM_F_EXCL, and stays where it is.
  if (cur !== undefined && link.kind !== 'bridge') return;
  put(tableToWrite(ns, 'fdb') as Record<string, unknown>, key, { dev: a.dev, mac, port: null, dst: null, permanent: true, local: link.kind === 'bridge', updated: d.now });
}

/**
 * `bridge fdb del`, as rtnl_fdb_del routes it (measured, kernel 6.18, iproute2 6.1, `pnk30-…`: cni0 made
 * with its own address, two ports): `bridge fdb del <cni0's MAC> dev cni0` deletes the bridge's own entry
 * (`… dev cni0 master cni0 permanent` no longer listed; again: `No such file or directory`); with `master`
 * on the bridge: `RTNETLINK answers: Operation not supported`; `bridge fdb del <veth-a's MAC> dev veth-a` →
 * `No such file or directory` (the port's own address list), `… dev veth-a master` deletes the port's
 * `permanent` entry. Neither comes back when the devices go down and up; the bridge's comes with a new
 * address (`ip link set cni0 address …`), the port's when it joins the bridge again. Afterwards frames to
 * that MAC are no longer taken up by the bridge but flooded as unknown unicast. On a VXLAN device `dst`
 * names the dst to delete: another one deletes nothing, with no error (measured twice, scripts/bridge-fdb-
 * formats.sh: `del 02:00:00:00:00:09 dev flannel.1 dst 192.168.1.98` rc 0, the .97 entry stays). A veth's
 * own (`self`) entry is deleted without `master`.
 */
function fdbDel(d: DState, a: Extract<Action, { op: 'fdb.del' }>): void {
  const ns = draftNs(d, a.ns);
  const link = getLink(ns, a.dev);
  const mac = parseMac(a.mac);
  if (a.master !== undefined && typeof a.master !== 'boolean') fail('INVALID_ARGUMENT', `fdb.del's master is true or false, not ${shown(a.master)}`);
  const notFound = (): never => fail('FDB_NOT_FOUND', `RTNETLINK answers: No such file or directory (fdb ${a.mac} dev ${a.dev}${a.master === true ? ' master' : ''})`, { ns: a.ns, dev: a.dev, mac: a.mac });
  if (a.master === true && link.master === null) fail('INVALID_ARGUMENT', `RTNETLINK answers: Operation not supported (${a.dev} is not a bridge port: \`master\` deletes a port's entry in its bridge)`, { ns: a.ns, dev: a.dev });
  // The bridge's entry for a port, its own device's table otherwise (`self`): a port, not a bridge or a
  // VXLAN device, has none that podnet models.
  const key = a.master === true ? `${link.master}|${mac}` : `${a.dev}|${mac}`;
  const e = look(ns as NetNs, 'fdb')[key];
  // `del … dst IP` of a VXLAN entry with another dst: rc 0 and the entry stays (measured twice, 6.18).
  if (a.master !== true && link.kind === 'vxlan' && a.dst !== undefined) {
    const want = parseIpv4(a.dst);
    const cur = e?.dst ?? peerFdbDst(d, ns, a.dev, mac);
    if (cur !== undefined && cur !== null && cur !== want) return;
  }
  if (a.master !== true && link.kind === 'vxlan' && !e && hidePeerL2(d, ns, a.dev, 'fdb', mac)) return;
  if (!e || (a.master === true ? e.port !== a.dev : link.kind === 'bridge' && e.port !== null)) notFound();
  delete (tableToWrite(ns, 'fdb') as Record<string, unknown>)[key];
}

const FDB_FLUSH_STATES: readonly string[] = ['permanent', 'nopermanent', 'static', 'dynamic'];

/** `fdb.flush`: the entries of a bridge (or of one port in it) or of a VXLAN device that the states keep. */
function fdbFlush(d: DState, a: Extract<Action, { op: 'fdb.flush' }>): void {
  const ns = draftNs(d, a.ns);
  const link = getLink(ns, a.dev);
  if (a.master !== undefined && typeof a.master !== 'boolean') fail('INVALID_ARGUMENT', `fdb.flush's master is true or false, not ${shown(a.master)}`, { ns: a.ns, dev: a.dev });
  if (a.states !== undefined && (!Array.isArray(a.states) || a.states.some((x) => !FDB_FLUSH_STATES.includes(x)))) fail('INVALID_ARGUMENT', `fdb.flush's states are some of ${FDB_FLUSH_STATES.join(', ')}, not ${JSON.stringify(a.states)}`, { ns: a.ns, dev: a.dev });
  // The kinds of entry the state words keep: an entry is permanent (local), static or dynamic.
  let kinds = new Set(['permanent', 'static', 'dynamic']);
  for (const w of a.states ?? []) kinds = new Set([...kinds].filter((k) => (w === 'nopermanent' ? k !== 'permanent' : k === w)));
  const kind = (e: FdbEntry): string => (e.local ? 'permanent' : e.permanent ? 'static' : 'dynamic');
  const port = a.master === true ? a.dev : null;
  const bridge = a.master === true ? link.master : link.kind === 'bridge' ? a.dev : null;
  if (a.master === true && link.master === null) fail('INVALID_ARGUMENT', `RTNETLINK answers: Operation not supported (${a.dev} is not a bridge port: \`master\` flushes a port's entries in its bridge)`, { ns: a.ns, dev: a.dev });
  if (bridge === null && link.kind !== 'vxlan') fail('INVALID_ARGUMENT', `RTNETLINK answers: Operation not supported (${a.dev} is neither a bridge nor a VXLAN device: it has no FDB to flush)`, { ns: a.ns, dev: a.dev });
  const fdb = look(ns as NetNs, 'fdb');
  const gone: string[] = [];
  for (const k in fdb) {
    const e = fdb[k]!;
    if (!kinds.has(kind(e))) continue;
    if (bridge !== null ? e.dev === bridge && e.dst === null && (port === null || e.port === port) : e.dev === a.dev && e.dst !== null) gone.push(k);
  }
  if (gone.length > 0) {
    const table = tableToWrite(ns, 'fdb') as Record<string, unknown>;
    for (const k of gone) delete table[k];
  }
  // A VXLAN device's shared entries (flanneld's remote VTEPs) are permanent: hidden on this node.
  if (bridge === null && kinds.has('permanent')) {
    for (const p of peerEntries(d as ClusterState, snap(ns as NetNs))) if (p.dev === a.dev) for (const f of p.fdb) hidePeerL2(d, ns, a.dev, 'fdb', f.mac);
  }
}

function ruleAction(d: DState, a: Extract<Action, { op: 'rule.append' | 'rule.insert' | 'rule.replace' | 'rule.del' }>): void {
  const ns = draftNs(d, a.ns);
  const rule = resolveRule(a.rule, ns as NetNs);
  // The rules of the rule's chain, as indexes into the namespace's one list (all chains share it, in order).
  const inChain = (): number[] => {
    const chain: number[] = [];
    ns.rules.forEach((r, i) => { if (r.table === rule.table && r.chain === rule.chain) chain.push(i); });
    return chain;
  };
  const position = (p: unknown): number => {
    if (!Number.isInteger(p) || (p as number) < 1) fail('INVALID_ARGUMENT', `iptables: Invalid rule number \`${shown(p)}'`, { position: p });
    return p as number;
  };
  // `-R`: the rule it replaces (measured: `iptables: Index of replacement too big.` past the chain's last).
  let replaced = -1;
  if (a.op === 'rule.replace') {
    const at = position(a.position);
    const chain = inChain();
    if (at > chain.length) fail('INVALID_ARGUMENT', 'iptables: Index of replacement too big.', { position: at });
    replaced = chain[at - 1]!;
  }
  // nf_tables validates the chains as they would be with the rule (a loop, a target in a hook it may not act in).
  if (a.op !== 'rule.del' && (rule.target === 'JUMP' || NAT_HOOK_BITS[rule.target] !== undefined)) {
    const verb = a.op === 'rule.append' ? 'APPEND' : a.op === 'rule.insert' ? 'INSERT' : 'REPLACE';
    // A translation in a built-in chain, in a table without chains of its own, is judged by its chain alone.
    if (rule.target !== 'JUMP' && isBase(rule.table, rule.chain) && !hasOwn(ns as NetNs, rule.table, null)) {
      if ((NAT_HOOK_BITS[rule.target]! & HOOK_BITS[rule.chain as NfChain]) === 0) fail('INVALID_ARGUMENT', `${NFT}:  RULE_${verb} failed (Invalid argument): rule in chain ${rule.chain}`, { table: rule.table, chain: rule.chain, hook: rule.chain });
    } else {
      const existing = look(ns as NetNs, 'rules');
      checkChainGraph(replaced < 0 ? existing : existing.filter((_, i) => i !== replaced), rule, verb);
    }
  }
  if (a.op === 'rule.append') writable(ns, 'rules').push(rule);
  else if (a.op === 'rule.replace') writable(ns, 'rules')[replaced] = rule;
  else if (a.op === 'rule.insert') {
    // Rules of all chains share one list; the engine walks a chain's rules in list order, so the rule goes
    // before the one now holding its number in its chain (after the chain's last for one past the end).
    const at = position(a.position ?? 1);
    const chain = inChain();
    if (at > chain.length + 1) fail('INVALID_ARGUMENT', 'iptables: Index of insertion too big', { position: at });
    writable(ns, 'rules').splice(at <= chain.length ? chain[at - 1]! : ns.rules.length, 0, rule);
  } else {
    const i = ns.rules.findIndex((r) => JSON.stringify(r) === JSON.stringify(rule));
    if (i < 0) fail('INVALID_ARGUMENT', 'iptables: Bad rule (does a matching rule exist in that chain?)');
    writable(ns, 'rules').splice(i, 1);
  }
}

function listen(d: DState, a: Extract<Action, { op: 'listen' }>): void {
  const ns = draftNs(d, a.ns);
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) fail('INVALID_ARGUMENT', `port ${shown(a.port)} is out of range`);
  const key = `${a.protocol}/${a.port}`;
  if (ns.listening.includes(key)) fail('PORT_CONFLICT', `bind: address already in use (${key} in ${a.ns})`);
  writable(ns, 'listening').push(key);
}

function peersetPut(d: DState, a: Extract<Action, { op: 'peerset.put' }>): void {
  checkIfName(a.dev);
  if (a.group !== undefined && typeof a.group !== 'string') fail('INVALID_ARGUMENT', `peer set group must be a string, not ${shown(a.group)}`);
  const entry: PeerEntry = {
    owner: a.owner,
    ...(a.group === undefined ? {} : { group: a.group }),
    routes: a.routes.map((r) => {
      const dst = parseCidr(r.dst);
      return { dst, via: r.via ? parseIpv4(r.via) : null, dev: a.dev, proto: r.proto ?? 'boot', scope: r.via ? 'global' : 'link', src: null, onlink: r.onlink ?? false, metric: r.metric ?? 0, type: 'unicast' } as Route;
    }),
    neigh: a.neigh.map((n) => ({ ip: parseIpv4(n.ip), mac: parseMac(n.mac) })),
    fdb: a.fdb.map((f) => ({ mac: parseMac(f.mac), dst: parseIpv4(f.dst) })),
  };
  const had = ownSet(d, a.set);
  if (!had) put(peerSetsToWrite(d), a.set, { name: a.set, dev: a.dev, entries: emptyShards<PeerEntry>() });
  else if (had.dev !== a.dev) fail('INVALID_ARGUMENT', `peer set "${a.set}" is on ${had.dev}, not ${a.dev}`);
  shardSet(entriesToWrite(d, a.set), a.owner, entry);
  if (had?.downIn !== undefined && entry.routes.some((r) => r.onlink)) for (const id of had.downIn) refusedWhileDown(d, id, had, entry);
}

/**
 * A peer entry put while the set's device is down in namespace `id`: its onlink route is refused there
 * (`Error: Nexthop device is not up.`), and flanneld, on that error, deletes the neighbour and FDB entries
 * it added just before (vxlan_network.go: "Try to clean up both the ARP and FDB entries"), and does not try
 * again when the device comes up. Measured (kernel 6.18, flannel.1 down): `ip neigh replace 10.244.3.0 lladdr
 * … dev flannel.1 nud permanent` and `bridge fdb append … dev flannel.1 dst 192.168.1.13` accepted, `ip route
 * replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink` refused; after `ip link set flannel.1 up` no
 * route. So the owner is hidden there: routes, neighbours and FDB entries.
 */
function refusedWhileDown(d: DState, id: NsId, set: PeerSet, e: PeerEntry): void {
  const ns = findDraftNs(d, id);
  if (ns === undefined) return;
  const link = look(ns as NetNs, 'links')[set.dev];
  if (link === undefined || snap(link).up) return;
  const refs = look(ns as NetNs, 'peerSets');
  for (let r = 0; r < refs.length; r++) {
    const ref = snap(refs[r]!);
    if (ref.set !== set.name || !refUses(ref, e.owner, e.group, false)) continue;
    const tag = (x: number | string): string => `${e.owner} ${x}`;
    (writable(ns as NetNs, 'peerSets') as PeerSetRef[])[r] = {
      ...ref,
      hidden: [...(ref.hidden ?? []).filter((o) => o !== e.owner), e.owner],
      hiddenNeigh: [...(ref.hiddenNeigh ?? []), ...e.neigh.map((n) => tag(n.ip)).filter((t) => !ref.hiddenNeigh?.includes(t))],
      hiddenFdb: [...(ref.hiddenFdb ?? []), ...e.fdb.map((f) => tag(f.mac)).filter((t) => !ref.hiddenFdb?.includes(t))],
    };
  }
}

/**
 * The cluster's peer sets, to add a set to (util/immer.ts tableToWrite): a plain copy of the previous
 * state's table in a transition that has not drafted it. A node's join puts its entry into a set and a
 * removal deletes it: through the state's draft the table, the set and its entries' first level were three
 * immer proxies (of a flannel join's eleven draft levels).
 */
function peerSetsToWrite(d: DState): Record<string, PeerSet> {
  return tableToWrite(d as ClusterState, 'peerSets') as Record<string, PeerSet>;
}

/** The entries of the peer set `name` (which exists), to set and delete owners in: copied on write as {@link peerSetsToWrite}. */
function entriesToWrite(d: DState, name: string): Shards<PeerEntry> {
  const set = entryToWrite(d as ClusterState, 'peerSets', name) as PeerSet;
  return tableToWrite(set, 'entries') as Shards<PeerEntry>;
}

/**
 * The cluster's peer set named `name`, or undefined: looked up as an own key (a set named `toString` is
 * not Object.prototype's). `__proto__` cannot name one (it would set the record's prototype).
 */
function ownSet(d: DState, name: string): PeerSet | undefined {
  if (name === '__proto__') fail('INVALID_ARGUMENT', 'a peer set cannot be named "__proto__"', { value: name });
  const sets = look(d as ClusterState, 'peerSets');
  return Object.prototype.hasOwnProperty.call(sets, name) ? sets[name] : undefined;
}

function peersetDel(d: DState, a: Extract<Action, { op: 'peerset.del' }>): void {
  const set = ownSet(d, a.set);
  if (!set) fail('PEERSET_NOT_FOUND', `no peer set "${a.set}"`);
  const gone = shardGet(snap(set).entries, a.owner);
  shardDelete(entriesToWrite(d, a.set), a.owner);
  if (gone !== undefined && gone.routes.length > 0) freeExceptionsOf(d, a.set, gone);
}

/**
 * An owner's entry left peer set `name` (a node leaving): in every namespace that included its routes and
 * holds a route exception on one of their next hops, the exceptions no route there has a next hop for any
 * more are freed ({@link pruneExceptions}), as when those routes are deleted one by one (flanneld and
 * calico's agents delete a leaving node's route on every other node; the kernel frees the exceptions on a
 * fib_info with its last route: "Route exceptions when routes change" in docs/kernel-oracle.md). Only
 * namespaces with exceptions are drafted: the walk reads the others as they are. The router and the nodes'
 * host namespaces are read, not pods' (no design attaches a set to a pod; reading 60,000 pods on every
 * removal cost more than the removal: docs/performance.md).
 */
function freeExceptionsOf(d: DState, name: string, gone: PeerEntry): void {
  const visit = (ns: NetNs | undefined): void => {
    if (ns === undefined) return;
    const refs = ns.peerSets;
    if (refs.length === 0) return;
    const pm = look(ns, 'pmtu');
    let any = false;
    for (const _ in pm) { any = true; break; }
    if (!any) return;
    const keys = new Set<string>();
    for (const ref of refs) {
      const r = snap(ref);
      if (r.set === name && refUses(r, gone.owner, gone.group)) for (const rt of gone.routes) keys.add(nexthopKey(routeVia(rt, r.via)));
    }
    if (keys.size === 0) return;
    for (const k in pm) {
      const nh = pm[k]!.nh;
      if (nh !== undefined && keys.has(nh)) return pruneExceptions(d, draftNs(d, ns.id));
    }
  };
  const state = snap(d as ClusterState);
  visit(snap(look(state, 'underlay')).router);
  // Read as plain data (shardPeekValues): shardValues would draft every node it passes.
  for (const node of shardPeekValues(look(state, 'nodes'))) visit(snap(node.host));
}

function peersetRestore(d: DState, a: Extract<Action, { op: 'peerset.restore' }>): void {
  const ns = draftNs(d, a.ns);
  const held = ownSet(d, a.set);
  if (!held) fail('PEERSET_NOT_FOUND', `no peer set "${a.set}"`);
  if (a.replace !== undefined && typeof a.replace !== 'boolean') fail('INVALID_ARGUMENT', `peerset.restore replace must be true or false, not ${shown(a.replace)}`);
  const set = snap(held);
  const entry = shardGet(snap(set.entries), a.owner);
  if (entry === undefined) fail('INVALID_ARGUMENT', `peer set "${a.set}" has no entry of ${shown(a.owner)}`);
  const refs = look(ns as NetNs, 'peerSets');
  const r = refs.findIndex((x) => snap(x).set === a.set && refUses({ ...snap(x), hidden: [] }, entry.owner, entry.group));
  if (r < 0) fail('INVALID_ARGUMENT', `${a.ns} does not use ${a.owner}'s entry of peer set "${a.set}"`);
  const ref = snap(refs[r]!);
  const exists = (): never => fail('ROUTE_EXISTS', `RTNETLINK answers: File exists (${a.owner}'s routes of peer set "${a.set}" in ${a.ns})`, { ns: a.ns, set: a.set, owner: a.owner });
  const routesHidden = (ref.hidden ?? []).includes(a.owner);
  const neighTags = entry.neigh.map((n) => `${a.owner} ${n.ip}`);
  const fdbTags = entry.fdb.map((f) => `${a.owner} ${f.mac}`);
  const l2Hidden = neighTags.some((t) => ref.hiddenNeigh?.includes(t)) || fdbTags.some((t) => ref.hiddenFdb?.includes(t));
  if (!a.replace && !routesHidden) exists();
  const others: PeerSetRef = { ...ref, hidden: [...(ref.hidden ?? []), a.owner] };
  for (const r0 of routesHidden ? entry.routes : []) {
    const route = routeVia(r0, ref.via);
    const routes = look(ns as NetNs, 'routes');
    if (routes.some((x) => sameRouteKey(snap(x), route))) {
      // `ip route replace` takes the place of the route there; `ip route add` is refused by it.
      if (!a.replace) exists();
      put(ns as NetNs, 'routes', routes.filter((x) => !sameRouteKey(snap(x), route)));
    }
    if (hasKernelRoute(ns as NetNs, route.dst, route.metric)) {
      if (!a.replace) exists();
      replacePrefixRoute(ns, route.dst);
    }
    if (sharedRouteIn({ ...set, entries: snap(set.entries) }, others, snap(ns as NetNs), route.dst, route.metric, false) !== null) exists();
  }
  // Neighbour and FDB entries someone set by hand in their place give way (NeighSet replaces them).
  if (a.replace) {
    const neigh = look(ns as NetNs, 'neigh');
    for (const n of entry.neigh) if (neigh[`${set.dev}|${n.ip}`] !== undefined) delete (tableToWrite(ns, 'neigh') as Record<string, unknown>)[`${set.dev}|${n.ip}`];
    const fdb = look(ns as NetNs, 'fdb');
    for (const f of entry.fdb) if (fdb[`${set.dev}|${f.mac}`] !== undefined) delete (tableToWrite(ns, 'fdb') as Record<string, unknown>)[`${set.dev}|${f.mac}`];
  }
  if (!routesHidden && !l2Hidden) return;
  // The reference without the owner's tags; a list left empty goes, as a reference that never hid anything has none.
  const { hidden, hiddenNeigh, hiddenFdb, ...rest } = ref;
  const left = (l: readonly string[] | undefined, drop: (t: string) => boolean): readonly string[] | undefined => {
    const out = (l ?? []).filter((t) => !drop(t));
    return out.length > 0 ? out : undefined;
  };
  const h = left(hidden, (o) => o === a.owner);
  const hn = left(hiddenNeigh, (t) => neighTags.includes(t));
  const hf = left(hiddenFdb, (t) => fdbTags.includes(t));
  (writable(ns as NetNs, 'peerSets') as PeerSetRef[])[r] = { ...rest, ...(h ? { hidden: h } : {}), ...(hn ? { hiddenNeigh: hn } : {}), ...(hf ? { hiddenFdb: hf } : {}) };
}

function peersetAttach(d: DState, a: Extract<Action, { op: 'peerset.attach' }>): void {
  const ns = draftNs(d, a.ns);
  const set = ownSet(d, a.set);
  if (!set) fail('PEERSET_NOT_FOUND', `no peer set "${a.set}"`);
  getLink(ns, set.dev);
  if (a.match !== undefined && (a.match !== 'same' && a.match !== 'other')) fail('INVALID_ARGUMENT', `peer set match must be "same" or "other", not ${shown(a.match)}`);
  if (a.match !== undefined && typeof a.group !== 'string') fail('INVALID_ARGUMENT', 'a peer set match needs the namespace\'s group');
  const via = a.via === undefined ? undefined : parseIpv4(a.via);
  // One namespace may include a set twice with different matches (same group plainly, other groups by a gateway).
  if (!ns.peerSets.some((r) => r.set === a.set && r.match === a.match)) {
    writable(ns, 'peerSets').push({
      set: a.set, self: a.self, ...(a.group === undefined ? {} : { group: a.group }), ...(a.match === undefined ? {} : { match: a.match }), ...(via === undefined ? {} : { via }),
    });
  }
}

/** The tc programs the engine knows how to run (cilium's, see packet-path.md). */
export const TC_PROGRAMS: Readonly<Record<string, string>> = {
  cil_from_container: 'bpf_lxc.o',
  cil_from_overlay: 'bpf_overlay.o',
  cil_from_netdev: 'bpf_host.o',
  cil_from_host: 'bpf_host.o',
};

function tcAction(d: DState, a: Extract<Action, { op: 'tc.attach' | 'tc.detach' }>): void {
  const ns = draftNs(d, a.ns);
  const link = draftLink(ns, a.dev);
  if (a.direction !== 'ingress' && a.direction !== 'egress') fail('INVALID_ARGUMENT', `tc direction must be ingress or egress, not ${shown(a.direction)}`);
  if (a.op === 'tc.detach') {
    if (!link.tc?.[a.direction]) fail('INVALID_ARGUMENT', `Error: no ${a.direction} filter on ${a.dev} in ${a.ns}`);
    const rest = { ...link.tc };
    delete rest[a.direction];
    if (rest.ingress || rest.egress) link.tc = rest;
    else delete link.tc;
    return;
  }
  const obj = TC_PROGRAMS[a.sec];
  if (obj === undefined) fail('UNSUPPORTED', `podnet does not model the eBPF program "${shown(a.sec)}" (it models ${Object.keys(TC_PROGRAMS).join(', ')})`, { sec: a.sec });
  if (a.obj !== obj) fail('INVALID_ARGUMENT', `section ${a.sec} is in ${obj}, not ${shown(a.obj)}`);
  if (a.encapDev !== undefined) {
    const enc = getLink(ns, a.encapDev);
    if (enc.kind !== 'vxlan') fail('INVALID_ARGUMENT', `ENCAP_IFINDEX ${a.encapDev} is a ${enc.kind}, not a VXLAN device`);
  }
  const prog = { obj: a.obj, sec: a.sec, ...(a.encapDev !== undefined ? { encapDev: a.encapDev } : {}) };
  link.tc = { ...(link.tc ?? {}), [a.direction]: prog };
}

function bpfMapAction(d: DState, a: Extract<Action, { op: 'bpf.map.update' | 'bpf.map.delete' }>): void {
  if (a.map === 'cilium_lxc') {
    const ns = draftNs(d, a.ns);
    const ip = parseIpv4(a.key);
    const key = String(ip);
    if (a.op === 'bpf.map.delete') {
      if (!look(ns as NetNs, 'lxcMap')?.[key]) fail('MAP_KEY_NOT_FOUND', `Error: key ${a.key} not found in cilium_lxc of ${a.ns}`, { key: a.key });
      delete (tableToWrite(ns as NetNs, 'lxcMap') as Record<string, unknown>)[key];
      return;
    }
    const v = a.value;
    if (v === null || typeof v !== 'object') fail('INVALID_ARGUMENT', 'a cilium_lxc value is { dev, mac, identity } or { host: true, identity }');
    if (!Number.isInteger(v.identity) || v.identity < 0 || v.identity > 0xffffff) fail('INVALID_ARGUMENT', `identity ${shown(v.identity)} is out of range (0 to 16777215)`);
    let entry;
    if (v.host) entry = { ip, dev: null, mac: null, host: true, identity: v.identity };
    else {
      if (v.dev === undefined || v.mac === undefined) fail('INVALID_ARGUMENT', 'an endpoint entry needs the lxc device and the pod MAC');
      getLink(ns, v.dev);
      entry = { ip, dev: v.dev, mac: parseMac(v.mac), host: false, identity: v.identity };
    }
    if (!look(ns as NetNs, 'lxcMap')) put(ns as NetNs, 'lxcMap', {});
    (tableToWrite(ns as NetNs, 'lxcMap') as Record<string, unknown>)[key] = entry;
    return;
  }
  if (a.map === 'cilium_tunnel_map') {
    const prefix = parseCidr(a.key);
    const key = formatCidr(prefix);
    if (a.op === 'bpf.map.delete') {
      const map = look(look(d as ClusterState, 'underlay'), 'tunnelMap');
      if (!map || !shardPeek(map, key)) fail('MAP_KEY_NOT_FOUND', `Error: key ${a.key} not found in cilium_tunnel_map`, { key: a.key });
      shardDelete(tableToWrite(underlayToWrite(d), 'tunnelMap') as Shards<unknown>, key);
      return;
    }
    const v = a.value;
    if (v === null || typeof v !== 'object' || typeof v.owner !== 'string') fail('INVALID_ARGUMENT', 'a cilium_tunnel_map value is { endpoint, owner }');
    const endpoint = parseIpv4(v.endpoint);
    const underlay = underlayToWrite(d);
    if (!look(underlay, 'tunnelMap')) put(underlay, 'tunnelMap', emptyShards() as never);
    shardSet(tableToWrite(underlay, 'tunnelMap') as Shards<unknown>, key, { prefix, endpoint, owner: v.owner });
    return;
  }
  fail('UNSUPPORTED', `podnet does not model the BPF map "${shown((a as { map: unknown }).map)}" (cilium_lxc, cilium_tunnel_map)`);
}

/** The fabric key of an address or a prefix (see {@link Segment.fabric}). */
export function fabricKey(c: Cidr): string {
  return c.len === 32 ? String(c.addr) : `${c.addr}/${c.len}`;
}

/** The fabric entry that covers `ip` on a segment: its own secondary address, else a delegated /28. */
export function fabricLookup(seg: Segment, ip: number): FabricEntry | undefined {
  if (!seg.fabric) return undefined;
  return shardGet(seg.fabric, String(ip)) ?? shardGet(seg.fabric, `${(ip & maskOf(28)) >>> 0}/28`);
}

function fabricTargets(seg: Segment, ips: readonly string[] | undefined, prefixes: readonly string[] | undefined): { c: Cidr; text: string }[] {
  if (ips !== undefined && !Array.isArray(ips)) fail('INVALID_ARGUMENT', 'ips must be an array of addresses');
  if (prefixes !== undefined && !Array.isArray(prefixes)) fail('INVALID_ARGUMENT', 'prefixes must be an array of /28 prefixes');
  const out: { c: Cidr; text: string }[] = [];
  const last = (seg.cidr.addr + 2 ** (32 - seg.cidr.len) - 1) >>> 0;
  for (const t of ips ?? []) {
    const ip = parseIpv4(t);
    // A VPC subnet reserves its network address, the next three (router, DNS, future) and its broadcast.
    if (!cidrContains(seg.cidr, ip) || ip - seg.cidr.addr < 4 || ip === last || ip === seg.gateway) {
      fail('IP_OUTSIDE_RANGE', `${t} is not an assignable address of subnet ${seg.name} (${formatCidr(seg.cidr)}): the first four and the last address are reserved`, { ip: t, segment: seg.name });
    }
    out.push({ c: { addr: ip, len: 32 }, text: t });
  }
  for (const t of prefixes ?? []) {
    const c = parseCidr(t);
    if (c.len !== 28) fail('INVALID_CIDR', `${t}: an ENI takes /28 IPv4 prefixes`, { prefix: t });
    if (!cidrContains(seg.cidr, c.addr) || c.addr - seg.cidr.addr < 4 || c.addr + 15 >= last) {
      fail('IP_OUTSIDE_RANGE', `${t} is not inside subnet ${seg.name} (${formatCidr(seg.cidr)}) clear of its reserved addresses`, { prefix: t, segment: seg.name });
    }
    out.push({ c, text: t });
  }
  if (out.length === 0 && ips === undefined && prefixes === undefined) fail('INVALID_ARGUMENT', 'give ips or prefixes');
  return out;
}

/**
 * A segment of the underlay, to change (its ports and its fabric, sharded maps to write through
 * {@link segmentTableToWrite}), or undefined: in a transition, the underlay's segments table and the segment
 * are plain copies put in place (util/immer.ts entryToWrite), not immer drafts; a node's join and removal
 * write its NIC's port this way. The underlay itself stays a draft (its router is changed deep down).
 */
export function segmentToWrite(d: DState, name: string): Segment | undefined {
  return entryToWrite(underlayToWrite(d), 'segments', name) as Segment | undefined;
}

/** A sharded table of a segment {@link segmentToWrite} gave, to set and delete keys in (util/immer.ts tableToWrite). */
export function segmentTableToWrite<K extends 'ports' | 'fabric'>(seg: Segment, key: K): NonNullable<Segment[K]> {
  return tableToWrite(seg, key) as NonNullable<Segment[K]>;
}

function vpcAssign(d: DState, a: VpcAssign): void {
  const seg = segmentToWrite(d, a.segment) as Draft<Segment> | undefined;
  if (!seg) fail('SEGMENT_NOT_FOUND', `segment "${shown(a.segment)}" does not exist`, { segment: a.segment });
  if (typeof a.eni !== 'string' || !/^eni-[0-9a-f]{8,17}$/.test(a.eni)) fail('INVALID_ARGUMENT', `"${shown(a.eni)}" is not an ENI id (eni- and 8 to 17 hex digits)`);
  if (!Number.isInteger(a.deviceIndex) || a.deviceIndex < 0 || a.deviceIndex > 31) fail('INVALID_ARGUMENT', `device index ${shown(a.deviceIndex)} is out of range (0 to 31)`);
  const ns = draftNs(d, a.ns);
  if (a.attach && !Object.prototype.hasOwnProperty.call(look(ns as NetNs, 'links'), a.dev)) {
    // The cloud hot-plugs the new ENI: the instance sees a new NIC on the subnet, down and without an
    // address, until the node agent sets it up (ipamd's setupENINetwork).
    checkIfName(a.dev);
    const mac = macFromSeed(`eni|${a.eni}`);
    addLinkTo(ns, newLink(ns, { kind: 'physical', name: a.dev, mac, mtu: seg.mtu, up: false, segment: a.segment } as never));
    shardSet(segmentTableToWrite(seg as Segment, 'ports'), mac, { mac, ns: a.ns, dev: a.dev });
  }
  const link = getLink(ns, a.dev);
  if (link.kind !== 'physical' || link.segment !== a.segment) fail('INVALID_ARGUMENT', `${a.dev} in ${a.ns} is not attached to segment ${a.segment}`, { ns: a.ns, dev: a.dev });
  if (a.primaryIp !== undefined && !a.attach) fail('INVALID_ARGUMENT', 'primaryIp is the address of an ENI being created: it needs attach');
  const targets = fabricTargets(seg as Segment, a.primaryIp === undefined ? a.ips : [a.primaryIp, ...(a.ips ?? [])], a.prefixes);
  if (!seg.fabric) seg.fabric = emptyShards() as never;
  const fabric = segmentTableToWrite(seg as Segment, 'fabric');
  for (const { c, text } of targets) {
    const key = fabricKey(c);
    const held = shardGet(fabric, key) ?? (c.len === 32 ? fabricLookup(seg as Segment, c.addr) : undefined);
    const ownerOfIp = c.len === 32 ? shardPeek(look(d as ClusterState, 'ipIndex'), String(c.addr))?.find((o) => o.kind !== 'pod') : undefined;
    if (held || ownerOfIp) {
      fail('IP_IN_USE', `${text} is already assigned in subnet ${a.segment} (to ${held ? `${held.eni} of ${held.node}` : `${ownerOfIp!.kind} ${ownerOfIp!.name}`})`, { ip: text, segment: a.segment });
    }
    const kind = c.len !== 32 ? 'prefix' : text === a.primaryIp ? 'primary' : 'secondary';
    shardSet(fabric, key, { eni: a.eni, deviceIndex: a.deviceIndex, node: a.node, ns: a.ns, dev: a.dev, mac: link.mac, kind });
  }
}

function vpcUnassign(d: DState, a: Extract<Action, { op: 'vpc.unassign' }>): void {
  const seg = segmentToWrite(d, a.segment) as Draft<Segment> | undefined;
  if (!seg) fail('SEGMENT_NOT_FOUND', `segment "${shown(a.segment)}" does not exist`, { segment: a.segment });
  const targets = fabricTargets(seg as Segment, a.ips, a.prefixes);
  const fabric = seg.fabric === undefined ? undefined : segmentTableToWrite(seg as Segment, 'fabric');
  let where: FabricEntry | null = null;
  for (const { c, text } of targets) {
    const e = fabric ? shardGet(fabric, fabricKey(c)) : undefined;
    if (!e || e.eni !== a.eni) fail('ADDRESS_NOT_FOUND', `${text} is not assigned to ${a.eni} in subnet ${a.segment}`, { ip: text, eni: a.eni });
    where = e;
    shardDelete(fabric!, fabricKey(c));
  }
  // Detached, a secondary ENI's NIC leaves the instance (the primary, device 0, cannot be detached): its
  // addresses, the routes through it in every table, its neighbours and its port on the subnet go with it.
  if (!a.detach || where === null || where.deviceIndex === 0) return;
  const ns = findNsDraft(d, where.ns);
  const links = ns ? look(ns as NetNs, 'links') : null;
  const link = links !== null && Object.prototype.hasOwnProperty.call(links, where.dev) ? snap(links[where.dev]!) : undefined;
  if (!ns || !link || link.kind !== 'physical') return;
  for (const ad of link.addrs) unindexAddr(d, ns.id, link.name, ad.ip);
  flushDev(d, ns, link.name);
  shardDelete(segmentTableToWrite(seg as Segment, 'ports'), link.mac);
  delete linksToWrite(ns)[link.name];
}

/** {@link draftNs}, or null when the namespace is gone. */
function findNsDraft(d: DState, id: NsId): DNs | null {
  try {
    return draftNs(d, id);
  } catch {
    return null;
  }
}

/**
 * Applies actions in order, atomically: returns the new state, or throws the first action's
 * {@link PodnetError} and leaves `state` untouched (immer discards the draft).
 */
export function applyActions(state: ClusterState, actions: readonly Action[]): ClusterState {
  if (!Array.isArray(actions)) fail('INVALID_ARGUMENT', 'actions must be an array');
  if (actions.length === 0) return state;
  return transition(state, (d) => applyList(d, actions));
}

/**
 * Applies actions to a draft already open (for callers batching many changes in one transition). `known`
 * are namespaces of the draft the caller holds, which the actions naming them use without a look-up: a pod's
 * CNI ADD names its node's and its own, and finding them by id (the id cut, hashed into the node and pod
 * indexes, the new key looked up in V8's string table) was ~3% of a flannel bulk build. `gone` is a
 * namespace the caller removes once the list is applied (a deleted pod's), named by its id: a link the list
 * deletes in it may be left there (see {@link goneNs}), so the caller must take the namespace as the list
 * leaves it (its draft if the list made one, else as it was) out of the IP index (unindexNs) and throw it
 * away; every action sees it as it would without. `pod` is the key of the pod whose CNI ADD or DEL the list is
 * (the IP index's owners of its addresses then hold that string: {@link podKeyIn}).
 */
export function applyActionsToDraft(d: DState, actions: readonly Action[], known: readonly Draft<NetNs>[] = NO_NS, gone: GoneNs | null = null, pod: string | null = null, hook: string | null = null, subject = ''): void {
  applyList(d, actions, known, gone, pod, hook, subject);
}
