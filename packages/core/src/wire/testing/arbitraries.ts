/**
 * fast-check arbitraries for every wire value, for tests. Generated packets are consistent: each
 * IPv4 Total Length equals what its payload emits, protocols and EtherTypes match payload kinds,
 * ICMP errors quote a packet already cut as Linux cuts it (so that parse(emit(f)) equals f), raw UDP
 * avoids the VXLAN ports, and raw IPv4 payloads use protocols podnet does not decode.
 */
import fc from 'fast-check';
import { macFromBytes } from '../../addr/mac.js';
import { icmpErrorQuote } from '../frame.js';
import { REJECT_QUOTE_MAX } from '../icmp.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ICMP_HEADER_LEN,
  IPPROTO_ICMP,
  IPPROTO_IPIP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  TCP_HEADER_LEN,
  UDP_HEADER_LEN,
  VXLAN_HEADER_LEN,
  frameLength,
  type ArpPacket,
  type EthernetHeader,
  type Frame,
  type IcmpMessage,
  type Ipv4Header,
  type Ipv4Packet,
  type RawPayload,
  type TcpSegment,
  type UdpDatagram,
} from '../packet.js';

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u24 = fc.integer({ min: 0, max: 0xffffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const ipv4Arb = u32;
export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macFromBytes(b));

/** Raw bytes, given or left as zeros; mostly short, sometimes a full MTU's worth. */
export const rawArb: fc.Arbitrary<RawPayload> = fc
  .oneof({ weight: 4, arbitrary: fc.nat({ max: 64 }) }, { weight: 1, arbitrary: fc.nat({ max: 1472 }) })
  .chain((length) =>
    fc.oneof(
      fc.constant<RawPayload>({ kind: 'raw', length }),
      fc.uint8Array({ minLength: length, maxLength: length }).map((bytes): RawPayload => ({ kind: 'raw', length, bytes })),
    ),
  );

export const ethernetHeaderArb: fc.Arbitrary<EthernetHeader> = fc.record({ dst: macArb, src: macArb, ethertype: fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== 0x8100) });

export const arpArb: fc.Arbitrary<ArpPacket> = fc.record({
  kind: fc.constant('arp' as const),
  op: fc.constantFrom(1 as const, 2 as const),
  senderMac: macArb,
  senderIp: ipv4Arb,
  targetMac: macArb,
  targetIp: ipv4Arb,
});

/** Any header, Total Length included (for the header-level round trip). */
export const ipv4HeaderArb: fc.Arbitrary<Ipv4Header> = fc.record({
  tos: u8,
  totalLength: fc.integer({ min: IPV4_HEADER_LEN, max: 0xffff }),
  id: u16,
  df: fc.boolean(),
  ttl: u8,
  protocol: u8,
  src: ipv4Arb,
  dst: ipv4Arb,
});

export const icmpHeaderArb = fc.record({ type: u8, code: u8, rest: u32 });
export const udpHeaderArb = fc.record({ srcPort: u16, dstPort: u16 });
export const tcpHeaderArb = fc.record({ srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: u8, window: u16 });

const ERROR_TYPES = [3, 4, 5, 11, 12];
const VXLAN_PORTS = [4789, 8472];
const DECODED_PROTOCOLS = [IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP];

/** Bytes an IPv4 packet takes on the wire, a cut quote counting only the bytes present. */
export function wireLength(p: Ipv4Packet): number {
  return p.payload.kind === 'raw' ? IPV4_HEADER_LEN + p.payload.length : p.header.totalLength;
}

function payloadWireLength(p: Ipv4Packet['payload']): number {
  switch (p.kind) {
    case 'raw':
      return p.length;
    case 'icmp':
      return ICMP_HEADER_LEN + (p.data.kind === 'raw' ? p.data.length : wireLength(p.data));
    case 'udp':
      return UDP_HEADER_LEN + (p.payload.kind === 'raw' ? p.payload.length : VXLAN_HEADER_LEN + frameLength(p.payload.inner));
    case 'tcp':
      return TCP_HEADER_LEN + p.payload.length;
    case 'ipv4':
      return p.header.totalLength;
  }
}

const headerFieldsArb = fc.record({ tos: u8, id: u16, df: fc.boolean(), ttl: u8, src: ipv4Arb, dst: ipv4Arb });

function wrap(fields: Omit<Ipv4Header, 'protocol' | 'totalLength'>, payload: Ipv4Packet['payload'], protocol: number): Ipv4Packet {
  return { kind: 'ipv4', header: { ...fields, protocol, totalLength: IPV4_HEADER_LEN + payloadWireLength(payload) }, payload };
}

const PROTOCOL: Record<Exclude<Ipv4Packet['payload']['kind'], 'raw'>, number> = { icmp: IPPROTO_ICMP, ipv4: IPPROTO_IPIP, tcp: IPPROTO_TCP, udp: IPPROTO_UDP };

