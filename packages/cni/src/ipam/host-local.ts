/**
 * host-local IPAM, as containernetworking/plugins plugins/ipam/host-local does it:
 *
 * - `ranges` is a list of range sets, each a list of ranges (`subnet`, optional `rangeStart`, `rangeEnd`,
 *   `gateway`); an old-style top-level `subnet` is one more range set in front, and so is
 *   `runtimeConfig.ipRanges` (backend/allocator/config.go LoadIPAMConfig). ADD hands out one address per
 *   range set (main.go cmdAdd).
 * - A range defaults its gateway to network+1, `rangeStart` to network+1 (the gateway is skipped when
 *   iterating) and `rangeEnd` to the last address before broadcast; a /31 or /32 is "too small to
 *   allocate from" (allocator/range.go Canonicalize).
 * - Allocation is round-robin per range set, starting after the last reserved address and wrapping, so a
 *   released address comes back only after the rest of the set was tried (allocator.go GetIter/Next).
 * - Requested addresses (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`) go to the range set that
 *   contains them; the gateway and taken addresses are refused.
 * - Every error is a plain Go error, which skel turns into CNI error code 999 ("try again later", 11, is
 *   never used by host-local). The texts are the plugin's own.
 *
 * The on-disk store (/var/lib/cni/networks/<network>) is {@link HostLocalStore}: one per network name
 * per node, immutable, replaced on every change.
 */
import { textMemo } from '../contract/memo.js';
import { cidrContains, formatCidr, formatIpv4, maskOf, networkOf, parseCidr, parseIpv4, type BuildStep, type Cidr, type CniError, type Ipv4, YoungWeakMap } from '@podnet/core';
import { withEntry, withKey } from '../util/record.js';

/** One canonical range of a range set (every field filled in, as Range.Canonicalize leaves it). */
export interface HostLocalRange {
  readonly subnet: Cidr;
  readonly gateway: Ipv4;
  readonly rangeStart: Ipv4;
  readonly rangeEnd: Ipv4;
}

/** A range set: host-local takes one address from each. */
export type RangeSet = readonly HostLocalRange[];

/** Who holds an address: the container and its interface (the store's primary key). */
export interface HostLocalOwner {
  readonly id: string;
  readonly ifname: string;
}

/** What /var/lib/cni/networks/<network> holds: taken addresses and the last one reserved per range set. */
export interface HostLocalStore {
  /** Range set index (`"0"`, `"1"`…) → last address reserved there (the `last_reserved_ip.N` files). */
  readonly lastReserved: Readonly<Record<string, Ipv4>>;
  /** Dotted address → owner (one file per address). */
  readonly allocated: Readonly<Record<string, HostLocalOwner>>;
}

/** An empty store (a network never used on this node). */
export const EMPTY_HOST_LOCAL: HostLocalStore = { lastReserved: {}, allocated: {} };

/** A host-local failure: the plugin's error text (skel reports it with code 999). */
export interface IpamError {
  readonly error: string;
}

/** A route of the IPAM `routes` list, as the result carries it. */
export interface IpamRoute {
  readonly dst: string;
  readonly gw?: string;
}

/** A loaded, validated host-local configuration. */
export interface HostLocalConfig {
  readonly ranges: readonly RangeSet[];
  readonly routes: readonly IpamRoute[];
  /** Requested addresses, in the order host-local collects them (CNI_ARGS, args, runtimeConfig). */
  readonly requested: readonly Ipv4[];
}

const isError = (x: unknown): x is IpamError => typeof x === 'object' && x !== null && 'error' in x;

/** Go's net.ParseIP for IPv4 text, or null. */
function ip4(text: unknown): Ipv4 | null {
  if (typeof text !== 'string') return null;
  try {
    return parseIpv4(text);
  } catch {
    return null;
  }
}

/** Go's types.IPNet unmarshalling (net.ParseCIDR, host bits kept), or an error in net's words. */
function cidrWithHostBits(text: unknown): { ip: Ipv4; len: number } | IpamError {
  const m = typeof text === 'string' ? /^([^/]+)\/(\d{1,2})$/.exec(text) : null;
  const ip = m ? ip4(m[1]) : null;
  const len = m ? Number(m[2]) : NaN;
  if (ip === null || !(len >= 0 && len <= 32)) return { error: `invalid CIDR address: ${String(text)}` };
  return { ip, len };
}

/** `start-end`, as Range.String prints a range. */
export function rangeText(r: HostLocalRange): string {
  return `${formatIpv4(r.rangeStart)}-${formatIpv4(r.rangeEnd)}`;
}

/** `a-b,c-d`, as RangeSet.String prints a set. */
export function rangeSetText(s: RangeSet): string {
  return s.map(rangeText).join(',');
}

/** Range.Contains: inside the subnet and between rangeStart and rangeEnd. */
function rangeContains(r: HostLocalRange, ip: Ipv4): boolean {
  return cidrContains(r.subnet, ip) && ip >= r.rangeStart && ip <= r.rangeEnd;
}

