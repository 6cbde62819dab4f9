/**
 * What a change can have affected, for the incremental checks: the nodes whose namespaces changed, the
 * addresses whose owners changed, and whether the change can reach a path between endpoints on nodes it
 * did not touch (`global`: then every pair is probed again).
 *
 * A change to the underlay or to a shared peer set used to be global as such. A node joining or leaving
 * changes both — a port on its segment, its entry in the design's peer set — so every join and leave
 * re-probed every pair (O(pods²) probes for one node). Such a change is now global only when it can reach
 * a path it has no endpoint in:
 * - the underlay: the router, a fabric, the tunnel map, a segment's own settings; a segment port that
 *   belongs to a namespace of an untouched node;
 * - a peer set: an entry of an untouched owner; an entry (before or after) whose route holds an address
 *   an untouched namespace owns (a packet to or from it is looked up there); a neighbour entry for an
 *   address that is a gateway of some route an untouched source installs, or that an untouched namespace
 *   owns; a neighbour or FDB entry whose MAC an untouched source resolves to.
 * Everything else a probe between untouched endpoints looks up lives in namespaces of untouched nodes,
 * which the change left as they were. The property that holds this to a full audit after every event,
 * with designs whose joins reach into other nodes' paths, is in packages/testing/src/equivalence.test.ts.
 */
import { cidrContains, type Cidr } from '../addr/ipv4.js';
import { podKeys } from '../dataplane/links.js';
import { locateNs } from '../model/lookup.js';
import type { ClusterState, IpOwner, Link, NetNs, NsId, PeerEntry } from '../model/types.js';
import { shardDiffKeys, shardGet, shardSome, shardValues } from '../util/shards.js';

/** What a change touched, as the incremental checker needs it. */
export interface ChangeScope {
  /** Nodes whose namespaces (host or pods) changed. */
  readonly nodes: readonly string[];
  /** Addresses (decimal strings) whose ownership changed. */
  readonly ips: readonly string[];
  /** The change may affect every path: re-audit everything (but see `routerNeigh`). */
  readonly global: boolean;
  /**
   * Set (with `global`) when the change is global only because the underlay router's neighbour table
   * changed — what traffic to or through it taught — and nothing else of the router did. The router reads
   * its neighbour table only to send a packet on, a step the engine notes as a visit of its namespace
   * (ARP frames aside: the router answers ARP from its addresses, proxy_arp and routes, never from its
   * neighbours). So a probe that did not step in the router before the change reads nothing the change
   * changed, and runs as it did: only the pairs whose probes crossed the router, and those the rest of the
   * scope names, can have changed. The incremental check re-probes those; a sampled check still takes the
   * change as global.
   */
  readonly routerNeigh?: true;
  /**
   * The state the change left from, when the scope was taken from the two states (`changeScope`): the
   * incremental check looks at it again to tell a change that only took pods away (`departedPods`).
   * Kept rather than judged here: a sampled check has no use for it, and at 5,000 nodes judging it costs
   * ~30 µs of dictionary lookups rarely in the CPU cache (diffScope of a delete: ~2.5 µs without).
   */
  readonly from?: ClusterState;
}

/** The scope of the change from `a` to `b` (see the module comment). */
export function changeScope(a: ClusterState, b: ClusterState): ChangeScope {
  const nodes = shardDiffKeys(a.nodes, b.nodes);
  const ips = changedIps(a, b);
  const touched = new Set(nodes);
  const ra = a.underlay.router;
  const rb = b.underlay.router;
  if (ra !== rb && onlyNeighDiffers(ra, rb) && !reachesOthers(a, b, touched, ips, true)) return { nodes, ips, global: true, routerNeigh: true, from: a };
  return { nodes, ips, global: reachesOthers(a, b, touched, ips, false), from: a };
}

