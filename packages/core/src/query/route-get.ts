/**
 * `ip route get` as the kernel answers it (inet_rtm_getroute): the output route of a local socket —
 * unbound, bound to a source (`from`), bound to a device (`oif`, SO_BINDTODEVICE) — or, with `iif`, the input
 * route of a packet arriving by a device (ip_route_input_slow: martians, forwarding, rp_filter). Pure: it
 * reads the state. Measured (kernel 6.18, iproute2 6.1): packages/cli/scripts/ping-dev-formats.sh.
 */
import { formatIpv4, parseIpv4, type Ipv4 } from '../addr/ipv4.js';
import { LIMITED_BROADCAST, localBroadcast } from '../dataplane/broadcast.js';
import { inputAddressVerdict } from '../dataplane/martian.js';
import { fail, shown } from '../errors.js';
import { getNs } from '../model/lookup.js';
import { devconfOr, forwardsOn, rpFilterOn } from '../model/sysctl.js';
import { type ClusterState, type NetNs, type NsId, type Route } from '../model/types.js';
import { isLocalAddress, localAddressMap, localRouteSource, lookupRouteFrom, lookupRouteOn, lookupRouteTable, selectSource } from '../ops/routing.js';

/** Options of {@link routeGet}: the words after `ip route get ADDR`. */
export interface RouteGetOptions {
  /** `from SRC`: the source the socket is bound to (output), or the arriving packet's source (with `iif`). */
  readonly from?: string;
  /** `iif DEV`: the packet arrives by this device; the answer is its input route. */
  readonly iif?: string;
  /** `oif DEV` (`dev DEV`): the socket is bound to this device (ignored with `iif`, as the kernel ignores it). */
  readonly oif?: string;
}

/** Why the kernel refused the lookup, as errno names `RTNETLINK answers: …`. */
export type RouteGetErrno = 'ENETUNREACH' | 'EHOSTUNREACH' | 'EINVAL' | 'EACCES';

/**
 * The answer of {@link routeGet}:
 * - `local`: `dst` is an address of the namespace (`local DST … dev lo`), `src` the local route's source
 *   (null when `from` was given: the kernel prints `from` instead);
 * - `route`: the route the packet takes, its table, and `src` the preferred source (null when `from` was
 *   given, or with `iif`); `guessed` when a bound device had no route and the kernel assumed the destination
 *   on-link there (see lookupRouteOn); `loopback` when that device is lo (`cache <local>`: the packet goes to lo);
 * - `broadcast`: `dst` is a broadcast (RTN_BROADCAST: a subnet broadcast of the namespace, its local table
 *   route's device and source; or 255.255.255.255, by the device main's route for it names, its gateway
 *   ignored); with `iif`, delivered locally (`dev lo`). Measured, bcast-formats.txt (a): `broadcast
 *   10.244.1.255 dev eth0 src 10.244.1.4 uid 0` / `cache <local,brd>` in pod-a;
 * - `refused`: the kernel's error for the lookup.
 * `iif` is the input device, null for an output route.
 */
export type RouteGetAnswer =
  | { readonly kind: 'local'; readonly dst: Ipv4; readonly src: Ipv4 | null; readonly iif: string | null }
  | { readonly kind: 'route'; readonly dst: Ipv4; readonly route: Route; readonly table: number; readonly src: Ipv4 | null; readonly guessed: boolean; readonly loopback: boolean; readonly iif: string | null }
  | { readonly kind: 'broadcast'; readonly dst: Ipv4; readonly dev: string; readonly src: Ipv4 | null; readonly iif: string | null }
  | { readonly kind: 'refused'; readonly errno: RouteGetErrno; readonly why: string };

function refused(errno: RouteGetErrno, why: string): RouteGetAnswer {
  return { kind: 'refused', errno, why };
}

/** A route type's error (fib_props): blackhole -EINVAL, unreachable -EHOSTUNREACH, prohibit -EACCES. */
function typeError(r: Route): RouteGetAnswer | null {
  if (r.type === 'blackhole') return refused('EINVAL', `blackhole route to ${formatIpv4(r.dst.addr)}/${r.dst.len}`);
  if (r.type === 'unreachable') return refused('EHOSTUNREACH', `unreachable route to ${formatIpv4(r.dst.addr)}/${r.dst.len}`);
  if (r.type === 'prohibit') return refused('EACCES', `prohibit route to ${formatIpv4(r.dst.addr)}/${r.dst.len}`);
  return null;
}

