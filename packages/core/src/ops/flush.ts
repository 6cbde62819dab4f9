/**
 * What the `ip … flush` commands select: iproute2 has no flush request of its own for routes, addresses or
 * neighbours; it dumps the table, keeps the rows its filter matches, and sends a delete for each
 * (iproute_list_flush_or_save, ipaddr_flush, do_show_or_flush). These pure functions are that filter over a
 * namespace, so the actions (`route.flush`, `addr.flush`, `neigh.flush`) and the lab shell's `-s` count
 * ("*** Round 1, deleting N entries ***") read one answer.
 */
import { networkOf, parseCidr, parseIpv4, type Cidr } from '../addr/ipv4.js';
import { fail, shown } from '../errors.js';
import type { ClusterState, IfAddr, Link, NeighEntry, NetNs, Route } from '../model/types.js';
import { RT_TABLE_LOCAL, RT_TABLE_MAIN } from '../model/types.js';
import { peerEntries } from '../query/render.js';
import { allRoutes } from './routing.js';

/** A neighbour entry's state, as `ip neigh` prints it (the ones podnet models). */
export type NeighNud = 'PERMANENT' | 'REACHABLE' | 'STALE' | 'FAILED';

/** How long a confirmed neighbour stays REACHABLE (net.ipv4.neigh.default.base_reachable_time_ms, 30 s). */
export const REACHABLE_MS = 30_000;

/** The state `ip neigh` shows for an entry at simulated time `now`. */
export function neighNud(n: NeighEntry, now: number): NeighNud {
  if (n === null || typeof n !== 'object' || typeof now !== 'number' || !Number.isFinite(now)) fail('INVALID_ARGUMENT', `neighNud takes a neighbour entry and a simulated time, got ${JSON.stringify(n)} and ${shown(now)}`);
  if (n.failed || n.mac === null) return 'FAILED';
  if (n.permanent) return 'PERMANENT';
  return now - n.confirmed <= REACHABLE_MS ? 'REACHABLE' : 'STALE';
}

/** The selectors of `ip route flush` after validation. */
interface RouteFilter {
  readonly table: number;
  readonly exact: Cidr | null;
  readonly root: Cidr | null;
  readonly match: Cidr | null;
  readonly dev: string | null;
  readonly via: number | null;
  readonly proto: string | null;
  readonly type: Route['type'] | null;
  readonly scope: Route['scope'] | null;
}

/**
 * The selectors of `ip route flush` (iproute2's route filter): every one given must match. `exact`, `root`
 * and `match` take a prefix (`default` is 0.0.0.0/0); `table` a table number (default main, 254).
 */
export interface RouteFlushSelectors {
  readonly table?: number;
  readonly exact?: string;
  readonly root?: string;
  readonly match?: string;
  readonly dev?: string;
  readonly via?: string;
  readonly proto?: string;
  readonly type?: Route['type'];
  readonly scope?: Route['scope'];
}

const ROUTE_TYPES: readonly string[] = ['unicast', 'blackhole', 'unreachable', 'prohibit'];
const SCOPES: readonly string[] = ['global', 'link', 'host'];

function prefix(text: string | undefined, what: string): Cidr | null {
  if (text === undefined) return null;
  if (typeof text !== 'string') fail('INVALID_CIDR', `${what} must be a prefix, got ${JSON.stringify(text)}`);
  return text === 'default' ? { addr: 0, len: 0 } : parseCidr(text.includes('/') ? text : `${text}/32`);
}

function routeFilter(ns: NetNs, s: RouteFlushSelectors): RouteFilter {
  if (s === null || typeof s !== 'object') fail('INVALID_ARGUMENT', `route selectors must be an object, got ${JSON.stringify(s)}`);
  const table = s.table ?? RT_TABLE_MAIN;
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) fail('INVALID_ARGUMENT', `route.flush table must be an integer from 1 to 4294967295, got ${JSON.stringify(s.table)}`, { ns: ns.id, table: s.table });
  if (table === RT_TABLE_LOCAL) fail('INVALID_ARGUMENT', `route.flush of the local table is not modelled: its routes are the namespace's own addresses (addr.del, addr.flush change them) in ${ns.id}`, { ns: ns.id, table });
  if (s.dev !== undefined && (typeof s.dev !== 'string' || !Object.prototype.hasOwnProperty.call(ns.links, s.dev))) fail('LINK_NOT_FOUND', `Cannot find device "${shown(s.dev)}" (in ${ns.id})`, { ns: ns.id, dev: s.dev });
  if (s.type !== undefined && !ROUTE_TYPES.includes(s.type)) fail('INVALID_ARGUMENT', `route.flush type must be one of ${ROUTE_TYPES.join(', ')}, got ${JSON.stringify(s.type)}`, { ns: ns.id, type: s.type });
  if (s.scope !== undefined && !SCOPES.includes(s.scope)) fail('INVALID_ARGUMENT', `route.flush scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(s.scope)}`, { ns: ns.id, scope: s.scope });
  if (s.proto !== undefined && (typeof s.proto !== 'string' || s.proto === '')) fail('INVALID_ARGUMENT', `route.flush proto must be a protocol name, got ${JSON.stringify(s.proto)}`, { ns: ns.id, proto: s.proto });
  return {
    table, exact: prefix(s.exact, 'route.flush exact'), root: prefix(s.root, 'route.flush root'), match: prefix(s.match, 'route.flush match'),
    dev: s.dev ?? null, via: s.via === undefined ? null : parseIpv4(s.via), proto: s.proto ?? null, type: s.type ?? null, scope: s.scope ?? null,
  };
}

