/**
 * TCP header (RFC 9293 §3.1), without options: Data Offset is always 5 and the header 20 bytes. The
 * checksum covers the IPv4 pseudo-header, the header and the data.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Source Port          |       Destination Port        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        Sequence Number                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Acknowledgment Number                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Data |       |C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *   |       |       |R|E|G|K|H|T|N|N|                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Checksum            |         Urgent Pointer        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                             Data                            ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * `flags` is the low byte (CWR … FIN). The Urgent Pointer is sent as 0; on receive it and the reserved
 * bits are ignored, as nothing in podnet's forwarding looks at them.
 */
import { fail } from '../errors.js';
import { type Parsed, concat, copy, hex4, need, uint, view } from './bytes.js';
import { type PseudoHeader, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_TCP, TCP_HEADER_LEN, type TcpSegment } from './packet.js';

/** The TCP header fields: a {@link TcpSegment} without its payload. */
export type TcpHeader = Omit<TcpSegment, 'kind' | 'payload'>;

/** Emits header and payload, with the checksum over the pseudo-header for `pseudo.src` → `pseudo.dst`. */
export function emitTcp(header: TcpHeader, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  const head = new Uint8Array(TCP_HEADER_LEN);
  const v = view(head);
  v.setUint16(0, uint(header.srcPort, 16, 'TCP source port'));
  v.setUint16(2, uint(header.dstPort, 16, 'TCP destination port'));
  v.setUint32(4, uint(header.seq, 32, 'TCP sequence number'));
  v.setUint32(8, uint(header.ack, 32, 'TCP acknowledgment number'));
  head[12] = 5 << 4; // data offset 5 words, reserved 0
  head[13] = uint(header.flags, 8, 'TCP flags');
  v.setUint16(14, uint(header.window, 16, 'TCP window'));
  const out = concat(head, payload);
  const length = uint(out.length, 16, 'TCP segment length');
  const sum = pseudoHeaderSum(uint(pseudo.src, 32, 'TCP pseudo-header source'), uint(pseudo.dst, 32, 'TCP pseudo-header destination'), IPPROTO_TCP, length);
  view(out).setUint16(16, internetChecksum(out, sum));
  return out;
}

/**
 * Parses a segment that fills `bytes` (the IP payload). Throws `INVALID_PACKET` when truncated, on a
 * Data Offset other than 5 (below 5 is malformed, above 5 means options, which are not supported) and,
 * given the pseudo-header in `verifyChecksum`, on a wrong checksum.
 */
export function parseTcp(bytes: Uint8Array, options: { readonly verifyChecksum?: PseudoHeader } = {}): Parsed<TcpHeader> {
  need(bytes, TCP_HEADER_LEN, 'TCP header');
  const v = view(bytes);
  const dataOffset = bytes[12]! >> 4;
  if (dataOffset < 5) fail('INVALID_PACKET', `TCP data offset ${dataOffset} is below the minimum of 5 (20 bytes)`, { dataOffset });
  if (dataOffset > 5) fail('INVALID_PACKET', `TCP data offset ${dataOffset}: TCP options are not supported (data offset must be 5)`, { dataOffset });
  const pseudo = options.verifyChecksum;
  if (pseudo) {
    const initial = pseudoHeaderSum(pseudo.src, pseudo.dst, IPPROTO_TCP, bytes.length);
    if (internetChecksum(bytes, initial) !== 0) {
      const found = v.getUint16(16);
      const zeroed = copy(bytes);
      view(zeroed).setUint16(16, 0);
      const expected = internetChecksum(zeroed, initial);
      fail('INVALID_PACKET', `TCP checksum 0x${hex4(found)} is incorrect (should be 0x${hex4(expected)})`, { found, expected });
    }
  }
  return {
    header: {
      srcPort: v.getUint16(0),
      dstPort: v.getUint16(2),
      seq: v.getUint32(4),
      ack: v.getUint32(8),
      flags: bytes[13]!,
      window: v.getUint16(14),
    },
    payload: copy(bytes, TCP_HEADER_LEN),
  };
}
