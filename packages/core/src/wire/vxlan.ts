/**
 * VXLAN header (RFC 7348 §5), carried in UDP (IANA port 4789; Linux's default and flannel's is 8472)
 * and followed by the inner Ethernet frame.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                VXLAN Network Identifier (VNI) |   Reserved    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "The I flag MUST be set to 1 for a valid VXLAN Network ID"; reserved fields "MUST be set to zero on
 * transmission and ignored on receipt".
 */
import { fail } from '../errors.js';
import { type Parsed, concat, copy, need, uint, view } from './bytes.js';
import { VXLAN_HEADER_LEN, type VxlanPayload } from './packet.js';

/** The VXLAN header fields: a {@link VxlanPayload} without its inner frame. */
export type VxlanHeader = Pick<VxlanPayload, 'vni'>;

/** IANA-assigned VXLAN port (RFC 7348 §5). */
export const VXLAN_PORT_IANA = 4789;
/** Linux's historical default VXLAN port, which flannel's vxlan backend uses. */
export const VXLAN_PORT_LINUX = 8472;

const FLAG_I = 0x08;

/** Emits the header (I flag set) followed by the inner frame's bytes. Throws on a VNI above 24 bits. */
export function emitVxlan(header: VxlanHeader, inner: Uint8Array): Uint8Array {
  const head = new Uint8Array(VXLAN_HEADER_LEN);
  head[0] = FLAG_I;
  view(head).setUint32(4, uint(header.vni, 24, 'VXLAN VNI') * 256);
  return concat(head, inner);
}

/** Parses the header; the payload is the inner frame's bytes. Throws `INVALID_PACKET` if truncated or without the I flag. */
export function parseVxlan(bytes: Uint8Array): Parsed<VxlanHeader> {
  need(bytes, VXLAN_HEADER_LEN, 'VXLAN header');
  if ((bytes[0]! & FLAG_I) === 0) {
    fail('INVALID_PACKET', `VXLAN flags 0x${bytes[0]!.toString(16).padStart(2, '0')} lack the I flag (0x08): no valid VNI`, { flags: bytes[0] });
  }
  return { header: { vni: view(bytes).getUint32(4) >>> 8 }, payload: copy(bytes, VXLAN_HEADER_LEN) };
}