/**
 * The namespaces of the pods the change from `a` to `b` (of this scope) took off its one touched node, when
 * that is all it did that a probe reads; else null. A probe between pods that stay then reads what it read
 * before, less those pods: it runs as it did unless one of its packets (ARP frames aside) took a step in
 * their namespaces, so the incremental check re-probes only the pairs that did, and those that fail,
 * instead of every pair of the node's pods. What a probe between pods that stay (or from a node to one) reads of the change's node is then what
 * it read before, less the departed pods: their namespaces, their addresses (which nobody owns after), the
 * host's bridge ports to them and those ports' FDB entries. Every other field of the node's record (its
 * `cni` state aside, which forwarding never reads), of its host namespace, and of the state outside the
 * node (underlay, peer sets) is the same object. So a probe runs as before until one of its packets meets
 * what is gone:
 * - a frame sent to a departed namespace, through a port's FDB entry, a flood, or a route: a step there,
 *   noted unless the frame is ARP. A bridge's ports are its only ways there, as a port may carry no
 *   address, route, tc program or FDB entry the host's routes could send to (each checked below).
 * - an ARP request flooded there: a departed namespace answers only for an address (its own, or by proxy
 *   ARP) whose packets then go to it — a noted step — unless another answer came first, which is then the
 *   one they follow either way; what its answer taught the run's tables is read only by frames to its MAC.
 *   Without it, the probe takes fewer steps, never more.
 * - a frame to a departed port's own MAC (the host's local FDB entry for it): a port of a bridge answers no
 *   ARP (the bridge does, with its own MAC), so only a neighbour entry the state holds, or a link of the
 *   same MAC answering for itself, could name that MAC: none may, in the host or a staying pod of the node,
 *   nor a peer set they include for the bridge.
 * The property holding this to a full audit is in packages/testing/src/equivalence.test.ts.
 */
export function departedPods(a: ClusterState, b: ClusterState, scope: ChangeScope): NsId[] | null {
  if (scope.global || scope.nodes.length !== 1) return null;
  const name = scope.nodes[0]!;
  const ips = scope.ips;
  // The clock too: entries age by it (ARP, FDB, path MTU).
  if (a.underlay !== b.underlay || a.peerSets !== b.peerSets || a.now !== b.now) return null;
  const na = shardGet(a.nodes, name);
  const nb = shardGet(b.nodes, name);
  // The same pods (what a packet taught, most often): none departed, without listing them.
  if (!na || !nb || na.pods === nb.pods) return null;
  // Fewer pods after, first: most changes of one node (a pod added, what a packet taught) end here, with
  // the node's memoized pod keys (~8 µs a change went through the walks below in every-change runs).
  const keysA = podKeys(na);
  const keysB = podKeys(nb);
  if (keysB.length >= keysA.length) return null;
  if (!sameExcept(na, nb, NODE_PARTS)) return null;
  for (let i = 0; i < keysB.length; i++) if (na.pods[keysB[i]!] !== nb.pods[keysB[i]!]) return null;
  const departed: NsId[] = [];
  for (let i = 0; i < keysA.length; i++) if (!(keysA[i]! in nb.pods)) departed.push(`pod/${keysA[i]!}`);
  // Their addresses: owned by departed namespaces before, by nobody after.
  for (const ip of ips) {
    if ((shardGet(b.ipIndex, ip)?.length ?? 0) > 0) return null;
    for (const o of shardGet(a.ipIndex, ip) ?? []) if (!departed.includes(o.ns)) return null;
  }
  const ha = na.host;
  const hb = nb.host;
  if (ha !== hb) {
    if (!sameExcept(ha, hb, PORT_PARTS)) return null;
    // Removed links: bridge ports to departed pods, with nothing the host could route to.
    const ports = new Set<string>();
    const macs = new Set<string>();
    const bridges = new Set<string>();
    for (const k in hb.links) if (ha.links[k] !== hb.links[k]) return null;
    for (const k in ha.links) {
      if (k in hb.links) continue;
      const l = ha.links[k]!;
      if (l.kind !== 'veth' || l.master === null || l.addrs.length > 0 || l.tc || !departed.includes(l.peer.ns)) return null;
      ports.add(l.name);
      macs.add(l.mac);
      bridges.add(l.master);
    }
    for (const k in hb.fdb) if (ha.fdb[k] !== hb.fdb[k]) return null;
    // After the links: the MACs of the departed ports are known.
    for (const k in ha.fdb) {
      if (k in hb.fdb) continue;
      const e = ha.fdb[k]!;
      // An entry of a departed port: frames to its MAC went to that port — or, for a local entry (the port's
      // own MAC, nothing else), up to the host.
      if (e.port === null || !ports.has(e.port) || (e.local && !macs.has(e.mac))) return null;
    }
    if (ports.size > 0) {
      for (const r of ha.routes) if (r.dev !== null && ports.has(r.dev)) return null;
      for (const list of Object.values(ha.tables ?? {})) for (const r of list) if (r.dev !== null && ports.has(r.dev)) return null;
      const namesMac = (ns: NetNs): boolean => {
        for (const k in ns.links) if (macs.has(ns.links[k]!.mac)) return true;
        for (const k in ns.neigh) { const m = ns.neigh[k]!.mac; if (m !== null && macs.has(m)) return true; }
        for (const ref of ns.peerSets) {
          const set = a.peerSets[ref.set];
          if (set && bridges.has(set.dev)) return true;
        }
        return false;
      };
      // The host as it is after (its links without the departed ports; the rest is the same objects).
      if (namesMac(hb)) return null;
      for (let i = 0; i < keysB.length; i++) { const p = nb.pods[keysB[i]!]!; if (p.netns && namesMac(p.netns)) return null; }
    }
  }
  return departed;
}

