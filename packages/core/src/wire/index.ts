/**
 * The wire: packet values (`./packet.ts`) and their bytes. One file per header, each with `emit…`
 * and `parse…`; `frame.ts` nests them; `pcap.ts` writes capture files Wireshark opens.
 */
export type {
  ArpPacket,
  EthernetHeader,
  Frame,
  IcmpMessage,
  Ipv4Header,
  Ipv4Packet,
  RawPayload,
  TcpSegment,
  UdpDatagram,
  VxlanPayload,
} from './packet.js';
export {
  ARP_LEN,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_FRAG_NEEDED,
  ICMP_HEADER_LEN,
  ICMP_HOST_UNREACH,
  ICMP_NET_UNREACH,
  ICMP_PKT_FILTERED,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
  IPPROTO_ICMP,
  IPPROTO_IPIP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  TCP_ACK,
  TCP_FIN,
  TCP_HEADER_LEN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  UDP_HEADER_LEN,
  VXLAN_HEADER_LEN,
  VXLAN_OVERHEAD,
  frameLength,
  ipv4PayloadLength,
  payloadLength,
} from './packet.js';

export type { Parsed } from './bytes.js';
export type { PseudoHeader } from './checksum.js';
export { internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
export { emitEthernet, parseEthernet } from './ethernet.js';
export { emitArp, parseArp } from './arp.js';
export type { VerifyOptions } from './ipv4.js';
export { emitIpv4, emitIpv4Header, parseIpv4, parseIpv4Header } from './ipv4.js';
export type { IcmpHeader } from './icmp.js';
export { ICMP_ERROR_MAX_LEN, ICMP_QUOTE_MAX, REJECT_QUOTE_MAX, emitIcmp, isIcmpError, parseIcmp } from './icmp.js';
export type { UdpEmitOptions, UdpHeader } from './udp.js';
export { emitUdp, parseUdp } from './udp.js';
export type { TcpHeader } from './tcp.js';
export { emitTcp, parseTcp } from './tcp.js';
export type { VxlanHeader } from './vxlan.js';
export { VXLAN_PORT_IANA, VXLAN_PORT_LINUX, emitVxlan, parseVxlan } from './vxlan.js';
export type { ParseFrameOptions } from './frame.js';
export { emitFrame, icmpErrorQuote, packetBytesHex, parseFrame } from './frame.js';
export type { PcapRecord } from './pcap.js';
export { LINKTYPE_ETHERNET, PCAP_SNAPLEN, readPcap, writePcap } from './pcap.js';