function ipInRange(r: { subnet: Cidr; rangeStart?: Ipv4; rangeEnd?: Ipv4 }, ip: Ipv4): string | null {
  const net = formatCidr(r.subnet);
  if (!cidrContains(r.subnet, ip)) return `${formatIpv4(ip)} not in network ${net}`;
  if (r.rangeStart !== undefined && ip < r.rangeStart) return `${formatIpv4(ip)} is in network ${net} but before start ${formatIpv4(r.rangeStart)}`;
  if (r.rangeEnd !== undefined && ip > r.rangeEnd) return `${formatIpv4(ip)} is in network ${net} but after end ${formatIpv4(r.rangeEnd)}`;
  return null;
}

/** Range.Canonicalize: validates one range object of the config and fills in its defaults. */
export function canonicalRange(raw: unknown): HostLocalRange | IpamError {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { error: 'json: cannot unmarshal range: a range is an object with a subnet' };
  const o = raw as Record<string, unknown>;
  const parsed = cidrWithHostBits(o['subnet']);
  if (isError(parsed)) return parsed;
  if (parsed.len > 30) return { error: `Network ${formatIpv4(parsed.ip)}/${parsed.len} too small to allocate from` };
  const addr = networkOf(parsed.ip, parsed.len);
  if (addr !== parsed.ip) {
    return { error: `network has host bits set. For a subnet mask of length ${parsed.len} the network address is ${formatIpv4(addr)}` };
  }
  const subnet: Cidr = { addr, len: parsed.len };
  const field = (k: string): Ipv4 | undefined | IpamError => {
    if (o[k] === undefined) return undefined;
    const v = ip4(o[k]);
    return v === null ? { error: `invalid IP address: ${String(o[k])}` } : v;
  };
  const gw = field('gateway');
  if (isError(gw)) return gw;
  if (gw !== undefined && !cidrContains(subnet, gw)) return { error: `gateway ${formatIpv4(gw)} not in network ${formatCidr(subnet)}` };
  const start = field('rangeStart');
  if (isError(start)) return start;
  if (start !== undefined) {
    const e = ipInRange({ subnet }, start);
    if (e) return { error: e };
  }
  const end = field('rangeEnd');
  if (isError(end)) return end;
  const rangeStart = start ?? ((addr + 1) >>> 0);
  if (end !== undefined) {
    const e = ipInRange({ subnet, rangeStart }, end);
    if (e) return { error: e };
  }
  const broadcast = (addr | ~maskOf(subnet.len)) >>> 0;
  return { subnet, gateway: gw ?? ((addr + 1) >>> 0), rangeStart, rangeEnd: end ?? ((broadcast - 1) >>> 0) };
}

/** Range.Overlaps: one range's start or end lies in the other. */
function overlaps(a: HostLocalRange, b: HostLocalRange): boolean {
  return rangeContains(a, b.rangeStart) || rangeContains(a, b.rangeEnd) || rangeContains(b, a.rangeStart) || rangeContains(b, a.rangeEnd);
}

/** RangeSet.Canonicalize: every range canonical, none overlapping another of the same set. */
export function canonicalRangeSet(raw: unknown): RangeSet | IpamError {
  if (!Array.isArray(raw)) return { error: 'json: cannot unmarshal a range set: it is a list of ranges' };
  if (raw.length === 0) return { error: 'empty range set' };
  const out: HostLocalRange[] = [];
  for (const r of raw) {
    const c = canonicalRange(r);
    if (isError(c)) return c;
    out.push(c);
  }
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      if (overlaps(out[i]!, out[j]!)) return { error: `subnets ${rangeText(out[i]!)} and ${rangeText(out[j]!)} overlap` };
    }
  }
  return out;
}

/** The range a subnet gives with host-local's defaults (`{"subnet": "…"}`), e.g. a node's podCIDR. */
export function defaultRange(subnet: Cidr, gateway?: Ipv4): HostLocalRange | IpamError {
  if (gateway === undefined && isAllocatable(subnet)) return subnetRange(subnet);
  return canonicalRange({ subnet: formatCidr(subnet), ...(gateway === undefined ? {} : { gateway: formatIpv4(gateway) }) });
}

/**
 * Whether {@link canonicalRange} takes `{"subnet": formatCidr(subnet)}` as it is: a network address (no host
 * bits) of a prefix host-local allocates from (/30 or larger). Anything else goes through it, for its error.
 */
function isAllocatable(subnet: Cidr): boolean {
  const { addr, len } = subnet;
  return Number.isInteger(len) && len >= 0 && len <= 30 && Number.isInteger(addr) && addr >= 0 && addr <= 0xffffffff && networkOf(addr, len) === addr;
}

/**
 * What {@link canonicalRange} makes of an {@link isAllocatable} subnet, made from its numbers: a node's
 * podCIDR was formatted only to be scanned back (every ADD of a design on allocateOnSubnet, every node's
 * first flannel ADD).
 */