/** What a change that only brought pods onto one node brought ({@link arrivedPods}). */
export interface Arrival {
  /** The namespaces of the pods that came. */
  readonly pods: readonly NsId[];
  /** The ports it added to the node's bridges: each flood there now sends that many copies more. */
  readonly ports: number;
}

/**
 * The most bridge ports one change may add for {@link arrivedPods} to hold: a probe keeps, in its record, how
 * many more it could absorb when that is fewer (check.ts, `slack`), so that a port more cannot make a passing
 * probe run out of steps unseen.
 */
export const MAX_ARRIVING_PORTS = 64;

/** The fields of a host namespace a pod's arrival may change, each checked by {@link arrivedPods}. */
const ARRIVAL_HOST_FIELDS: ReadonlySet<string> = new Set(['links', 'fdb', 'routes', 'neigh', 'sysctl', 'lxcMap', 'ipRules', 'nextIfindex']);

/**
 * What the change from `a` to `b` (of this scope) brought onto its one touched node, when all it did that a
 * probe between pods that were there (or from a node to one) can read is bring new pods; else null. Such a
 * probe then runs as it did, and the incremental check probes only the new pods' pairs (and pairs that fail,
 * or whose probe could run out of steps: below), instead of every pair of the node's pods. The mirror of
 * {@link departedPods}. What the change may do, and why a probe of pods that were there cannot see it:
 * - new pod namespaces, each holding only addresses nobody held before (the scope's addresses: owned by the
 *   new pods alone after, by nobody before). Every lookup of the probe is keyed by addresses it had before —
 *   its endpoints', its routes' gateways, the nodes' — so none of them is a new address, and every lookup
 *   keyed by a new address (a new pod's `/32` route, `ip rule to`, cilium endpoint, neighbour entry) is never
 *   made. A probe that asked for a new address before (an ARP request for a gateway nobody held) got no answer
 *   and failed: failing pairs are probed again.
 * - new veths in the host whose far ends are new pods, with no address, each a port of a bridge that was there
 *   or of none. A new port adds a copy to every flood of its bridge: the new pod answers an ARP request only
 *   for its own (new) addresses — it may not answer by proxy ARP, nor have its end in a bridge of its own — and
 *   takes up no frame for a MAC that is not its own, and none of the new MACs is one a frame on that bridge
 *   could be sent to: not a MAC of a link of the node, nor one in a neighbour entry of the host or of the pods
 *   that were there; frames on the bridge come only from those namespaces, as its ports are all veths to pods
 *   (a bridge with an uplink or a tunnel port holds the other nodes' frames: not an arrival). So each copy
 *   ends there, costing steps only: a probe whose record says it could not absorb that many more
 *   (`slack`, kept for the rare probe near its step budget) is probed again. A new port in hairpin mode
 *   (the bridge plugin's `hairpinMode`) costs no more: its copy back goes only to floods that came in by it,
 *   from the new pod; an old port's flag is an old link's, which an arrival leaves as it was.
 * - FDB entries of the new ports (for their own MACs, or their pods'), proxy ARP on the new veths (calico),
 *   cilium endpoints and `ip rule to` / `from` a new address (the AWS VPC CNI) — each read only by a packet of
 *   a new pod, or to one.
 * Every other field of the node (its `cni` state aside), of its host namespace and of the state (underlay,
 * peer sets, the clock) is the same object, and the old pods are the same objects. The property holding this
 * to a full audit is in packages/testing/src/equivalence.test.ts. packages/cni/src/arrival.test.ts pins the
 * hazards a design's ADD reaches (an FDB entry, a route, a neighbour entry or a rule for an old pod, a port that
 * lowers the bridge's MTU), each caught only while its rule is here. The others (proxy ARP or a bridge on the
 * new pod's side, a program on a new port, a new MAC a frame could already be sent to, the step budget) no
 * design of the tests reaches: they are here because the argument above needs them.
 */
