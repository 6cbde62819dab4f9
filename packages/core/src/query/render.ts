/** Renders model tables in iproute2's formats (`ip route`, `ip neigh`, `bridge fdb`). */
import { formatIpv4 } from '../addr/ipv4.js';
import { getNs } from '../model/lookup.js';
import type { ClusterState, Link, NetNs, NsId, Route } from '../model/types.js';
import { allRoutes } from '../ops/routing.js';

/** True when a link has carrier (LOWER_UP): veths need their peer up, bridges an up port with carrier. */
export function hasCarrier(state: ClusterState, ns: NetNs, link: Link, depth = 0): boolean {
  if (!link.up) return false;
  switch (link.kind) {
    case 'veth': {
      const peerNs = link.peer.ns === ns.id ? ns : (() => { try { return getNs(state, link.peer.ns); } catch { return undefined; } })();
      return peerNs?.links[link.peer.name]?.up === true;
    }
    case 'bridge':
      if (depth > 2) return false;
      return Object.values(ns.links).some((l) => l.master === link.name && hasCarrier(state, ns, l, depth + 1));
    case 'vxlan':
      return ns.links[link.dev]?.up === true;
    default:
      return true;
  }
}

/** One route as `ip route show` prints it. */
export function formatRoute(state: ClusterState, ns: NetNs, r: Route): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.dst.len === 0 ? 'default' : r.dst.len === 32 ? formatIpv4(r.dst.addr) : `${formatIpv4(r.dst.addr)}/${r.dst.len}`);
  if (r.via !== null) parts.push('via', formatIpv4(r.via));
  if (r.dev !== null) parts.push('dev', r.dev);
  if (r.proto !== 'boot') parts.push('proto', r.proto);
  if (r.scope !== 'global') parts.push('scope', r.scope);
  if (r.src !== null) parts.push('src', formatIpv4(r.src));
  if (r.metric !== 0) parts.push('metric', String(r.metric));
  if (r.onlink) parts.push('onlink');
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  const link = r.dev === null ? undefined : ns.links[r.dev];
  if (link && !hasCarrier(state, ns, link)) parts.push('linkdown');
  return parts.join(' ');
}

/** `ip route show` of a namespace: one line per route of the main table. */
export function ipRoute(state: ClusterState, nsId: NsId): string[] {
  const ns = getNs(state, nsId);
  return allRoutes(state, ns).map((r) => formatRoute(state, ns, r));
}
