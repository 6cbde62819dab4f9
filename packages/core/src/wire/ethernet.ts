/**
 * Ethernet II header (IEEE 802.3 clause 3.2.6 with a type field): no 802.1Q tag, no preamble, no FCS,
 * which is what Linux shows on a packet socket and what pcap's LINKTYPE_ETHERNET holds.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination MAC address                    |
 *   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                               |                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *   |                      Source MAC address                       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           EtherType           |  Payload ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Frames shorter than 60 bytes are padded by the NIC on transmit; we never pad, and the layer above
 * ignores padding on receive (IPv4 trusts its Total Length, ARP its fixed size).
 */
import { macFromBytes } from '../addr/mac.js';
import { fail } from '../errors.js';
import { type Parsed, concat, copy, hex4, need, uint, view, writeMac } from './bytes.js';
import { ETHERNET_HEADER_LEN, type EthernetHeader } from './packet.js';

/** Emits an Ethernet header followed by `payload`. Throws `INVALID_PACKET` on a bad MAC or EtherType. */
export function emitEthernet(header: EthernetHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ETHERNET_HEADER_LEN);
  writeMac(out, 0, header.dst, 'Ethernet destination');
  writeMac(out, 6, header.src, 'Ethernet source');
  view(out).setUint16(12, uint(header.ethertype, 16, 'EtherType'));
  return concat(out, payload);
}

/**
 * Parses an Ethernet header; the payload is every byte after it (padding included). EtherTypes below
 * 0x0600 are 802.3 length fields, not types: rejected, as is an 802.1Q tag (0x8100), which has no place
 * in {@link EthernetHeader}.
 */
export function parseEthernet(bytes: Uint8Array): Parsed<EthernetHeader> {
  need(bytes, ETHERNET_HEADER_LEN, 'Ethernet header');
  const ethertype = view(bytes).getUint16(12);
  if (ethertype < 0x0600) {
    fail('INVALID_PACKET', `Ethernet EtherType 0x${hex4(ethertype)} is an 802.3 length field: only Ethernet II frames are supported`, { ethertype });
  }
  if (ethertype === 0x8100) {
    fail('INVALID_PACKET', 'Ethernet 802.1Q VLAN tags (EtherType 0x8100) are not supported', { ethertype });
  }
  return {
    header: { dst: macFromBytes(bytes, 0), src: macFromBytes(bytes, 6), ethertype },
    payload: copy(bytes, ETHERNET_HEADER_LEN),
  };
}