export function arrivedPods(a: ClusterState, b: ClusterState, scope: ChangeScope): Arrival | null {
  if (scope.global || scope.nodes.length !== 1 || scope.ips.length === 0) return null;
  if (a.underlay !== b.underlay || a.peerSets !== b.peerSets || a.now !== b.now) return null;
  const name = scope.nodes[0]!;
  const na = shardGet(a.nodes, name);
  const nb = shardGet(b.nodes, name);
  if (!na || !nb || na.pods === nb.pods) return null;
  const keysA = podKeys(na);
  const keysB = podKeys(nb);
  if (keysB.length <= keysA.length) return null;
  if (!sameExcept(na, nb, NODE_PARTS)) return null;
  for (let i = 0; i < keysA.length; i++) if (na.pods[keysA[i]!] !== nb.pods[keysA[i]!]) return null;
  const arrived: NsId[] = [];
  const newNs = new Map<NsId, NetNs>();
  for (let i = 0; i < keysB.length; i++) {
    const k = keysB[i]!;
    if (k in na.pods) continue;
    const ns = nb.pods[k]!.netns;
    if (ns === null) continue; // a hostNetwork pod: nothing of its own
    // An end that answers only for itself: no proxy ARP, no bridge of its own, no eBPF program.
    for (const l in ns.links) if (ns.links[l]!.master !== null || ns.links[l]!.tc) return null;
    for (const d in ns.sysctl.proxyArp) if (ns.sysctl.proxyArp[d]) return null;
    arrived.push(ns.id);
    newNs.set(ns.id, ns);
  }
  // The scope's addresses: nobody's before, the new pods' alone after.
  const fresh = new Set<number>();
  for (const ip of scope.ips) {
    if ((shardGet(a.ipIndex, ip)?.length ?? 0) > 0) return null;
    for (const o of shardGet(b.ipIndex, ip) ?? []) if (!newNs.has(o.ns)) return null;
    fresh.add(Number(ip));
  }
  const ha = na.host;
  const hb = nb.host;
  let ports = 0;
  if (ha !== hb) {
    if (!sameExcept(ha, hb, ARRIVAL_HOST_FIELDS)) return null;
    // Links: the old ones as they were; new veths to new pods, without addresses, ports of an old bridge or of none.
    for (const k in ha.links) if (ha.links[k] !== hb.links[k]) return null;
    const added = new Map<string, Link>();
    const bridges = new Set<string>();
    const newMacs = new Set<string>();
    for (const k in hb.links) {
      if (k in ha.links) continue;
      const l = hb.links[k]!;
      if (l.kind !== 'veth' || l.addrs.length > 0) return null;
      const far = newNs.get(l.peer.ns);
      if (far === undefined) return null;
      added.set(k, l);
      if (l.master === null) continue;
      // A port with a program on it would run it on every copy a flood sends there.
      if (ha.links[l.master]?.kind !== 'bridge' || l.tc) return null;
      ports++;
      bridges.add(l.master);
      newMacs.add(l.mac);
      for (const f in far.links) if (far.links[f]!.kind !== 'loopback') newMacs.add(far.links[f]!.mac);
    }
    if (ports >= MAX_ARRIVING_PORTS) return null;
    // FDB: the old entries as they were; new ones on new ports, for their own MACs or their pods'.
    for (const k in ha.fdb) if (ha.fdb[k] !== hb.fdb[k]) return null;
    for (const k in hb.fdb) {
      if (k in ha.fdb) continue;
      const e = hb.fdb[k]!;
      const port = e.port === null ? undefined : added.get(e.port);
      if (port === undefined || port.master === null || !newMacs.has(e.mac) || (e.local && e.mac !== port.mac)) return null;
    }
    // Routes: the old ones, in their order; new ones for a new address alone, by a new veth.
    if (!keptInOrder(ha.routes, hb.routes, (r) => r.dst.len === 32 && fresh.has(r.dst.addr) && r.dev !== null && added.has(r.dev))) return null;
    // Policy rules: the old ones in their order; new ones that match a new address and nothing else.
    const rulesA = ha.ipRules ?? NONE;
    const rulesB = hb.ipRules ?? NONE;
    if (rulesA !== rulesB && !keptInOrder(rulesA, rulesB, (r) => (r.from === null) !== (r.to === null) && ((r.from ?? r.to)!.len === 32) && fresh.has((r.from ?? r.to)!.addr))) return null;
    // Neighbours: the old ones as they were; new ones for new addresses.
    if (ha.neigh !== hb.neigh) {
      for (const k in ha.neigh) if (ha.neigh[k] !== hb.neigh[k]) return null;
      for (const k in hb.neigh) if (!(k in ha.neigh) && !fresh.has(hb.neigh[k]!.ip)) return null;
    }
    // Sysctls: as they were, but proxy ARP on new veths.
    if (ha.sysctl !== hb.sysctl) {
      if (!sameExcept(ha.sysctl, hb.sysctl, PROXY_ARP)) return null;
      const pa = ha.sysctl.proxyArp;
      const pb = hb.sysctl.proxyArp;
      for (const d in pa) if (pa[d] !== pb[d]) return null;
      for (const d in pb) if (!(d in pa) && !added.has(d)) return null;
    }
    // cilium's endpoints: the old ones as they were; new ones for new addresses.
    const la = ha.lxcMap ?? NO_LXC;
    const lb = hb.lxcMap ?? NO_LXC;
    if (la !== lb) {
      for (const k in la) if (la[k] !== lb[k]) return null;
      for (const k in lb) if (!(k in la) && !fresh.has(Number(k))) return null;
    }
    if (bridges.size > 0) {
      // Each bridge a new port joined: its ports all veths to pods, no peer set of its own, and no MAC of the
      // node's links or in the neighbour tables of the host and the old pods among the new ones.
      for (const k in ha.links) {
        const l = ha.links[k]!;
        if (newMacs.has(l.mac)) return null;
        if (l.master !== null && bridges.has(l.master) && (l.kind !== 'veth' || !l.peer.ns.startsWith('pod/'))) return null;
      }
      for (const ref of hb.peerSets) if (bridges.has(a.peerSets[ref.set]?.dev ?? '')) return null;
      const namesNew = (ns: NetNs): boolean => {
        for (const k in ns.neigh) { const m = ns.neigh[k]!.mac; if (m !== null && newMacs.has(m)) return true; }
        return false;
      };
      if (namesNew(hb)) return null;
      for (let i = 0; i < keysA.length; i++) {
        const ns = na.pods[keysA[i]!]!.netns;
        if (ns === null) continue;
        for (const k in ns.links) if (newMacs.has(ns.links[k]!.mac)) return null;
        if (namesNew(ns)) return null;
      }
    }
  }
  return arrived.length === 0 ? null : { pods: arrived, ports };
}

