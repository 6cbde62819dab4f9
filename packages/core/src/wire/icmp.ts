/**
 * ICMP message (RFC 792). The checksum covers the whole message, header and data.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Type      |     Code      |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        Rest of Header                         |
 *   |  echo (0, 8):        Identifier      |    Sequence Number     |
 *   |  frag needed (3/4):  unused          |    Next-Hop MTU        |  (RFC 1191)
 *   |  other errors:       unused (zero)                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Data: the echo payload, or for an error the original         |
 *   |  datagram's IP header and as much of its payload as fits      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { fail } from '../errors.js';
import { type Parsed, concat, copy, hex4, need, uint, view } from './bytes.js';
import { internetChecksum } from './checksum.js';
import type { VerifyOptions } from './ipv4.js';
import { ICMP_HEADER_LEN, IPV4_HEADER_LEN, type IcmpMessage } from './packet.js';

/** The ICMP header fields: an {@link IcmpMessage} without its data. */
export type IcmpHeader = Pick<IcmpMessage, 'type' | 'code' | 'rest'>;

/**
 * "RFC says return as much as we can without exceeding 576 bytes" (Linux `__icmp_send`, after
 * RFC 1812 §4.3.2.3): an ICMP error, IP header included, is at most 576 bytes.
 */
export const ICMP_ERROR_MAX_LEN = 576;
/**
 * The most of the original datagram an ICMP error quotes: Linux's `room` in `__icmp_send`,
 * min(route MTU, 576) − 20 (IP header, no options) − 8 (ICMP header) = 548 on any route MTU ≥ 576.
 */
export const ICMP_QUOTE_MAX = ICMP_ERROR_MAX_LEN - IPV4_HEADER_LEN - ICMP_HEADER_LEN;
/**
 * The netfilter REJECT target (`nf_reject_skb_v4_unreach`, used by iptables `-j REJECT`, hence by
 * kube-proxy for services without endpoints) quotes min(536, length) bytes instead.
 */
export const REJECT_QUOTE_MAX = 536;

/**
 * True for the error types whose data quotes the offending datagram: destination unreachable (3),
 * source quench (4), redirect (5), time exceeded (11), parameter problem (12), as Linux's
 * `icmp_pointers[].error` marks them.
 */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Emits the header, computing the checksum over header and `data`, followed by `data`. */
export function emitIcmp(header: IcmpHeader, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(ICMP_HEADER_LEN);
  const v = view(head);
  head[0] = uint(header.type, 8, 'ICMP type');
  head[1] = uint(header.code, 8, 'ICMP code');
  v.setUint32(4, uint(header.rest, 32, 'ICMP rest of header'));
  const out = concat(head, data);
  view(out).setUint16(2, internetChecksum(out));
  return out;
}

/**
 * Parses an ICMP message: every byte of `bytes` is the message (the IP layer has cut it to length).
 * Throws `INVALID_PACKET` when shorter than 8 bytes, and on a wrong checksum when asked to verify.
 */
export function parseIcmp(bytes: Uint8Array, options: VerifyOptions = {}): Parsed<IcmpHeader> {
  need(bytes, ICMP_HEADER_LEN, 'ICMP header');
  const v = view(bytes);
  if (options.verifyChecksum && internetChecksum(bytes) !== 0) {
    const found = v.getUint16(2);
    const zeroed = copy(bytes);
    view(zeroed).setUint16(2, 0);
    const expected = internetChecksum(zeroed);
    fail('INVALID_PACKET', `ICMP checksum 0x${hex4(found)} is incorrect (should be 0x${hex4(expected)})`, { found, expected });
  }
  return {
    header: { type: bytes[0]!, code: bytes[1]!, rest: v.getUint32(4) },
    payload: copy(bytes, ICMP_HEADER_LEN),
  };
}