function subnetRange(subnet: Cidr): HostLocalRange {
  const addr = subnet.addr;
  const broadcast = (addr | ~maskOf(subnet.len)) >>> 0;
  return { subnet: { addr, len: subnet.len }, gateway: (addr + 1) >>> 0, rangeStart: (addr + 1) >>> 0, rangeEnd: (broadcast - 1) >>> 0 };
}

/**
 * {@link loadPlainHostLocalConfig} of the section `ipam`, which is `{ type, ranges: [[{ subnet }]], routes:
 * [{ dst: route }] }` (flannel's delegate for kube-flannel's conflist): when both texts are network texts
 * as host-local prints them back, the range is made of the subnet's numbers and the route is the text
 * given; else the section is loaded. A new node's first ADD scanned, checked and canonicalised the two
 * texts subnet.env's parse had just printed.
 * @internal
 */
export function loadSubnetHostLocalConfig(ipam: Readonly<Record<string, unknown>>, cniVersion: string, subnet: string, route: string): HostLocalConfig | IpamError {
  const sub = networkText(subnet);
  if (sub === null || !isAllocatable(sub) || networkText(route) === null) return loadPlainHostLocalConfig(ipam, cniVersion);
  return { ranges: [[subnetRange(sub)]], routes: [{ dst: route }], requested: [] };
}

/** The network a text names when it is one as host-local prints it (`formatCidr` of a network), else null. */
function networkText(text: string): Cidr | null {
  let c: Cidr;
  try {
    c = parseCidr(text);
  } catch {
    return null;
  }
  return formatCidr(c) === text ? c : null;
}

/**
 * host-local on one subnet (a node's podCIDR) for a design's CNI ADD: the address, its range and the new
 * store, or the CNI error to answer — code 7 when host-local cannot use the subnet, code 999 with the
 * allocator's text wrapped by `failure` (each plugin words it its own way) when no address is left.
 */
export function allocateOnSubnet(
  subnet: Cidr, store: HostLocalStore, req: { readonly containerId: string; readonly ifname: string; readonly requestedIp: Ipv4 | null },
  cniVersion: string, failure: (msg: string) => string = (msg) => msg,
): { ip: Ipv4; range: HostLocalRange; store: HostLocalStore } | { error: CniError } {
  const range = defaultRange(subnet);
  if ('error' in range) return { error: { cniVersion, code: 7, msg: 'Invalid Configuration', details: range.error } };
  const got = allocateFromSet([range], store, 0, req.containerId, req.ifname, req.requestedIp);
  if ('error' in got) return { error: { cniVersion, code: 999, msg: failure(got.error) } };
  return got;
}

/**
 * The value of the first `IP=` pair of CNI_ARGS (`K=V;K=V`), as types.LoadArgs reads it into
 * IPAMEnvArgs: the text between `IP=` and the next `=` or `;`. Scanned in place: every ADD passes
 * CNI_ARGS, and splitting it made a string and an array per pair.
 */
export function envIpText(args: string): string | null {
  for (let at = 0; at <= args.length;) {
    const end = args.indexOf(';', at);
    const stop = end < 0 ? args.length : end;
    if (stop - at >= 3 && args.startsWith('IP=', at)) {
      const eq = args.indexOf('=', at + 3);
      return args.slice(at + 3, eq < 0 || eq > stop ? stop : eq);
    }
    if (end < 0) break;
    at = end + 1;
  }
  return null;
}

/** `IP=10.1.1.5` out of CNI_ARGS (its text, {@link envIpText}), parsed. */
function envIp(v: string | null): Ipv4 | null | IpamError {
  if (v === null) return null;
  const ip = ip4(v);
  return ip === null ? { error: `ARGS: error parsing value of "IP": invalid IP address: ${v}` } : ip;
}

/**
 * LoadIPAMConfig: reads the `ipam` section (plus `args` and `runtimeConfig` of the plugin config) and
 * CNI_ARGS, canonicalises the range sets and checks they do not overlap.
 */
export function loadHostLocalConfig(
  ipam: Readonly<Record<string, unknown>>, cniVersion: string, cniArgs = '', plugin: Readonly<Record<string, unknown>> = {},
): HostLocalConfig | IpamError {
  return loadHostLocalConfigFor(ipam, cniVersion, envIpText(cniArgs), plugin);
}

