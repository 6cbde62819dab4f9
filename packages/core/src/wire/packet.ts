/**
 * Packets in flight are plain, immutable header values nested as they nest on the wire. Bytes are
 * produced only when someone asks (pcap, checksums), by `emitFrame` in `./frame.ts`.
 *
 *   Frame = Ethernet header + (ARP | IPv4 packet)
 *   IPv4 packet = IPv4 header + (ICMP | UDP | TCP | inner IPv4 packet (IPIP, protocol 4))
 *   UDP payload = raw bytes | VXLAN header + inner Frame
 */
import type { Ipv4 } from '../addr/ipv4.js';
import type { Mac } from '../addr/mac.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Ethernet II header (14 bytes; no VLAN tag, no FCS). */
export interface EthernetHeader {
  readonly dst: Mac;
  readonly src: Mac;
  readonly ethertype: number;
}
export const ETHERNET_HEADER_LEN = 14;

/** ARP for IPv4 over Ethernet (RFC 826), 28 bytes. */
export interface ArpPacket {
  readonly kind: 'arp';
  /** 1 request, 2 reply. */
  readonly op: 1 | 2;
  readonly senderMac: Mac;
  readonly senderIp: Ipv4;
  readonly targetMac: Mac;
  readonly targetIp: Ipv4;
}
export const ARP_LEN = 28;

/** IPv4 header without options (20 bytes). `totalLength` covers header and payload. */
export interface Ipv4Header {
  readonly tos: number;
  readonly totalLength: number;
  readonly id: number;
  /** Don't Fragment. */
  readonly df: boolean;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: Ipv4;
  readonly dst: Ipv4;
}
export const IPV4_HEADER_LEN = 20;

/** Opaque application bytes: only their length matters to forwarding. `bytes` when the user gave them. */
export interface RawPayload {
  readonly kind: 'raw';
  readonly length: number;
  readonly bytes?: Uint8Array;
}

/**
 * ICMP message (RFC 792). `rest` is the 4-byte "rest of header": identifier<<16 | sequence for echo,
 * next-hop MTU in the low 16 bits for fragmentation needed (RFC 1191), 0 otherwise. `data` is the echo
 * payload, or for errors the original datagram's header and the first bytes of its payload.
 */
export interface IcmpMessage {
  readonly kind: 'icmp';
  readonly type: number;
  readonly code: number;
  readonly rest: number;
  readonly data: RawPayload | Ipv4Packet;
}
export const ICMP_HEADER_LEN = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
/** Redirect (RFC 792): the sender should use the gateway in the header's second word for that destination. */
export const ICMP_REDIRECT = 5;
/** Redirect code: for the host (the code Linux sends, ip_rt_send_redirect). */
export const ICMP_REDIR_HOST = 1;
/** Destination-unreachable codes (RFC 792, RFC 1122). */
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_PKT_FILTERED = 13;

/** UDP datagram (RFC 768). `length` covers header and payload. */
export interface UdpDatagram {
  readonly kind: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: RawPayload | VxlanPayload;
}
export const UDP_HEADER_LEN = 8;

/** TCP segment (RFC 9293) without options. */
export interface TcpSegment {
  readonly kind: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** Flag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10. */
  readonly flags: number;
  readonly window: number;
  readonly payload: RawPayload;
}
export const TCP_HEADER_LEN = 20;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** VXLAN (RFC 7348): 8-byte header with the I flag and a 24-bit VNI, carrying an inner Ethernet frame. */
export interface VxlanPayload {
  readonly kind: 'vxlan';
  readonly vni: number;
  readonly inner: Frame;
}
export const VXLAN_HEADER_LEN = 8;
/** Outer Ethernet + IPv4 + UDP + VXLAN: the 50 bytes VXLAN costs on the underlay MTU. */
export const VXLAN_OVERHEAD = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN + VXLAN_HEADER_LEN;

/** An IPv4 packet: header and payload. */
export interface Ipv4Packet {
  readonly kind: 'ipv4';
  readonly header: Ipv4Header;
  readonly payload: IcmpMessage | UdpDatagram | TcpSegment | Ipv4Packet | RawPayload;
}

/** An Ethernet frame. */
export interface Frame {
  readonly eth: EthernetHeader;
  readonly payload: ArpPacket | Ipv4Packet;
}

/** Length in bytes of an L4 payload. */
export function payloadLength(p: RawPayload | VxlanPayload | Ipv4Packet): number {
  switch (p.kind) {
    case 'raw':
      return p.length;
    case 'vxlan':
      return VXLAN_HEADER_LEN + frameLength(p.inner);
    case 'ipv4':
      // Computed from the parts, so an ICMP error's cut quote counts only the bytes it holds.
      return IPV4_HEADER_LEN + ipv4PayloadLength(p.payload);
  }
}

/** Length of what an IPv4 header carries, computed from the nested values. */
export function ipv4PayloadLength(p: Ipv4Packet['payload']): number {
  switch (p.kind) {
    case 'icmp':
      return ICMP_HEADER_LEN + payloadLength(p.data);
    case 'udp':
      return UDP_HEADER_LEN + payloadLength(p.payload);
    case 'tcp':
      return TCP_HEADER_LEN + p.payload.length;
    case 'ipv4':
      return p.header.totalLength;
    case 'raw':
      return p.length;
  }
}

/** Length of an Ethernet frame without FCS. */
export function frameLength(f: Frame): number {
  return ETHERNET_HEADER_LEN + (f.payload.kind === 'arp' ? ARP_LEN : f.payload.header.totalLength);
}
