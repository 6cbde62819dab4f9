/** Helpers that build packets the way the sending tools do (ping, traceroute's UDP probes, a TCP SYN). */
import type { Ipv4 } from '../addr/ipv4.js';
import {
  ICMP_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_HEADER_LEN, TCP_SYN, ipv4PayloadLength, type IcmpMessage, type Ipv4Packet,
  type TcpSegment, type UdpDatagram,
} from '../wire/packet.js';

/** Common IPv4 options for built packets. `src` 0 lets the route choose (as an unbound socket does). */
export interface IpOptions {
  readonly src?: Ipv4;
  readonly ttl?: number;
  readonly df?: boolean;
  readonly id?: number;
  readonly tos?: number;
}

/** Wraps a payload in an IPv4 header whose totalLength is computed. */
export function ipv4(dst: Ipv4, payload: Ipv4Packet['payload'], protocol: number, o: IpOptions = {}): Ipv4Packet {
  return {
    kind: 'ipv4',
    header: {
      tos: o.tos ?? 0, totalLength: IPV4_HEADER_LEN + ipv4PayloadLength(payload), id: o.id ?? 0,
      df: o.df ?? false, ttl: o.ttl ?? 64, protocol, src: o.src ?? 0, dst,
    },
    payload,
  };
}

/**
 * An ICMP echo request as iputils ping sends it: `size` data bytes (default 56, so 84 bytes of IP),
 * DF set by default (ping's default path-MTU discovery, `-M want`, sets DF).
 */
export function icmpEcho(dst: Ipv4, o: IpOptions & { size?: number; ident?: number; seq?: number } = {}): Ipv4Packet {
  const msg: IcmpMessage = {
    kind: 'icmp', type: ICMP_ECHO_REQUEST, code: 0,
    rest: (((o.ident ?? 1) & 0xffff) << 16 | ((o.seq ?? 1) & 0xffff)) >>> 0,
    data: { kind: 'raw', length: o.size ?? 56 },
  };
  return ipv4(dst, msg, IPPROTO_ICMP, { df: true, ...o });
}

/** A UDP datagram with `size` payload bytes. */
export function udpPacket(dst: Ipv4, dstPort: number, o: IpOptions & { srcPort?: number; size?: number } = {}): Ipv4Packet {
  const u: UdpDatagram = { kind: 'udp', srcPort: o.srcPort ?? 40000, dstPort, payload: { kind: 'raw', length: o.size ?? 32 } };
  return ipv4(dst, u, IPPROTO_UDP, o);
}

/** A TCP SYN to `dstPort`. */
export function tcpSyn(dst: Ipv4, dstPort: number, o: IpOptions & { srcPort?: number } = {}): Ipv4Packet {
  const t: TcpSegment = { kind: 'tcp', srcPort: o.srcPort ?? 40000, dstPort, seq: 1, ack: 0, flags: TCP_SYN, window: 64240, payload: { kind: 'raw', length: 0 } };
  return ipv4(dst, t, IPPROTO_TCP, { df: true, ...o });
}

