/**
 * Route tables: the kernel's prefix routes derived from addresses, longest-prefix lookup compiled once
 * per table (memoized on the identity of the immutable arrays it is built from), shared peer-set routes,
 * local addresses and preferred source selection (inet_select_addr).
 */
import { cidrContains, formatPrefix, networkOf, type Cidr, type Ipv4 } from '../addr/ipv4.js';
import type { Mac } from '../addr/mac.js';
import {
  RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, type ClusterState, type IfAddr, type IpRule, type Link, type NetNs, type PeerEntry, type PeerSet, type PeerSetRef, type Route,
} from '../model/types.js';
import { linkList, linksMemo } from '../dataplane/links.js';
import { shardDiffKeys, shardGet, shardValues } from '../util/shards.js';
import { YoungWeakMap } from '../util/memo.js';

/**
 * Whether the kernel holds a prefix route for this address of this link (see {@link kernelRoutes}): not
 * once it was deleted or replaced, nor ever for an address with `noprefixroute` (IfAddr.noPrefixRoute).
 */
export function givesPrefixRoute(l: Link, a: IfAddr): boolean {
  // A secondary address never has one: its primary's is the prefix's (fib_add_ifaddr skips IFA_F_SECONDARY).
  // Whatever the address's scope (measured: `ip addr add 10.0.0.1/8 dev d1 scope host` → `10.0.0.0/8 dev d1
  // proto kernel scope link src 10.0.0.1`; secondary-addr-formats.sh, case b).
  return l.up && l.kind !== 'loopback' && a.len < 32 && a.noPrefixRoute !== true && a.noprefixrouteFlag !== true && a.secondary !== true;
}

/**
 * The address a local route of `a` (an address of `link`) names as source: `a` itself, or for a secondary
 * address the primary of its prefix and length (fib_add_ifaddr's `prim`; measured: `local 192.0.2.5 dev d1 proto
 * kernel scope host src 192.0.2.1`, secondary-addr-formats.sh).
 */
export function localRouteSource(link: Link, a: IfAddr): Ipv4 {
  if (a.secondary !== true) return a.ip;
  const net = networkOf(a.ip, a.len);
  return link.addrs.find((x) => x.secondary !== true && x.len === a.len && networkOf(x.ip, x.len) === net)?.ip ?? a.ip;
}

/** The routes the kernel adds for each address on an up link (`proto kernel scope link src …`). */
export function kernelRoutes(ns: NetNs): Route[] {
  return kernelRoutesOf(Object.values(ns.links));
}

/** {@link kernelRoutes} of a list of links (the memoized tables pass dataplane/links.ts's list). */
function kernelRoutesOf(links: readonly Link[]): Route[] {
  const out: Route[] = [];
  let ordered = false;
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    const addrs = l.addrs;
    for (let j = 0; j < addrs.length; j++) {
      const a = addrs[j]!;
      if (!givesPrefixRoute(l, a)) continue;
      if (a.prefixOrder !== undefined) ordered = true;
      out.push({ dst: { addr: networkOf(a.ip, a.len), len: a.len }, via: null, dev: l.name, proto: 'kernel', scope: 'link', src: a.ip, onlink: false, metric: 0, type: 'unicast' });
    }
  }
  return ordered ? inPrefixOrder(links) : out;
}

/**
 * {@link kernelRoutesOf} where some address has an IfAddr.prefixOrder (two links with addresses of one
 * prefix, rare): the routes of each prefix in that order, the prefixes in the order they first come.
 */