/** {@link loadHostLocalConfig} given the `IP=` value of CNI_ARGS ({@link envIpText}) rather than CNI_ARGS. */
export function loadHostLocalConfigFor(
  ipam: Readonly<Record<string, unknown>>, cniVersion: string, argsIpText: string | null, plugin: Readonly<Record<string, unknown>>,
): HostLocalConfig | IpamError {
  const fromEnv = envIp(argsIpText);
  if (isError(fromEnv)) return fromEnv;
  // What most ADDs are (no address asked for anywhere): the remembered configuration, nothing built.
  if (fromEnv === null && plugin['args'] === undefined && plugin['runtimeConfig'] === undefined) return loadRanges(ipam, cniVersion, undefined);
  const requested: Ipv4[] = [];
  if (fromEnv !== null) requested.push(fromEnv);
  const listIps = (v: unknown): IpamError | null => {
    if (!Array.isArray(v)) return null;
    for (const t of v) {
      const ip = ip4(typeof t === 'string' ? t.split('/')[0] : t);
      if (ip === null) return { error: `cannot understand ip: IP ${String(t)} not v4 nor v6` };
      requested.push(ip);
    }
    return null;
  };
  const args = plugin['args'] as { cni?: { ips?: unknown } } | undefined;
  const rc = (plugin['runtimeConfig'] ?? {}) as { ips?: unknown; ipRanges?: unknown };
  const e1 = listIps(args?.cni?.ips) ?? listIps(rc.ips);
  if (e1) return e1;
  const loaded = loadRanges(ipam, cniVersion, rc.ipRanges);
  if (isError(loaded)) return loaded;
  if (requested.length > 0) return { ...loaded, requested };
  return loaded;
}

/**
 * The configuration with nothing requested (every ADD that lets IPAM choose), memoized on its text: every ADD
 * on a node reads the same, and is handed the same configuration object.
 */
const loadRanges = (ipam: Readonly<Record<string, unknown>>, cniVersion: string, ipRanges: unknown): HostLocalConfig | IpamError => {
  if (ipRanges !== undefined) return rangesMemo(JSON.stringify([cniVersion, ipam, ipRanges]));
  // The same ipam object (a plugin config held by its list, or flannel's delegate per node) is read at every
  // ADD: remember its answer by identity before paying for its text.
  let byVersion = rangesById.get(ipam);
  if (!byVersion) rangesById.set(ipam, (byVersion = new Map()));
  let r = byVersion.get(cniVersion);
  if (r === undefined) byVersion.set(cniVersion, (r = rangesMemo(JSON.stringify([cniVersion, ipam, null]))));
  return r;
};
const rangesById = new YoungWeakMap<object, Map<string, HostLocalConfig | IpamError>>();

/**
 * {@link loadHostLocalConfig} of an `ipam` section built of strings, plain objects and arrays alone (JSON's
 * values, as JSON.parse would give them back), with nothing requested and no `args` or `runtimeConfig`: the
 * section read as it is, as its text would read. For a section podnet builds itself from text it parsed
 * (flannel's delegate, one per node), whose text would be found in no memo again (its subnet is the node's).
 * @internal
 */
export function loadPlainHostLocalConfig(ipam: Readonly<Record<string, unknown>>, cniVersion: string): HostLocalConfig | IpamError {
  return loadRangesOnce(ipam, cniVersion, null);
}
const rangesMemo = textMemo((key) => {
  const [cniVersion, ipam, ipRanges] = JSON.parse(key) as [string, Record<string, unknown>, unknown];
  return loadRangesOnce(ipam, cniVersion, ipRanges);
});

/** The configuration of an `ipam` section (and `runtimeConfig.ipRanges`) with nothing requested. */
function loadRangesOnce(ipam: Readonly<Record<string, unknown>>, cniVersion: string, ipRanges: unknown): HostLocalConfig | IpamError {
  const rawSets: unknown[] = [];
  if (Array.isArray(ipRanges)) rawSets.push(...(ipRanges as unknown[]));
  if (ipam['subnet'] !== undefined) rawSets.push([{ subnet: ipam['subnet'], rangeStart: ipam['rangeStart'], rangeEnd: ipam['rangeEnd'], gateway: ipam['gateway'] }]);
  if (ipam['ranges'] !== undefined) {
    if (!Array.isArray(ipam['ranges'])) return { error: 'json: cannot unmarshal ranges: a list of range sets' };
    rawSets.push(...(ipam['ranges'] as unknown[]));
  }
  // json.Unmarshal reads every subnet and address before anything is canonicalised: its errors come first, unprefixed.
  for (const set of rawSets) {
    for (const r of Array.isArray(set) ? set : []) {
      const o = (r ?? {}) as Record<string, unknown>;
      const bad = cidrWithHostBits(o['subnet']);
      if (isError(bad) && o['subnet'] !== undefined) return bad;
      for (const k of ['gateway', 'rangeStart', 'rangeEnd']) if (o[k] !== undefined && ip4(o[k]) === null) return { error: `invalid IP address: ${String(o[k])}` };
    }
  }
  if (rawSets.length === 0) return { error: 'no IP ranges specified' };
  const ranges: RangeSet[] = [];
  for (let i = 0; i < rawSets.length; i++) {
    const s = canonicalRangeSet(rawSets[i]);
    if (isError(s)) return { error: `invalid range set ${i}: ${s.error}` };
    ranges.push(s);
  }
  if (ranges.length > 1 && !['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'].includes(cniVersion)) {
    return { error: `CNI version ${cniVersion} does not support more than 1 address per family` };
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (ranges[i]!.some((a) => ranges[j]!.some((b) => overlaps(a, b)))) return { error: `range set ${i} overlaps with ${j}` };
    }
  }
  const routes: IpamRoute[] = [];
  if (ipam['routes'] !== undefined) {
    if (!Array.isArray(ipam['routes'])) return { error: 'json: cannot unmarshal routes: a list of routes' };
    for (const r of ipam['routes'] as unknown[]) {
      const o = (r ?? {}) as { dst?: unknown; gw?: unknown };
      const d = cidrWithHostBits(o.dst);
      if (isError(d)) return d;
      if (o.gw !== undefined && ip4(o.gw) === null) return { error: `invalid IP address: ${String(o.gw)}` };
      routes.push(o.gw === undefined ? { dst: `${formatIpv4(networkOf(d.ip, d.len))}/${d.len}` } : { dst: `${formatIpv4(networkOf(d.ip, d.len))}/${d.len}`, gw: String(o.gw) });
    }
  }
  return { ranges, routes, requested: [] };
}

