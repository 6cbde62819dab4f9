/**
 * host-local IPAM (containernetworking/plugins plugins/ipam/host-local), for one range: the gateway
 * (network+1 by default) is reserved, allocation is round-robin from the last reserved address + 1 and
 * wraps, so a released address is not handed out again at once; requested addresses are honoured.
 * Error texts are the plugin's own.
 */
import { cidrContains, cidrSize, formatCidr, formatIpv4, type Cidr, type Ipv4 } from '@podnet/core';

/** One range of a range set. */
export interface HostLocalRange {
  readonly subnet: Cidr;
  readonly gateway: Ipv4;
  readonly rangeStart: Ipv4;
  readonly rangeEnd: Ipv4;
}

/** The allocator's state: what is taken (address → container id), and the last address reserved. */
export interface HostLocalState {
  readonly lastReserved: Ipv4 | null;
  /** Dotted address (`10.244.1.4`; not an integer-like key, which V8 would keep as slow elements) → owner. */
  readonly allocated: Readonly<Record<string, string>>;
}

export const EMPTY_HOST_LOCAL: HostLocalState = { lastReserved: null, allocated: {} };

/** The CNI error host-local returns (code 11 for exhaustion would be "try again later"; it uses a plain error). */
export interface IpamError {
  readonly error: string;
}

/**
 * The range a subnet gives by host-local's defaults: gateway network+1, rangeStart network+1
 * (the gateway then skipped), rangeEnd the last address before broadcast.
 */
export function defaultRange(subnet: Cidr, gateway?: Ipv4): HostLocalRange | IpamError {
  if (subnet.len > 30) return { error: `Network ${formatCidr(subnet)} too small to allocate from` };
  const gw = gateway ?? ((subnet.addr + 1) >>> 0);
  return { subnet, gateway: gw, rangeStart: (subnet.addr + 1) >>> 0, rangeEnd: (subnet.addr + cidrSize(subnet) - 2) >>> 0 };
}

function rangeText(r: HostLocalRange): string {
  return `${formatIpv4(r.rangeStart)}-${formatIpv4(r.rangeEnd)}`;
}

/** Allocates for (containerId, ifname): a requested address, or the next free one round-robin. */
export function allocate(r: HostLocalRange, s: HostLocalState, owner: string, requested: Ipv4 | null): { ip: Ipv4; state: HostLocalState } | IpamError {
  for (const ip in s.allocated) {
    if (s.allocated[ip] === owner) return { error: `${ip} has been allocated to ${owner}, duplicate allocation is not allowed` };
  }
  if (requested !== null) {
    if (!cidrContains(r.subnet, requested) || requested < r.rangeStart || requested > r.rangeEnd) {
      return { error: `requested IP address ${formatIpv4(requested)} is not available in range set ${rangeText(r)}` };
    }
    if (requested === r.gateway) return { error: `requested ip ${formatIpv4(requested)} is subnet's gateway` };
    if (s.allocated[formatIpv4(requested)] !== undefined) return { error: `requested IP address ${formatIpv4(requested)} is not available in range set ${rangeText(r)}` };
    return { ip: requested, state: { lastReserved: requested, allocated: { ...s.allocated, [formatIpv4(requested)]: owner } } };
  }
  const size = r.rangeEnd - r.rangeStart + 1;
  const start = s.lastReserved === null || s.lastReserved < r.rangeStart || s.lastReserved >= r.rangeEnd ? r.rangeStart : s.lastReserved + 1;
  for (let i = 0; i < size; i++) {
    const ip = (r.rangeStart + ((start - r.rangeStart + i) % size)) >>> 0;
    if (ip === r.gateway) continue;
    const key = formatIpv4(ip);
    if (s.allocated[key] !== undefined) continue;
    return { ip, state: { lastReserved: ip, allocated: { ...s.allocated, [key]: owner } } };
  }
  return { error: `no IP addresses available in range set: ${rangeText(r)}` };
}

/** Releases what (containerId, ifname) holds. Idempotent, as CNI DEL must be. */
export function release(s: HostLocalState, owner: string): HostLocalState {
  const entries = Object.entries(s.allocated).filter(([, who]) => who !== owner);
  if (entries.length === Object.keys(s.allocated).length) return s;
  return { lastReserved: s.lastReserved, allocated: Object.fromEntries(entries) };
}
