/** Renders model tables in iproute2's formats (`ip route`, `ip neigh`, `bridge fdb`). */
import { formatIpv4, formatPrefix } from '../addr/ipv4.js';
import { getNs } from '../model/lookup.js';
import { fail } from '../errors.js';
import { RT_TABLE_LOCAL, RT_TABLE_MAIN, type ClusterState, type Link, type NetNs, type NsId, type PeerEntry, type Route } from '../model/types.js';
import { allRoutes, fibOrder, formatIpRule, ipRuleList, localRouteSource } from '../ops/routing.js';
import { shardValues } from '../util/shards.js';

/** How long a confirmed neighbour stays REACHABLE (net.ipv4.neigh.default.base_reachable_time_ms). */
const REACHABLE_MS = 30_000;

/**
 * The shared peer-set entries a namespace renders (every owner's but its own), with the neighbour and FDB
 * entries deleted here left out (by `ip neigh del`, `bridge fdb del`, or taken back by the agent when its
 * route was refused: PeerSet.downIn). A deleted shared route (`hidden`) leaves the owner's neighbour and FDB
 * entries, as the kernel's separate tables do and as the engine uses them.
 */
export function peerEntries(state: ClusterState, ns: NetNs): { readonly dev: string; readonly neigh: PeerEntry['neigh']; readonly fdb: PeerEntry['fdb'] }[] {
  const out: { dev: string; neigh: PeerEntry['neigh']; fdb: PeerEntry['fdb'] }[] = [];
  for (const ref of ns.peerSets) {
    const set = state.peerSets[ref.set];
    if (!set) continue;
    for (const e of shardValues(set.entries)) {
      if (e.owner === ref.self) continue;
      const neigh = ref.hiddenNeigh === undefined ? e.neigh : e.neigh.filter((n) => !ref.hiddenNeigh!.includes(`${e.owner} ${n.ip}`));
      const fdb = ref.hiddenFdb === undefined ? e.fdb : e.fdb.filter((f) => !ref.hiddenFdb!.includes(`${e.owner} ${f.mac}`));
      out.push({ dev: set.dev, neigh, fdb });
    }
  }
  return out;
}

/** True when a link has carrier (LOWER_UP): veths need their peer up, bridges an up port with carrier. */
export function hasCarrier(state: ClusterState, ns: NetNs, link: Link, depth = 0): boolean {
  if (!link.up) return false;
  switch (link.kind) {
    case 'veth': {
      const peerNs = link.peer.ns === ns.id ? ns : (() => { try { return getNs(state, link.peer.ns); } catch { return undefined; } })();
      return peerNs?.links[link.peer.name]?.up === true;
    }
    case 'bridge':
      // A bridge has carrier from creation until ports come; then only while a port has (br_port_carrier_check).
      if (!link.hadPorts) return true;
      if (depth > 2) return false;
      return Object.values(ns.links).some((l) => l.master === link.name && hasCarrier(state, ns, l, depth + 1));
    case 'vxlan':
      // A VXLAN device keeps its carrier when its underlay device goes down (measured: `ip link set eth0
      // down` under flannel.1 leaves it `UP,LOWER_UP` and its routes without `linkdown`).
      return true;
    default:
      return true;
  }
}

/** One route as `ip route show` prints it. */
/**
 * How `ip route` prints a route: `details` (`ip -d`) adds the type, protocol and scope at their defaults;
 * `selected` names the fields a selector fixed (`ip route show dev d1`, `via`, `proto`, `scope`), which
 * iproute2 leaves out of each line (print_route tests the filter's masks). Measured with iproute2 6.1
 * (scripts/route-verbs-formats.sh, case m): `ip route show dev d1` → `172.20.0.0/16 via 192.0.2.4`,
 * `ip route show scope link` → `192.0.2.0/24 dev d1 proto kernel src 192.0.2.1`; `type blackhole` keeps
 * the type.
 */
export interface RouteFormat {
  readonly details?: boolean;
  readonly selected?: ReadonlySet<'dev' | 'via' | 'proto' | 'scope'>;
}

