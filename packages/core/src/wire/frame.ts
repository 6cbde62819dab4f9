/**
 * Whole frames: the nested header values of `./packet.ts` to bytes and back, one layer per header
 * file. What the layers alone do not decide is decided here:
 *
 * - Which payload follows: EtherType (ARP, IPv4), IPv4 protocol (ICMP 1, IPIP 4, TCP 6, UDP 17, any
 *   other is raw), and for UDP the destination port: VXLAN on the ports in
 *   {@link ParseFrameOptions.vxlanPorts}, raw bytes otherwise.
 * - Checksums: IPv4, ICMP, TCP always; UDP too, except the outer UDP of VXLAN, which is 0 as Linux's
 *   VXLAN device sends it by default.
 * - ICMP errors (types 3, 4, 5, 11, 12) carry an {@link Ipv4Packet}: the offending datagram, cut as
 *   Linux's `__icmp_send` cuts it: "return as much as we can without exceeding 576 bytes", i.e. its
 *   first {@link ICMP_QUOTE_MAX} (548) bytes. A quote that was cut parses back as the IPv4 header (with
 *   the original Total Length) and a raw payload holding the bytes present; one that fits parses back
 *   whole. {@link icmpErrorQuote} gives that value up front.
 * - Raw payloads are `bytes` when given, zeros otherwise; parsing always fills in `bytes`.
 *
 * Lengths are checked, not recomputed: every IPv4 Total Length must equal what its payload emits, so a
 * packet whose value lies about its size fails loudly here rather than in a pcap reader. For an ICMP
 * error that is 20 + 8 + the quote's emitted size: `original.header.totalLength` when it fits, else
 * 548 (576 in all). Note that `payloadLength` in `./packet.ts` counts a quote by its Total Length,
 * which overstates a cut quote.
 */
import { fail, shown } from '../errors.js';
import { emitArp, parseArp } from './arp.js';
import { concat, copy, hex4, uint, within } from './bytes.js';
import { onesComplementSum } from './checksum.js';
import { emitEthernet, parseEthernet } from './ethernet.js';
import { ICMP_QUOTE_MAX, emitIcmp, isIcmpError, parseIcmp } from './icmp.js';
import { emitIpv4, emitIpv4Header, parseIpv4, parseIpv4Header } from './ipv4.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  IPPROTO_ICMP,
  IPPROTO_IPIP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  UDP_HEADER_LEN,
  ipv4PayloadLength,
  type Frame,
  type IcmpMessage,
  type Ipv4Header,
  type Ipv4Packet,
  type RawPayload,
  type UdpDatagram,
  type VxlanPayload,
} from './packet.js';
import { emitTcp, parseTcp } from './tcp.js';
import { emitUdp, parseUdp, writeUdpHeader } from './udp.js';
import { VXLAN_PORT_IANA, VXLAN_PORT_LINUX, emitVxlan, parseVxlan } from './vxlan.js';

/** How {@link parseFrame} decodes what headers alone do not say. */
export interface ParseFrameOptions {
  /** UDP destination ports whose payload is VXLAN. Default `[4789, 8472]` (IANA, Linux/flannel). */
  readonly vxlanPorts?: readonly number[];
  /**
   * Verify IPv4, ICMP, UDP (unless 0) and TCP checksums, throwing `INVALID_PACKET` on a wrong one.
   * Default false, as in Wireshark: captures taken where the NIC offloads checksums hold unfinished
   * ones. Never applied inside an ICMP error's quote, which is evidence, not a packet to accept.
   */
  readonly verifyChecksums?: boolean;
}

const PROTOCOL_OF = { icmp: IPPROTO_ICMP, ipv4: IPPROTO_IPIP, tcp: IPPROTO_TCP, udp: IPPROTO_UDP } as const;
const KIND_OF: Readonly<Record<number, string>> = { [IPPROTO_ICMP]: 'an IcmpMessage', [IPPROTO_IPIP]: 'an Ipv4Packet', [IPPROTO_TCP]: 'a TcpSegment', [IPPROTO_UDP]: 'a UdpDatagram' };