const memo = new Map<number, { packet: fc.Arbitrary<Ipv4Packet>; frame: fc.Arbitrary<Frame> }>();

function arbs(depth: number): { packet: fc.Arbitrary<Ipv4Packet>; frame: fc.Arbitrary<Frame> } {
  const known = memo.get(depth);
  if (known) return known;
  const rawIcmp: fc.Arbitrary<IcmpMessage> = fc.record({
    kind: fc.constant('icmp' as const),
    type: u8.filter((t) => !ERROR_TYPES.includes(t)),
    code: u8,
    rest: u32,
    data: rawArb,
  });
  const rawUdp: fc.Arbitrary<UdpDatagram> = fc.record({ kind: fc.constant('udp' as const), srcPort: u16, dstPort: u16.filter((p) => !VXLAN_PORTS.includes(p)), payload: rawArb });
  const tcp: fc.Arbitrary<TcpSegment> = fc.record({ kind: fc.constant('tcp' as const), srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: u8, window: u16, payload: rawArb });
  const leaves: fc.Arbitrary<Ipv4Packet['payload']>[] = [rawIcmp, rawUdp, tcp];
  if (depth > 0) {
    const inner = arbs(depth - 1);
    const errorIcmp: fc.Arbitrary<IcmpMessage> = fc.record({
      kind: fc.constant('icmp' as const),
      type: fc.constantFrom(...ERROR_TYPES),
      code: u8,
      rest: u32,
      data: fc.tuple(inner.packet, fc.boolean()).map(([p, reject]) => (reject ? icmpErrorQuote(p, REJECT_QUOTE_MAX) : icmpErrorQuote(p))),
    });
    const vxlanUdp: fc.Arbitrary<UdpDatagram> = fc.record({
      kind: fc.constant('udp' as const),
      srcPort: u16,
      dstPort: fc.constantFrom(...VXLAN_PORTS),
      payload: fc.record({ kind: fc.constant('vxlan' as const), vni: u24, inner: inner.frame }),
    });
    leaves.push(errorIcmp, vxlanUdp, inner.packet);
  }
  const structured = fc.tuple(headerFieldsArb, fc.oneof(...leaves)).map(([fields, payload]) => wrap(fields, payload, payload.kind === 'raw' ? 0 : PROTOCOL[payload.kind]));
  const rawPacket = fc
    .tuple(headerFieldsArb, rawArb, u8.filter((p) => !DECODED_PROTOCOLS.includes(p)))
    .map(([fields, payload, protocol]) => wrap(fields, payload, protocol));
  const packet = fc.oneof({ weight: 5, arbitrary: structured }, { weight: 1, arbitrary: rawPacket });
  const frame = fc.oneof(
    { weight: 1, arbitrary: fc.record({ eth: fc.record({ dst: macArb, src: macArb, ethertype: fc.constant(ETHERTYPE_ARP) }), payload: arpArb }) },
    { weight: 5, arbitrary: fc.record({ eth: fc.record({ dst: macArb, src: macArb, ethertype: fc.constant(ETHERTYPE_IPV4) }), payload: packet }) },
  );
  const made = { packet, frame };
  memo.set(depth, made);
  return made;
}

/** IPv4 packets nested up to `depth` levels (ICMP quotes, VXLAN inner frames, IPIP). */
export const ipv4PacketArb = (depth = 2): fc.Arbitrary<Ipv4Packet> => arbs(depth).packet;
/** Frames nested up to `depth` levels. */
export const frameArb = (depth = 2): fc.Arbitrary<Frame> => arbs(depth).frame;

/** `frame` with every raw payload's zero `bytes` filled in, which is how {@link parseFrame} returns it. */
export function withBytes(frame: Frame): Frame {
  return frame.payload.kind === 'arp' ? frame : { eth: frame.eth, payload: packetWithBytes(frame.payload) };
}

function packetWithBytes(p: Ipv4Packet): Ipv4Packet {
  return { kind: 'ipv4', header: p.header, payload: ipPayloadWithBytes(p.payload) };
}

function rawWithBytes(r: RawPayload): RawPayload {
  return r.bytes ? r : { kind: 'raw', length: r.length, bytes: new Uint8Array(r.length) };
}

function ipPayloadWithBytes(p: Ipv4Packet['payload']): Ipv4Packet['payload'] {
  switch (p.kind) {
    case 'raw':
      return rawWithBytes(p);
    case 'icmp':
      return { ...p, data: p.data.kind === 'raw' ? rawWithBytes(p.data) : packetWithBytes(p.data) };
    case 'udp':
      return { ...p, payload: p.payload.kind === 'raw' ? rawWithBytes(p.payload) : { ...p.payload, inner: withBytes(p.payload.inner) } };
    case 'tcp':
      return { ...p, payload: rawWithBytes(p.payload) };
    case 'ipv4':
      return packetWithBytes(p);
  }
}
