/**
 * ARP for IPv4 over Ethernet (RFC 826), the only combination Linux's `arp_rcv` accepts on an Ethernet
 * device: hardware type 1, protocol type 0x0800, address lengths 6 and 4, 28 bytes.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Hardware Type (1)        |    Protocol Type (0x0800)     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | HW Len (6)    | Proto Len (4) |  Operation (1 req, 2 reply)   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Sender Hardware Address (0-3)                 |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Sender Hardware Address (4-5) | Sender Protocol Address (0-1) |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Sender Protocol Address (2-3) | Target Hardware Address (0-1) |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Target Hardware Address (2-5)                 |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Target Protocol Address                    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { macFromBytes } from '../addr/mac.js';
import { fail, shown } from '../errors.js';
import { need, uint, view, writeMac } from './bytes.js';
import { ARP_LEN, ETHERTYPE_IPV4, type ArpPacket } from './packet.js';

const HTYPE_ETHERNET = 1;

/** Emits the 28-byte ARP packet. Throws `INVALID_PACKET` on a bad operation, MAC or address. */
export function emitArp(packet: ArpPacket): Uint8Array {
  if (packet.op !== 1 && packet.op !== 2) {
    fail('INVALID_PACKET', `ARP operation ${shown(packet.op)} is neither 1 (request) nor 2 (reply)`, { op: packet.op });
  }
  const out = new Uint8Array(ARP_LEN);
  const v = view(out);
  v.setUint16(0, HTYPE_ETHERNET);
  v.setUint16(2, ETHERTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  v.setUint16(6, packet.op);
  writeMac(out, 8, packet.senderMac, 'ARP sender MAC');
  v.setUint32(14, uint(packet.senderIp, 32, 'ARP sender IP'));
  writeMac(out, 18, packet.targetMac, 'ARP target MAC');
  v.setUint32(24, uint(packet.targetIp, 32, 'ARP target IP'));
  return out;
}

/**
 * Parses an ARP packet from the start of `bytes`; bytes after the 28th are Ethernet padding and are
 * ignored. Throws `INVALID_PACKET` when truncated or when it is not Ethernet/IPv4 ARP with op 1 or 2.
 */
export function parseArp(bytes: Uint8Array): ArpPacket {
  need(bytes, ARP_LEN, 'ARP packet');
  const v = view(bytes);
  const htype = v.getUint16(0);
  const ptype = v.getUint16(2);
  if (htype !== HTYPE_ETHERNET || ptype !== ETHERTYPE_IPV4 || bytes[4] !== 6 || bytes[5] !== 4) {
    fail('INVALID_PACKET', `ARP hardware/protocol ${htype}/0x${ptype.toString(16)} with lengths ${bytes[4]}/${bytes[5]} is not Ethernet/IPv4 (1/0x800, 6/4)`, { htype, ptype, hlen: bytes[4], plen: bytes[5] });
  }
  const op = v.getUint16(6);
  if (op !== 1 && op !== 2) fail('INVALID_PACKET', `ARP operation ${op} is neither 1 (request) nor 2 (reply)`, { op });
  return {
    kind: 'arp',
    op,
    senderMac: macFromBytes(bytes, 8),
    senderIp: v.getUint32(14),
    targetMac: macFromBytes(bytes, 18),
    targetIp: v.getUint32(24),
  };
}