// ---------------------------------------------------------------------------------------------- emit

/**
 * The bytes of a frame, as a packet socket or pcap shows them: Ethernet header first, no FCS, no
 * padding. Throws `INVALID_PACKET` on an out-of-range field, an EtherType or IPv4 protocol that does
 * not match the payload's kind, a Total Length that does not match the payload, raw `bytes` whose
 * length is not `length`, and ICMP data of the wrong shape (errors quote an Ipv4Packet, others carry
 * raw bytes).
 *
 * @example
 * const bytes = emitFrame(frame);
 * parseFrame(bytes, { verifyChecksums: true }); // deep-equals frame, raw payloads gaining `bytes`
 */
export function emitFrame(frame: Frame): Uint8Array {
  if (frame === null || typeof frame !== 'object' || frame.eth === null || typeof frame.eth !== 'object' || frame.payload === null || typeof frame.payload !== 'object') {
    fail('INVALID_PACKET', `a frame is an object { eth: { dst, src, ethertype }, payload }, not ${shown(frame)}`);
  }
  try {
    return emitFrameIn(frame);
  } catch (e) {
    // A serializer only reads what it is given: a TypeError or RangeError here is a field of `frame` that is
    // not what a Frame holds (a header missing, a kind podnet does not know, a bigint). Found by fuzzing
    // (packages/cni/src/api-fuzz.test.ts): such input must get the typed error.
    if (e instanceof TypeError || e instanceof RangeError) fail('INVALID_PACKET', `the frame is not one podnet can emit: ${e.message}`);
    throw e;
  }
}

function emitFrameIn(frame: Frame): Uint8Array {
  const { eth, payload } = frame;
  const expected = payload.kind === 'arp' ? ETHERTYPE_ARP : ETHERTYPE_IPV4;
  if (eth.ethertype !== expected) {
    fail('INVALID_PACKET', `Ethernet EtherType 0x${hex4(eth.ethertype)} does not match its ${payload.kind} payload (0x${hex4(expected)})`, { ethertype: eth.ethertype, expected });
  }
  return emitEthernet(eth, payload.kind === 'arp' ? emitArp(payload) : emitPacket(payload, false));
}

/**
 * An IPv4 packet's bytes. In an ICMP quote (`quote`), a raw payload may be shorter than Total Length
 * says: that is a quote already cut, emitted as it is.
 */