/** The source of `dst`'s local route: the address's own (a secondary's primary's), 127.0.0.1 for the rest of 127/8. */
function localSource(ns: NetNs, dst: Ipv4): Ipv4 {
  const link = localAddressMap(ns).get(dst);
  const a = link?.addrs.find((x) => x.ip === dst);
  return link !== undefined && a !== undefined ? localRouteSource(link, a) : 0x7f000001;
}

/**
 * What `ip route get DST [from SRC] [iif DEV] [oif DEV]` answers in namespace `nsId`. Throws
 * NAMESPACE_NOT_FOUND, INVALID_IP (`dst`, `from`), LINK_NOT_FOUND (`iif`, `oif`: iproute2's `Cannot find
 * device`). Output route: a bound source that is not an address of the namespace is -ENETUNREACH (measured:
 * `from 10.9.9.9` → `RTNETLINK answers: Network is unreachable`). Input route, in ip_route_input_slow's
 * order: martian source or destination (a missing `from` is 0.0.0.0, a martian source) -EINVAL; no route
 * -ENETUNREACH (-EHOSTUNREACH when the device does not forward); a local destination after rp_filter; a
 * device that does not forward -EHOSTUNREACH; rp_filter's refusal -EINVAL (measured: strict rp_filter with
 * the reverse route through another device → `RTNETLINK answers: Invalid argument`; loose passes).
 *
 * @example
 * ```ts
 * const a = routeGet(sim.state, 'node/node-1', '10.244.2.3', { from: '10.244.1.4', iif: 'cni0' });
 * if (a.kind === 'route') console.log(a.route.dev); // 'flannel.1'
 * ```
 */
export function routeGet(state: ClusterState, nsId: NsId, dst: string, o: RouteGetOptions = {}): RouteGetAnswer {
  const ns = getNs(state, nsId);
  if (typeof o !== 'object' || o === null) fail('INVALID_ARGUMENT', `routeGet options must be an object, not ${shown(o)}`);
  const to = parseIpv4(dst);
  const src = o.from === undefined ? 0 : parseIpv4(o.from);
  for (const dev of [o.iif, o.oif]) {
    if (dev !== undefined && (typeof dev !== 'string' || ns.links[dev] === undefined)) fail('LINK_NOT_FOUND', `Cannot find device "${shown(dev)}" in ${nsId}`, { ns: nsId, dev });
  }
  return o.iif !== undefined ? inputRoute(state, ns, to, src, o.iif) : outputRoute(state, ns, to, src, o.oif ?? null);
}

