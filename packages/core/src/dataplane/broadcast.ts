/**
 * Broadcast destinations: the local table's `broadcast` routes (fib_add_ifaddr adds one for the subnet
 * broadcast of each address of an up device, prefix shorter than /31) and the limited broadcast
 * 255.255.255.255. A packet to either is RTN_BROADCAST: sent as an Ethernet broadcast (no ARP), looped back to
 * the sender, and taken in by every receiver on the link (ip_route_input_slow's brd_input), not forwarded
 * unless bc_forwarding. Measured on Linux 6.18 with iputils 20221126 by packages/cli/scripts/bcast-formats.sh
 * (packages/cli/src/__fixtures__/bcast-formats.txt): `ip route get 10.244.1.255` in pod-a says `broadcast
 * 10.244.1.255 dev eth0 src 10.244.1.4` / `cache <local,brd>`, on node-1 `… dev cni0 src 10.244.1.1`; `ip route
 * get 255.255.255.255` takes the device of the route the main table has for it (pod-a eth0; node-1 eth0 by
 * its default route, src 192.168.1.11), its gateway ignored.
 */
import type { Ipv4 } from '../addr/ipv4.js';
import type { Link, NetNs, Sysctls } from '../model/types.js';
import { devconfValue } from '../model/sysctl.js';
import { YoungWeakMap } from '../util/memo.js';

/** 255.255.255.255. */
export const LIMITED_BROADCAST: Ipv4 = 0xffffffff;

/** A local table `broadcast` route: its address, its device and its source (the address it was made for). */
export interface BroadcastRoute {
  readonly addr: Ipv4;
  readonly dev: string;
  readonly src: Ipv4;
}

/**
 * The namespace's subnet broadcast routes, in the local table's order: for each up device by ifindex, each
 * address shorter than /31 (secondary addresses add none: the primary's route covers the subnet). Of one
 * broadcast address on two devices, the first device's comes first (the local table lists it first, and a
 * lookup takes it). A handful at most (cni0's, eth0's, lo's 127.255.255.255): a scan beats a map.
 */
export function broadcastRoutes(ns: NetNs): readonly BroadcastRoute[] {
  const out: BroadcastRoute[] = [];
  const links = Object.values(ns.links).sort((a: Link, b: Link) => a.ifindex - b.ifindex);
  for (const link of links) {
    if (!link.up) continue;
    for (const a of link.addrs) {
      if (a.len >= 31 || a.secondary === true) continue;
      out.push({ addr: (a.ip | (0xffffffff >>> a.len)) >>> 0, dev: link.name, src: a.ip });
    }
  }
  return out;
}

const memo = new YoungWeakMap<object, readonly BroadcastRoute[]>();

/** The first of `routes` for `dst`, or null; `dst` is asked only when it can be one (see {@link localBroadcast}). */
export function broadcastIn(routes: readonly BroadcastRoute[], dst: Ipv4): BroadcastRoute | null {
  for (let i = 0; i < routes.length; i++) if (routes[i]!.addr === dst) return routes[i]!;
  return null;
}

/**
 * The local table's broadcast route for `dst` in `ns` (a subnet broadcast of an up device's address), or
 * null. The limited broadcast is not one of these: see {@link isBroadcastFor}. Memoized on the links.
 *
 * @example
 * localBroadcast(podA, parseIpv4('10.244.1.255')); // { addr: 10.244.1.255, dev: 'eth0', src: 10.244.1.4 }
 */
export function localBroadcast(ns: NetNs, dst: Ipv4): BroadcastRoute | null {
  // A broadcast address of a prefix shorter than /31 ends in at least two set bits.
  if ((dst & 3) !== 3) return null;
  let m = memo.get(ns.links);
  if (m === undefined) memo.set(ns.links, (m = broadcastRoutes(ns)));
  return broadcastIn(m, dst >>> 0);
}

/** Whether `dst` is a broadcast for `ns`: the limited broadcast, or one of its subnet broadcasts. */
export function isBroadcastFor(ns: NetNs, dst: Ipv4): boolean {
  return dst >>> 0 === LIMITED_BROADCAST || localBroadcast(ns, dst) !== null;
}

/**
 * IN_DEV_BFORWARD: whether a subnet broadcast routed to the namespace and coming in by `dev` is forwarded,
 * not taken in — net.ipv4.conf.all.bc_forwarding AND the device's own (IN_DEV_ANDCONF), both 0 by default.
 * Measured (bcast-formats.txt (f)–(h)): node-2 forwards pod-a's 10.244.2.255 onto cni0 with both all and
 * flannel.1 at 1, and takes it in itself with either alone.
 */
export function bcForwardsOn(s: Sysctls, dev: string): boolean {
  // 0 everywhere until written, and Sysctls.conf holds all that was written.
  if (s.conf === undefined) return false;
  return devconfValue(s, 'all', 'bc_forwarding') !== 0 && devconfValue(s, dev, 'bc_forwarding') !== 0;
}