/**
 * An index of an `allocated` record: which addresses each container holds (container id → addresses,
 * in the record's order) and which addresses are taken, as numbers. ADD's duplicate check and DEL read
 * one container's entries instead of scanning the node's, and ADD tests a candidate address without
 * building its text. It is derived data, kept beside the immutable record and never in it: built by
 * one scan the first time a store is read, and handed on to the store that ADD or DEL makes out of
 * it ({@link MadeStore}). The index is moved, not shared, so it always describes exactly the record of
 * the store that holds it; the store left behind, if it is read again (undo, a failed ADD), is scanned
 * again. Stores are immutable, as all design state is: a record changed in place after it was read would
 * not be seen.
 */
interface StoreIndex {
  /** Container id → its address, or its addresses when it holds several (one is the rule: no array then). */
  readonly owners: Map<string, string | string[]>;
  /** The keys that are addresses as host-local writes them (formatIpv4 of a number). */
  readonly taken: Set<Ipv4>;
  /**
   * Every key of the record, in its order: ADD copies the record through this list. Enumerating the
   * record (`for…in` over a prototype-less object) collects and sorts its keys first, and made the copy
   * twice as slow; a node's pods copy it once each.
   */
  keys: string[];
}

/**
 * A store host-local made (every store but the shared empty one and copies made elsewhere), holding its
 * record's {@link StoreIndex} and the build it was made in ({@link extendingInPlace}). Both are private
 * fields: the store reads as the plain {@link HostLocalStore} it is (its two records, for `JSON`,
 * `structuredClone` and `toEqual` alike), immer treats it as a value it neither drafts nor walks, and
 * a field is written even when the store is frozen. They were kept in two weak maps, the index under its
 * record: moving it to the next record, a delete and a set of a new key at every ADD and DEL, cost more
 * than copying the record (~1–2 µs against ~0.3–1 µs in a micro-benchmark; the ADD's record copy, whose
 * self time held the maps' work, was ~5 µs per ADD in steady at-end property runs).
 */
class MadeStore implements HostLocalStore {
  #ix: StoreIndex | null;
  readonly #build: object | null;

  constructor(readonly lastReserved: HostLocalStore['lastReserved'], readonly allocated: HostLocalStore['allocated'], ix: StoreIndex | null, build: object | null) {
    this.#ix = ix;
    this.#build = build;
  }

  /** The index `store` holds (of its record), or null: none kept yet, moved on, or a store host-local did not make. */
  static indexOf(store: HostLocalStore): StoreIndex | null {
    return store instanceof MadeStore ? store.#ix : null;
  }

  /** Keeps `ix` (of its record) on `store` when host-local made it, else nothing. */
  static keep(store: HostLocalStore, ix: StoreIndex | null): void {
    if (store instanceof MadeStore) store.#ix = ix;
  }

  /**
   * The build `store` was made in, while {@link extendingInPlace} ran it (null for any other store). A store
   * made in the build that runs now is reachable from that build's state alone, whose states in between nobody
   * sees: its ADDs extend it in place instead of copying a record that grows with the node's pods (a copy per
   * pod made a node's ADDs quadratic in its pods). Any other store, the shared empty one included, is copied.
   */
  static buildOf(store: HostLocalStore): object | null {
    return store instanceof MadeStore ? store.#build : null;
  }
}

/** The number a key stands for when it is an address as host-local writes it, else null. */
function keyIp(key: string): Ipv4 | null {
  const ip = ip4(key);
  return ip !== null && formatIpv4(ip) === key ? ip : null;
}

/** The index of the store's record: the one the store holds, else built by a scan (and kept on a store host-local made). */
function storeIndex(store: HostLocalStore): StoreIndex {
  let ix = MadeStore.indexOf(store);
  if (ix !== null) return ix;
  ix = { owners: new Map(), taken: new Set(), keys: [] };
  const allocated = store.allocated;
  for (const key in allocated) {
    ix.keys.push(key);
    const owner = allocated[key];
    if (owner === undefined) continue;
    addOwned(ix.owners, owner.id, key);
    const ip = keyIp(key);
    if (ip !== null) ix.taken.add(ip);
  }
  MadeStore.keep(store, ix);
  return ix;
}