const NONE: readonly never[] = Object.freeze([]);
const NO_LXC: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Whether `after` is `before` (the same objects, in the same order) with elements that `isNew` accepts put
 * anywhere among them.
 */
function keptInOrder<T>(before: readonly T[], after: readonly T[], isNew: (x: T) => boolean): boolean {
  if (before === after) return true;
  let i = 0;
  for (let j = 0; j < after.length; j++) {
    const x = after[j]!;
    if (i < before.length && before[i] === x) i++;
    else if (!isNew(x)) return false;
  }
  return i === before.length;
}

/** Whether two versions of a namespace differ in their neighbour table alone. */
function onlyNeighDiffers(x: NetNs, y: NetNs): boolean {
  return sameExcept(x, y, NEIGH);
}

const NODE_PARTS: ReadonlySet<string> = new Set(['pods', 'cni', 'host']);
const PORT_PARTS: ReadonlySet<string> = new Set(['links', 'fdb']);
const PROXY_ARP: ReadonlySet<string> = new Set(['proxyArp']);
const NEIGH: ReadonlySet<string> = new Set(['neigh']);

/**
 * Whether two versions of a record hold the same object under every key but those in `except` (which the
 * caller looks at itself), and the later one no key the earlier lacks but those: the identity comparisons the
 * scopes make of a node, a namespace or its sysctls (a field the model adds later is compared too).
 */
