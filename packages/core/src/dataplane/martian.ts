/**
 * The kernel's "martians": the packets IPv4 input refuses for their addresses alone, before any route is
 * looked up (net/ipv4/route.c ip_route_input_slow, its checks "for the most weird martians, which can be
 * not detected by fib_lookup"). Measured on Linux 6.18 by packages/cli/scripts/martian-formats.sh
 * (__fixtures__/martian-formats.txt): every one is dropped silently — no ICMP error, no SNMP counter but
 * IpInReceives, no rx_dropped — and logged only with log_martians.
 */
import { formatIpv4, type Ipv4 } from '../addr/ipv4.js';
import { devconfOr } from '../model/sysctl.js';
import type { Sysctls } from '../model/types.js';

const LBCAST = 0xffffffff;

/**
 * What ip_route_input_slow makes of a packet's addresses, in its order: `martianSource` /
 * `martianDestination` (dropped, `why` says which check), `broadcast` (brd_input: delivered as a broadcast),
 * or `route` (on to the route lookup).
 */
export type AddressVerdict =
  | { readonly kind: 'martianSource'; readonly why: string }
  | { readonly kind: 'martianDestination'; readonly why: string }
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'route' };

const ROUTE: AddressVerdict = { kind: 'route' };
const BROADCAST: AddressVerdict = { kind: 'broadcast' };
const isLoopback = (a: Ipv4): boolean => a >>> 24 === 127;

/**
 * The address checks of ip_route_input_slow for a packet that came in by `dev`, in the kernel's order:
 * 1. a multicast (224/4) or limited-broadcast source is a martian source, whatever the destination;
 * 2. to 255.255.255.255, or 0.0.0.0 → 0.0.0.0, it is a broadcast (a DHCP client's 0.0.0.0 source passes);
 * 3. a 0.0.0.0 source is a martian source, 4. a 0.0.0.0 destination a martian destination;
 * 5. without route_localnet, a 127/8 destination is a martian destination, else a 127/8 source a martian source.
 * Only 0.0.0.0 itself counts as "zeronet": since Linux 5.3 (commit 96125bf9985a, "Allow 0.0.0.0/8 as a valid
 * address range") the rest of 0/8 is routed like any address — measured, 0.1.2.3 → the router is delivered
 * and 10.0.0.2 → 0.0.0.5 answered "net unreachable" by a router without a default route.
 */
export function inputAddressVerdict(src: Ipv4, dst: Ipv4, dev: string, routeLocalnet: boolean): AddressVerdict {
  if (src >>> 28 === 0xe) return { kind: 'martianSource', why: `martian source ${formatIpv4(src)} on ${dev}: a multicast source` };
  if (src === LBCAST) return { kind: 'martianSource', why: `martian source 255.255.255.255 on ${dev}: the limited broadcast as a source` };
  if (dst === LBCAST || (src === 0 && dst === 0)) return BROADCAST;
  if (src === 0) return { kind: 'martianSource', why: `martian source 0.0.0.0 on ${dev}: 0.0.0.0 may only send to 255.255.255.255` };
  if (dst === 0) return { kind: 'martianDestination', why: `martian destination 0.0.0.0 on ${dev}` };
  if (!routeLocalnet) {
    if (isLoopback(dst)) return { kind: 'martianDestination', why: `martian destination ${formatIpv4(dst)} on ${dev}: loopback, and ${dev} has route_localnet 0` };
    if (isLoopback(src)) return { kind: 'martianSource', why: `martian source ${formatIpv4(src)} on ${dev}: loopback, and ${dev} has route_localnet 0` };
  }
  return ROUTE;
}

/**
 * Whether none of IPv4 input's address checks can apply to a packet from `src` to `dst`: neither is 0.0.0.0 or
 * in 127/8, and both are below 224/4 (no multicast, class E or limited broadcast). Then {@link
 * inputAddressVerdict} answers `route` whatever route_localnet says, and the destination is not multicast: the
 * usual packet's test, in a few integer comparisons.
 */
export function plainUnicastPair(src: Ipv4, dst: Ipv4): boolean {
  const s = src >>> 24;
  const d = dst >>> 24;
  return src !== 0 && dst !== 0 && s !== 127 && d !== 127 && s < 224 && d < 224;
}

/**
 * The line dmesg shows for a martian dropped on `dev` when log_martians is on there (`all` OR `dev`:
 * IN_DEV_LOG_MARTIANS), else null. The kernel prints the destination first (ip_handle_martian_source:
 * "martian source %pI4 from %pI4, on dev %s", then the link-layer header as a hex dump; martian_destination:
 * "martian destination %pI4 from %pI4, dev %s"). rp_filter's refusals are logged as martian sources too
 * (measured: martian-formats.txt, case (e)).
 */
export function martianLogLine(sys: Sysctls, kind: 'martianSource' | 'martianDestination', src: Ipv4, dst: Ipv4, dev: string): string | null {
  if (!devconfOr(sys, dev, 'log_martians')) return null;
  return kind === 'martianSource'
    ? `IPv4: martian source ${formatIpv4(dst)} from ${formatIpv4(src)}, on dev ${dev}`
    : `IPv4: martian destination ${formatIpv4(dst)} from ${formatIpv4(src)}, dev ${dev}`;
}