function addOwned(owners: StoreIndex['owners'], id: string, key: string): void {
  const held = owners.get(id);
  if (held === undefined) owners.set(id, key);
  else if (typeof held === 'string') owners.set(id, [held, key]);
  else held.push(key);
}

/** The addresses a container holds (any interface), in the record's order. */
function ownedBy(owners: StoreIndex['owners'], id: string): readonly string[] {
  const held = owners.get(id);
  return held === undefined ? NONE : typeof held === 'string' ? [held] : held;
}
const NONE: readonly string[] = Object.freeze([]);

/** The addresses (id, ifname) holds, in the record's order. */
function heldBy(store: HostLocalStore, id: string, ifname: string): readonly string[] {
  return heldIn(storeIndex(store), store.allocated, id, ifname);
}

/** {@link heldBy} through the record's index `ix`, already at hand. */
function heldIn(ix: StoreIndex, allocated: HostLocalStore['allocated'], id: string, ifname: string): readonly string[] {
  // Every ADD asks, and a new container holds nothing: no list is made for that.
  const held = ix.owners.get(id);
  if (held === undefined) return NONE;
  return (typeof held === 'string' ? [held] : held).filter((k) => allocated[k]!.ifname === ifname);
}

/** The store (its record indexed by `ix`) with `ip` of range set `rangeId` taken by (id, ifname); `ix` moves to the new store. */
function reserveIn(store: HostLocalStore, ix: StoreIndex, rangeId: number, ip: Ipv4, range: HostLocalRange, id: string, ifname: string): { ip: Ipv4; range: HostLocalRange; store: HostLocalStore } {
  const owner = { id, ifname };
  if (inPlace !== null && MadeStore.buildOf(store) === inPlace.build) return { ip, range, store: reserveInPlace(inPlace.undo, store, ix, rangeId, ip, owner) };
  const lastReserved = withKey(store.lastReserved, rangeId, ip);
  const allocated = store.allocated;
  const key = keyText(ip, true);
  // A store made while a build runs holds records of its own (two fresh copies): the build's later ADDs may extend it.
  const build = inPlace === null ? null : inPlace.build;
  // Only a free address is reserved (its index said so). Should the record hold its key all the same, withEntry
  // copies it, and the copy's index is left to a scan (`ix` stays with the record it describes).
  if (allocated[key] !== undefined) return { ip, range, store: new MadeStore(lastReserved, withEntry(allocated, key, owner), null, build) };
  // withEntry's copy (the same entries in the same order, no prototype), through the index's key list.
  const out = Object.create(null) as Record<string, HostLocalOwner>;
  const keys = ix.keys;
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = allocated[keys[i]!]!;
  out[key] = owner;
  MadeStore.keep(store, null);
  addOwned(ix.owners, owner.id, key);
  ix.taken.add(ip);
  keys.push(key);
  return { ip, range, store: new MadeStore(lastReserved, out, ix, build) };
}


/** The build whose ADD runs now (null outside one), with how to take back, last first, what that ADD reserved in place so far. */
let inPlace: { readonly build: object; readonly undo: (() => void)[] } | null = null;

/**
 * Whether a bulk build's CNI ADD is running ({@link extendingInPlace}): a build adds each pod once, so what is
 * kept to be found again by a later ADD (host-local's key texts, the plugins' veth names) is not kept then.
 */
export function inBuild(): boolean {
  return inPlace !== null;
}

/**
 * `store.lastReserved[rangeId]`, read only where the record holds the key. A node's first ADD reads it from
 * a record without it (an element past the end), which V8's optimised code does not expect: allocateFromSet
 * was thrown out of optimised code and compiled again 46 times in a 2,000-node build (`--trace-deopt`,
 * "out of bounds"), once every few dozen nodes.
 */
function lastReservedIn(store: HostLocalStore, rangeId: number): Ipv4 | undefined {
  const r = store.lastReserved;
  return Object.prototype.hasOwnProperty.call(r, rangeId) ? r[rangeId] : undefined;
}

/** {@link reserveIn} on a store of the running build: the records gain the entry, the store stays the same object. */
function reserveInPlace(undo: (() => void)[], store: HostLocalStore, ix: StoreIndex, rangeId: number, ip: Ipv4, owner: HostLocalOwner): HostLocalStore {
  const key = keyText(ip, false);
  const allocated = store.allocated as Record<string, HostLocalOwner>;
  const lastReserved = store.lastReserved as Record<string, Ipv4>;
  const before = lastReservedIn(store, rangeId);
  // Only a free address is reserved (its index said so): the key is new, and comes last in the record.
  allocated[key] = owner;
  lastReserved[rangeId] = ip;
  addOwned(ix.owners, owner.id, key);
  ix.taken.add(ip);
  ix.keys.push(key);
  undo.push(() => {
    delete allocated[key];
    if (before === undefined) delete lastReserved[rangeId];
    else lastReserved[rangeId] = before;
    const held = ownedBy(ix.owners, owner.id).filter((k) => k !== key);
    if (held.length === 0) ix.owners.delete(owner.id);
    else ix.owners.set(owner.id, held.length === 1 ? held[0]! : held);
    ix.taken.delete(ip);
    ix.keys.pop();
  });
  return store;
}

