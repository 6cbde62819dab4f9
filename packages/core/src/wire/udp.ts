/**
 * UDP header (RFC 768). Length covers header and data; the checksum covers the IPv4 pseudo-header,
 * the header and the data. Over IPv4 a zero checksum means "none", so a computed zero is sent as
 * 0xffff.
 *
 *    0      7 8     15 16    23 24    31
 *   +--------+--------+--------+--------+
 *   |     Source      |   Destination   |
 *   |      Port       |      Port       |
 *   +--------+--------+--------+--------+
 *   |     Length      |    Checksum     |
 *   +--------+--------+--------+--------+
 *   |          data octets ...
 *   +---------------- ...
 */
import { IPPROTO_UDP, UDP_HEADER_LEN, type UdpDatagram } from './packet.js';
import { fail } from '../errors.js';
import { type Parsed, copy, hex4, need, uint, view } from './bytes.js';
import { type PseudoHeader, checksumOfSum, internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';

/** The UDP header fields: a {@link UdpDatagram} without its payload. Length is derived. */
export type UdpHeader = Pick<UdpDatagram, 'srcPort' | 'dstPort'>;

/** Where a UDP datagram travels, for its checksum; `checksum: false` sends 0 ("no checksum"). */
export interface UdpEmitOptions extends PseudoHeader {
  readonly checksum?: boolean;
}

/**
 * Emits header and payload. The checksum is computed over the pseudo-header unless
 * `options.checksum` is false (0, "no checksum": what a VXLAN device configured `noudpcsum` sends;
 * Linux's default, `udpcsum`, and podnet's VXLAN compute it).
 */
export function emitUdp(header: UdpHeader, payload: Uint8Array, options: UdpEmitOptions): Uint8Array {
  const out = new Uint8Array(UDP_HEADER_LEN + payload.length);
  writeUdpHeader(out, header, payload.length, options.checksum === false ? 0 : onesComplementSum(payload), options);
  out.set(payload, UDP_HEADER_LEN);
  return out;
}

/**
 * Writes into `out[0, 8)` the header {@link emitUdp} emits before a payload of `payloadLength` bytes
 * whose one's complement sum ({@link onesComplementSum}) is `payloadSum`: what an ICMP error's quote
 * of a big datagram needs, without building the datagram.
 */
export function writeUdpHeader(out: Uint8Array, header: UdpHeader, payloadLength: number, payloadSum: number, options: UdpEmitOptions): void {
  const length = uint(UDP_HEADER_LEN + payloadLength, 16, 'UDP length');
  const src = uint(header.srcPort, 16, 'UDP source port');
  const dst = uint(header.dstPort, 16, 'UDP destination port');
  out[0] = src >>> 8;
  out[1] = src & 0xff;
  out[2] = dst >>> 8;
  out[3] = dst & 0xff;
  out[4] = length >>> 8;
  out[5] = length & 0xff;
  let sum = 0;
  if (options.checksum !== false) {
    // The header's words (its checksum field counting as 0) added to the pseudo-header's and the payload's.
    sum = checksumOfSum(pseudoHeaderSum(uint(options.src, 32, 'UDP pseudo-header source'), uint(options.dst, 32, 'UDP pseudo-header destination'), IPPROTO_UDP, length) + payloadSum + src + dst + length);
    if (sum === 0) sum = 0xffff;
  }
  out[6] = sum >>> 8;
  out[7] = sum & 0xff;
}

/**
 * Parses a datagram that fills `bytes` exactly (the IP payload). Throws `INVALID_PACKET` when shorter
 * than 8 bytes, when the Length field disagrees with the bytes present, and, given the pseudo-header
 * in `verifyChecksum`, on a wrong non-zero checksum. (Linux trims an IP payload longer than the UDP
 * Length; podnet never emits one and refuses it rather than drop bytes silently.)
 */
export function parseUdp(bytes: Uint8Array, options: { readonly verifyChecksum?: PseudoHeader } = {}): Parsed<UdpHeader> {
  need(bytes, UDP_HEADER_LEN, 'UDP header');
  const v = view(bytes);
  const length = v.getUint16(4);
  if (length < UDP_HEADER_LEN) fail('INVALID_PACKET', `UDP length ${length} is shorter than the ${UDP_HEADER_LEN}-byte header`, { length });
  if (length > bytes.length) {
    fail('INVALID_PACKET', `UDP datagram truncated: length ${length}, only ${bytes.length} bytes present`, { length, present: bytes.length });
  }
  if (length < bytes.length) {
    fail('INVALID_PACKET', `UDP length ${length} does not match the ${bytes.length}-byte IP payload`, { length, present: bytes.length });
  }
  const found = v.getUint16(6);
  const pseudo = options.verifyChecksum;
  if (pseudo && found !== 0) {
    const initial = pseudoHeaderSum(pseudo.src, pseudo.dst, IPPROTO_UDP, length);
    if (internetChecksum(bytes, initial) !== 0) {
      const zeroed = copy(bytes);
      view(zeroed).setUint16(6, 0);
      const expected = internetChecksum(zeroed, initial) || 0xffff;
      fail('INVALID_PACKET', `UDP checksum 0x${hex4(found)} is incorrect (should be 0x${hex4(expected)})`, { found, expected });
    }
  }
  return { header: { srcPort: v.getUint16(0), dstPort: v.getUint16(2) }, payload: copy(bytes, UDP_HEADER_LEN) };
}