function emitPacket(packet: Ipv4Packet, quote: boolean): Uint8Array {
  const { header, payload } = packet;
  if (payload.kind === 'raw') {
    const body = rawBytes(payload, 'IPv4 raw payload');
    const room = header.totalLength - IPV4_HEADER_LEN;
    if (body.length < room) {
      if (quote) return concat(emitIpv4Header(header), body);
      fail('INVALID_PACKET', `IPv4 total length ${header.totalLength} does not match the ${IPV4_HEADER_LEN}-byte header plus ${body.length} raw payload bytes (a short raw payload is valid only as the cut tail of an ICMP error's quote)`, { totalLength: header.totalLength, payloadLength: body.length });
    }
    const kind = KIND_OF[header.protocol];
    if (kind !== undefined && body.length === room) {
      fail('INVALID_PACKET', `IPv4 protocol ${header.protocol} with a raw payload: give it as ${kind} (raw is for other protocols, or for the cut tail of an ICMP error's quote)`, { protocol: header.protocol });
    }
    return emitIpv4(header, body);
  }
  if (header.protocol !== PROTOCOL_OF[payload.kind]) {
    fail('INVALID_PACKET', `IPv4 protocol ${header.protocol} does not match its ${payload.kind} payload (protocol ${PROTOCOL_OF[payload.kind]})`, { protocol: header.protocol, expected: PROTOCOL_OF[payload.kind] });
  }
  switch (payload.kind) {
    case 'icmp': {
      const message = emitIcmp(payload, icmpData(payload));
      if (payload.data.kind === 'ipv4' && header.totalLength !== IPV4_HEADER_LEN + message.length) {
        fail('INVALID_PACKET', `IPv4 total length ${header.totalLength} does not match the ${IPV4_HEADER_LEN}-byte header plus the ${message.length}-byte ICMP error: its quote counts the bytes emitted, at most ${ICMP_QUOTE_MAX} (see icmpErrorQuote), not the quoted datagram's Total Length`, { totalLength: header.totalLength, payloadLength: message.length });
      }
      return emitIpv4(header, message);
    }
    case 'udp': {
      const inner = payload.payload;
      if (inner.kind === 'vxlan') {
        const frame = within('VXLAN inner frame', () => emitFrame(inner.inner));
        // The outer UDP checksum is computed, as Linux's VXLAN device does by default (`udpcsum` in
        // `ip -d link`; measured: tcpdump -vv on flannel.1's underlay shows a non-zero checksum field,
        // packages/cli/scripts/tcpdump-verbose.sh).
        return emitIpv4(header, emitUdp(payload, emitVxlan(inner, frame), header));
      }
      return emitIpv4(header, emitUdp(payload, rawBytes(inner, 'UDP payload'), header));
    }
    case 'tcp':
      return emitIpv4(header, emitTcp(payload, rawBytes(payload.payload, 'TCP payload'), header));
    case 'ipv4':
      return emitIpv4(header, within('IPIP inner packet', () => emitPacket(payload, false)));
  }
}

/** An ICMP message's data bytes: raw bytes, or for an error the quote cut to {@link ICMP_QUOTE_MAX}. */
function icmpData(message: IcmpMessage): Uint8Array {
  const { type, data } = message;
  if (data.kind === 'raw') {
    if (isIcmpError(type)) {
      fail('INVALID_PACKET', `ICMP error type ${type} must quote the offending datagram as an Ipv4Packet, not raw bytes`, { type });
    }
    return rawBytes(data, 'ICMP data');
  }
  if (!isIcmpError(type)) {
    fail('INVALID_PACKET', `ICMP type ${type} is not an error (3, 4, 5, 11, 12): its data is raw bytes, not a quoted Ipv4Packet`, { type });
  }
  const quoted = within('ICMP error quote', () => emitPacket(data, true));
  return quoted.length > ICMP_QUOTE_MAX ? quoted.subarray(0, ICMP_QUOTE_MAX) : quoted;
}

function rawBytes(raw: RawPayload, what: string): Uint8Array {
  const length = uint(raw.length, 16, `${what} length`);
  if (raw.bytes === undefined) return new Uint8Array(length);
  if (raw.bytes.length !== length) {
    fail('INVALID_PACKET', `${what} has length ${length} but ${raw.bytes.length} bytes`, { length, bytes: raw.bytes.length });
  }
  return raw.bytes;
}

/**
 * The quote an ICMP error about `original` carries, as a value: `original` itself when its bytes fit
 * in `max`, otherwise its header (Total Length unchanged) and the first `max − 20` payload bytes as a
 * raw payload, exactly what {@link parseFrame} returns for the emitted error. `max` is
 * {@link ICMP_QUOTE_MAX} (548) for errors from the IP stack, `REJECT_QUOTE_MAX` (536) for the
 * iptables REJECT target. Throws `INVALID_PACKET` if `original` cannot be emitted, `INVALID_ARGUMENT`
 * if `max` cannot hold the IPv4 header.
 */
export function icmpErrorQuote(original: Ipv4Packet, max: number = ICMP_QUOTE_MAX): Ipv4Packet {
  checkQuoteMax(max);
  const bytes = emitPacket(original, true);
  if (bytes.length <= max) return original;
  return { kind: 'ipv4', header: original.header, payload: { kind: 'raw', length: max - IPV4_HEADER_LEN, bytes: copy(bytes, IPV4_HEADER_LEN, max) } };
}