/** Whether prefix `p` holds prefix `q` (q is p or longer, inside it). */
function holds(p: Cidr, q: Cidr): boolean {
  return q.len >= p.len && networkOf(q.addr, p.len) === p.addr;
}

/**
 * iproute2's route filter (filter_nlmsg): `root P` keeps routes inside P (their length at least P's), `match
 * P` those holding P (their length at most P's), `exact P` (or a bare prefix) P alone; the other selectors
 * compare the route's own field. Measured (kernel 6.18, scripts/route-verbs-formats.sh, cases e, f): `ip route
 * flush root 172.20.0.0/16` took 172.20.0.0/16 and 172.20.1.0/24; `proto boot` the blackhole route too (an
 * added route's protocol); `scope link` the addresses' prefix routes too; `dev d2` the default route through d2.
 */
function selects(f: RouteFilter, r: Route): boolean {
  return (f.exact === null || (r.dst.addr === f.exact.addr && r.dst.len === f.exact.len))
    && (f.root === null || holds(f.root, r.dst))
    && (f.match === null || holds(r.dst, f.match))
    && (f.dev === null || r.dev === f.dev)
    && (f.via === null || r.via === f.via)
    && (f.proto === null || r.proto === f.proto)
    && (f.type === null || r.type === f.type)
    && (f.scope === null || r.scope === f.scope);
}

/**
 * The routes `ip route show` with these selectors lists and `ip route flush` deletes, in the order `ip route`
 * lists them: of the main table its added routes, the addresses' prefix routes and the shared peer-set routes it holds; of another
 * table its routes. Throws `TABLE_NOT_FOUND` for a table that never had a route (the kernel's `Error: ipv4:
 * FIB table does not exist.`), `LINK_NOT_FOUND` for an unknown `dev`, `INVALID_CIDR`, `INVALID_IP` and
 * `INVALID_ARGUMENT` for a malformed selector, and for the local table (derived from the addresses here).
 *
 * @example
 * ```ts
 * selectRoutes(sim.state, getNs(sim.state, 'node/node-1'), { dev: 'eth0' }).length; // 2: default, 192.168.1.0/24
 * ```
 */
export function selectRoutes(state: ClusterState, ns: NetNs, s: RouteFlushSelectors): Route[] {
  const f = routeFilter(ns, s);
  if (f.table === RT_TABLE_MAIN) return allRoutes(state, ns).filter((r) => selects(f, r));
  const held = ns.tables?.[f.table];
  if (held === undefined) fail('TABLE_NOT_FOUND', `Error: ipv4: FIB table does not exist (table ${f.table} in ${ns.id})`, { ns: ns.id, table: f.table });
  return held.filter((r) => selects(f, r));
}

/** The selectors of `addr.flush` (see actions.ts). */
export interface AddrFlushSelectors {
  readonly dev: string;
  readonly primary?: boolean;
  readonly secondary?: boolean;
  readonly scope?: IfAddr['scope'];
  readonly to?: string;
}

/**
 * The addresses `ip addr flush dev DEV …` deletes, in the device's order (as `ip addr` lists them): those
 * the selectors keep — `primary` or `secondary` (IFA_F_SECONDARY), `scope`, `to PREFIX` (the address inside
 * it). Measured (kernel 6.18, scripts/route-verbs-formats.sh, case j): `ip addr flush dev d1 secondary` took
 * 192.0.2.5/24 alone, `… to 203.0.113.0/24` 203.0.113.1/24 alone. Throws `LINK_NOT_FOUND`, `INVALID_CIDR`,
 * `INVALID_ARGUMENT`.
 */
