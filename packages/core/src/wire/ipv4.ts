/**
 * IPv4 header (RFC 791 §3.1), without options: IHL is always 5 and the header 20 bytes.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |Flags|      Fragment Offset    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Flags are 0 (reserved, must be zero), DF, MF. podnet does not fragment: MF is 0 and the fragment
 * offset 0 on emit, and a fragment is refused on parse. The checksum covers the header only.
 */
import { fail } from '../errors.js';
import { internetChecksum } from './checksum.js';
import { type Parsed, concat, copy, hex4, need, uint, view } from './bytes.js';
import { IPV4_HEADER_LEN, type Ipv4Header } from './packet.js';

const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

/** Parse options shared by the checksummed headers. */
export interface VerifyOptions {
  /** Throw `INVALID_PACKET` on a wrong checksum. Off by default, as in Wireshark. */
  readonly verifyChecksum?: boolean;
}

/** Emits the 20-byte header with its checksum. Throws `INVALID_PACKET` on an out-of-range field. */
export function emitIpv4Header(header: Ipv4Header): Uint8Array {
  const out = new Uint8Array(IPV4_HEADER_LEN);
  const v = view(out);
  out[0] = 0x45; // version 4, IHL 5
  out[1] = uint(header.tos, 8, 'IPv4 TOS');
  const totalLength = uint(header.totalLength, 16, 'IPv4 total length');
  if (totalLength < IPV4_HEADER_LEN) {
    fail('INVALID_PACKET', `IPv4 total length ${totalLength} is shorter than the ${IPV4_HEADER_LEN}-byte header`, { totalLength });
  }
  v.setUint16(2, totalLength);
  v.setUint16(4, uint(header.id, 16, 'IPv4 identification'));
  v.setUint16(6, header.df ? FLAG_DF : 0);
  out[8] = uint(header.ttl, 8, 'IPv4 TTL');
  out[9] = uint(header.protocol, 8, 'IPv4 protocol');
  v.setUint32(12, uint(header.src, 32, 'IPv4 source'));
  v.setUint32(16, uint(header.dst, 32, 'IPv4 destination'));
  v.setUint16(10, internetChecksum(out));
  return out;
}

/**
 * Emits a header and its payload. Throws `INVALID_PACKET` unless `header.totalLength` is 20 plus the
 * payload length.
 */
export function emitIpv4(header: Ipv4Header, payload: Uint8Array): Uint8Array {
  if (header.totalLength !== IPV4_HEADER_LEN + payload.length) {
    fail('INVALID_PACKET', `IPv4 total length ${header.totalLength} does not match the ${IPV4_HEADER_LEN}-byte header plus ${payload.length} payload bytes`, { totalLength: header.totalLength, payloadLength: payload.length });
  }
  return concat(emitIpv4Header(header), payload);
}

/**
 * Parses the 20-byte header at the start of `bytes` without looking at what follows. Throws
 * `INVALID_PACKET` when truncated, on a version other than 4, on options (IHL above 5), on a total
 * length below 20, on a fragment or the reserved flag, and on a wrong checksum when asked to verify.
 */
export function parseIpv4Header(bytes: Uint8Array, options: VerifyOptions = {}): Ipv4Header {
  need(bytes, IPV4_HEADER_LEN, 'IPv4 header');
  const v = view(bytes);
  const version = bytes[0]! >> 4;
  const ihl = bytes[0]! & 0xf;
  if (version !== 4) fail('INVALID_PACKET', `IPv4 header has version ${version}, expected 4`, { version });
  if (ihl < 5) fail('INVALID_PACKET', `IPv4 IHL ${ihl} is below the minimum of 5 (20 bytes)`, { ihl });
  if (ihl > 5) fail('INVALID_PACKET', `IPv4 IHL ${ihl}: IP options are not supported (IHL must be 5)`, { ihl });
  const totalLength = v.getUint16(2);
  if (totalLength < IPV4_HEADER_LEN) {
    fail('INVALID_PACKET', `IPv4 total length ${totalLength} is shorter than the ${IPV4_HEADER_LEN}-byte header`, { totalLength });
  }
  const flags = v.getUint16(6);
  if (flags & FLAG_RESERVED) fail('INVALID_PACKET', 'IPv4 reserved flag bit is set (RFC 791: must be zero)', { flags });
  if (flags & (FLAG_MF | FRAG_OFFSET_MASK)) {
    fail('INVALID_PACKET', `IPv4 fragments are not supported (MF ${(flags & FLAG_MF) ? 1 : 0}, offset ${(flags & FRAG_OFFSET_MASK) * 8})`, { flags });
  }
  if (options.verifyChecksum && internetChecksum(bytes.subarray(0, IPV4_HEADER_LEN)) !== 0) {
    const found = v.getUint16(10);
    const header = copy(bytes, 0, IPV4_HEADER_LEN);
    view(header).setUint16(10, 0);
    const expected = internetChecksum(header);
    fail('INVALID_PACKET', `IPv4 header checksum 0x${hex4(found)} is incorrect (should be 0x${hex4(expected)})`, { found, expected });
  }
  return {
    tos: bytes[1]!,
    totalLength,
    id: v.getUint16(4),
    df: (flags & FLAG_DF) !== 0,
    ttl: bytes[8]!,
    protocol: bytes[9]!,
    src: v.getUint32(12),
    dst: v.getUint32(16),
  };
}

/**
 * Parses a header and its payload: the bytes up to Total Length. Bytes beyond it are link-layer padding
 * and are dropped, as Linux's `ip_rcv_core` trims the skb to `tot_len`. Throws `INVALID_PACKET` as
 * {@link parseIpv4Header} does, and when fewer than Total Length bytes are present.
 */
export function parseIpv4(bytes: Uint8Array, options: VerifyOptions = {}): Parsed<Ipv4Header> {
  const header = parseIpv4Header(bytes, options);
  if (bytes.length < header.totalLength) {
    fail('INVALID_PACKET', `IPv4 packet truncated: total length ${header.totalLength}, only ${bytes.length} bytes present`, { totalLength: header.totalLength, length: bytes.length });
  }
  return { header, payload: copy(bytes, IPV4_HEADER_LEN, header.totalLength) };
}