function sameExcept(a: object, b: object, except: ReadonlySet<string>): boolean {
  const ra = a as Readonly<Record<string, unknown>>;
  const rb = b as Readonly<Record<string, unknown>>;
  for (const k in ra) if (!except.has(k) && ra[k] !== rb[k]) return false;
  for (const k in rb) if (!(k in ra) && !except.has(k)) return false;
  return true;
}

/**
 * The addresses (decimal strings) whose ownership changed from `a` to `b`: all the unique-IP check needs
 * of a change, without judging whether it is global (a walk of the whole state when nodes join or leave).
 */
export function changedIps(a: ClusterState, b: ClusterState): string[] {
  return shardDiffKeys(a.ipIndex, b.ipIndex);
}

/** Whether the change reaches a path it has no endpoint in; `neighOfRouter`: a change of the router's neighbours alone is not counted. */
function reachesOthers(a: ClusterState, b: ClusterState, touched: ReadonlySet<string>, ips: readonly string[], neighOfRouter: boolean): boolean {
  if (a.underlay === b.underlay && a.peerSets === b.peerSets) return false;
  // A namespace is touched when it belongs to a touched node, in the state before or after (memoized: the
  // walk below asks for the same namespaces address after address).
  const memo = new Map<NsId, boolean>();
  const nsTouched = (id: NsId): boolean => {
    let t = memo.get(id);
    if (t !== undefined) return t;
    t = false;
    for (const s of [a, b]) {
      const loc = locateNs(s, id);
      if (loc && loc.kind !== 'underlay' && touched.has(loc.node)) t = true;
    }
    memo.set(id, t);
    return t;
  };
  if (a.underlay !== b.underlay) {
    const ua = a.underlay;
    const ub = b.underlay;
    if ((ua.router !== ub.router && !neighOfRouter) || ua.tunnelMap !== ub.tunnelMap || ua.vpcRouter !== ub.vpcRouter) return true;
    // A segment only one state has makes the change global; the others are looked at once each (two loops,
    // not a set of both states' names: 35 % of this function's own time on a join).
    for (const name of Object.keys(ub.segments)) if (!ua.segments[name]) return true;
    for (const name of Object.keys(ua.segments)) {
      const sa = ua.segments[name];
      const sb = ub.segments[name];
      if (sa === sb) continue;
      if (!sa || !sb || sa.cidr !== sb.cidr || sa.gateway !== sb.gateway || sa.mtu !== sb.mtu || sa.fabric !== sb.fabric) return true;
      for (const mac of shardDiffKeys(sa.ports, sb.ports)) {
        for (const p of [shardGet(sa.ports, mac), shardGet(sb.ports, mac)]) if (p && !nsTouched(p.ns)) return true;
      }
    }
  }
  if (a.peerSets === b.peerSets) return false;
  const changed: PeerEntry[] = [];
  for (const name of Object.keys(b.peerSets)) if (!a.peerSets[name]) return true;
  for (const name of Object.keys(a.peerSets)) {
    const pa = a.peerSets[name];
    const pb = b.peerSets[name];
    if (pa === pb) continue;
    if (!pa || !pb || pa.dev !== pb.dev) return true;
    for (const owner of shardDiffKeys(pa.entries, pb.entries)) {
      if (!touched.has(owner)) return true;
      for (const e of [shardGet(pa.entries, owner), shardGet(pb.entries, owner)]) if (e) changed.push(e);
    }
  }
  return changed.length > 0 && peerChangeReaches(a, b, changed, touched, nsTouched, ips);
}