/** Runs the undos, last first. */
function undoAll(undo: readonly (() => void)[]): void {
  for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
}

/**
 * Runs `add` (a CNI ADD of a cluster being built, `build` its state, `step` that ADD) letting host-local
 * extend the stores made in that build in place. When `failed` says the ADD failed, or it throws, every
 * address it reserved so is released again (host-local's own rollback, and the runtime's DEL after a
 * failed ADD); when it succeeded, how to release them is handed to `step`, which does it if the ADD's
 * final answer (after any design wrapping this one) is a failure. Either way a failed ADD leaves the
 * stores exactly as they were. Outside it, every ADD copies the store it changes.
 */
export function extendingInPlace<T>(build: object, step: BuildStep, add: () => T, failed: (outcome: T) => boolean): T {
  const outer = inPlace;
  const undo: (() => void)[] = [];
  inPlace = { build, undo };
  let done = false;
  try {
    const out = add();
    done = !failed(out);
    return out;
  } finally {
    inPlace = outer;
    if (!done) undoAll(undo);
    // A nested run that succeeded leaves its reservations to the run around it, which may still fail.
    else if (outer !== null) outer.undo.push(...undo);
    else if (undo.length !== 0) step.undoOnFailure(() => undoAll(undo));
  }
}

/** One address of a range set for (id, ifname): IPAllocator.Get. */
export function allocateFromSet(
  set: RangeSet, store: HostLocalStore, rangeId: number, id: string, ifname: string, requested: Ipv4 | null,
): { ip: Ipv4; range: HostLocalRange; store: HostLocalStore } | IpamError {
  if (requested !== null) {
    const r = set.find((x) => rangeContains(x, requested));
    if (!r) return { error: `${formatIpv4(requested)} not in range set ${rangeSetText(set)}` };
    if (requested === r.gateway) return { error: `requested ip ${formatIpv4(requested)} is subnet's gateway` };
    const ix = storeIndex(store);
    if (ix.taken.has(requested)) {
      return { error: `requested IP address ${formatIpv4(requested)} is not available in range set ${rangeSetText(set)}` };
    }
    return reserveIn(store, ix, rangeId, requested, r, id, ifname);
  }
  // The record's index, read once: the duplicate check, every candidate and the reservation use it.
  const ix = storeIndex(store);
  // Duplicate allocation is not allowed by the spec: the same (container, interface) already holds an
  // address of this set.
  const held = heldIn(ix, store.allocated, id, ifname);
  for (let k = 0; k < held.length; k++) {
    const key = held[k]!;
    if (set.some((x) => rangeContains(x, parseIpv4(key)))) return { error: `${key} has been allocated to ${id}, duplicate allocation is not allowed` };
  }
  // GetIter: start after the last reserved address when the set still holds it, else at the first
  // range's start; Next walks each range to its end, moves to the next range (wrapping) and stops when
  // it comes back to where it started. The gateway is never handed out.
  const last = lastReservedIn(store, rangeId);
  let idx = 0;
  let cur: Ipv4 | null = null;
  if (last !== undefined) {
    const i = set.findIndex((x) => rangeContains(x, last));
    if (i >= 0) {
      idx = i;
      cur = last;
    }
  }
  let start: Ipv4 | null = null;
  let total = 0;
  for (let k = 0; k < set.length; k++) total += set[k]!.rangeEnd - set[k]!.rangeStart + 1;
  for (let step = 0; step <= total; step++) {
    let r = set[idx]!;
    if (cur === null) cur = r.rangeStart;
    else if (cur === r.rangeEnd) {
      idx = (idx + 1) % set.length;
      r = set[idx]!;
      cur = r.rangeStart;
    } else cur = (cur + 1) >>> 0;
    if (start === null) start = cur;
    else if (cur === start) break;
    if (cur === r.gateway) continue;
    if (!ix.taken.has(cur)) return reserveIn(store, ix, rangeId, cur, r, id, ifname);
  }
  return { error: `no IP addresses available in range set: ${rangeSetText(set)}` };
}

/** No requested address: never added to (pending only loses entries, and only when it has some). */
const NO_IPS: Ipv4[] = [];

/** What host-local's ADD prints (an IPAM result: no interfaces). */
export interface HostLocalResult {
  readonly ips: readonly { readonly address: string; readonly gateway: string }[];
  readonly routes: readonly IpamRoute[];
}

/**
 * host-local ADD (main.go cmdAdd): one address per range set, the requested ones where they fall;
 * on any failure nothing stays reserved.
 */