/** ip_route_output_key_hash_rcu: see {@link routeGet}. */
function outputRoute(state: ClusterState, ns: NetNs, dst: Ipv4, src: Ipv4, oif: string | null): RouteGetAnswer {
  if (src !== 0) {
    if (src >>> 28 === 0xe || src === 0xffffffff) return refused('EINVAL', `${formatIpv4(src)} cannot be a source`);
    if (!isLocalAddress(ns, src)) return refused('ENETUNREACH', `${formatIpv4(src)} is not an address of ${ns.id}`);
  }
  const shownSrc = (s: Ipv4 | null) => (src !== 0 ? null : s);
  if (oif !== null) {
    const b = lookupRouteOn(state, ns, dst, src, oif);
    if (b.kind === 'down') return refused('ENETUNREACH', `${oif} is down`);
    if (b.kind === 'local') return { kind: 'local', dst, src: shownSrc(localSource(ns, dst)), iif: null };
    // A broadcast through the bound device: its local table route, or 255.255.255.255 out of it.
    const brd = localBroadcast(ns, dst);
    if (brd !== null && brd.dev === oif) return { kind: 'broadcast', dst, dev: oif, src: shownSrc(brd.src), iif: null };
    if (dst === LIMITED_BROADCAST && b.route.type === 'unicast') return { kind: 'broadcast', dst, dev: oif, src: shownSrc(selectSource(ns, b.route, dst)), iif: null };
    const bad = typeError(b.route);
    if (bad !== null) return bad;
    const loopback = b.guessed && ns.links[oif]?.kind === 'loopback';
    return { kind: 'route', dst, route: b.route, table: b.table, src: shownSrc(selectSource(ns, b.route, dst)), guessed: b.guessed, loopback, iif: null };
  }
  if (isLocalAddress(ns, dst)) return { kind: 'local', dst, src: shownSrc(localSource(ns, dst)), iif: null };
  const brd = localBroadcast(ns, dst);
  if (brd !== null) return { kind: 'broadcast', dst, dev: brd.dev, src: shownSrc(brd.src), iif: null };
  const found = lookupRouteTable(state, ns, dst, src);
  if (found === null) return refused('ENETUNREACH', `no route to ${formatIpv4(dst)}`);
  if (dst === LIMITED_BROADCAST && found.route.type === 'unicast' && found.route.dev !== null) {
    return { kind: 'broadcast', dst, dev: found.route.dev, src: shownSrc(selectSource(ns, found.route, dst)), iif: null };
  }
  return typeError(found.route) ?? { kind: 'route', dst, route: found.route, table: found.table, src: shownSrc(selectSource(ns, found.route, dst)), guessed: false, loopback: false, iif: null };
}

/** ip_route_input_slow: see {@link routeGet}. */
function inputRoute(state: ClusterState, ns: NetNs, dst: Ipv4, src: Ipv4, iif: string): RouteGetAnswer {
  const v = inputAddressVerdict(src, dst, iif, devconfOr(ns.sysctl, iif, 'route_localnet'));
  if (v.kind === 'martianSource' || v.kind === 'martianDestination') return refused('EINVAL', v.why);
  // brd_input: taken in (measured, bcast-formats.txt (a): `broadcast 10.244.2.255 from 10.244.1.4 dev lo` /
  // `cache <local,brd> iif flannel.1` on node-2), its source validated like a local one's; a 0.0.0.0 source
  // (a DHCP client's) is not.
  if (v.kind === 'broadcast' || localBroadcast(ns, dst) !== null) {
    if (src !== 0 && rpFilterRefuses(state, ns, src, dst, iif)) return refused('EINVAL', `rp_filter: no reverse route to ${formatIpv4(src)} via ${iif}`);
    return { kind: 'broadcast', dst, dev: 'lo', src: null, iif };
  }
  const forwards = forwardsOn(ns.sysctl, iif);
  if (isLocalAddress(ns, dst)) {
    if (rpFilterRefuses(state, ns, src, dst, iif)) return refused('EINVAL', `rp_filter: no reverse route to ${formatIpv4(src)} via ${iif}`);
    return { kind: 'local', dst, src: null, iif };
  }
  const found = lookupRouteTable(state, ns, dst, src);
  if (found === null) return forwards ? refused('ENETUNREACH', `no route to ${formatIpv4(dst)}`) : refused('EHOSTUNREACH', `${iif} does not forward`);
  const bad = typeError(found.route);
  if (bad !== null) return forwards ? bad : refused('EHOSTUNREACH', `${iif} does not forward`);
  if (!forwards) return refused('EHOSTUNREACH', `${iif} does not forward`);
  if (rpFilterRefuses(state, ns, src, dst, iif)) return refused('EINVAL', `rp_filter: no reverse route to ${formatIpv4(src)} via ${iif}`);
  return { kind: 'route', dst, route: found.route, table: found.table, src: null, guessed: false, loopback: false, iif };
}

/**
 * fib_validate_source's reverse path check, as the engine makes it for a packet: with rp_filter (max of all
 * and the device) 1, the route back to the source must leave by `iif`; with 2, a route back must exist.
 */
function rpFilterRefuses(state: ClusterState, ns: NetNs, src: Ipv4, dst: Ipv4, iif: string): boolean {
  const rp = rpFilterOn(ns.sysctl, iif);
  if (rp === 0) return false;
  const back = lookupRouteFrom(state, ns, src, dst);
  return back === null || (rp === 1 && back.dev !== iif);
}