/**
 * {@link icmpErrorQuote} of a datagram the engine forwards (checked by `send` when it came in, or built by
 * the engine): one whose Total Length is what its parts add up to (its emitted size, computed without
 * emitting it) and fits in `max` is quoted whole; any other goes through {@link icmpErrorQuote}. Emitting the
 * datagram only to measure it was ~90 % of an ICMP error's cost in a property run (TTL-exceeded probe on the
 * seed lab 6.4 → 2.7 µs). Not exported from the package: the public function checks every field.
 */
export function quoteForwarded(original: Ipv4Packet, max: number = ICMP_QUOTE_MAX): Ipv4Packet {
  checkQuoteMax(max);
  const total = original.header.totalLength;
  if (total <= max && IPV4_HEADER_LEN + ipv4PayloadLength(original.payload) === total) return original;
  const payload = original.payload;
  if (total > max && payload.kind === 'udp' && payload.payload.kind === 'raw') {
    const cut = udpQuote(original.header, payload, payload.payload, max - IPV4_HEADER_LEN);
    if (cut !== undefined) return { kind: 'ipv4', header: original.header, payload: { kind: 'raw', length: cut.length, bytes: cut } };
  }
  return icmpErrorQuote(original, max);
}

/**
 * The first `room` bytes of a UDP datagram with a raw payload, as {@link emitUdp} would emit it, built
 * without emitting the datagram: the header, its checksum summed over the whole payload in place, then
 * the payload's first bytes (zeros when it has none). Runner sends of big DF datagrams were emitted in
 * full only to cut this quote (~5 % of a send in property runs). `undefined` when the datagram's sizes
 * do not add up (then {@link icmpErrorQuote} says why).
 */
function udpQuote(header: Ipv4Header, udp: UdpDatagram, raw: RawPayload, room: number): Uint8Array | undefined {
  const bytes = raw.bytes;
  if (IPV4_HEADER_LEN + UDP_HEADER_LEN + raw.length !== header.totalLength || (bytes !== undefined && bytes.length !== raw.length)) return undefined;
  const out = new Uint8Array(Math.max(room, UDP_HEADER_LEN));
  writeUdpHeader(out, udp, raw.length, bytes === undefined ? 0 : onesComplementSum(bytes), header);
  if (room < UDP_HEADER_LEN) return out.slice(0, room);
  if (bytes !== undefined) out.set(bytes.subarray(0, room - UDP_HEADER_LEN), UDP_HEADER_LEN);
  return out;
}

function checkQuoteMax(max: number): void {
  if (!Number.isInteger(max) || max < IPV4_HEADER_LEN) {
    fail('INVALID_ARGUMENT', `quote size ${max} cannot hold the ${IPV4_HEADER_LEN}-byte IPv4 header`, { max });
  }
}