export function formatRoute(state: ClusterState, ns: NetNs, r: Route, table?: string, how: RouteFormat = {}): string {
  const parts: string[] = [];
  const details = how.details === true;
  const shown = (k: 'dev' | 'via' | 'proto' | 'scope'): boolean => how.selected?.has(k) !== true;
  // `ip -d route` prints the type, protocol and scope also at their defaults (iproute2's print_route tests
  // show_details): measured, `unicast 172.20.0.0/16 via 192.0.2.4 dev d1 proto boot scope global`
  // (packages/cli/scripts/route-verbs-formats.sh, case a).
  if (r.type !== 'unicast' || details) parts.push(r.type);
  parts.push(r.dst.len === 0 ? 'default' : formatPrefix(r.dst));
  if (r.via !== null && shown('via')) parts.push('via', formatIpv4(r.via));
  if (r.dev !== null && shown('dev')) parts.push('dev', r.dev);
  // `ip route show table all` names each route's table (main aside) where iproute2 does: after the device.
  if (table !== undefined) parts.push('table', table);
  if ((r.proto !== 'boot' || details) && shown('proto')) parts.push('proto', r.proto);
  if ((r.scope !== 'global' || details) && shown('scope')) parts.push('scope', r.scope);
  if (r.src !== null) parts.push('src', formatIpv4(r.src));
  if (r.metric !== 0) parts.push('metric', String(r.metric));
  if (r.onlink) parts.push('onlink');
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  const link = r.dev === null ? undefined : ns.links[r.dev];
  // Never on a host-scope route (measured: `10.9.7.0/24 dev d1 scope host` without it, beside `10.9.8.0/24
  // dev d1 scope link linkdown`, with d1's peer down and after d1 itself went down): the kernel flags only
  // the nexthops it would kill.
  if (link && r.scope !== 'host' && !hasCarrier(state, ns, link)) parts.push('linkdown');
  return parts.join(' ');
}

/**
 * `ip route show` of a namespace: one line per route of the main table, or with `table` (`ip route show
 * table N`) of that table — `local` (255) being the kernel's routes for the namespace's own addresses
 * (a `local` route for each address of each device, a `broadcast` route for each device that is up) — or with `'all'` every table as `ip route show table all` lists them. Throws
 * `TABLE_NOT_FOUND` with iproute2's words for a table that was never created (iproute2 prints "Error: ipv4:
 * FIB table does not exist."). `details` is `ip -d route` (see {@link RouteFormat}).
 */
export function ipRoute(state: ClusterState, nsId: NsId, table: number | 'all' = RT_TABLE_MAIN, details = false): string[] {
  const ns = getNs(state, nsId);
  if (table === 'all') {
    // The kernel dumps its tables by hash bucket (the table's number modulo 256): main and local last, after
    // any table below 254, and a table above 255 where its bucket falls (measured: 300, 100, main, local).
    const ids = Object.keys(ns.tables ?? {}).map(Number).sort((a, b) => (a & 255) - (b & 255) || a - b);
    const out: string[] = [];
    for (const id of ids) if (id !== RT_TABLE_MAIN) out.push(...[...ns.tables![String(id)]!].sort(fibOrder).map((r) => formatRoute(state, ns, r, String(id), { details })));
    out.push(...allRoutes(state, ns).map((r) => formatRoute(state, ns, r, undefined, { details })));
    out.push(...localTable(state, ns, true));
    return out;
  }
  if (table === RT_TABLE_MAIN) return allRoutes(state, ns).map((r) => formatRoute(state, ns, r, undefined, { details }));
  if (table === RT_TABLE_LOCAL) return localTable(state, ns, false);
  const routes = ns.tables?.[table];
  if (routes === undefined) fail('TABLE_NOT_FOUND', `Error: ipv4: FIB table does not exist (table ${table} in ${nsId})`, { ns: nsId, table });
  return [...routes].sort(fibOrder).map((r) => formatRoute(state, ns, r, undefined, { details }));
}

/**
 * The kernel's local table of a namespace, as `ip route show table local` lists it (with `table local` after
 * the device when `labelled`, as `table all` does). For each address of each device, up or down: `local
 * <address>`, and on a loopback device `local <prefix>` too; for each device that is up, `broadcast
 * <subnet's broadcast address>` (no broadcast for a /31 or /32, none for the network address: kernel 6.18),
 * `linkdown` when the device has no carrier. In address order, a shorter prefix first. Measured in a
 * namespace (a bridge with 10.244.1.1/24, a veth with 192.168.1.11/24 and 10.244.1.0/32, lo up):
 * `local 10.244.1.0 dev v0 proto kernel scope host src 10.244.1.0`, `local 10.244.1.1 dev br0 …`,
 * `broadcast 10.244.1.255 dev br0 proto kernel scope link src 10.244.1.1`, `local 127.0.0.0/8 dev lo …`,
 * `local 127.0.0.1 dev lo …`, `broadcast 127.255.255.255 dev lo …`, `local 192.168.1.11 dev v0 …`,
 * `broadcast 192.168.1.255 dev v0 … linkdown` (its peer down); after `ip link set v0 down` its broadcast
 * line went and both of its `local` lines stayed.
 */