export function hostLocalAdd(
  conf: HostLocalConfig, store: HostLocalStore, id: string, ifname: string,
): { result: HostLocalResult; store: HostLocalStore } | IpamError {
  const pending: Ipv4[] = conf.requested.length === 0 ? NO_IPS : [...conf.requested];
  const ips: { address: string; gateway: string }[] = [];
  let s = store;
  for (let idx = 0; idx < conf.ranges.length; idx++) {
    const set = conf.ranges[idx]!;
    const k = pending.length === 0 ? -1 : pending.findIndex((ip) => set.some((r) => rangeContains(r, ip)));
    const requested = k >= 0 ? pending.splice(k, 1)[0]! : null;
    const got = allocateFromSet(set, s, idx, id, ifname, requested);
    if (isError(got)) return { error: `failed to allocate for range ${idx}: ${got.error}` };
    s = got.store;
    ips.push({ address: addressText(got.ip, got.range.subnet.len), gateway: gatewayText(got.range.gateway) });
  }
  if (pending.length > 0) return { error: `failed to allocate all requested IPs: ${pending.map(formatIpv4).join(' ')}` };
  return { result: { ips, routes: conf.routes }, store: s };
}

/**
 * `a.b.c.d/len`, as one flat string: every pod's result keeps it, and a template of that length is a rope
 * of three or four strings (V8 joins pieces of 13 characters or more by reference).
 */
function addressText(ip: Ipv4, len: number): string {
  return [ip === lastKeyIp ? lastKeyText : formatIpv4(ip), '/', len].join('');
}

/**
 * The record's key of an address being reserved (formatIpv4), kept as the last one made: the ADD's result
 * prints the same address next ({@link addressText}), from this text rather than formatting it again. With
 * `kept` (an ADD outside a build), the text is the one {@link keyTexts} holds for the address; a build
 * reserves each address once, and formats it.
 */
function keyText(ip: Ipv4, kept: boolean): string {
  lastKeyIp = ip;
  return (lastKeyText = kept ? keyTexts(ip) : formatIpv4(ip));
}
let lastKeyIp: Ipv4 | null = null;
let lastKeyText = '';

/**
 * The record keys made so far, by address: one string per address, handed out again whenever it is reserved
 * again. A property name is an internalized string: a fresh text written as a key of the prototype-less record
 * (and read there first, to see it is free) goes through V8's string table on the runtime's slow path each
 * time, while a text used as a key before is found at once. That write was ~3/4 of reserveIn's self time
 * (line ticks, an ADD on a 3-node state repeated), and a property campaign's runs reserve the same few
 * addresses again and again. Bounded (textMemo, 65,536 addresses).
 */
const keyTexts = textMemo<string, Ipv4>(formatIpv4, 65_536);

/**
 * A range's gateway as text: the last one written is handed out again for the same address, so the
 * results of a node's pods share one string rather than keeping one each.
 */
function gatewayText(gw: Ipv4): string {
  if (gw !== lastGateway.ip) lastGateway = { ip: gw, text: formatIpv4(gw) };
  return lastGateway.text;
}
let lastGateway: { readonly ip: Ipv4 | null; readonly text: string } = { ip: null, text: '' };

/** host-local DEL: releases what (id, ifname) holds. Idempotent, as CNI DEL must be. */
export function hostLocalDel(store: HostLocalStore, id: string, ifname: string): HostLocalStore {
  const ix = storeIndex(store);
  const held = heldIn(ix, store.allocated, id, ifname);
  if (held.length === 0) return store;
  // The copy without the released keys goes through the index's key list, as ADD's copy does (reserveIn):
  // enumerating the prototype-less record and filtering it through a callback made each pod DEL's copy
  // (and its key list's) about twice what this costs.
  const allocated = Object.create(null) as Record<string, HostLocalOwner>;
  const keys: string[] = [];
  for (let i = 0; i < ix.keys.length; i++) {
    const k = ix.keys[i]!;
    if (held.length === 1 ? k === held[0] : held.includes(k)) continue;
    allocated[k] = store.allocated[k]!;
    keys.push(k);
  }
  // Hand the index on, without the released addresses.
  MadeStore.keep(store, null);
  const rest = ownedBy(ix.owners, id).filter((k) => !held.includes(k));
  if (rest.length === 0) ix.owners.delete(id);
  else ix.owners.set(id, rest.length === 1 ? rest[0]! : rest);
  for (const k of held) {
    const ip = keyIp(k);
    if (ip !== null) ix.taken.delete(ip);
  }
  ix.keys = keys;
  return new MadeStore(store.lastReserved, allocated, ix, null);
}

/** host-local CHECK: at least one address is held by the container, whatever it is. */
export function hostLocalCheck(store: HostLocalStore, id: string, ifname: string): IpamError | null {
  if (heldBy(store, id, ifname).length > 0) return null;
  return { error: `host-local: Failed to find address added by container ${id}` };
}
