/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of the
 * data taken as big-endian 16-bit words, an odd last byte padded with zero. IPv4 covers its header
 * with it; ICMP its whole message; UDP and TCP their segment plus the IPv4 pseudo-header (RFC 768,
 * RFC 9293 §3.1):
 *
 *    0      7 8     15 16    23 24    31
 *   +--------+--------+--------+--------+
 *   |          source address           |
 *   +--------+--------+--------+--------+
 *   |        destination address        |
 *   +--------+--------+--------+--------+
 *   |  zero  |protocol|     length      |
 *   +--------+--------+--------+--------+
 *
 * A receiver sums the data including the checksum field: a correct message sums to 0xffff, so
 * {@link internetChecksum} over it returns 0.
 */
import type { Ipv4 } from '../addr/ipv4.js';

/** Folds carries back into 16 bits (safe for any sum below 2^53, unlike `>>>`). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The one's complement sum of `bytes` as 16-bit words, added to `initial`, folded to 16 bits. */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const last = bytes.length - 1;
  let i = 0;
  for (; i < last; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i === last) sum += bytes[i]! << 8;
  return fold(sum);
}

/**
 * The Internet checksum of `bytes`, starting from a partial sum (a pseudo-header's).
 *
 * @example
 * // RFC 1071 §3 example words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
 * internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)) === 0x220d;
 */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return checksumOfSum(onesComplementSum(bytes, initial));
}

/** The Internet checksum of data whose one's complement sum (of 16-bit words, folded or not) is `sum`. */
export function checksumOfSum(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** The one's complement sum of the IPv4 pseudo-header for UDP and TCP checksums. */
export function pseudoHeaderSum(src: Ipv4, dst: Ipv4, protocol: number, length: number): number {
  return fold((src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length);
}

/** The addresses of the IPv4 pseudo-header, which UDP and TCP checksums cover. */
export interface PseudoHeader {
  readonly src: Ipv4;
  readonly dst: Ipv4;
}