function localTable(state: ClusterState, ns: NetNs, labelled: boolean): string[] {
  const rows: { addr: number; len: number; order: number; line: string }[] = [];
  const table = labelled ? ' table local' : '';
  const seen = new Set<string>();
  const add = (kind: 'local' | 'broadcast', addr: number, len: number, dev: string, scope: string, src: number, linkdown: boolean, order = 0): void => {
    const key = `${kind} ${addr} ${len} ${dev}`;
    if (seen.has(key)) return;
    seen.add(key);
    const dst = len === 32 ? formatIpv4(addr) : formatPrefix({ addr, len });
    rows.push({ addr, len, order, line: `${kind} ${dst} dev ${dev}${table} proto kernel scope ${scope} src ${formatIpv4(src)}${linkdown ? ' linkdown' : ''}` });
  };
  for (const link of Object.values(ns.links)) {
    for (const a of link.addrs) {
      if (a.secondary === true) {
        // A secondary address's local route names its primary as source; the broadcast route is the primary's.
        add('local', a.ip, 32, link.name, 'host', localRouteSource(link, a), false);
        continue;
      }
      add('local', a.ip, 32, link.name, 'host', a.ip, false);
      const mask = a.len === 0 ? 0 : (0xffffffff << (32 - a.len)) >>> 0;
      if (link.kind === 'loopback' && a.len < 32) add('local', (a.ip & mask) >>> 0, a.len, link.name, 'host', a.ip, false);
      // fib_add_ifaddr appends the broadcast route with the prefix route: of one broadcast address on two
      // devices, the one whose prefix route came (back) last goes last (IfAddr.prefixOrder; measured, case a5
      // of scripts/prefix-route-formats.sh: after d1 down/up, `broadcast 192.0.2.255 dev d3` before `dev d1`).
      if (link.up && a.len < 31) add('broadcast', (a.ip | ~mask) >>> 0, 32, link.name, 'link', a.ip, !hasCarrier(state, ns, link), a.prefixOrder ?? 0);
    }
  }
  rows.sort((x, y) => x.addr - y.addr || x.len - y.len || x.order - y.order);
  return rows.map((r) => r.line);
}

/**
 * `ip rule show` of a namespace: the kernel's three rules and those added, by priority
 * (`1536:\tfrom 10.0.0.5 lookup 2`; a /32 prints as its address, table 254 as `main`).
 */
export function ipRule(state: ClusterState, nsId: NsId): string[] {
  return ipRuleList(getNs(state, nsId)).map((r) => formatIpRule(r));
}

/**
 * `ip -4 neigh show` of a namespace: `IP dev DEV lladdr MAC STATE`, with `PERMANENT` for static
 * entries (a design's and shared peer-set ones), `FAILED` where resolution went unanswered, and
 * `REACHABLE` or `STALE` by the time since the entry was confirmed. Lines come in the model's order;
 * the kernel lists them in hash order.
 */
export function ipNeigh(state: ClusterState, nsId: NsId): string[] {
  const ns = getNs(state, nsId);
  const out: string[] = [];
  for (const e of Object.values(ns.neigh)) {
    if (e.failed || e.mac === null) out.push(`${formatIpv4(e.ip)} dev ${e.dev} ${e.failed ? 'FAILED' : 'INCOMPLETE'}`);
    else out.push(`${formatIpv4(e.ip)} dev ${e.dev} lladdr ${e.mac} ${e.permanent ? 'PERMANENT' : state.now - e.confirmed < REACHABLE_MS ? 'REACHABLE' : 'STALE'}`);
  }
  for (const { dev, neigh } of peerEntries(state, ns)) for (const n of neigh) out.push(`${formatIpv4(n.ip)} dev ${dev} lladdr ${n.mac} PERMANENT`);
  return out;
}

/**
 * `bridge fdb show` of a namespace, without the multicast rows the kernel adds for the groups each
 * device joins (podnet does not model multicast): each bridge's own MAC (`dev BR master BR
 * permanent`), its ports' own MACs (`permanent`), learned and static entries, VXLAN entries
 * (`MAC dev flannel.1 dst IP self permanent`) and a device's own unicast addresses (`MAC dev X self
 * permanent`, from `bridge fdb add MAC dev X` without `master`). Learned entries older than the bridge's ageing time
 * (300 s) are gone, as in the kernel.
 */
export function bridgeFdb(state: ClusterState, nsId: NsId): string[] {
  const ns = getNs(state, nsId);
  const out: string[] = [];
  // A bridge's own MAC from its entry, which `bridge fdb del` can delete (gone from the kernel's list too).
  for (const e of Object.values(ns.fdb)) if (e.port === null && e.dst === null && e.local) out.push(`${e.mac} dev ${e.dev} master ${e.dev} permanent`);
  for (const e of Object.values(ns.fdb)) {
    if (e.dst !== null) out.push(`${e.mac} dev ${e.dev} dst ${formatIpv4(e.dst)} self${e.permanent ? ' permanent' : ''}`);
    // A device's own unicast address (`bridge fdb add MAC dev vethX` without `master`, ndo_dflt_fdb_add).
    else if (e.port === null && !e.local) out.push(`${e.mac} dev ${e.dev} self permanent`);
    else if (e.port !== null) {
      if (!e.permanent && state.now - e.updated > 300_000) continue;
      out.push(`${e.mac} dev ${e.port} master ${e.dev}${e.local ? ' permanent' : e.permanent ? ' static' : ''}`);
    }
  }
  for (const { dev, fdb } of peerEntries(state, ns)) for (const f of fdb) out.push(`${f.mac} dev ${dev} dst ${formatIpv4(f.dst)} self permanent`);
  return out;
}