/** The frame's bytes as hex, 16 space-separated bytes a line (compare with `tcpdump -xx`). */
export function packetBytesHex(frame: Frame): string {
  const bytes = emitFrame(frame);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

// --------------------------------------------------------------------------------------------- parse

interface Context {
  readonly vxlanPorts: readonly number[];
  readonly verify: boolean;
}

/**
 * Decodes a frame's bytes into nested header values (see the file comment for how payloads are
 * recognised). Bytes after an IPv4 packet's Total Length or after ARP's 28 bytes are Ethernet padding
 * and are dropped. Throws `INVALID_PACKET` with the layer in the message on truncated or malformed
 * input, on EtherTypes other than IPv4 and ARP, on features podnet does not model (IP or TCP options,
 * fragments, VLAN tags) and, with `verifyChecksums`, on a wrong checksum.
 */
export function parseFrame(bytes: Uint8Array, options: ParseFrameOptions = {}): Frame {
  return parseFrameIn(bytes, {
    vxlanPorts: options.vxlanPorts ?? [VXLAN_PORT_IANA, VXLAN_PORT_LINUX],
    verify: options.verifyChecksums ?? false,
  });
}

function parseFrameIn(bytes: Uint8Array, ctx: Context): Frame {
  const { header: eth, payload } = parseEthernet(bytes);
  switch (eth.ethertype) {
    case ETHERTYPE_ARP:
      return { eth, payload: parseArp(payload) };
    case ETHERTYPE_IPV4:
      return { eth, payload: parsePacket(payload, ctx) };
    default:
      return fail('INVALID_PACKET', `Ethernet EtherType 0x${hex4(eth.ethertype)} is not supported (IPv4 0x0800 and ARP 0x0806 are)`, { ethertype: eth.ethertype });
  }
}

/** An IPv4 packet whose Total Length may be shorter than `bytes` (padding follows). */
function parsePacket(bytes: Uint8Array, ctx: Context): Ipv4Packet {
  const { header, payload } = parseIpv4(bytes, { verifyChecksum: ctx.verify });
  return { kind: 'ipv4', header, payload: parseIpPayload(payload, header, ctx) };
}

/** The quote in an ICMP error: a whole datagram, or its first bytes. Checksums are not verified. */
function parseQuote(bytes: Uint8Array, ctx: Context): Ipv4Packet {
  const header = parseIpv4Header(bytes);
  if (bytes.length > header.totalLength) {
    fail('INVALID_PACKET', `the quote holds ${bytes.length} bytes of a ${header.totalLength}-byte datagram (ICMP extensions, RFC 4884, are not supported)`, { length: bytes.length, totalLength: header.totalLength });
  }
  const rest = copy(bytes, IPV4_HEADER_LEN);
  if (bytes.length < header.totalLength) return { kind: 'ipv4', header, payload: raw(rest) };
  return { kind: 'ipv4', header, payload: parseIpPayload(rest, header, { ...ctx, verify: false }) };
}

function parseIpPayload(bytes: Uint8Array, ip: Ipv4Header, ctx: Context): Ipv4Packet['payload'] {
  const pseudo = ctx.verify ? { verifyChecksum: ip } : {};
  switch (ip.protocol) {
    case IPPROTO_ICMP: {
      const { header, payload } = parseIcmp(bytes, { verifyChecksum: ctx.verify });
      const data = isIcmpError(header.type) ? within('ICMP error quote', () => parseQuote(payload, ctx)) : raw(payload);
      return { kind: 'icmp', type: header.type, code: header.code, rest: header.rest, data };
    }
    case IPPROTO_UDP: {
      const { header, payload } = parseUdp(bytes, pseudo);
      const body = ctx.vxlanPorts.includes(header.dstPort) ? parseVxlanPayload(payload, ctx) : raw(payload);
      return { kind: 'udp', srcPort: header.srcPort, dstPort: header.dstPort, payload: body };
    }
    case IPPROTO_TCP: {
      const { header, payload } = parseTcp(bytes, pseudo);
      return { kind: 'tcp', ...header, payload: raw(payload) };
    }
    case IPPROTO_IPIP:
      return within('IPIP inner packet', () => {
        const inner = parsePacket(bytes, ctx);
        if (inner.header.totalLength !== bytes.length) {
          fail('INVALID_PACKET', `IPv4 total length ${inner.header.totalLength} does not match the ${bytes.length} bytes the outer packet carries`, { totalLength: inner.header.totalLength, length: bytes.length });
        }
        return inner;
      });
    default:
      return raw(bytes);
  }
}

function parseVxlanPayload(bytes: Uint8Array, ctx: Context): VxlanPayload {
  const { header, payload } = parseVxlan(bytes);
  return { kind: 'vxlan', vni: header.vni, inner: within('VXLAN inner frame', () => parseFrameIn(payload, ctx)) };
}

function raw(bytes: Uint8Array): RawPayload {
  return { kind: 'raw', length: bytes.length, bytes };
}