/**
 * Whether changed peer entries (of touched owners) can change a lookup a path between untouched endpoints
 * makes. Every question below is asked of both states, but what the two states share is asked once: each
 * answer depends only on the object asked about (an address's owners, a namespace, a peer entry) and on
 * `nsTouched`, which already looks at both states. So `b` is asked only about what differs from `a`: the
 * addresses whose owners changed (`ips`), the router if it changed, the nodes that changed — which are
 * the touched nodes, whose namespaces are all skipped — and no peer entry (an entry of an untouched owner
 * that differs made the change global before this is called).
 */
function peerChangeReaches(a: ClusterState, b: ClusterState, changed: readonly PeerEntry[], touched: ReadonlySet<string>, nsTouched: (id: NsId) => boolean, ips: readonly string[]): boolean {
  // Plain loops, not flatMap and spreads: this runs on every join and leave.
  const prefixes: Cidr[] = [];
  const neighIps = new Set<number>();
  const macs = new Set<string>();
  for (const e of changed) {
    for (const r of e.routes) prefixes.push(r.dst);
    for (const n of e.neigh) { neighIps.add(n.ip); macs.add(n.mac); }
    for (const f of e.fdb) macs.add(f.mac);
  }
  // Addresses untouched namespaces own: destinations and sources of their packets, and direct next hops.
  // The address test first: it is arithmetic, and it clears almost every address (the changed entries
  // route the touched nodes' blocks), so few owners are located in both states.
  const ownedReached = (key: string, owners: readonly IpOwner[]): boolean => {
    const ip = Number(key);
    if (!neighIps.has(ip) && !inSomePrefix(prefixes, ip)) return false;
    return !owners.every((o) => nsTouched(o.ns));
  };
  // Gateways and MACs the untouched namespaces that include a peer set use.
  const nsReached = (ns: NetNs): boolean => {
    if (ns.peerSets.length === 0 || nsTouched(ns.id)) return false;
    for (const r of ns.routes) if (r.via !== null && neighIps.has(r.via)) return true;
    for (const list of Object.values(ns.tables ?? {})) for (const r of list) if (r.via !== null && neighIps.has(r.via)) return true;
    for (const ref of ns.peerSets) if (ref.via !== undefined && neighIps.has(ref.via)) return true;
    for (const k in ns.neigh) if (ns.neigh[k]!.mac !== null && macs.has(ns.neigh[k]!.mac!)) return true;
    for (const k in ns.fdb) if (macs.has(ns.fdb[k]!.mac)) return true;
    return false;
  };
  if (shardSome(a.ipIndex, ownedReached)) return true;
  for (const key of ips) {
    const owners = shardGet(b.ipIndex, key);
    if (owners && ownedReached(key, owners)) return true;
  }
  if (nsReached(a.underlay.router) || (b.underlay.router !== a.underlay.router && nsReached(b.underlay.router))) return true;
  for (const n of shardValues(a.nodes)) {
    if (touched.has(n.name)) continue; // every namespace of a touched node is touched
    if (nsReached(n.host)) return true;
    // The node's memoized pod keys, not a for-in, which collects a dictionary's keys afresh: the costliest
    // line of a join's or leave's scope in every-change property runs.
    const keys = podKeys(n);
    for (let i = 0; i < keys.length; i++) {
      const p = n.pods[keys[i]!]!;
      if (p.netns && nsReached(p.netns)) return true;
    }
  }
  // The untouched owners' entries.
  for (const set of Object.values(a.peerSets)) {
    for (const e of shardValues(set.entries)) {
      if (touched.has(e.owner)) continue;
      for (const r of e.routes) if (r.via !== null && neighIps.has(r.via)) return true;
      for (const n of e.neigh) if (macs.has(n.mac)) return true;
      for (const f of e.fdb) if (macs.has(f.mac)) return true;
    }
  }
  return false;
}

/** Whether `ip` is in one of `prefixes` (a loop, not `some` with a closure per address of the index). */
function inSomePrefix(prefixes: readonly Cidr[], ip: number): boolean {
  for (let i = 0; i < prefixes.length; i++) if (cidrContains(prefixes[i]!, ip)) return true;
  return false;
}