function inPrefixOrder(links: readonly Link[]): Route[] {
  const groups = new Map<string, { order: number; route: Route }[]>();
  for (const l of links) {
    for (const a of l.addrs) {
      if (!givesPrefixRoute(l, a)) continue;
      const key = `${networkOf(a.ip, a.len)}/${a.len}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      // The route written out as kernelRoutesOf writes it: routes made by a helper of their own made the
      // transitions ~5 % slower (`pnpm ab --what=transitions`), though this path never ran there.
      g.push({ order: a.prefixOrder ?? 0, route: { dst: { addr: networkOf(a.ip, a.len), len: a.len }, via: null, dev: l.name, proto: 'kernel', scope: 'link', src: a.ip, onlink: false, metric: 0, type: 'unicast' } });
    }
  }
  const out: Route[] = [];
  // Array.prototype.sort is stable: equal orders stay in link order.
  for (const g of groups.values()) for (const x of g.sort((p, q) => p.order - q.order)) out.push(x.route);
  return out;
}

/** Of the addresses of `links` that hold a prefix route of `dst`, the one whose route the kernel lists first (IfAddr.prefixOrder). */
export function firstPrefixRoute(links: readonly Link[], dst: Cidr, dev?: string): { readonly link: Link; readonly index: number } | null {
  let link: Link | null = null;
  let index = -1;
  let order = Infinity;
  for (const l of links) {
    if (dev !== undefined && l.name !== dev) continue;
    for (let j = 0; j < l.addrs.length; j++) {
      const x = l.addrs[j]!;
      if (x.len !== dst.len || !givesPrefixRoute(l, x) || networkOf(x.ip, x.len) !== dst.addr || (x.prefixOrder ?? 0) >= order) continue;
      link = l;
      index = j;
      order = x.prefixOrder ?? 0;
    }
  }
  return link === null ? null : { link, index };
}

/*
 * The prefix routes of addresses ({@link kernelRoutes}): a compiled own table keeps its own (`kernel`; a
 * weak set of every prefix route ever made cost an entry per route and a probe of that large set per
 * lookup). Linux keeps the routes of one prefix and metric in the order they were added and uses the
 * first; the prefix route of an address is appended when the address comes (or its link comes up), after
 * any route of that prefix already there, and an `ip route add` of a prefix that has a route fails (File
 * exists). So, of one prefix and metric, a route that was added (ns.routes, a shared peer-set route:
 * flannel installs its own with `replace`) comes first; measured in docs/kernel-oracle.md, pinned in
 * packages/cni/src/oracle-findings.test.ts.
 */

/**
 * A compiled longest-prefix table: prefix lengths longest first, and the items of each (length, network)
 * in their order — in maps (length → network → items), or for a small table as the list of its items
 * itself, each matched by its destination as the table is walked. A pod's table has two or three routes,
 * and most of the tables a sampled check at 150,000 pods compiles are met for the first time and read a
 * handful of times: two maps per table (and one per prefix length), kept for as long as the namespace
 * lives, cost more to make and to collect than the scans they save; so did a row object and an items list
 * per prefix (half of a small table's compile): a small table is the list it was compiled from, with its
 * items' prefixes in one flat list of numbers (a walk reads them there, not through each item's `dst`).
 */
export interface Lpm<T extends Dst> {
  readonly lens: readonly number[];
  /** Length → network → items; null for a small table (see `items`). */
  readonly byLen: ReadonlyMap<number, ReadonlyMap<number, readonly T[]>> | null;
  /** A small table's items in order (those of one prefix in their order); null when `byLen` is set. */
  readonly items: readonly T[] | null;
  /** A small table's item `i`'s prefix length at `2i`, its network at `2i + 1`; null when `byLen` is set. */
  readonly prefixes: readonly number[] | null;
  /** Of a namespace's own table: the address prefix routes among its items (see {@link kernelRoutes}). */
  readonly kernel: readonly T[];
}

/** What a table is compiled over: items with a destination prefix (a route, a peer-set route). */
export interface Dst {
  readonly dst: { readonly addr: number; readonly len: number };
}

const NO_KERNEL: readonly never[] = Object.freeze([]);

/** Up to this many items a table is compiled into a list rather than maps. */
export const LPM_ROWS_MAX = 8;

/** `items` compiled (kept as they are when few: the caller hands over a list it no longer changes). */
function compile<T extends Dst>(items: readonly T[], kernel: readonly T[] = NO_KERNEL): Lpm<T> {
  if (items.length <= LPM_ROWS_MAX) {
    // The lengths as lensBits has them (bit `len`; 32 as 2^32).
    let lo = 0;
    let hi = 0;
    const prefixes: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const { addr, len } = items[i]!.dst;
      prefixes.push(len, addr);
      if (len === 32) hi = 1;
      else lo |= 1 << len;
    }
    return { lens: lensOf(hi * 2 ** 32 + (lo >>> 0)), byLen: null, items, prefixes, kernel };
  }
  const byLen = new Map<number, Map<number, T[]>>();
  // An indexed loop: a peer set's table (5,000 items at 5,000 nodes) is compiled once per version of the
  // set, mostly in code V8 has not optimized yet, where a `for…of` is an iterator call per item.
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!;
    const { addr, len } = t.dst;
    let m = byLen.get(len);
    if (!m) byLen.set(len, (m = new Map()));
    const list = m.get(addr);
    if (list) list.push(t);
    else m.set(addr, [t]);
  }
  return mapTable(byLen, kernel);
}

/** A table in maps ({@link Lpm}): its prefix lengths, longest first, are its maps' keys. */
function mapTable<T extends Dst>(byLen: ReadonlyMap<number, ReadonlyMap<number, readonly T[]>>, kernel: readonly T[]): Lpm<T> {
  return { lens: [...byLen.keys()].sort((a, b) => b - a), byLen, items: null, prefixes: null, kernel };
}

/**
 * The items of a compiled table to look at for this prefix length and network, in order: of a table in
 * maps, those with that prefix (undefined when none); of a small table, all of its items, of which only
 * those {@link at} that prefix count. A list of the matching items would be an allocation per lookup.
 */
function lpmAt<T extends Dst>(lpm: Lpm<T>, len: number, net: number): readonly T[] | undefined {
  return lpm.items ?? lpm.byLen!.get(len)?.get(net);
}

/** Whether the item at `j` of {@link lpmAt}'s list has that prefix (every item of a table in maps does). */
function at(lpm: Lpm<Dst>, j: number, len: number, net: number): boolean {
  const p = lpm.prefixes;
  return p === null || (p[2 * j] === len && p[2 * j + 1] === net);
}

/** A namespace's own main table: its added routes, then its address prefix routes, in metric order. */
function ownTable(routes: readonly Route[], kernel: readonly Route[]): Lpm<Route> {
  const all: Route[] = [];
  let ordered = true;
  // Routes `ip route append` put after a prefix route (Route.afterPrefixRoute) come after the kernel's.
  let after: Route[] | null = null;
  for (let k = 0; k < 3; k++) {
    const list = k === 0 ? routes : k === 1 ? kernel : after;
    if (list === null) break;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (k === 0 && r.afterPrefixRoute === true) {
        (after ??= []).push(r);
        continue;
      }
      if (all.length !== 0 && r.metric < all[all.length - 1]!.metric) ordered = false;
      all.push(r);
    }
  }
  // A stable sort of routes already in metric order (most tables: every metric 0) leaves them as they are.
  if (!ordered) all.sort((a, b) => a.metric - b.metric);
  return compile(all, kernel);
}

/** A route of a namespace's own table that is an address's prefix route. */
function isKernel(local: Lpm<Route>, r: Route): boolean {
  return local.kernel.length !== 0 && local.kernel.includes(r);
}

/**
 * The namespace's own main table (explicit + kernel routes), compiled and memoized on the links record with
 * the routes it was compiled with (dataplane/links.ts linksMemo: the memo entry the link list already has,
 * not one more per namespace; a pod has its own links).
 */
function localLpm(ns: NetNs): Lpm<Route> {
  const m = linksMemo(ns);
  if (m.ownRoutes === ns.routes) return m.ownTable as Lpm<Route>;
  const lpm = ownTable(ns.routes, kernelRoutesOf(m.list));
  m.ownRoutes = ns.routes;
  m.ownTable = lpm;
  return lpm;
}

export interface PeerRoute {
  readonly owner: string;
  readonly group: string | undefined;
  readonly route: Route;
  /** The route's destination (what a table is compiled over). */
  readonly dst: Route['dst'];
}

/**
 * Whether a namespace including a peer set through `ref` uses the entries of an owner in `group`.
 * `routes` false asks about neighbour and FDB entries, which a deleted (hidden) route leaves in place.
 */
export function refUses(ref: PeerSetRef, owner: string, group: string | undefined, routes = true): boolean {
  if (owner === ref.self || (routes && ref.hidden?.includes(owner))) return false;
  if (ref.match === undefined) return true;
  return (group === ref.group) === (ref.match === 'same');
}

const viaRoutes = new YoungWeakMap<Route, Map<Ipv4, Route>>();

/** An entry route as a namespace whose ref sets `via` installs it: the same route through that gateway. */
export function routeVia(r: Route, via: Ipv4 | undefined): Route {
  if (via === undefined) return r;
  let m = viaRoutes.get(r);
  if (!m) viaRoutes.set(r, (m = new Map()));
  let out = m.get(via);
  if (!out) m.set(via, (out = { ...r, via, onlink: false, scope: 'global' }));
  return out;
}

/**
 * A peer set's neighbour entry, with its owner and group, and itself the answer the engine's neighbour lookup
 * gives for it (a permanent entry): returned as it is, where an answer object was made per lookup (one per
 * VXLAN hop).
 */
export interface PeerNeigh { readonly owner: string; readonly group: string | undefined; readonly mac: Mac; readonly permanent: true; readonly failed: false }
/** A peer set's FDB entry, with its owner and group, and itself the answer the engine's FDB lookup gives for it (see {@link PeerNeigh}). */
export interface PeerFdb { readonly owner: string; readonly group: string | undefined; readonly port: null; readonly dst: Ipv4; readonly local: false }

/**
 * What is read of one version of a peer set (its `entries`, immutable): its routes compiled, and its
 * neighbour and FDB entries by address and by MAC (the engine's VXLAN hops).
 */
export interface PeerIndex {
  /** The entries it was made of. */
  readonly entries: PeerSet['entries'];
  /** How many entries they are, and how many routes they hold. */
  readonly size: number;
  readonly routes: number;
  readonly lpm: Lpm<PeerRoute>;
  /** {@link NO_NEIGH} and {@link NO_FDB} until first asked for (see {@link peerL2}). */
  neigh: ReadonlyMap<Ipv4, PeerNeigh>;
  fdb: ReadonlyMap<Mac, PeerFdb>;
  /**
   * No two entries share a route prefix, a neighbour address or a MAC: where some do, the one walked last
   * wins, which an index made from another version's by the entries that changed would not know.
   */
  plain: boolean;
}

const peerIndexes = new YoungWeakMap<object, PeerIndex>();

/**
 * Above this many entries a peer set's neighbour and FDB indexes are made in the walk that compiles its
 * routes; a smaller set's when first asked for, as each was before (a property run's sets of ≤ 6 entries
 * change at every node event, and not every version is asked for its neighbours).
 */
const PEER_WALK_ALL = 64;

/**
 * The last large index made (or handed on) of each peer set name, weakly held: the one the next version's is
 * made from. A set changes with every node added or removed, each change with a new `entries`.
 */
const lastIndexes = new Map<string, WeakRef<PeerIndex>>();
// (A map by set name, one weak reference each, for sets of more than PEER_WALK_ALL entries only: not a table
// of a short-lived state's parts, so it is left as it is; the indexes themselves are in the young peerIndexes.)

/**
 * A peer set's {@link PeerIndex}, memoized on its entries. The first packet through a version of a set pays
 * a walk over every node's entry (5,000 at 5,000 nodes), in code V8 has mostly not optimized yet (a version's
 * index is made once) over objects rarely in the CPU cache: at 5,000 nodes the three walks it was (the
 * table, then the neighbour index, then the FDB index) were ~90 % of a first ping's 17–45 ms, their cost per
 * entry 2–5 times what it is at 1,500 nodes. A large set's three are made in one walk; and where the last
 * large index made of the set's name is of a version that differs from this one by a few entries (a node
 * added or removed since), this one is made from it instead (see {@link handedOn}), as it would be afresh.
 */
export function peerIndex(set: PeerSet): PeerIndex {
  let x = peerIndexes.get(set.entries);
  if (x === undefined) {
    const last = lastIndexes.size === 0 ? undefined : lastIndexes.get(set.name)?.deref();
    x = (last !== undefined ? handedOn(set, last) : null) ?? indexPeers(set, true);
    peerIndexes.set(set.entries, x);
    if (x.lpm.byLen !== null && x.neigh !== NO_NEIGH) lastIndexes.set(set.name, new WeakRef(x));
  }
  return x;
}

/** The neighbour and FDB indexes of a {@link PeerIndex} not made yet: shared empty maps, so the fields hold maps only. */
const NO_NEIGH: ReadonlyMap<Ipv4, PeerNeigh> = new Map<Ipv4, PeerNeigh>();
const NO_FDB: ReadonlyMap<Mac, PeerFdb> = new Map<Mac, PeerFdb>();

/** {@link peerIndex} with its neighbour and FDB indexes made (asked at every VXLAN hop: the memo first). */
export function peerL2(set: PeerSet): PeerIndex {
  const x = peerIndexes.get(set.entries);
  return x !== undefined && x.neigh !== NO_NEIGH ? x : withL2(peerIndex(set), set);
}

/** `x` (the index of `set`) with its neighbour and FDB indexes made, if they were not. */
function withL2(x: PeerIndex, set: PeerSet): PeerIndex {
  if (x.neigh === NO_NEIGH) {
    const neigh = new Map<Ipv4, PeerNeigh>();
    const fdb = new Map<Mac, PeerFdb>();
    for (const e of shardValues(set.entries)) if (!putL2(neigh, fdb, e)) x.plain = false;
    x.neigh = neigh;
    x.fdb = fdb;
  }
  return x;
}

/**
 * Puts entry `e`'s neighbour and FDB entries into the maps, one of a key already there replacing it (the
 * entry walked last wins); false when one was (told by the maps' sizes, not a lookup per entry).
 */
function putL2(neigh: Map<Ipv4, PeerNeigh>, fdb: Map<Mac, PeerFdb>, e: PeerEntry): boolean {
  const n0 = neigh.size;
  const f0 = fdb.size;
  const ns = e.neigh;
  for (let j = 0; j < ns.length; j++) neigh.set(ns[j]!.ip, { owner: e.owner, group: e.group, mac: ns[j]!.mac, permanent: true, failed: false });
  const fs = e.fdb;
  for (let j = 0; j < fs.length; j++) fdb.set(fs[j]!.mac, { owner: e.owner, group: e.group, port: null, dst: fs[j]!.dst, local: false });
  return neigh.size === n0 + ns.length && fdb.size === f0 + fs.length;
}

/**
 * A peer set's {@link PeerIndex} made afresh: its routes compiled, and with `l2` its neighbour and FDB
 * indexes in the same walk when the set has more than {@link PEER_WALK_ALL} entries (else not made yet).
 */
function indexPeers(set: PeerSet, l2: boolean): PeerIndex {
  const items: PeerRoute[] = [];
  const entries = Array.from(shardValues(set.entries));
  const size = entries.length;
  const neigh = l2 && size > PEER_WALK_ALL ? new Map<Ipv4, PeerNeigh>() : null;
  const fdb = neigh !== null ? new Map<Mac, PeerFdb>() : null;
  let routes = 0;
  let plain = true;
  for (let i = 0; i < size; i++) {
    const e = entries[i]!;
    const rs = e.routes;
    routes += rs.length;
    for (let j = 0; j < rs.length; j++) items.push(peerRoute(e, rs[j]!));
    if (neigh !== null && !putL2(neigh, fdb!, e)) plain = false;
  }
  const table = compile(items);
  if (table.byLen !== null) {
    // One item per prefix: as many prefixes as routes.
    let n = 0;
    for (const m of table.byLen.values()) n += m.size;
    if (n !== items.length) plain = false;
  }
  return { entries: set.entries, size, routes, lpm: table, neigh: neigh ?? NO_NEIGH, fdb: fdb ?? NO_FDB, plain };
}

/** Route `r` of peer entry `e` as a peer table holds it (a fresh walk and a handed-on index alike). */
function peerRoute(e: PeerEntry, r: Route): PeerRoute {
  return { owner: e.owner, group: e.group, route: r, dst: r.dst };
}

/** The routes, neighbour and FDB entries of one peer entry written into (or out of) a handed-on index. */
interface PeerDelta {
  readonly byLen: Map<number, ReadonlyMap<number, readonly PeerRoute[]>>;
  /** The prefix lengths whose map is already this index's own copy. */
  readonly own: Set<number>;
  readonly neigh: Map<Ipv4, PeerNeigh>;
  readonly fdb: Map<Mac, PeerFdb>;
}

/** `d`'s map of prefix length `len`, copied from the earlier index's the first time it is written. */
function ownLen(d: PeerDelta, len: number): Map<number, readonly PeerRoute[]> {
  const m = d.byLen.get(len);
  if (m !== undefined && d.own.has(len)) return m as Map<number, readonly PeerRoute[]>;
  const copy = new Map(m);
  d.byLen.set(len, copy);
  d.own.add(len);
  return copy;
}

/** Takes entry `e`'s routes, neighbour and FDB entries out of `d`: false when one is not there as `e`'s. */
function takeOut(d: PeerDelta, e: PeerEntry): boolean {
  for (let j = 0; j < e.routes.length; j++) {
    const r = e.routes[j]!;
    const m = ownLen(d, r.dst.len);
    const list = m.get(r.dst.addr);
    if (list === undefined || list.length !== 1 || list[0]!.route !== r) return false;
    m.delete(r.dst.addr);
    if (m.size === 0) d.byLen.delete(r.dst.len);
  }
  for (let j = 0; j < e.neigh.length; j++) {
    const n = e.neigh[j]!;
    const v = d.neigh.get(n.ip);
    if (v === undefined || v.owner !== e.owner || v.mac !== n.mac) return false;
    d.neigh.delete(n.ip);
  }
  for (let j = 0; j < e.fdb.length; j++) {
    const f = e.fdb[j]!;
    const v = d.fdb.get(f.mac);
    if (v === undefined || v.owner !== e.owner || v.dst !== f.dst) return false;
    d.fdb.delete(f.mac);
  }
  return true;
}

/** Puts entry `e`'s routes, neighbour and FDB entries into `d`: false when one's key is already taken. */
function putIn(d: PeerDelta, e: PeerEntry): boolean {
  for (let j = 0; j < e.routes.length; j++) {
    const r = e.routes[j]!;
    const m = ownLen(d, r.dst.len);
    if (m.has(r.dst.addr)) return false;
    m.set(r.dst.addr, [peerRoute(e, r)]);
  }
  return putL2(d.neigh, d.fdb, e);
}

/**
 * `set`'s index made from `before`'s (an earlier version of it) by the entries that changed: the maps copied
 * (a copy inside V8, no walk of the entries' scattered objects) and the changed entries taken out and put in.
 * After a node joins a 5,000-node cluster, its first packet through flannel's set paid a walk of every
 * entry (10–25 ms); this is ~1 ms. Null where the result might not be what {@link indexPeers} makes of
 * `set`: a small table (a list, not maps), two entries sharing a key (see PeerIndex.plain), or a quarter
 * of the entries changed (then the walk costs no more).
 */
function handedOn(set: PeerSet, before: PeerIndex): PeerIndex | null {
  const lpm = before.lpm;
  if (!before.plain || lpm.byLen === null || before.neigh === NO_NEIGH) return null;
  const owners = shardDiffKeys(before.entries, set.entries);
  if (owners.length * 4 > before.size) return null;
  const d: PeerDelta = { byLen: new Map(lpm.byLen), own: new Set(), neigh: new Map(before.neigh), fdb: new Map(before.fdb) };
  let size = before.size;
  let routes = before.routes;
  for (let i = 0; i < owners.length; i++) {
    const was = shardGet(before.entries, owners[i]!);
    const now = shardGet(set.entries, owners[i]!);
    if (was !== undefined) {
      if (!takeOut(d, was)) return null;
      size--;
      routes -= was.routes.length;
    }
    if (now !== undefined) {
      if (!putIn(d, now)) return null;
      size++;
      routes += now.routes.length;
    }
  }
  if (routes <= LPM_ROWS_MAX) return null;
  return { entries: set.entries, size, routes, lpm: mapTable(d.byLen, NO_KERNEL), neigh: d.neigh, fdb: d.fdb, plain: true };
}

/** Options of {@link lookupRouteIn}. */
export interface LookupOptions {
  /** Only directly connected (gateway-less, link-scope) routes: the kernel's check of a nexthop. */
  readonly linkScopeOnly?: boolean;
  /**
   * Compile the table afresh instead of using the memo: for namespaces being built inside an open
   * transition, whose new arrays are still mutated in place (the memo keys on array identity).
   */
  readonly fresh?: boolean;
  /**
   * The packet's source, for policy routing rules (`ip rule … from`): a forwarded packet's source, or a
   * local one's when it is bound. Absent or 0 (an unbound socket's first lookup) matches `from all` only.
   */
  readonly src?: Ipv4;
}

/**
 * The route a packet to `dst` takes in a namespace. Without policy routing rules beyond the kernel's
 * three: the longest-prefix match in the main table, including the shared peer-set routes it includes.
 * With rules (`ip rule`): the rules in priority order whose `from` holds `opts.src` and whose `to` holds
 * `dst`, each looking its table up, the first table with a route winning (main is rule 32766, the
 * default table rule 32767); a table without a route lets the lookup go on to the next rule, as
 * fib_rules_lookup does. Among routes of one prefix the lowest metric wins. Routes through a device that
 * is down are not used.
 */
export function lookupRouteIn(state: ClusterState, ns: NetNs, dst: Ipv4, opts: LookupOptions = {}): Route | null {
  if (ns.ipRules === undefined || ns.ipRules.length === 0 || opts.linkScopeOnly) return mainLookup(state, ns, dst, opts);
  return ruleLookup(state, ns, dst, opts.src ?? 0, null, opts)?.route ?? null;
}

/**
 * The rules' walk of {@link lookupRouteIn} (fib_rules_lookup), answering with the table the route came from,
 * restricted to routes through `oif` when it is not null (see {@link lookupRouteOn}).
 */
function ruleLookup(state: ClusterState, ns: NetNs, dst: Ipv4, src: Ipv4, oif: string | null, opts: LookupOptions): { readonly route: Route; readonly table: number } | null {
  for (const rule of ipRuleList(ns)) {
    // The namespace's own addresses (the local table) are found before any route is looked up.
    if (rule.table === RT_TABLE_LOCAL) continue;
    if (rule.from !== null && (src === 0 || !cidrContains(rule.from, src))) continue;
    if (rule.to !== null && !cidrContains(rule.to, dst)) continue;
    const r = oif !== null ? oifLookup(state, ns, rule.table, dst, oif)
      : rule.table === RT_TABLE_MAIN ? mainLookup(state, ns, dst, opts) : tableLookup(ns, rule.table, dst);
    if (r) return { route: r, table: rule.table };
  }
  return null;
}

/**
 * The route a packet to `dst` takes from `src` (0: unbound) and the table it is in ({@link RT_TABLE_MAIN}
 * without rules): {@link lookupRouteIn} for a caller that prints the table, as `ip route get` does (`table
 * 100` after the device when a rule found it elsewhere than in main).
 */
export function lookupRouteTable(state: ClusterState, ns: NetNs, dst: Ipv4, src: Ipv4): { readonly route: Route; readonly table: number } | null {
  if (ns.ipRules === undefined || ns.ipRules.length === 0) {
    const route = mainLookup(state, ns, dst, NO_OPTIONS);
    return route === null ? null : { route, table: RT_TABLE_MAIN };
  }
  return ruleLookup(state, ns, dst, src, null, NO_OPTIONS);
}

/**
 * What the output route lookup answers for a socket bound to device `oif` (SO_BINDTODEVICE: `ping -I DEV`;
 * `ip route get … oif DEV`), as ip_route_output_key_hash_rcu does with flowi4_oif set:
 * - `down`: the device is down (-ENETUNREACH: `ping: connect: Network is unreachable`);
 * - `local`: `dst` is local through `oif` — an address of `oif`, or 127/8 with `oif` lo: the local table
 *   holds each address's route on its own device, and fib_lookup_good_nhc skips a next hop on another device;
 * - `route`: the longest-prefix route whose device is `oif` (rules and tables as {@link lookupRouteIn};
 *   blackhole, unreachable and prohibit routes have no next hop to skip and match whatever the device), or
 *   with `guessed`, when no route goes through `oif`, a route the kernel makes up: "Apparently, routing tables
 *   are wrong. Assume, that the destination is on link." — `dst` on-link on `oif`, scope link.
 * Measured (kernel 6.18, packages/cli/scripts/ping-dev-formats.sh): on a node whose 10.244.2.0/24 is via
 * flannel.1, `ip route get 10.244.2.3 oif cni0` says `10.244.2.3 dev cni0 src 10.244.1.1` (and `ping -I cni0`
 * leaves `10.244.2.3 INCOMPLETE` on cni0), `oif eth0` takes the default route through eth0; `ip route get
 * 192.168.1.11 oif cni0`, an address of eth0, is on-link on cni0, not local; with cni0 down, `RTNETLINK
 * answers: Network is unreachable`. `oif` must be a device of `ns` (the caller checks: -ENODEV).
 */
export function lookupRouteOn(state: ClusterState, ns: NetNs, dst: Ipv4, src: Ipv4, oif: string): BoundRoute {
  const link = ns.links[oif];
  if (link === undefined || !link.up) return BOUND_DOWN;
  if (link.kind === 'loopback' ? dst >>> 24 === 127 : link.addrs.some((a) => a.ip === dst)) return { kind: 'local', link };
  const found = ruleLookup(state, ns, dst, src, oif, NO_OPTIONS);
  if (found !== null) return { kind: 'route', route: found.route, table: found.table, guessed: false };
  const route: Route = { dst: { addr: dst, len: 32 }, via: null, dev: oif, proto: 'kernel', scope: 'link', src: null, onlink: false, metric: 0, type: 'unicast' };
  return { kind: 'route', route, table: RT_TABLE_MAIN, guessed: true };
}

/** The answer of {@link lookupRouteOn}. */
export type BoundRoute =
  | { readonly kind: 'down' }
  | { readonly kind: 'local'; readonly link: Link }
  | { readonly kind: 'route'; readonly route: Route; readonly table: number; readonly guessed: boolean };

const BOUND_DOWN: BoundRoute = Object.freeze({ kind: 'down' });

/**
 * The longest-prefix route of `table` through `oif` (fib_table_lookup with flowi4_oif: a prefix whose routes
 * all leave by other devices is passed over for a shorter one). Walks the table's rows: only a bound socket's
 * lookups come here, one per probe, not the forwarding path.
 */
function oifLookup(state: ClusterState, ns: NetNs, table: number, dst: Ipv4, oif: string): Route | null {
  const rows = table === RT_TABLE_MAIN ? allRoutes(state, ns) : ns.tables?.[table] ?? [];
  let best: Route | null = null;
  for (const r of rows) {
    if (!cidrContains(r.dst, dst) || !usable(ns, r, false) || (r.type === 'unicast' && r.dev !== oif)) continue;
    if (best === null || r.dst.len > best.dst.len || (r.dst.len === best.dst.len && r.metric < best.metric)) best = r;
  }
  return best;
}

const NO_OPTIONS: LookupOptions = Object.freeze({});

/**
 * {@link lookupRouteIn} of a packet whose source is `src` (`{ src }`), without an options object per
 * lookup: the forwarding path looks a route up at every hop. Without rules beyond the kernel's three the
 * source selects nothing and the main table answers alone.
 */
export function lookupRouteFrom(state: ClusterState, ns: NetNs, dst: Ipv4, src: Ipv4, slot?: RouteSlot): Route | null {
  if (ns.ipRules === undefined || ns.ipRules.length === 0) return mainLookup(state, ns, dst, NO_OPTIONS, slot);
  return lookupRouteIn(state, ns, dst, { src });
}

/**
 * Where a caller that keeps its own per-namespace record (the engine's view of a namespace) keeps the
 * namespace's compiled main table for {@link lookupRouteFrom}: the table is then found through that record,
 * not through this module's memo of every namespace's table (a probe of a large weak map per lookup, its
 * line rarely in the CPU cache at 150,000 pods), and kept there alone: the record is itself memoized per
 * namespace, and an insert into that large weak map was 30 % of the self time of a table's first compile
 * (a weak map's entries cost the scavenger too). Start it as `{ table: null }`, one per namespace object.
 */
export interface RouteSlot {
  table: TableEntry | null;
}

const KERNEL_RULES: readonly IpRule[] = [
  { priority: 0, from: null, to: null, table: RT_TABLE_LOCAL },
  { priority: 32766, from: null, to: null, table: RT_TABLE_MAIN },
  { priority: 32767, from: null, to: null, table: RT_TABLE_DEFAULT },
];
const ruleLists = new YoungWeakMap<readonly IpRule[], readonly IpRule[]>();

/**
 * A namespace's whole rule list in the kernel's order: its three rules (0 local, 32766 main, 32767
 * default) and the added ones by priority, an added rule after the kernel's of the same priority (they
 * came first, and fib_nl_newrule inserts after equal priorities). Memoized on the added rules.
 */
export function ipRuleList(ns: NetNs): readonly IpRule[] {
  const added = ns.ipRules;
  if (added === undefined || added.length === 0) return KERNEL_RULES;
  let all = ruleLists.get(added);
  if (!all) {
    const out = [...KERNEL_RULES];
    for (const r of added) {
      const at = out.findIndex((x) => x.priority > r.priority);
      out.splice(at < 0 ? out.length : at, 0, r);
    }
    ruleLists.set(added, (all = out));
  }
  return all;
}

/**
 * A rule as `ip rule show` prints it (`1536:\tfrom 10.0.0.5 lookup 2`); a missing priority or table (a
 * selector that leaves them open) is left out. `sep` goes after the priority.
 */
export function formatIpRule(r: { readonly priority: number | null; readonly from: Cidr | null; readonly to: Cidr | null; readonly table: number | null }, sep = '\t'): string {
  const table = r.table === RT_TABLE_MAIN ? 'main' : r.table === RT_TABLE_DEFAULT ? 'default' : r.table === RT_TABLE_LOCAL ? 'local' : String(r.table);
  return `${r.priority === null ? '' : `${r.priority}:${sep}`}from ${r.from ? formatPrefix(r.from) : 'all'}${r.to ? ` to ${formatPrefix(r.to)}` : ''}${r.table === null ? '' : ` lookup ${table}`}`;
}

const otherTables = new YoungWeakMap<readonly Route[], Lpm<Route>>();

/** Longest-prefix match in a table other than main (explicit routes only), compiled once per table. */
function tableLookup(ns: NetNs, table: number, dst: Ipv4): Route | null {
  const routes = ns.tables?.[table];
  if (!routes || routes.length === 0) return null;
  let lpm = otherTables.get(routes);
  if (!lpm) otherTables.set(routes, (lpm = compile([...routes].sort((a, b) => a.metric - b.metric))));
  for (const len of lpm.lens) {
    const net = networkOf(dst, len);
    const hit = lpmAt(lpm, len, net);
    if (hit) for (let j = 0; j < hit.length; j++) if (at(lpm, j, len, net) && usable(ns, hit[j]!, false)) return hit[j]!;
  }
  return null;
}

/**
 * Most lookups a namespace makes are for destinations it looked up before (every packet of a flow, the
 * echo and its reply): their answers are kept per compiled table, up to this many destinations (then the
 * memo starts again). A walk of the prefix lengths reads a dozen objects spread over the heap (the table,
 * its maps, the shared peer set's 5,000 routes, the links to check each route's device); at 150,000 pods,
 * where few of them are in the CPU cache, it was a sixth of a hop's cost.
 */
export const ROUTE_MEMO_SIZE = 256;

function mainLookup(state: ClusterState, ns: NetNs, dst: Ipv4, opts: LookupOptions, slot?: RouteSlot): Route | null {
  if (opts.fresh) return lpmLookup(newEntry(state, ns, true), ns, dst, opts.linkScopeOnly === true);
  let entry: TableEntry;
  if (slot === undefined) entry = tableOf(state, ns);
  else {
    const held = slot.table;
    entry = held !== null && held.peerSets === state.peerSets ? held : (slot.table = newEntry(state, ns));
  }
  if (opts.linkScopeOnly === true) return lpmLookup(entry, ns, dst, true);
  const memo = entry.memo;
  // A small table of the namespace's own routes alone (a pod's): its walk reads no more than a memo would.
  if (memo === null) return lpmLookup(entry, ns, dst, false);
  let r = memo.get(dst);
  if (r === undefined) {
    r = lpmLookup(entry, ns, dst, false);
    if (memo.size >= ROUTE_MEMO_SIZE) memo.clear();
    memo.set(dst, r);
  }
  return r;
}

/** The longest-prefix walk of a compiled main table (the lookup {@link mainLookup} memoizes). */
function lpmLookup(t: Table, ns: NetNs, dst: Ipv4, linkOnly: boolean): Route | null {
  const { local, peers, lens } = t;
  const pre = local.prefixes;
  if (peers.length === 0 && pre !== null) {
    // A small own table alone (a pod's, walked at every hop without a memo): one pass over its items for
    // the longest prefix holding `dst` with a usable route, the first of that prefix in order — what the
    // walk by length below answers (two prefixes of one length cannot both hold `dst`), without reading
    // every item once per length.
    const items = local.items!;
    let best: Route | null = null;
    let bestLen = -1;
    for (let j = 0; j < items.length; j++) {
      const len = pre[2 * j]!;
      if (len <= bestLen || networkOf(dst, len) !== pre[2 * j + 1]) continue;
      if (usable(ns, items[j]!, linkOnly)) {
        best = items[j]!;
        bestLen = len;
      }
    }
    return best;
  }
  for (let i = 0; i < lens.length; i++) {
    const len = lens[i]!;
    const net = networkOf(dst, len);
    const hit = lpmAt(local, len, net);
    let best: Route | null = null;
    // Local routes are in metric order, an added route before an address's prefix route of one metric.
    if (hit) for (let j = 0; j < hit.length; j++) if (at(local, j, len, net) && usable(ns, hit[j]!, linkOnly)) { best = hit[j]!; break; }
    if (best && peers.length === 0) return best;
    for (let k = 0; k < peers.length; k++) {
      const p = peers[k]!;
      const ph = lpmAt(p.lpm, len, net);
      if (ph) {
        for (let j = 0; j < ph.length; j++) {
          if (!at(p.lpm, j, len, net)) continue;
          const pr = ph[j]!;
          if (!refUses(p.ref, pr.owner, pr.group)) continue;
          const r = routeVia(pr.route, p.ref.via);
          if (usable(ns, r, linkOnly) && peerRouteInstalled(local, ns, r)) {
            // A peer route beats a local one of a higher metric, and a prefix route of its own metric.
            if (!best || r.metric < best.metric || (r.metric === best.metric && isKernel(local, best))) best = r;
            break;
          }
        }
      }
    }
    if (best) return best;
  }
  return null;
}

/**
 * Whether a shared peer-set route is in this namespace's table. The kernel accepts a route with a gateway
 * only when the gateway is on a directly connected subnet of the route's device (fib_check_nh_v4_gw:
 * a lookup of the gateway restricted to link-scope routes through that device, or one of the device's
 * own addresses), unless the route is `onlink`. A peer route that fails the check was refused on this
 * node (`Error: Nexthop has invalid gateway.`, ENETUNREACH) and is not there. The check is made when
 * the route is used, not once: it stands for the agent's state after its retries (flanneld re-adds
 * missing routes every 10 s), so a gateway that becomes reachable brings the route back.
 */
function peerRouteInstalled(local: Lpm<Route>, ns: NetNs, r: Route): boolean {
  if (r.via === null || r.onlink || r.dev === null) return true;
  return gatewayOnLink(local, ns, r.via, r.dev) || gatewayBehindDeletedPrefix(ns, r.via, r.dev);
}

/**
 * Whether `gw` is in the subnet of an address on `dev` whose prefix route was deleted (`ip route del
 * 192.168.1.0/24 dev eth0`; not one added with `noprefixroute`, which never had one). The kernel checks a gateway only when a route is added: one added while the
 * prefix route was there stays, and is used (measured: `10.5.0.128/26 via 192.168.1.13 dev eth0 proto bird`
 * kept after the delete, `ip route get 10.5.0.129` through it; one added afterwards is refused, `Nexthop has
 * invalid gateway`). The agents' routes come with the node, before any such fault; podnet keeps them all
 * (a peer joining after the delete is not told apart).
 */
function gatewayBehindDeletedPrefix(ns: NetNs, gw: Ipv4, dev: string): boolean {
  const link = ns.links[dev];
  if (link === undefined || !link.up) return false;
  for (const a of link.addrs) if (a.noPrefixRoute === true && a.noprefixrouteFlag !== true && a.len < 32 && networkOf(gw, a.len) === networkOf(a.ip, a.len)) return true;
  return false;
}

function gatewayOnLink(local: Lpm<Route>, ns: NetNs, gw: Ipv4, dev: string): boolean {
  const link = ns.links[dev];
  if (link === undefined || !link.up) return false;
  if (localAddressMap(ns).get(gw) === link) return true;
  for (const len of local.lens) {
    const net = networkOf(gw, len);
    const hit = lpmAt(local, len, net);
    if (hit) for (let j = 0; j < hit.length; j++) if (at(local, j, len, net) && isConnected(hit[j]!, dev)) return true;
  }
  return false;
}

/** A gateway-less link route through `dev` (what makes a gateway directly connected there). */
function isConnected(x: Route, dev: string): boolean {
  return x.via === null && x.type === 'unicast' && x.scope !== 'global' && x.dev === dev;
}

/**
 * The owner of the shared route of `set` that this namespace (through `ref`) has in its main table with exactly
 * this prefix and metric — the kernel's key for `ip route add`'s "File exists" and for what `ip route replace`
 * replaces — or null. `indexed`: the set is immutable (a finalized state's), so its memoized index may be read
 * (one lookup); otherwise (a set a transition is changing) its entries are walked.
 */
export function sharedRouteIn(set: PeerSet, ref: PeerSetRef, ns: NetNs, dst: { readonly addr: number; readonly len: number }, metric: number, indexed: boolean): string | null {
  let local: Lpm<Route> | null = null;
  const installed = (owner: string, group: string | undefined, route: Route): boolean => {
    if (!refUses(ref, owner, group)) return false;
    const r = routeVia(route, ref.via);
    // Compiled afresh, not through the links memo: `ns` may be a namespace the transition is still changing.
    return r.metric === metric && peerRouteInstalled((local ??= ownTable(ns.routes, kernelRoutes(ns))), ns, r);
  };
  if (indexed) {
    const lpm = peerIndex(set).lpm;
    const hit = lpmAt(lpm, dst.len, dst.addr);
    if (hit) for (let j = 0; j < hit.length; j++) if (at(lpm, j, dst.len, dst.addr) && installed(hit[j]!.owner, hit[j]!.group, hit[j]!.route)) return hit[j]!.owner;
    return null;
  }
  for (const e of shardValues(set.entries)) {
    for (const r of e.routes) if (r.dst.addr === dst.addr && r.dst.len === dst.len && installed(e.owner, e.group, r)) return e.owner;
  }
  return null;
}

/** A shared peer-set route the kernel refused in one namespace, with what the kernel answered. */
export interface RefusedRoute {
  /** The peer set and the node whose entry it is. */
  readonly set: string;
  readonly owner: string;
  readonly route: Route;
  /** What `ip route add` prints (iproute2 with the kernel's extended ack). */
  readonly error: string;
  /** The errno a netlink client without extended ack gets (flanneld's library): ENETUNREACH. */
  readonly errno: 'ENETUNREACH';
  /** strerror(ENETUNREACH) as Go prints it (`syscall.Errno.Error()`). */
  readonly strerror: string;
}

const NEXTHOP_INVALID = 'Error: Nexthop has invalid gateway.';

function refused(set: string, owner: string, route: Route): RefusedRoute {
  return { set, owner, route, error: NEXTHOP_INVALID, errno: 'ENETUNREACH', strerror: 'network is unreachable' };
}

/**
 * The shared peer-set routes a namespace includes but the kernel refused there: a gateway that is not on
 * a connected subnet of the device (flannel host-gw towards a node on another L2 segment). O(entries of
 * the sets it includes): for queries and explanations, not for the forwarding path.
 */
export function refusedPeerRoutes(state: ClusterState, ns: NetNs): RefusedRoute[] {
  const out: RefusedRoute[] = [];
  const local = localLpm(ns);
  for (const ref of ns.peerSets) {
    const set = state.peerSets[ref.set];
    if (!set) continue;
    for (const e of shardValues(set.entries)) {
      if (!refUses(ref, e.owner, e.group)) continue;
      for (const r0 of e.routes) {
        const r = routeVia(r0, ref.via);
        if (!peerRouteInstalled(local, ns, r)) out.push(refused(set.name, e.owner, r));
      }
    }
  }
  return out.sort((a, b) => a.route.dst.addr - b.route.dst.addr || a.route.dst.len - b.route.dst.len);
}

/** The refused peer-set route that would have carried `dst` in this namespace (longest prefix), or null. */
export function refusedPeerRouteFor(state: ClusterState, ns: NetNs, dst: Ipv4): RefusedRoute | null {
  const t = tableOf(state, ns);
  for (const len of t.lens) {
    const net = networkOf(dst, len);
    for (const p of t.peers) {
      const ph = lpmAt(p.lpm, len, net);
      if (ph) {
        for (let j = 0; j < ph.length; j++) {
          const pr = ph[j]!;
          if (at(p.lpm, j, len, net) && refUses(p.ref, pr.owner, pr.group) && !peerRouteInstalled(t.local, ns, routeVia(pr.route, p.ref.via))) return refused(p.name, pr.owner, routeVia(pr.route, p.ref.via));
        }
      }
    }
  }
  return null;
}

function usable(ns: NetNs, r: Route, linkOnly: boolean): boolean {
  if (linkOnly && (r.via !== null || r.type !== 'unicast')) return false;
  if (r.dev === null) return true;
  const l = ns.links[r.dev];
  // A host-scope route outlives its device going down and is still chosen (see flushDev): what it carries is
  // dropped at the device.
  return l !== undefined && (l.up || r.scope === 'host');
}

interface Table {
  readonly local: Lpm<Route>;
  readonly peers: readonly { readonly name: string; readonly lpm: Lpm<PeerRoute>; readonly ref: PeerSetRef }[];
  readonly lens: readonly number[];
}

/**
 * A compiled main table and the answers of lookups made in it (destination → route or null): one object,
 * not an entry holding a table (a sampled check at 150,000 pods compiles a dozen tables per probe).
 */
export interface TableEntry extends Table {
  readonly peerSets: object;
  /** Null for a small table without peer-set routes (see mainLookup). */
  readonly memo: Map<Ipv4, Route | null> | null;
}

/**
 * The peer sets of a table that includes none, shared: not frozen (never written), so that every table's
 * list has the elements kind of the lists built for the others, which every lookup reads.
 */
const NO_PEER_TABLES: Table['peers'] = [];

const tables = new YoungWeakMap<NetNs, TableEntry>();

/**
 * A namespace's whole main table, compiled and memoized on the namespace and the cluster's peer sets
 * (both immutable: a lookup's answer depends on nothing else, so the answers are kept with it).
 */
function tableOf(state: ClusterState, ns: NetNs): TableEntry {
  const hit = tables.get(ns);
  if (hit && hit.peerSets === state.peerSets) return hit;
  const entry = newEntry(state, ns);
  tables.set(ns, entry);
  return entry;
}

/**
 * A namespace's main table compiled for `state`, not memoized itself: its own routes through their memo, or
 * with `fresh` all of it compiled afresh and without a lookup memo (see LookupOptions.fresh). Either way one
 * shape of {@link TableEntry}, so that the walk of a table sees one shape whoever compiled it.
 */
function newEntry(state: ClusterState, ns: NetNs, fresh = false): TableEntry {
  const local = fresh ? ownTable(ns.routes, kernelRoutes(ns)) : localLpm(ns);
  const peers = peerTablesOf(state, ns, fresh);
  const memo = fresh || (peers.length === 0 && local.items !== null) ? null : new Map<Ipv4, Route | null>();
  return { local, peers, lens: lensWith(local, peers), peerSets: state.peerSets, memo };
}

/** The compiled tables of the peer sets a namespace includes that exist in `state`. */
function peerTablesOf(state: ClusterState, ns: NetNs, fresh: boolean): Table['peers'] {
  const refs = ns.peerSets;
  if (refs.length === 0) return NO_PEER_TABLES;
  const peers: { name: string; lpm: Lpm<PeerRoute>; ref: PeerSetRef }[] = [];
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    const set = state.peerSets[ref.set];
    if (set) peers.push({ name: set.name, lpm: (fresh ? indexPeers(set, false) : peerIndex(set)).lpm, ref });
  }
  return peers;
}

/** The prefix lengths of a main table: its own and its peer sets'. */
function lensWith(local: Lpm<Route>, peers: Table['peers']): readonly number[] {
  if (peers.length === 0) return local.lens;
  const lists = [local.lens];
  for (let i = 0; i < peers.length; i++) lists.push(peers[i]!.lpm.lens);
  return mergedLens(lists);
}

/**
 * The prefix lengths (0–32) of several tables, each once, longest first: one shared frozen list for each
 * set of lengths (what a Set of them, spread and sorted, holds). Exported for its test.
 */
export function mergedLens(lists: readonly (readonly number[])[]): readonly number[] {
  let bits = 0;
  for (let i = 0; i < lists.length; i++) bits = orBits(bits, lensBits(lists[i]!));
  return lensOf(bits);
}

/*
 * A table's prefix lengths (0–32, longest first) as one number: bit `len` set for each, bit 32 as 2^32
 * (a double holds 2^33 − 1 exactly). A host's main table merges its own lengths with its peer sets', the
 * same lengths on every node: the merged list is one shared frozen array per set of lengths, not a Set, a
 * spread and a sort per host met.
 */
function lensBits(lens: readonly number[]): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < lens.length; i++) {
    const l = lens[i]!;
    if (l === 32) hi = 1;
    else lo |= 1 << l;
  }
  return hi * 2 ** 32 + (lo >>> 0);
}

function orBits(a: number, b: number): number {
  const hi = Math.floor(a / 2 ** 32) | Math.floor(b / 2 ** 32);
  return hi * 2 ** 32 + (((a % 2 ** 32) | (b % 2 ** 32)) >>> 0);
}

const lensLists = new Map<number, readonly number[]>();

/** The prefix lengths of {@link lensBits}, longest first: one frozen list per set of lengths. */
function lensOf(bits: number): readonly number[] {
  let out = lensLists.get(bits);
  if (out === undefined) {
    const list: number[] = [];
    if (bits >= 2 ** 32) list.push(32);
    const lo = bits % 2 ** 32;
    for (let l = 31; l >= 0; l--) if ((lo >>> l) & 1) list.push(l);
    lensLists.set(bits, (out = Object.freeze(list)));
  }
  return out;
}

/**
 * Not a memo (a plain `WeakMap`, not a YoungWeakMap): {@link keepNexthop} writes into it a key that cannot be
 * made again from its route (a redirect's copy keeps the next hop of the route it replaced), so no entry may be
 * dropped.
 */
const nexthopKeys = new WeakMap<Route, string>();

/**
 * The next hop a route exception (NetNs.pmtu) hangs on, as a key: what makes the kernel share one fib_info
 * between routes (fib_find_info: type, gateway, device, metric, protocol, scope, preferred source, metrics such
 * as `mtu`, flags such as `onlink`), not the destination. Measured (kernel 6.18, `pnk30-…`): a path MTU or
 * redirect learnt through `default via 10.0.0.1 dev eth0` is shown by `ip route get` through `10.1.0.0/24 via
 * 10.0.0.1` added later, not through the same with `metric 5`, `proto static` or `mtu 1450`, nor through
 * `10.1.0.17/32 dev eth0` (shown again once that is deleted).
 */
export function nexthopKey(r: Route): string {
  let k = nexthopKeys.get(r);
  if (k === undefined) nexthopKeys.set(r, (k = `${r.type} ${r.via ?? '-'} ${r.dev ?? '-'} ${r.metric} ${r.proto} ${r.scope} ${r.src ?? '-'} ${r.mtu ?? '-'} ${r.onlink ? 'onlink' : '-'}`));
  return k;
}

/**
 * The key of a route exception in {@link NetNs.pmtu}: the destination (decimal IPv4) and the next hop it
 * hangs on ({@link nexthopKey}), joined by `|`. The kernel keeps exceptions per nexthop, hashed by
 * destination (fib_nh_exception), so one destination has one exception on each next hop: measured
 * (kernel 6.18, `pnk31-…`), a path MTU of 1400 learnt through `10.1.0.0/24 via 10.0.1.1 dev d1` and one of
 * 1300 through `10.1.0.0/25 via 10.0.2.1 dev d2` are both listed by `ip route show cache`, and `ip route
 * get` shows the first again once the /25 is deleted.
 *
 * @example
 * ```ts
 * import { exceptionKey, parseIpv4 } from '@podnet/core';
 * exceptionKey(parseIpv4('10.1.0.5'), 'unicast 167772417 d1 0 boot global - - -'); // '167837701|unicast 167772417 d1 0 boot global - - -'
 * ```
 */
export function exceptionKey(dst: Ipv4, nh: string): string {
  return `${dst >>> 0}|${nh}`;
}

/** Gives `copy` (a route with its gateway replaced by a redirect's) the next hop of `of`, which its exceptions hang on. */
export function keepNexthop(copy: Route, of: Route): Route {
  nexthopKeys.set(copy, nexthopKey(of));
  return copy;
}

/**
 * The owners of peer set `set` with something hidden in namespace `ns` (routes, a neighbour or an FDB entry
 * deleted there) that a `peerset.restore` puts back as the kernel would take it: each route's gateway on a
 * connected subnet of its device (else the kernel answers network is unreachable), and no route of the same
 * prefix and metric in its place (File exists) — with `replace`, a route the namespace holds itself or an
 * address's prefix route (not another owner's) gives way. What an agent's loop or restart puts back.
 */
export function restorablePeerOwners(state: ClusterState, ns: NetNs, set: string, replace = false): string[] {
  const held = state.peerSets[set];
  if (held === undefined) return [];
  const out: string[] = [];
  let table: Route[] | null = null;
  let local: Lpm<Route> | null = null;
  for (const ref of ns.peerSets) {
    if (ref.set !== set) continue;
    const owner = (tag: string): string => tag.slice(0, tag.indexOf(' '));
    const owners = new Set([...(ref.hidden ?? []), ...(ref.hiddenNeigh ?? []).map(owner), ...(ref.hiddenFdb ?? []).map(owner)]);
    for (const o of owners) {
      const e = shardGet(held.entries, o);
      if (e === undefined || out.includes(o)) continue;
      table ??= allRoutes(state, ns);
      local ??= localLpm(ns);
      const routes = e.routes.map((r0) => routeVia(r0, ref.via));
      const inTheWay = (r: Route): boolean => table!.some((x) => x.dst.addr === r.dst.addr && x.dst.len === r.dst.len && x.metric === r.metric && !(replace && (ns.routes.includes(x) || x.proto === 'kernel')));
      // A route added now is checked now: a gateway behind a deleted prefix route no longer passes.
      if (routes.every((r) => (r.via === null || r.onlink || r.dev === null || gatewayOnLink(local!, ns, r.via, r.dev)) && !inTheWay(r))) out.push(o);
    }
  }
  return out;
}

/** Every route a namespace's main table holds, as `ip route` lists it (peer-set routes rendered in). */
export function allRoutes(state: ClusterState, ns: NetNs): Route[] {
  const out = ns.routes.filter((r) => r.afterPrefixRoute !== true);
  const local = localLpm(ns);
  for (const ref of ns.peerSets) {
    const set = state.peerSets[ref.set];
    if (!set) continue;
    for (const e of shardValues(set.entries)) {
      if (refUses(ref, e.owner, e.group)) for (const r0 of e.routes) { const r = routeVia(r0, ref.via); if (peerRouteInstalled(local, ns, r)) out.push(r); }
    }
  }
  // An address's prefix route after the added routes of its prefix and metric (see `ownTable`), and before
  // those appended after it (Route.afterPrefixRoute).
  out.push(...kernelRoutes(ns));
  for (const r of ns.routes) if (r.afterPrefixRoute === true) out.push(r);
  return out.sort(fibOrder);
}

/**
 * The order the kernel dumps a table in: its FIB trie in key order, one key's prefixes longest first
 * (fib_insert_alias orders a leaf's aliases by suffix length): `10.244.0.0 dev cali…` is listed before
 * `blackhole 10.244.0.0/26` (measured, packages/kernel-oracle/NOTES.md).
 */
export function fibOrder(a: Route, b: Route): number {
  return (a.dst.len === 0 ? -1 : 0) - (b.dst.len === 0 ? -1 : 0) || a.dst.addr - b.dst.addr || b.dst.len - a.dst.len || a.metric - b.metric;
}

const localAddrs = new YoungWeakMap<object, ReadonlyMap<Ipv4, Link>>();

/**
 * Addresses this namespace owns (the local table): address → link, of every link, up or down. The kernel
 * adds an address's `local` route when the address is added, whatever the device's state (fib_add_ifaddr
 * returns after it when the device is not up), and a device going down kills the nexthops of its prefix and
 * broadcast routes but not of its local ones (fib_sync_down_dev skips nexthops of scope host unless forced:
 * only when the last address goes or the device is unregistered). Measured (kernel 6.18, `kn29-…`
 * namespaces): after `ip link set d1 down`, `ip route show table local` still lists `local 10.1.0.1 dev d1
 * proto kernel scope host src 10.1.0.1` (the `broadcast 10.1.0.255` line and the prefix route are gone),
 * `ip route get 10.1.0.1` answers `local 10.1.0.1 dev lo`, a ping to it from the namespace itself and from
 * another one routed through it gets `64 bytes from 10.1.0.1: … ttl=64`, and an ARP request for it arriving
 * on another device is answered (arp_ignore 0); an address added to a device that is down is local too.
 */
export function localAddressMap(ns: NetNs): ReadonlyMap<Ipv4, Link> {
  let m = localAddrs.get(ns.links);
  if (!m) {
    const mm = new Map<Ipv4, Link>();
    for (const l of linkList(ns)) for (const a of l.addrs) mm.set(a.ip, l);
    localAddrs.set(ns.links, (m = mm));
  }
  return m;
}

/** True when `ip` is local to the namespace: an address of any of its links, up or down (the kernel keeps their `local` routes while a device is down); 127/8 on an up loopback. */
export function isLocalAddress(ns: NetNs, ip: Ipv4): boolean {
  if (ip >>> 24 === 127) return ns.links['lo']?.up === true;
  return localAddressMap(ns).has(ip);
}

/**
 * The preferred source address for a packet leaving by `dev` towards `dst` (the kernel's
 * inet_select_addr): the route's `src` if set; else, of the addresses of `dev` (global, or link-scope too
 * for a link-scope route), the one whose subnet holds the route's gateway, or the first when none does or
 * the route has no gateway: the kernel asks with the gateway (fib_info_update_nhc_saddr), not the
 * destination. Measured (kernel 6.18, scripts/prefix-route-formats.sh, case f): d1 with 192.0.2.1/24 then
 * 10.2.0.1/24 and `10.2.0.128/25 dev d1`: `ip route get 10.2.0.130` says `src 192.0.2.1`; through `10.3.5.0/24
 * via 10.2.0.9 dev d1`, `src 10.2.0.1`; and case c: `198.51.100.0/24 dev d1` beside a `noprefixroute`
 * 198.51.100.1/24, `src 192.0.2.1`. Else the first global address
 * of the namespace's links in ifindex order, `lo` first, up or down: inet_select_addr walks every device
 * (for_each_netdev) without looking at its state, and in_dev_select_addr skips link- and host-scope
 * addresses. Measured (kernel 6.18, `kn29-…` namespaces): with `10.3.0.5 dev d3 scope link` and no address
 * on d3, `ip route get 10.3.0.5` says `src 10.1.0.1`, the address of d1, which is down; with only
 * `169.254.7.7/16 scope link` elsewhere it gives no `src`; with `10.77.0.1/32` added to `lo`, `src 10.77.0.1`.
 * `by: 'nexthop'` asks as MASQUERADE and ARP do, with the next hop (the gateway, else `dst`).
 */
export function selectSource(ns: NetNs, route: Route, dst: Ipv4, by: 'gateway' | 'nexthop' = 'gateway'): Ipv4 | null {
  if (route.src !== null) return route.src;
  // A route's own source asks with its gateway alone (above); MASQUERADE (nf_nat_masquerade_ipv4:
  // inet_select_addr(out, rt_nexthop(rt, daddr), …)) and an ARP request (arp_solicit: inet_select_addr(dev,
  // target, RT_SCOPE_LINK)) ask with the next hop: the gateway, else the destination itself.
  const gw = by === 'nexthop' ? route.via ?? dst : route.via;
  const dev = route.dev === null ? undefined : ns.links[route.dev];
  // inet_select_addr never picks a secondary address (IFA_F_SECONDARY; measured, secondary-addr-formats.sh:
  // `ip route get` from a device with 192.0.2.1/24 and 192.0.2.5/24 secondary says `src 192.0.2.1`).
  const globals = (l: Link) => l.addrs.filter((a) => a.scope === 'global' && a.secondary !== true);
  if (dev) {
    // inet_select_addr takes addresses whose scope is no wider than the route's: a link-scope route may
    // use a link-scope address of its device (GKE's pod gateway on each host veth), a global one may not.
    const g = route.scope === 'global' ? globals(dev) : dev.addrs.filter((a) => a.scope !== 'host' && a.secondary !== true);
    const inSubnet = gw === null ? undefined : g.find((a) => cidrContains({ addr: networkOf(a.ip, a.len), len: a.len }, gw));
    if (inSubnet) return inSubnet.ip;
    if (g[0]) return g[0].ip;
  }
  const links = linkList(ns);
  for (let i = 0; i < links.length; i++) {
    const g = globals(links[i]!);
    if (g[0]) return g[0].ip;
  }
  return null;
}