export function addrsToFlush(ns: NetNs, s: AddrFlushSelectors): IfAddr[] {
  if (s === null || typeof s !== 'object') fail('INVALID_ARGUMENT', `addr.flush needs selectors with a dev, got ${JSON.stringify(s)}`);
  const link: Link | undefined = typeof s.dev === 'string' && Object.prototype.hasOwnProperty.call(ns.links, s.dev) ? ns.links[s.dev] : undefined;
  if (link === undefined) fail('LINK_NOT_FOUND', `Device "${shown(s.dev)}" does not exist (in ${ns.id})`, { ns: ns.id, dev: s.dev });
  for (const k of ['primary', 'secondary'] as const) if (s[k] !== undefined && typeof s[k] !== 'boolean') fail('INVALID_ARGUMENT', `addr.flush ${k} must be a boolean, got ${JSON.stringify(s[k])}`, { ns: ns.id, [k]: s[k] });
  if (s.scope !== undefined && !SCOPES.includes(s.scope)) fail('INVALID_ARGUMENT', `addr.flush scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(s.scope)}`, { ns: ns.id, scope: s.scope });
  const to = prefix(s.to, 'addr.flush to');
  return link.addrs.filter((a) => (s.primary !== true || a.secondary !== true) && (s.secondary !== true || a.secondary === true)
    && (s.scope === undefined || a.scope === s.scope) && (to === null || networkOf(a.ip, to.len) === to.addr));
}

/** A state `ip neigh flush … nud` names (those podnet models; `all` is every one). */
export type NeighFlushState = 'permanent' | 'reachable' | 'stale' | 'failed' | 'all';

/** The selectors of `neigh.flush` (see actions.ts). */
export interface NeighFlushSelectors {
  readonly dev?: string;
  readonly to?: string;
  readonly nud?: readonly NeighFlushState[];
}

/** A neighbour entry `neigh.flush` deletes: the namespace's own (`own`: its key in NetNs.neigh) or a shared peer-set one. */
export interface NeighToFlush {
  readonly dev: string;
  readonly ip: number;
  readonly own: string | null;
}

const NUDS: readonly string[] = ['permanent', 'reachable', 'stale', 'failed', 'all'];

/**
 * The neighbour entries `ip neigh flush …` deletes, in the order `ip neigh` lists them. Without `nud`, all
 * but the permanent ones (iproute2 sets its flush filter to ~(NUD_PERMANENT|NUD_NOARP)); `nud STATE` (one or
 * more) those in a state named, `all` every one. Measured (kernel 6.18, scripts/route-verbs-formats.sh, case
 * k): `ip neigh flush dev d1` took the REACHABLE and INCOMPLETE entries of d1 and kept the PERMANENT one;
 * `… nud permanent` took that. Throws `LINK_NOT_FOUND`, `INVALID_CIDR`, `INVALID_ARGUMENT`.
 */
export function neighsToFlush(state: ClusterState, ns: NetNs, s: NeighFlushSelectors): NeighToFlush[] {
  if (s === null || typeof s !== 'object') fail('INVALID_ARGUMENT', `neigh.flush needs selectors, got ${JSON.stringify(s)}`);
  if (s.dev !== undefined && (typeof s.dev !== 'string' || !Object.prototype.hasOwnProperty.call(ns.links, s.dev))) fail('LINK_NOT_FOUND', `Cannot find device "${shown(s.dev)}" (in ${ns.id})`, { ns: ns.id, dev: s.dev });
  if (s.nud !== undefined && (!Array.isArray(s.nud) || s.nud.some((n) => !NUDS.includes(n)))) fail('INVALID_ARGUMENT', `neigh.flush nud must be a list of ${NUDS.join(', ')}, got ${JSON.stringify(s.nud)}`, { ns: ns.id, nud: s.nud });
  const to = prefix(s.to, 'neigh.flush to');
  const nuds = new Set(s.nud ?? ['reachable', 'stale', 'failed']);
  const wants = (nud: NeighNud): boolean => nuds.has('all') || nuds.has(nud.toLowerCase() as 'permanent');
  const keeps = (dev: string, ip: number): boolean => (s.dev === undefined || dev === s.dev) && (to === null || networkOf(ip, to.len) === to.addr);
  const out: NeighToFlush[] = [];
  for (const [k, n] of Object.entries(ns.neigh)) if (keeps(n.dev, n.ip) && wants(neighNud(n, state.now))) out.push({ dev: n.dev, ip: n.ip, own: k });
  // The shared peer-set entries (flanneld's) are permanent, listed after the namespace's own.
  if (wants('PERMANENT')) for (const p of peerEntries(state, ns)) for (const n of p.neigh) if (keeps(p.dev, n.ip)) out.push({ dev: p.dev, ip: n.ip, own: null });
  return out;
}
